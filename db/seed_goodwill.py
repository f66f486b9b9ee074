"""The demo floor's goodwill: desk budgets, the period's gestures, a correction, approvals decided and waiting,
and the follow-up calls (with CSAT and NPS) that show what goodwill returned.

Called by :mod:`db.seed` inside the seeding transaction, after the escalations have ids. Rows are written
directly (the ledger is append-only, and these are its first lines); the amounts follow the same playbook and
scaling the console suggests (:mod:`console.goodwill`), and never overdraw a budget except through an approval.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.orm import Session

from console.domain import Category, Channel, Status
from console.goodwill import (
    DEFAULT_ALLOWANCE,
    DEFAULT_CAP,
    DEFAULT_CURRENCY,
    PLAYBOOK_GESTURES,
    FloorGoodwill,
    Period,
    churn_factor,
    period_bounds,
    value_factor,
)
from db.models import (
    Associate,
    Customer,
    Escalation,
    FollowUp,
    GoodwillBudget,
    GoodwillEntry,
    GoodwillRequest,
    Team,
    User,
)

# Desk name -> (period, allowance, cap). Devices gives small extras every shift; billing credits are larger.
DESK_BUDGETS: dict[str, tuple[Period, Decimal, Decimal]] = {
    "Billing desk": (Period.WEEK, Decimal("200.00"), Decimal("30.00")),
    "Orders & delivery": (Period.WEEK, Decimal("150.00"), Decimal("25.00")),
    "Devices": (Period.SHIFT, Decimal("60.00"), Decimal("20.00")),
}
NEW_STARTER_BUDGET = (Period.WEEK, Decimal("75.00"), Decimal("15.00"))
# (share of the allowance to have used by now) for the associates in turn: one near the limit, most comfortable.
_TARGET_SHARES = (0.93, 0.84, 0.12, 0.55, 0.3, 0.7, 0.45, 0.2, 0.62, 0.38, 0.05, 0.5)
_CSAT_WEIGHTS = ((5, 6), (4, 4), (3, 1), (2, 1), (1, 1))
_WHY_WALK_IN: dict[Category, str] = {
    Category.PRODUCT_MALFUNCTION: "Accessory for a faulty device swapped at the counter",
    Category.LONG_WAIT: "Discount for a long hold on the phone",
    Category.BILLING_ERROR: "Credit for a double charge, corrected on the call",
    Category.UNMET_EXPECTATION: "Free express delivery for a late order",
}


@dataclass(frozen=True)
class _Rule:
    period: Period
    allowance: Decimal
    cap: Decimal


def _suggested(base: Decimal, customer: Customer) -> Decimal:
    scaled = base * value_factor(customer.lifetime_value) * churn_factor(customer.churn_risk)
    return scaled.quantize(Decimal("1"), rounding=ROUND_HALF_UP).quantize(Decimal("0.01"))


def seed_goodwill(
    session: Session,
    rng: random.Random,
    now: datetime,
    *,
    teams: Sequence[Team],
    associates: Sequence[Associate],
    supervisors: Sequence[User],
    demo_supervisor: User,
    customers: Sequence[Customer],
    escalations: Sequence[Escalation],
) -> dict[str, int]:
    """Write the goodwill part of the demo floor; returns counts for the seed's audit event."""
    floor = FloorGoodwill()
    session.add(
        GoodwillBudget(scope_key="floor", period=Period.WEEK.value, allowance=DEFAULT_ALLOWANCE, cap=DEFAULT_CAP)
    )
    rules: dict[int, _Rule] = {}
    by_team = {team.id: team for team in teams}
    for team in teams:
        period, allowance, cap = DESK_BUDGETS.get(team.name, (Period.WEEK, DEFAULT_ALLOWANCE, DEFAULT_CAP))
        session.add(
            GoodwillBudget(
                scope_key=f"team:{team.id}", team_id=team.id, period=period.value, allowance=allowance, cap=cap
            )
        )
    newest = max(associates, key=lambda a: (a.created_at, a.id))
    session.add(
        GoodwillBudget(
            scope_key=f"associate:{newest.id}",
            associate_id=newest.id,
            period=NEW_STARTER_BUDGET[0].value,
            allowance=NEW_STARTER_BUDGET[1],
            cap=NEW_STARTER_BUDGET[2],
        )
    )
    for a in associates:
        if a.id == newest.id:
            rules[a.id] = _Rule(*NEW_STARTER_BUDGET)
        else:
            desk = by_team[a.team_id].name if a.team_id in by_team else ""
            rules[a.id] = _Rule(*DESK_BUDGETS.get(desk, (Period.WEEK, DEFAULT_ALLOWANCE, DEFAULT_CAP)))

    ordered = sorted(associates, key=lambda a: a.name)
    # How much of the allowance each associate has used by now, for a floor that shows every state.
    target = {
        a.id: rules[a.id].allowance * Decimal(str(_TARGET_SHARES[i % len(_TARGET_SHARES)]))
        for i, a in enumerate(ordered)
    }
    spent: dict[int, Decimal] = defaultdict(Decimal)
    entries: list[GoodwillEntry] = []

    def give(
        associate_id: int, customer: Customer, esc: Escalation | None, category: Category, at: datetime, by: User
    ) -> GoodwillEntry | None:
        rule = rules[associate_id]
        kind, base, _what = PLAYBOOK_GESTURES[category]
        amount = min(_suggested(base, customer), rule.cap)
        start, _end = period_bounds(rule.period, now, floor)
        if at >= start and spent[associate_id] + amount > min(rule.allowance, target[associate_id]):
            return None  # within the rules or not at all: only approvals go beyond a budget
        if at >= start:
            spent[associate_id] += amount
        entry = GoodwillEntry(
            kind="gesture",
            associate_id=associate_id,
            customer_id=customer.id,
            escalation_id=esc.id if esc else None,
            gesture_type=kind.value,
            amount=amount,
            currency=DEFAULT_CURRENCY,
            reason_code=category.value,
            reason_text=None if esc else _WHY_WALK_IN.get(category),
            effective_at=at,
            recorded_at=at,
            recorded_by_id=by.id,
        )
        entries.append(entry)
        return entry

    customers_by_id = {c.id: c for c in customers}
    # Gestures on the day's handled escalations, given by the supervisor who resolved them.
    handled = sorted(
        (e for e in escalations if e.resolved_at is not None and e.associate_id is not None and e.claimed_by),
        key=lambda e: (e.resolved_at, e.id),
    )
    for esc in handled:
        assert esc.resolved_at is not None
        assert esc.associate_id is not None
        assert esc.claimed_by is not None
        if esc.resolved_at > now - timedelta(days=2) and rng.random() < 0.45:
            give(esc.associate_id, customers_by_id[esc.customer_id], esc, Category(esc.category), esc.resolved_at,
                 esc.claimed_by)  # fmt: skip

    # Walk-in gestures associates gave on their own (no escalation), up to each one's share for the demo.
    categories = list(_WHY_WALK_IN)
    for associate in ordered:
        start, _end = period_bounds(rules[associate.id].period, now, floor)
        earliest = max(start, now - timedelta(days=3))
        for _ in range(40):
            customer = rng.choice(customers)
            at = earliest + timedelta(seconds=rng.randint(60, max(61, int((now - earliest).total_seconds()) - 60)))
            at = at.replace(microsecond=0)
            if give(associate.id, customer, None, rng.choice(categories), at, rng.choice(supervisors)) is None:
                break
    entries.sort(key=lambda e: (e.effective_at, e.associate_id))
    session.add_all(entries)
    session.flush()

    # A correction: one gesture entered twice by mistake, reversed (the original stays in the ledger).
    reversals = 0
    walk_ins = [e for e in entries if e.escalation_id is None and e.effective_at < now - timedelta(hours=1)]
    if walk_ins:
        original = rng.choice(walk_ins)
        session.add(
            GoodwillEntry(
                kind="reversal",
                associate_id=original.associate_id,
                customer_id=original.customer_id,
                gesture_type=original.gesture_type,
                amount=-original.amount,
                currency=original.currency,
                reason_code=original.reason_code,
                reason_text="Entered twice by mistake; the customer got one credit",
                effective_at=original.effective_at,
                recorded_at=original.effective_at + timedelta(minutes=12),
                recorded_by_id=original.recorded_by_id,
                reverses_id=original.id,
            )
        )
        reversals = 1

    # Two customers who got a gesture left anyway (churn flagged since): goodwill does not always return.
    for entry in rng.sample(walk_ins, min(2, len(walk_ins))):
        left = customers_by_id.get(entry.customer_id) if entry.customer_id else None
        if left is not None and left.churned_at is None:
            left.churned_at = min(entry.effective_at + timedelta(hours=20), now - timedelta(minutes=30))

    requests = _requests(session, rng, now, rules, supervisors, demo_supervisor, escalations, customers_by_id)
    follow_ups = _follow_ups(session, rng, now, escalations)
    return {"goodwill_entries": len(entries) + reversals, "goodwill_requests": requests, "follow_ups": follow_ups}


def _requests(
    session: Session,
    rng: random.Random,
    now: datetime,
    rules: dict[int, _Rule],
    supervisors: Sequence[User],
    demo_supervisor: User,
    escalations: Sequence[Escalation],
    customers_by_id: dict[int, Customer],
) -> int:
    """One approved over the cap, one declined, and three waiting (one only a manager may approve)."""
    colleagues = [u for u in supervisors if u.id != demo_supervisor.id]
    in_queue = [e for e in escalations if Status(e.status).in_queue and e.associate_id is not None]
    # The most valuable waiting customers: where a larger gesture is worth asking for.
    in_queue.sort(key=lambda e: (-customers_by_id[e.customer_id].lifetime_value, e.id))
    plans = [
        ("approved", Decimal("40.00"), 200),
        ("declined", Decimal("85.00"), 150),
        ("pending", Decimal("45.00"), 40),
        ("pending", Decimal("60.00"), 25),
        ("pending", Decimal("140.00"), 12),
    ]
    made = 0
    for (status, amount, minutes_ago), esc in zip(plans, in_queue, strict=False):
        assert esc.associate_id is not None
        category = Category(esc.category)
        kind, _base, _what = PLAYBOOK_GESTURES[category]
        rule = rules[esc.associate_id]
        asked_by = colleagues[made % len(colleagues)]
        at = (now - timedelta(minutes=minutes_ago + rng.randint(0, 5))).replace(microsecond=0)
        request = GoodwillRequest(
            associate_id=esc.associate_id,
            customer_id=esc.customer_id,
            escalation_id=esc.id,
            gesture_type=kind.value,
            amount=amount,
            currency=DEFAULT_CURRENCY,
            reason_code=category.value,
            reason_text="High-value customer at risk of leaving",
            needs_approval_because=f"over the {rule.cap} cap per gesture",
            requested_by_id=asked_by.id,
            requested_at=at,
            status=status,
        )
        if status != "pending":
            request.decided_by_id = demo_supervisor.id
            request.decided_at = at + timedelta(minutes=6)
            if status == "declined":
                request.decision_reason = "A replacement is already on its way; a smaller credit will do"
        session.add(request)
        session.flush()
        if status == "approved":
            session.add(
                GoodwillEntry(
                    kind="gesture",
                    associate_id=esc.associate_id,
                    customer_id=esc.customer_id,
                    escalation_id=esc.id,
                    gesture_type=kind.value,
                    amount=amount,
                    currency=DEFAULT_CURRENCY,
                    reason_code=category.value,
                    reason_text=request.reason_text,
                    effective_at=at,
                    recorded_at=at + timedelta(minutes=6),
                    recorded_by_id=asked_by.id,
                    request_id=request.id,
                )
            )
        made += 1
    return made


def _follow_ups(session: Session, rng: random.Random, now: datetime, escalations: Sequence[Escalation]) -> int:
    """Closed cases had their follow-up call (CSAT and NPS recorded); some resolved ones have one coming up."""
    made = 0
    for esc in escalations:
        if esc.claimed_by_id is None or esc.resolved_at is None:
            continue
        if esc.status == Status.CLOSED.value and esc.closed_at is not None:
            csat = _weighted(rng, _CSAT_WEIGHTS)
            nps = {5: rng.randint(9, 10), 4: rng.randint(7, 9), 3: rng.randint(5, 7)}.get(csat, rng.randint(0, 4))
            session.add(
                FollowUp(
                    escalation_id=esc.id,
                    status="done",
                    due_at=esc.closed_at,
                    channel=Channel.PHONE.value,
                    done_at=esc.closed_at,
                    csat=csat,
                    nps=nps,
                    comment=None,
                    solved=True,
                    created_by_id=esc.claimed_by_id,
                    created_at=esc.resolved_at,
                )
            )
            made += 1
        elif esc.status == Status.RESOLVED.value and rng.random() < 0.5:
            due = (now + timedelta(minutes=rng.randint(20, 10 * 60))).replace(second=0, microsecond=0)
            session.add(
                FollowUp(
                    escalation_id=esc.id,
                    status="scheduled",
                    due_at=due,
                    channel=rng.choice((Channel.PHONE, Channel.EMAIL)).value,
                    created_by_id=esc.claimed_by_id,
                    created_at=esc.resolved_at,
                )
            )
            made += 1
    return made


def _weighted(rng: random.Random, weights: Sequence[tuple[int, int]]) -> int:
    values = [value for value, _ in weights]
    return int(rng.choices(values, weights=[w for _, w in weights], k=1)[0])
