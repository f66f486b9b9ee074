"""The end-of-shift summary on constructed data, on SQLite and PostgreSQL.

Expected values are computed here from the test's own case specs with the definitions in README ("End-of-shift
summary"), never by calling the summary's own code; percentiles with numpy.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy
import pytest

from console.actor import Actor
from console.domain import Category, Channel, Role, Severity
from console.errors import NotFound, ValidationError
from console.goodwill import GoodwillService
from console.importer import preset, run_import
from console.summary import SummaryService
from db.engine import Database
from db.models import Associate, Customer, Escalation, FollowUp, HoldPeriod, Story
from tests.conftest import CFPB_SAMPLE, make_actor

T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)  # a Monday: the goodwill week starts at midnight before it
END = T0 + timedelta(hours=8)
H = timedelta(hours=1)
M = timedelta(minutes=1)
TARGETS = {
    "critical": (300, 4 * 3600),
    "high": (900, 24 * 3600),
    "normal": (3600, 72 * 3600),
    "low": (4 * 3600, 5 * 86400),
}


@dataclass
class Spec:
    name: str
    severity: str
    channel: str
    category: str
    escalated: datetime
    first_claimed: datetime | None = None
    resolved: datetime | None = None
    queued: datetime | None = None
    holder: str | None = None
    status: str = "open"
    held_s: int = 0
    reopens: int = 0
    step: str | None = None
    product: str | None = None
    holds: list[tuple[datetime, datetime]] = field(default_factory=list)


SPECS = [
    Spec("A", "normal", "phone", "billing_error", T0 + 10 * M, T0 + 30 * M, T0 + 2 * H, holder="sam",
         status="closed", product="Router"),
    # Received before the range, claimed and resolved in it; its claim breached the 15 min target.
    Spec("B", "high", "chat", "long_wait", T0 - H, T0 + 5 * M, T0 + 3 * H, holder="sam", status="resolved",
         product="Router"),
    # Two hours on hold: resolved within its 4 h target only because the clock was paused.
    Spec("C", "critical", "email", "product_malfunction", T0 + H, T0 + H + 4 * M, T0 + 6 * H, holder="mia",
         status="resolved", held_s=7200, holds=[(T0 + H + 10 * M, T0 + 3 * H + 10 * M)], product="Modem"),
    # Escalated yesterday, reopened in the range (fresh targets from queued), resolved again.
    Spec("D", "normal", "phone", "billing_error", T0 - 30 * H, T0 - 29 * H, T0 + 4 * H, queued=T0 + 2 * H,
         holder="mia", status="resolved", reopens=1),
    Spec("E", "low", "social", "other", T0 + 7 * H),
    Spec("F", "low", "web_form", "other", T0 + 7 * H + 30 * M, T0 + 7 * H + 50 * M, holder="sam", status="claimed",
         step="gather", product="Modem"),
    # Open at the end of the range, resolved after it.
    Spec("G", "normal", "web_form", "long_wait", T0 + 6 * H, T0 + 6 * H + 10 * M, END + H, holder="sam",
         status="resolved", product="Modem"),
    Spec("H", "normal", "chat", "long_wait", END + H),
    # The previous range: a theme baseline.
    Spec("I", "normal", "chat", "billing_error", T0 - 5 * H, T0 - 5 * H + 2 * M, T0 - 4 * H, holder="sam",
         status="closed", product="Router"),
    # No hold: 5 h to resolve a critical case breaches the 4 h target.
    Spec("J", "critical", "phone", "product_malfunction", T0 + H, T0 + H + 2 * M, T0 + 6 * H, holder="mia",
         status="resolved", product="Modem"),
]  # fmt: skip

# (case, done_at, csat, nps, solved, scheduled by)
ANSWERS = [
    ("A", T0 + 3 * H, 5, 10, True, "sam"),
    ("B", T0 + 4 * H, 4, 7, True, "sam"),
    ("D", T0 + 2 * H, 2, 3, False, "mia"),
    ("C", T0 + 5 * H, None, 9, True, "mia"),
    ("A", END + 2 * H, 1, 0, True, "sam"),  # after the range
]


@dataclass
class Floor:
    ids: dict[str, int]
    customers: dict[str, str]
    sam: Actor
    mia: Actor


def build_floor(database: Database) -> Floor:
    sam = make_actor(database, "sam")
    mia = make_actor(database, "mia", Role.MANAGER)
    users = {"sam": sam.user_id, "mia": mia.user_id}
    ids: dict[str, int] = {}
    names: dict[str, str] = {}
    with database.transaction() as session:
        session.add(Associate(name="Ravi"))
        for spec in SPECS:
            customer = Customer(name=f"Customer {spec.name} Smith")
            session.add(customer)
            session.flush()
            esc = Escalation(
                customer_id=customer.id,
                channel=spec.channel,
                category=spec.category,
                severity=spec.severity,
                product=spec.product,
                summary=f"case {spec.name} for Customer {spec.name} Smith",
                status=spec.status,
                created_at=spec.escalated,
                escalated_at=spec.escalated,
                queued_at=spec.queued or spec.escalated,
                first_claimed_at=spec.first_claimed,
                claimed_at=spec.first_claimed,
                claimed_by_id=users[spec.holder] if spec.holder else None,
                resolved_at=spec.resolved,
                closed_at=spec.resolved if spec.status == "closed" else None,
                held_seconds=spec.held_s,
                reopen_count=spec.reopens,
                workflow_step=spec.step,
            )
            session.add(esc)
            session.flush()
            ids[spec.name] = esc.id
            names[spec.name] = customer.name
            for started, ended in spec.holds:
                session.add(HoldPeriod(escalation_id=esc.id, started_at=started, ended_at=ended, reason="carrier"))
        for case_name, done, csat, nps, solved, by in ANSWERS:
            session.add(
                FollowUp(
                    escalation_id=ids[case_name],
                    status="done",
                    due_at=done,
                    done_at=done,
                    csat=csat,
                    nps=nps,
                    solved=solved,
                    created_by_id=users[by],
                    channel="phone",
                )
            )
        session.add(FollowUp(escalation_id=ids["G"], status="scheduled", due_at=END + H, channel="email",
                             created_by_id=users["sam"]))  # fmt: skip
        session.add(FollowUp(escalation_id=ids["G"], status="scheduled", due_at=END + 9 * H, channel="email",
                             created_by_id=users["sam"]))  # fmt: skip
        session.add(Story(escalation_id=ids["A"], kind="win", text="Customer A Smith thanked us",
                          author_id=sam.user_id,
                          created_at=T0 + 3 * H))  # fmt: skip
        session.add(Story(escalation_id=ids["J"], kind="woe", text="late", author_id=mia.user_id,
                          created_at=END + H))  # fmt: skip
    goodwill = GoodwillService(database)
    gift: dict[str, Any] = {"associate": "Ravi", "gesture_type": "credit", "reason_code": "billing_error"}
    goodwill.grant(sam, amount="10.00", at=T0 - H, escalation_id=ids["I"], **gift)  # before the range, same week
    goodwill.grant(sam, amount="20.00", at=T0 + H, escalation_id=ids["A"], **gift)
    goodwill.grant(sam, amount="15.00", at=T0 + 2 * H, escalation_id=ids["B"], **gift)
    big = goodwill.grant(sam, amount="40.00", at=T0 + 3 * H, escalation_id=ids["C"], **gift)
    assert big.status == "pending"
    goodwill.approve(mia, big.id, at=T0 + 3 * H + 30 * M)
    other = goodwill.grant(sam, amount="30.00", at=T0 + 4 * H, escalation_id=ids["J"], **gift)
    goodwill.decline(mia, other.id, "too much", at=T0 + 4 * H + 5 * M)
    return Floor(ids, names, sam, mia)


# -- the expected values, from the specs ------------------------------------------------------------------------
def in_range(moment: datetime | None, start: datetime = T0, end: datetime = END) -> bool:
    return moment is not None and start <= moment < end


def ttc(spec: Spec) -> float:
    assert spec.first_claimed is not None
    held = sum((min(e, spec.first_claimed) - s).total_seconds() for s, e in spec.holds if s < spec.first_claimed)
    return (spec.first_claimed - spec.escalated).total_seconds() - held


def expected(holder: str | None = None) -> dict[str, Any]:
    specs = [s for s in SPECS if holder is None or s.holder == holder]
    received = [s for s in specs if in_range(s.escalated)]
    claimed = [s for s in specs if in_range(s.first_claimed)]
    resolved = [s for s in specs if in_range(s.resolved)]
    claim_times = [ttc(s) for s in claimed]
    res_times = [(s.resolved - s.escalated).total_seconds() for s in resolved if s.resolved]
    claim_ok = [s for s in claimed if ttc(s) <= TARGETS[s.severity][0]]
    resolve_ok = [
        s
        for s in resolved
        if s.resolved and (s.resolved - (s.queued or s.escalated)).total_seconds() - s.held_s <= TARGETS[s.severity][1]
    ]
    carried = [
        s
        for s in specs
        if s.escalated < END and (s.status in ("open", "claimed", "reopened") or (s.resolved or END) >= END)
    ]
    answers = [a for a in ANSWERS if in_range(a[1]) and (holder is None or a[5] == holder)]
    csats = [a[2] for a in answers if a[2] is not None]
    npss = [a[3] for a in answers if a[3] is not None]
    return {
        "received": len(received),
        "claimed": len(claimed),
        "resolved": len(resolved),
        "reopened": sum(1 for a in answers if a[4] is False),
        "open_carried_over": len(carried),
        "time_to_claim_median_s": float(numpy.median(claim_times)) if claim_times else None,
        "time_to_claim_p90_s": float(numpy.percentile(claim_times, 90)) if claim_times else None,
        "resolution_time_median_s": float(numpy.median(res_times)) if res_times else None,
        "resolution_time_mean_s": float(numpy.mean(res_times)) if res_times else None,
        "sla_claim_compliance": len(claim_ok) / len(claimed) if claimed else None,
        "sla_resolve_compliance": len(resolve_ok) / len(resolved) if resolved else None,
        "fcr": sum(1 for s in resolved if s.reopens == 0) / len(resolved) if resolved else None,
        "csat": sum(1 for c in csats if c >= 4) / len(csats) if csats else None,
        "csat_n": len(csats),
        "nps": 100 * (sum(1 for n in npss if n >= 9) - sum(1 for n in npss if n <= 6)) / len(npss) if npss else None,
        "nps_n": len(npss),
        "by_channel": dict(Counter(s.channel for s in received)),
        "by_category": dict(Counter(s.category for s in received)),
    }


def assert_measures(actual: dict[str, Any], wanted: dict[str, Any]) -> None:
    for key, value in wanted.items():
        if isinstance(value, float):
            assert actual[key] == pytest.approx(value, abs=0.01), key
        else:
            assert actual[key] == value, key


# -- tests ------------------------------------------------------------------------------------------------------
def test_every_measure_matches_the_definitions_on_constructed_data(database: Database) -> None:
    floor = build_floor(database)
    summary = SummaryService(database).build(T0, END)
    data = summary.as_dict()
    wanted = expected()
    # The edges are really in the data: spanning the start, a reopen, a hold that saves the SLA, a breach.
    assert wanted["received"] == 6
    assert wanted["claimed"] == 6
    assert wanted["resolved"] == 5
    assert wanted["sla_resolve_compliance"] == 4 / 5
    assert wanted["fcr"] == 4 / 5
    assert wanted["reopened"] == 1
    assert wanted["open_carried_over"] == 3
    assert wanted["csat_n"] == 3
    assert wanted["nps_n"] == 4
    assert_measures(data, wanted)
    assert data["from"] == T0.isoformat()
    assert data["to"] == END.isoformat()
    assert list(data["by_channel"]) == sorted(wanted["by_channel"], key=lambda k: (-wanted["by_channel"][k], k))

    # Goodwill: gestures in the range (an approved request counts at its request time), approvals decided.
    assert summary.goodwill_spent == Decimal("75.00")
    assert data["goodwill_spent"] == "75.00"
    assert (summary.approvals_granted, summary.approvals_declined) == (1, 1)
    (ravi,) = summary.goodwill_by_associate
    assert (ravi.associate, ravi.spent_in_range, ravi.period_spent) == ("Ravi", Decimal("75.00"), Decimal("85.00"))
    budget = GoodwillService(database).budgets(associate="Ravi", at=END)[0]
    assert ravi.allowance == budget.available
    assert ravi.period == budget.period.value

    assert summary.csat_distribution == {1: 0, 2: 1, 3: 0, 4: 1, 5: 1}
    assert [(s.escalation_id, s.kind) for s in summary.stories] == [(floor.ids["A"], "win")]
    assert [(f.escalation_id, f.due_at) for f in summary.follow_ups_due] == [(floor.ids["G"], END + H)]

    # Handover: every case open at the end, with its state, step, next action and due time.
    handover = {h.escalation_id: h for h in summary.handover}
    assert set(handover) == {floor.ids[n] for n in ("E", "F", "G")}
    e, f = handover[floor.ids["E"]], handover[floor.ids["F"]]
    assert (e.status, e.claimed_by, e.due_target, e.due_at) == ("open", None, "claim", SPECS[4].escalated + 4 * H)
    assert e.next_action.startswith("Claim")
    assert not e.overdue
    assert (f.claimed_by, f.workflow_step, f.due_target) == ("sam", "gather", "resolve")
    assert f.due_at == SPECS[5].escalated + 5 * 24 * H
    assert "Gather" in f.next_action

    # Themes: what rose against [T0 - 8h, T0): only case I (billing_error, Router) was there.
    themes = {(t.kind, t.name): (t.count, t.previous) for t in summary.themes}
    assert themes[("product", "Modem")] == (4, 0)
    assert themes[("category", "product_malfunction")] == (2, 0)
    assert ("category", "billing_error") not in themes  # 1 now, 1 before: no rise
    assert themes.get(("product", "Router")) is None  # 1 now (A), 1 before (I)

    # Arrivals and resolutions per hour add up to the counts.
    assert summary.flow_bucket_seconds == 3600
    assert len(summary.flow) == 8
    assert sum(b.arrivals for b in summary.flow) == summary.received
    assert sum(b.resolutions for b in summary.flow) == summary.resolved
    assert summary.flow[7].arrivals == 2  # E and F arrive in the last hour


def test_one_supervisor_counts_only_the_escalations_they_hold(database: Database) -> None:
    build_floor(database)
    data = SummaryService(database).build(T0, END, supervisor="sam").as_dict()
    wanted = expected("sam")
    assert wanted["received"] == 3
    assert wanted["csat"] == 1.0
    assert wanted["nps"] == 50.0
    assert_measures(data, wanted)
    assert data["supervisor"] == "sam"
    assert data["goodwill_spent"] == "75.00"  # recorded by sam (the approval by mia records sam's request)
    with pytest.raises(NotFound):
        SummaryService(database).build(T0, END, supervisor="nobody")


def test_an_empty_range_is_zeros_and_nulls_never_invented_numbers(database: Database) -> None:
    build_floor(database)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    progress: list[tuple[float, str]] = []
    data = SummaryService(database).build(start, start + 8 * H, progress=lambda f, t: progress.append((f, t))).as_dict()
    assert (data["received"], data["claimed"], data["resolved"], data["reopened"], data["open_carried_over"]) == (
        0, 0, 0, 0, 0,
    )  # fmt: skip
    nulls: tuple[str, ...] = (
        "time_to_claim_median_s",
        "time_to_claim_p90_s",
        "resolution_time_median_s",
        "resolution_time_mean_s",
    )
    nulls += ("sla_claim_compliance", "sla_resolve_compliance", "fcr", "csat", "nps")
    for key in nulls:
        assert data[key] is None, key
    assert (data["csat_n"], data["nps_n"], data["goodwill_spent"]) == (0, 0, "0.00")
    assert data["by_channel"] == {}
    assert data["by_category"] == {}
    assert data["handover"] == []
    assert progress[0][0] == 0.0
    assert progress[-1][0] == 1.0
    assert [f for f, _ in progress] == sorted(f for f, _ in progress)


def test_a_range_with_arrivals_but_no_answers_has_null_csat_and_nps(database: Database) -> None:
    build_floor(database)
    summary = SummaryService(database).build(T0 + 7 * H, END)
    assert summary.received == 2
    assert (summary.csat, summary.csat_n, summary.nps, summary.nps_n) == (None, 0, None, 0)
    assert summary.resolved == 0
    assert summary.fcr is None
    assert summary.resolution_time_mean_s is None


def test_bad_ranges_are_refused(database: Database) -> None:
    service = SummaryService(database)
    with pytest.raises(ValidationError):
        service.build(END, T0)
    with pytest.raises(ValidationError):
        service.build(datetime(2026, 3, 2), datetime(2026, 3, 3))


def test_the_saved_form_round_trips(database: Database) -> None:
    build_floor(database)
    summary = SummaryService(database).build(T0, END)
    from console.summary import ShiftSummary

    again = ShiftSummary.from_dict(summary.as_dict())
    assert again.as_dict() == summary.as_dict()


# -- the real sample -------------------------------------------------------------------------------------------
CHANNELS = {"Web": "web_form", "Phone": "phone", "Email": "email", "Postal mail": "post"}
CATEGORY_RULES = [
    ("billing_error", "fee|charg|billing|payment|interest|overdraft|debt not owed|debt is not yours|funds"
     "|your statement|transaction|payoff"),
    ("long_wait", "communication|contact|delay|took too long|response|investigation|customer service"
     "|didn't receive|notification|not available when promised"),
    ("product_malfunction", "incorrect information|trouble using|unable to get|damaged|fraud alert|security freeze"
     "|monitoring|not working|error"),
    ("unmet_expectation", "advertising|marketing|promis|expect|terms|applying|getting a|opening|closing|managing"
     "|false statement|representation"),
]  # fmt: skip


def category_of(issue: str, sub_issue: str) -> str:
    for text in (issue.lower(), sub_issue.lower()):
        for category, words in CATEGORY_RULES:
            if any(word in text for word in words.split("|")):
                return category
    return "other"


def test_summarising_the_imported_cfpb_2019_sample_matches_the_file(database: Database, supervisor: Actor) -> None:
    with CFPB_SAMPLE.open(encoding="utf-8-sig", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["Date received"][:4] == "2019"]
    channels = Counter(CHANNELS.get(r.get("Submitted via", ""), "other") for r in rows)
    categories = Counter(category_of(r["Issue"], r.get("Sub-issue", "")) for r in rows)

    run_import(database, supervisor, CFPB_SAMPLE, preset("cfpb"))
    summary = SummaryService(database).build(datetime(2019, 1, 1, tzinfo=UTC), datetime(2020, 1, 1, tzinfo=UTC))

    assert summary.received == len(rows)
    assert summary.by_channel == dict(channels)
    assert summary.by_category == dict(categories)
    assert summary.flow_bucket_seconds == 7 * 86400
    assert sum(b.arrivals for b in summary.flow) == len(rows)


def test_goodwill_is_judged_against_the_budget_period_the_range_ends_in(database: Database) -> None:
    """A shift summary ending at 22:00 sharp reads the 14:00-22:00 budget period, not the one starting at 22:00."""
    from console.intake import IntakeService, NewEscalation

    manager = make_actor(database, "meg", Role.MANAGER)
    sup = make_actor(database, "sue")
    IntakeService(database).escalate(
        None,
        NewEscalation(
            customer_name="Ada", customer_ref="C-9", channel=Channel.PHONE, category=Category.BILLING_ERROR,
            severity=Severity.NORMAL, associate_name="Ravi", summary="Double charge", details="",
            external_ref=None, source="cli",
        ),
    )  # fmt: skip
    goodwill = GoodwillService(database)
    goodwill.set_budget(manager, associate="Ravi", period="shift", allowance="60.00", cap="20.00", reason="test")
    start = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # the floor's default shifts start at 06:00, 14:00, 22:00 UTC
    goodwill.grant(
        sup, associate="Ravi", amount="15.00", gesture_type="credit", reason_code="billing_error",
        customer_ref="C-9", at=start + timedelta(hours=3),
    )  # fmt: skip
    summary = SummaryService(database).build(start, start + timedelta(hours=8))
    ravi = next(a for a in summary.goodwill_by_associate if a.associate == "Ravi")
    assert (ravi.spent_in_range, ravi.period_spent, ravi.remaining) == (
        Decimal("15.00"),
        Decimal("15.00"),
        Decimal("45.00"),
    )
