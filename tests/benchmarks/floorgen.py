"""The synthetic floor the benchmarks measure: two years of history at scale, generated quickly.

The schema always comes from the real migrations (``upgrade_database`` on an empty database); the rows are then
written in bulk, bypassing the services (which would take hours for a million escalations): on SQLite with
``executemany`` in one transaction (journal and sync off, the migrations' secondary indexes dropped first and
recreated with their own DDL afterwards), on PostgreSQL with ``COPY``. Values are stored exactly as SQLAlchemy stores
them (``YYYY-MM-DD HH:MM:SS.ffffff`` UTC text on SQLite, numbers for money, JSON text), and the file is checked by
reading it back through the real services before it is used.

The one test account (``BENCH_USERNAME`` / ``BENCH_PASSWORD``) is created by ``AccountService.create_user`` (a real
argon2 hash); the other supervisors and managers share that hash. The floor's last shift is the test supervisor's,
ending at generation time, so the summary view's default range ("the last ended shift") is eight hours of the
floor's busiest recent history and no handover dialog waits for them at sign-in.

Not generated (no measured path reads them): audit events beyond the account's own, contact history
(``interactions``), case notes, the change log.

A generated SQLite file is cached by ``GENERATOR_VERSION``, the schema's head revision and the spec; a fresh
checkout generates it.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

GENERATOR_VERSION = 1
BENCH_USERNAME = "bench"
BENCH_PASSWORD = "bench-floor-password"  # a throwaway database's test account, for the benchmarks only
BENCH_DISPLAY_NAME = "Bench Supervisor"
SUPERVISORS = 40  # besides the test account
MANAGERS = 5
TEAMS = 25
SHIFT_HOURS = 8
CHUNK = 50_000  # escalations generated and written per round


@dataclass(frozen=True)
class FloorSpec:
    """How big a floor to generate."""

    history: int = 1_000_000  # finished escalations (resolved or closed) over ``days``
    open: int = 10_000  # in the queue now: open, claimed (some on hold) or reopened
    associates: int = 500
    customers: int = 200_000
    days: int = 730
    seed: int = 7

    def key(self) -> str:
        """A file-name-safe digest of the spec."""
        return f"h{self.history}-o{self.open}-a{self.associates}-c{self.customers}-d{self.days}-s{self.seed}"


FULL_FLOOR = FloorSpec()
# PostgreSQL only measures the live arrival: the queue at full size, a month of history.
POSTGRES_FLOOR = FloorSpec(history=40_000, open=10_000, customers=20_000, days=30)


@dataclass
class FloorStats:
    """What was generated and how long it took."""

    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    generated_at: str = ""
    last_shift_start: str = ""
    last_shift_end: str = ""

    def as_dict(self) -> dict[str, Any]:
        """For bench.json."""
        return asdict(self)


# -- vocabulary --------------------------------------------------------------------------------------------------
FIRST = [
    "Alex",
    "Maria",
    "Sam",
    "Priya",
    "Tomasz",
    "Aisha",
    "Jordan",
    "Chen",
    "Lucia",
    "Omar",
    "Nina",
    "Ravi",
    "Elena",
    "Kofi",
    "Yuki",
    "Mateo",
    "Sara",
    "Ivan",
    "Leila",
    "Noah",
    "Hana",
    "Diego",
    "Amara",
    "Felix",
    "Ines",
    "Jonas",
    "Mei",
    "Paolo",
    "Rosa",
    "Tariq",
    "Zoe",
    "Arjun",
    "Bianca",
    "Emil",
    "Farah",
    "Hugo",
    "Ida",
    "Kai",
    "Lena",
    "Malik",
]
LAST = [
    "Kim",
    "Garcia",
    "Novak",
    "Okafor",
    "Raman",
    "Silva",
    "Jensen",
    "Tanaka",
    "Rossi",
    "Haddad",
    "Kowalski",
    "Mensah",
    "Larsen",
    "Dubois",
    "Costa",
    "Weber",
    "Ali",
    "Petrov",
    "Nakamura",
    "Santos",
    "Murphy",
    "Fischer",
    "Moreau",
    "Cohen",
    "Nguyen",
    "Lindqvist",
    "Brown",
    "Schmidt",
    "Park",
    "Horvat",
    "Ortiz",
    "Evans",
]
CHANNELS = ("phone", "chat", "email", "social", "in_person", "web_form", "post", "other")
CHANNEL_WEIGHTS = (34, 24, 18, 6, 6, 8, 2, 2)
CATEGORIES = ("product_malfunction", "long_wait", "billing_error", "unmet_expectation", "other")
CATEGORY_WEIGHTS = (30, 25, 22, 18, 5)
SEVERITIES = ("critical", "high", "normal", "low")
SEVERITY_WEIGHTS = (4, 18, 60, 18)
TIERS = ("standard", "silver", "gold", "platinum")
TIER_WEIGHTS = (70, 18, 9, 3)
PRODUCTS = (
    "Kettle Pro 1.7 L",
    "Aero Vacuum V8",
    "Fibre 500 broadband",
    "Unlimited mobile plan",
    "Smart TV 55",
    "Washer W9",
    "Espresso One",
    "Home insurance",
    "Travel card",
    "Laptop Air 14",
    "Router X2",
    "Cordless drill 18V",
    "Dishwasher D5",
    "Headphones NC",
    "Gift card",
    "Annual membership",
)
SUMMARIES = {
    "product_malfunction": (
        "{p} stopped working after two weeks",
        "{p} arrived damaged",
        "Second faulty {p} in a month",
        "{p} keeps restarting; repair did not fix it",
    ),
    "long_wait": (
        "Waited three weeks for a callback about {p}",
        "Nobody answered the chat about {p} for an hour",
        "Delivery of {p} delayed four times without notice",
        "Promised update on {p} never came",
    ),
    "billing_error": (
        "Charged twice for {p}",
        "Cancelled {p} but still billed",
        "Price of {p} higher than quoted",
        "Refund for {p} never arrived",
    ),
    "unmet_expectation": (
        "{p} not as advertised",
        "Installation of {p} missed the promised date",
        "{p} smaller than the listing said",
        "Offer on {p} not honoured in store",
    ),
    "other": ("Complaint about a store visit", "Data request not handled", "Rude reply on social media"),
}
DETAIL_SENTENCES = (
    "Customer has called four times and is very frustrated.",
    "Long-standing customer; disappointed more than angry.",
    "Photos of the fault are on file.",
    "The associate offered a repair; the customer wants a refund.",
    "The order reference was checked against the account.",
    "Customer mentions posting about it online.",
    "Previous contact notes say a callback was promised within 24 hours.",
    "The customer asked for a supervisor straight away.",
    "Payment history shows two identical charges on the same day.",
    "Courier tracking shows three failed delivery attempts.",
)
HOLD_REASONS = (
    "Waiting for the customer's photos of the fault",
    "Waiting on the courier's investigation",
    "Waiting for the billing team's confirmation",
    "Customer asked to be called back next week",
)
OUTCOMES = ("Refund issued", "Replacement sent", "Repair booked", "Credit applied", "Explained and apologised")
REMEDIES = ("refund", "replacement", "repair", "credit", "discount", "expedited", "explanation")
GESTURES = (("discount", "long_wait"), ("credit", "billing_error"), ("free_item", "product_malfunction"))
GESTURES_ALL = (*GESTURES, ("expedited_shipping", "unmet_expectation"))
STORY_TEXTS = (
    "Turned a furious caller into a promoter with one honest call",
    "Customer left anyway after the third failed delivery",
    "Fixed a double charge in two minutes and got a thank-you email",
    "Promised callback missed again; customer escalated to social media",
)
HANDOVER_NOTES = (
    "Queue long but calm; two critical cases need a call first thing.",
    "Billing outage caused a spike in double charges; check the billing desk's cases.",
    "Courier delays continue; keep customers updated before they chase.",
)
COMMENTS = (None, None, "Quick and friendly", "Took too long", "Solved, thank you", "Still not happy")
CLAIM_MINUTES = {"critical": 5, "high": 15, "normal": 60, "low": 240}
RESOLVE_MINUTES = {"critical": 240, "high": 1440, "normal": 4320, "low": 7200}


# -- time as text, fast -----------------------------------------------------------------------------------------
class Clock:
    """Whole-second UTC timestamps as SQLAlchemy's SQLite text (``2026-12-01 14:05:00.000000``), precomputed."""

    def __init__(self, first_day: datetime, days: int) -> None:
        self.origin = int(first_day.timestamp())
        self._days = [(first_day + timedelta(days=d)).strftime("%Y-%m-%d") for d in range(days)]
        self._hms = [f" {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.000000" for s in range(86_400)]

    def text(self, ts: int) -> str:
        """Epoch seconds as stored text."""
        day, second = divmod(ts - self.origin, 86_400)
        return self._days[day] + self._hms[second]

    def maybe(self, ts: int | None) -> str | None:
        """``text`` or None."""
        return None if ts is None else self.text(ts)


# -- the tables, column by column ---------------------------------------------------------------------------------
COLUMNS: dict[str, tuple[str, ...]] = {
    "teams": ("id", "name"),
    "associates": ("id", "name", "team_id", "active", "created_at"),
    "users": (
        "id",
        "username",
        "display_name",
        "role",
        "password_hash",
        "active",
        "failed_logins",
        "last_failed_login_at",
        "last_login_at",
        "created_at",
        "approval_limit",
    ),
    "customers": (
        "id",
        "external_ref",
        "name",
        "email",
        "phone",
        "tier",
        "lifetime_value",
        "churn_risk",
        "contact_consent",
        "churned_at",
        "created_at",
    ),
    "escalations": (
        "id",
        "external_ref",
        "source",
        "customer_id",
        "associate_id",
        "channel",
        "category",
        "product",
        "severity",
        "summary",
        "details",
        "status",
        "outcome",
        "created_at",
        "escalated_at",
        "queued_at",
        "claimed_at",
        "first_claimed_at",
        "claimed_by_id",
        "resolved_at",
        "closed_at",
        "held_since",
        "hold_reason",
        "held_seconds",
        "reopen_count",
        "workflow_step",
        "version",
        "updated_at",
    ),
    "hold_periods": ("id", "escalation_id", "started_at", "ended_at", "reason", "started_by_id", "ended_by_id"),
    "workflow_steps": (
        "id",
        "escalation_id",
        "step",
        "started_at",
        "completed_at",
        "fields",
        "revision",
        "updated_at",
        "updated_by_id",
    ),
    "follow_ups": (
        "id",
        "escalation_id",
        "status",
        "due_at",
        "channel",
        "reason",
        "done_at",
        "csat",
        "nps",
        "comment",
        "solved",
        "created_by_id",
        "created_at",
    ),
    "stories": ("id", "escalation_id", "kind", "text", "author_id", "created_at"),
    "goodwill_budgets": (
        "id",
        "scope_key",
        "team_id",
        "associate_id",
        "period",
        "allowance",
        "cap",
        "updated_at",
        "updated_by_id",
    ),
    "goodwill_requests": (
        "id",
        "associate_id",
        "customer_id",
        "escalation_id",
        "gesture_type",
        "amount",
        "currency",
        "reason_code",
        "reason_text",
        "needs_approval_because",
        "requested_by_id",
        "requested_at",
        "status",
        "decided_by_id",
        "decided_at",
        "decision_reason",
    ),
    "goodwill_entries": (
        "id",
        "kind",
        "associate_id",
        "customer_id",
        "escalation_id",
        "gesture_type",
        "amount",
        "currency",
        "reason_code",
        "reason_text",
        "effective_at",
        "recorded_at",
        "recorded_by_id",
        "request_id",
        "reverses_id",
    ),
    "shifts": ("id", "supervisor_id", "started_at", "ended_at", "handover_note", "summary"),
}
# Parents before children, so foreign keys hold at every COPY on PostgreSQL.
TABLE_ORDER = (
    "teams",
    "associates",
    "users",
    "customers",
    "escalations",
    "hold_periods",
    "workflow_steps",
    "follow_ups",
    "stories",
    "goodwill_budgets",
    "goodwill_requests",
    "goodwill_entries",
    "shifts",
)
Rows = dict[str, list[tuple[Any, ...]]]
Writer = Callable[[Rows], None]


def _step_fields(rng: random.Random) -> list[list[str]]:
    """A few prepared JSON payloads per step, in step order (json.dumps once, not four million times)."""
    listen = [json.dumps({"account": f"Customer says: {s}", "upset": rng.randint(1, 5)}) for s in DETAIL_SENTENCES]
    gather = [
        json.dumps(
            {
                "what_happened": rng.choice(DETAIL_SENTENCES),
                "when": "last week",
                "references": f"ORD-{rng.randint(100000, 999999)}",
                "tried": "Restarted it",
                "wants": rng.choice(("A refund", "A replacement", "An apology and a credit")),
            }
        )
        for _ in range(30)
    ]
    apologize = [json.dumps({"given": True}), json.dumps({"given": False, "skip_reason": "Not our fault"})]
    propose = [
        json.dumps(
            {
                "remedies": [{"type": rng.choice(REMEDIES), "note": "", "amount": f"{rng.randint(5, 60)}.00"}],
                "promised_date": "2025-01-15",
                "response": rng.choice(("accepted", "accepted", "chose", "declined")),
            }
        )
        for _ in range(30)
    ]
    follow_up = [json.dumps({"due_at": "2025-01-16T10:00:00+00:00", "channel": c}) for c in ("phone", "email")]
    return [listen, gather, apologize, propose, follow_up]


def _weighted(population: Sequence[Any], weights: Sequence[int]) -> tuple[Any, ...]:
    """The population repeated by weight, so a weighted pick is one index (random.choices is slow in a loop)."""
    return tuple(item for item, weight in zip(population, weights, strict=True) for _ in range(weight))


HOURS = _weighted(range(24), (1, 1, 1, 1, 1, 2, 4, 7, 10, 11, 11, 10, 9, 10, 11, 10, 9, 8, 6, 5, 4, 3, 2, 1))
CHANNEL_PICK = _weighted(CHANNELS, CHANNEL_WEIGHTS)
CATEGORY_PICK = _weighted(CATEGORIES, CATEGORY_WEIGHTS)
SEVERITY_PICK = _weighted(SEVERITIES, SEVERITY_WEIGHTS)
CSAT_PICK = _weighted((1, 2, 3, 4, 5), (6, 6, 12, 36, 40))
NPS_PICK = _weighted(range(11), (3, 2, 2, 3, 4, 6, 7, 12, 18, 22, 21))

STEPS = ("listen", "gather", "apologize", "propose", "follow_up")


class FloorGenerator:
    """Produces the floor's rows in rounds of ``CHUNK`` escalations and hands each round to a writer."""

    def __init__(self, spec: FloorSpec, now: datetime, first_user_id: int, password_hash: str) -> None:
        self.spec = spec
        self.rng = random.Random(spec.seed)
        random_ = self.rng.random

        def pick(seq: Sequence[Any]) -> Any:
            return seq[int(random_() * len(seq))]

        self.pick = pick
        self.now = int(now.timestamp())
        first_day = datetime.fromtimestamp(self.now, UTC).replace(hour=0, minute=0, second=0) - timedelta(
            days=spec.days + 2
        )
        self.start = int(first_day.timestamp()) + 2 * 86_400
        self.clock = Clock(first_day, spec.days + 40)
        self.bench_id = first_user_id
        self.password_hash = password_hash
        self.supervisor_ids = [first_user_id, *range(first_user_id + 1, first_user_id + 1 + SUPERVISORS)]
        self.manager_ids = list(range(first_user_id + 1 + SUPERVISORS, first_user_id + 1 + SUPERVISORS + MANAGERS))
        self.counts: dict[str, int] = dict.fromkeys(TABLE_ORDER, 0)
        self.next_id: dict[str, int] = dict.fromkeys(TABLE_ORDER, 1)
        self.fields = _step_fields(self.rng)
        self.details = [
            " ".join(self.rng.sample(DETAIL_SENTENCES, self.rng.randint(2, 4))) + f" Ref {n}." for n in range(400)
        ]
        self.summaries = {
            cat: [t.format(p=p) for t in templates for p in PRODUCTS] for cat, templates in SUMMARIES.items()
        }

    # -- helpers ---------------------------------------------------------------------------------------------
    def _id(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    def _arrival_times(self) -> list[tuple[int, bool]]:
        """(escalated_at, is_open), in time order: history through the day's rhythm, the queue mostly recent."""
        rng = self.rng
        span = self.now - 7_200 - self.start
        random_, pick, latest = rng.random, self.pick, self.now - 7_200
        times: list[tuple[int, bool]] = []
        for _ in range(self.spec.history):
            day = self.start + int(random_() * span) // 86_400 * 86_400
            ts = min(day + pick(HOURS) * 3_600 + int(random_() * 3_600), latest)
            times.append((ts, False))
        for _ in range(self.spec.open):
            age = min(rng.expovariate(1 / (2.5 * 86_400)), 14 * 86_400)
            times.append((self.now - 60 - int(age), True))
        times.sort()
        return times

    # -- the fixed part ----------------------------------------------------------------------------------------
    def people(self) -> Rows:
        """Teams, associates, the other accounts, customers, budgets."""
        rng, text = self.rng, self.clock.text
        created = text(self.start - 86_400)
        rows: Rows = {t: [] for t in TABLE_ORDER}
        for team in range(1, TEAMS + 1):
            rows["teams"].append((team, f"Team {team:02d}"))
        names = [f"{f} {last}" for last in LAST for f in FIRST]
        rng.shuffle(names)
        for n in range(1, self.spec.associates + 1):
            name = names[n - 1] if n <= len(names) else f"Associate {n}"
            rows["associates"].append((n, name, 1 + (n - 1) % TEAMS, 1, created))
        for n, user_id in enumerate(self.supervisor_ids[1:], start=1):
            rows["users"].append(
                (
                    user_id,
                    f"sup{n:02d}",
                    f"Supervisor {n:02d}",
                    "supervisor",
                    self.password_hash,
                    1,
                    0,
                    None,
                    None,
                    created,
                    None,
                )
            )
        for n, user_id in enumerate(self.manager_ids, start=1):
            rows["users"].append(
                (
                    user_id,
                    f"mgr{n:02d}",
                    f"Manager {n:02d}",
                    "manager",
                    self.password_hash,
                    1,
                    0,
                    None,
                    None,
                    created,
                    None,
                )
            )
        for n in range(1, self.spec.customers + 1):
            tier = rng.choices(TIERS, TIER_WEIGHTS)[0]
            ltv = round(rng.lognormvariate(6.5, 1.2), 2)
            churn = round(min(rng.betavariate(1.5, 6), 1.0), 2)
            since = self.start - rng.randrange(5 * 365 * 86_400 // 2)
            rows["customers"].append(
                (
                    n,
                    f"C-{n:07d}",
                    f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                    f"customer{n}@example.com",
                    f"+1555{n:07d}",
                    tier,
                    ltv,
                    churn,
                    1 if rng.random() < 0.9 else 0,
                    None,
                    text(max(since, self.clock.origin)),
                )
            )
        rows["goodwill_budgets"].append((1, "floor", None, None, "week", 150.0, 25.0, created, None))
        for team in range(1, 6):
            rows["goodwill_budgets"].append((1 + team, f"team:{team}", team, None, "week", 200.0, 30.0, created, None))
        self.next_id["goodwill_budgets"] = 7
        return rows

    def shifts(self) -> tuple[Rows, int, int]:
        """Three shifts a day through the two years; the last one is the test supervisor's, ending now."""
        rows: Rows = {"shifts": []}
        end = self.now
        ends: list[int] = []
        while end - SHIFT_HOURS * 3_600 >= self.start:
            ends.append(end)
            end -= SHIFT_HOURS * 3_600
        ends.reverse()
        for n, shift_end in enumerate(ends, start=1):
            who = self.bench_id if n == len(ends) else self.rng.choice(self.supervisor_ids[1:])
            rows["shifts"].append(
                (
                    n,
                    who,
                    self.clock.text(shift_end - SHIFT_HOURS * 3_600),
                    self.clock.text(shift_end),
                    self.rng.choice(HANDOVER_NOTES),
                    None,
                )
            )
        return rows, ends[-1] - SHIFT_HOURS * 3_600, ends[-1]

    # -- escalations and what hangs off them ------------------------------------------------------------------------
    def escalations(self) -> Iterator[Rows]:
        """The escalations in time order, with steps, holds, follow-ups, gestures and stories, a round at a time."""
        times = self._arrival_times()
        for first in range(0, len(times), CHUNK):
            rows: Rows = {t: [] for t in TABLE_ORDER}
            for escalated, is_open in times[first : first + CHUNK]:
                if is_open:
                    self._open_case(rows, escalated)
                else:
                    self._finished_case(rows, escalated)
            yield rows

    def _base(self, escalated: int) -> tuple[int, int, int, str, str, str, str, str, str]:
        random_, pick = self.rng.random, self.pick
        category = pick(CATEGORY_PICK)
        return (
            self._id("escalations"),
            1 + int(random_() * self.spec.customers),
            1 + int(random_() * self.spec.associates),
            pick(CHANNEL_PICK),
            category,
            pick(PRODUCTS),
            pick(SEVERITY_PICK),
            pick(self.summaries[category]),
            pick(self.details),
        )

    def _steps(self, rows: Rows, esc_id: int, upto: int, begin: int, end: int, by: int, *, last_done: bool) -> None:
        """Steps 1..upto between ``begin`` and ``end``; the last one still open unless ``last_done``."""
        text = self.clock.text
        span = max(end - begin, upto)
        for n in range(upto):
            started = begin + span * n // upto
            finished = begin + span * (n + 1) // upto
            done = n < upto - 1 or last_done
            rows["workflow_steps"].append(
                (
                    self._id("workflow_steps"),
                    esc_id,
                    STEPS[n],
                    text(started),
                    text(finished) if done else None,
                    self.pick(self.fields[n]),
                    1,
                    text(finished if done else started),
                    by,
                )
            )

    def _finished_case(self, rows: Rows, escalated: int) -> None:
        rng, text, maybe = self.rng, self.clock.text, self.clock.maybe
        now = self.now
        esc_id, customer, associate, channel, category, product, severity, summary, details = self._base(escalated)
        pick, random_ = self.pick, rng.random
        holder = pick(self.supervisor_ids)
        claim_delay = int(rng.lognormvariate(math.log(CLAIM_MINUTES[severity] * 30), 0.9))
        first_claim = min(escalated + max(claim_delay, 20), now - 3_600)
        resolve_after = int(rng.lognormvariate(math.log(RESOLVE_MINUTES[severity] * 20), 1.0))
        resolved = min(first_claim + max(resolve_after, 300), now - 600)
        queued = escalated
        claimed = first_claim
        reopen_count = 0
        held = 0
        if random_() < 0.04 and resolved + 2 * 86_400 < now - 86_400:
            # Resolved once, followed up "not solved", reopened and resolved again.
            done = resolved + rng.randrange(86_400, 2 * 86_400)
            rows["follow_ups"].append(
                (
                    self._id("follow_ups"),
                    esc_id,
                    "done",
                    text(done - 600),
                    "phone",
                    None,
                    text(done),
                    rng.randint(1, 3),
                    rng.randint(0, 5),
                    "Still broken",
                    0,
                    holder,
                    text(resolved),
                )
            )
            queued = done
            claimed = done + rng.randrange(300, 7_200)
            resolved = min(claimed + rng.randrange(3_600, 86_400), now - 600)
            reopen_count = 1
        if random_() < 0.05:
            start = claimed + rng.randrange(60, max(61, (resolved - claimed) // 2))
            length = min(rng.randrange(900, 86_400), max(resolved - start - 60, 60))
            rows["hold_periods"].append(
                (
                    self._id("hold_periods"),
                    esc_id,
                    text(start),
                    text(start + length),
                    rng.choice(HOLD_REASONS),
                    holder,
                    holder,
                )
            )
            held = length
        handled = random_() < 0.8
        if handled:
            self._steps(rows, esc_id, 5, claimed, resolved, holder, last_done=True)
        # Follow-up: done (closing the case) for most, not needed for some, still to come for the newest.
        status, closed = "closed", resolved
        roll = random_()
        if roll < 0.7:
            due = resolved + 43_200 + int(random_() * 2.5 * 86_400)
            if due + 600 < now:
                rows["follow_ups"].append(
                    (
                        self._id("follow_ups"),
                        esc_id,
                        "done",
                        text(due),
                        pick(("phone", "email")),
                        None,
                        text(due + 600),
                        pick(CSAT_PICK),
                        pick(NPS_PICK),
                        pick(COMMENTS),
                        1,
                        holder,
                        text(resolved),
                    )
                )
                closed = due + 600
            else:
                rows["follow_ups"].append(
                    (
                        self._id("follow_ups"),
                        esc_id,
                        "scheduled",
                        text(due),
                        "phone",
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        holder,
                        text(resolved),
                    )
                )
                status, closed = "resolved", 0
        else:
            rows["follow_ups"].append(
                (
                    self._id("follow_ups"),
                    esc_id,
                    "not_needed",
                    None,
                    None,
                    "Customer asked not to be called",
                    None,
                    None,
                    None,
                    None,
                    None,
                    holder,
                    text(resolved),
                )
            )
        if random_() < 0.08:
            self._gesture(rows, esc_id, associate, customer, category, resolved, holder)
        if random_() < 0.003:
            rows["stories"].append(
                (
                    self._id("stories"),
                    esc_id,
                    rng.choice(("win", "woe")),
                    rng.choice(STORY_TEXTS),
                    holder,
                    text(resolved + 60),
                )
            )
        rows["escalations"].append(
            (
                esc_id,
                None,
                "console",
                customer,
                associate,
                channel,
                category,
                product,
                severity,
                summary,
                details,
                status,
                pick(OUTCOMES),
                text(escalated),
                text(escalated),
                text(queued),
                text(claimed),
                text(first_claim),
                holder,
                text(resolved),
                maybe(closed or None),
                None,
                None,
                held,
                reopen_count,
                "follow_up" if handled else None,
                3 + 2 * reopen_count,
                text(closed or resolved),
            )
        )

    def _gesture(self, rows: Rows, esc_id: int, associate: int, customer: int, category: str, at: int, by: int) -> None:
        rng, text = self.rng, self.clock.text
        gesture, reason = rng.choice(GESTURES_ALL)
        if category in CATEGORIES[:4]:
            reason = category
        amount = float(rng.randint(5, 40))
        request_id = None
        if rng.random() < 0.06:
            request_id = self._id("goodwill_requests")
            approved = rng.random() < 0.8
            rows["goodwill_requests"].append(
                (
                    request_id,
                    associate,
                    customer,
                    esc_id,
                    gesture,
                    amount + 30,
                    "USD",
                    reason,
                    None,
                    "over the 25.00 cap per gesture",
                    by,
                    text(at - 600),
                    "approved" if approved else "declined",
                    rng.choice(self.manager_ids),
                    text(at - 300),
                    None if approved else "Too much for this case",
                )
            )
            if not approved:
                return
            amount += 30
        entry = self._id("goodwill_entries")
        rows["goodwill_entries"].append(
            (
                entry,
                "gesture",
                associate,
                customer,
                esc_id,
                gesture,
                amount,
                "USD",
                reason,
                None,
                text(at),
                text(at),
                by,
                request_id,
                None,
            )
        )
        if rng.random() < 0.02:
            rows["goodwill_entries"].append(
                (
                    self._id("goodwill_entries"),
                    "reversal",
                    associate,
                    customer,
                    esc_id,
                    gesture,
                    -amount,
                    "USD",
                    reason,
                    "Recorded twice",
                    text(at),
                    text(at + 900),
                    by,
                    None,
                    entry,
                )
            )

    def _open_case(self, rows: Rows, escalated: int) -> None:
        rng, text, maybe = self.rng, self.clock.text, self.clock.maybe
        now = self.now
        esc_id, customer, associate, channel, category, product, severity, summary, details = self._base(escalated)
        roll = rng.random()
        queued, claimed_at, first_claim, holder, step = escalated, None, None, None, None
        held_since, hold_reason, reopen_count, version = None, None, 0, 1
        status = "open"
        if roll < 0.05 and now - escalated > 4 * 86_400:
            # Reopened: resolved, followed up "not solved", back in the queue unclaimed with fresh targets.
            status, reopen_count, version = "reopened", 1, 6
            first_claim = escalated + rng.randrange(120, 7_200)
            follow_up = rng.randrange(first_claim + 86_400, now - 600)
            queued = follow_up
            rows["follow_ups"].append(
                (
                    self._id("follow_ups"),
                    esc_id,
                    "done",
                    text(follow_up - 600),
                    "phone",
                    None,
                    text(follow_up),
                    2,
                    3,
                    "Not fixed",
                    0,
                    rng.choice(self.supervisor_ids),
                    text(follow_up - 86400),
                )
            )
        elif roll < 0.38:
            status, version = "claimed", 2
            first_claim = claimed_at = escalated + int((now - escalated) * rng.random() * 0.5)
            holder = rng.choice(self.supervisor_ids)
            upto = rng.randint(1, 4)
            step = STEPS[upto - 1]
            self._steps(rows, esc_id, upto, claimed_at, min(claimed_at + 1_800, now - 30), holder, last_done=False)
            if rng.random() < 0.1:
                held_since = claimed_at + (now - claimed_at) // 2
                hold_reason = rng.choice(HOLD_REASONS)
                version = 3
                rows["hold_periods"].append(
                    (self._id("hold_periods"), esc_id, text(held_since), None, hold_reason, holder, None)
                )
        rows["escalations"].append(
            (
                esc_id,
                None,
                "console",
                customer,
                associate,
                channel,
                category,
                product,
                severity,
                summary,
                details,
                status,
                None,
                text(escalated),
                text(escalated),
                text(queued),
                maybe(claimed_at),
                maybe(first_claim),
                holder,
                None,
                None,
                maybe(held_since),
                hold_reason,
                0,
                reopen_count,
                step,
                version,
                text(max(queued, claimed_at or 0, held_since or 0)),
            )
        )

    def count(self, rows: Rows) -> None:
        """Add a round's rows to the totals."""
        for table, batch in rows.items():
            self.counts[table] = self.counts.get(table, 0) + len(batch)


def _insert_sql(table: str) -> str:
    cols = COLUMNS[table]
    return f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"


def _prepare(url: str) -> tuple[int, str]:
    """Migrate the empty database and create the test account through the real service: (its id, its hash)."""
    from sqlalchemy import select

    from console.accounts import AccountService
    from console.domain import Role
    from db.engine import Database
    from db.migrate import upgrade_database
    from db.models import User

    database = Database(url)
    try:
        upgrade_database(database)
        info = AccountService(database).create_user(
            None, BENCH_USERNAME, BENCH_DISPLAY_NAME, BENCH_PASSWORD, Role.SUPERVISOR
        )
        with database.read() as session:
            password_hash = session.scalar(select(User.password_hash).where(User.id == info.user_id))
        assert password_hash is not None
        return info.user_id, password_hash
    finally:
        database.dispose()


def _generate(spec: FloorSpec, now: datetime, first_user_id: int, password_hash: str, write: Writer) -> FloorStats:
    gen = FloorGenerator(spec, now, first_user_id, password_hash)
    people = gen.people()
    gen.count(people)
    write(people)
    for rows in gen.escalations():
        gen.count(rows)
        write(rows)
    shifts, shift_start, shift_end = gen.shifts()
    gen.count(shifts)
    write(shifts)
    return FloorStats(
        rows={t: n for t, n in gen.counts.items() if n},
        generated_at=now.isoformat(),
        last_shift_start=datetime.fromtimestamp(shift_start, UTC).isoformat(),
        last_shift_end=datetime.fromtimestamp(shift_end, UTC).isoformat(),
    )


def generate_sqlite(path: Path, spec: FloorSpec = FULL_FLOOR, *, now: datetime | None = None) -> FloorStats:
    """Write a new floor into ``path`` (which must not exist)."""
    began = time.perf_counter()
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    user_id, password_hash = _prepare(f"sqlite:///{path}")
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -400000")
        conn.execute("PRAGMA temp_store = MEMORY")
        # The migrations' own secondary indexes, rebuilt with their own DDL once the rows are in (much faster
        # than maintaining them row by row); unique constraints' automatic indexes stay.
        indexes = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name"
        ).fetchall()
        conn.execute("BEGIN")
        for name, _sql in indexes:
            conn.execute(f'DROP INDEX "{name}"')

        def write(rows: Rows) -> None:
            for table in TABLE_ORDER:
                batch = rows.get(table)
                if batch:
                    conn.executemany(_insert_sql(table), batch)

        stats = _generate(spec, now, user_id, password_hash, write)
        for _name, sql in indexes:
            conn.execute(sql)
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()
    _check(f"sqlite:///{path}", spec)
    stats.seconds = time.perf_counter() - began
    return stats


def generate_postgres(url: str, spec: FloorSpec = POSTGRES_FLOOR, *, now: datetime | None = None) -> FloorStats:
    """Write a new floor into the empty PostgreSQL database at ``url`` with COPY."""
    import psycopg
    from sqlalchemy import make_url

    began = time.perf_counter()
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    user_id, password_hash = _prepare(url)
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as conn:
        conn.execute("SET TIME ZONE 'UTC'")

        def write(rows: Rows) -> None:
            with conn.cursor() as cur:
                for table in TABLE_ORDER:
                    batch = rows.get(table)
                    if not batch:
                        continue
                    with cur.copy(f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN") as copy:
                        for row in batch:
                            copy.write_row(row)

        stats = _generate(spec, now, user_id, password_hash, write)
        for table in TABLE_ORDER:
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 1)) FROM {table}")
        conn.commit()
        conn.execute("ANALYZE")  # autovacuum would do it within a minute on a real server
    _check(url, spec)
    stats.seconds = time.perf_counter() - began
    return stats


def _check(url: str, spec: FloorSpec) -> None:
    """Read the floor back through the real services: the queue holds exactly the open cases."""
    from console.queue import QueueService
    from db.engine import Database

    database = Database(url)
    try:
        items = QueueService(database).open_items()
        if len(items) != spec.open:
            raise AssertionError(f"generated {spec.open} open escalations, the queue shows {len(items)}")
    finally:
        database.dispose()


def ensure_sqlite_floor(cache_dir: Path, spec: FloorSpec = FULL_FLOOR) -> tuple[Path, FloorStats, bool]:
    """The cached floor for ``spec`` (generated first if missing): (path, stats, whether it was generated now)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    from db.migrate import head_revision

    # Keyed by the schema too: a floor made before a migration would not open (the app does not upgrade it here).
    path = cache_dir / f"floor-v{GENERATOR_VERSION}-r{head_revision()}-{spec.key()}.sqlite3"
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists():
        stats = FloorStats(**json.loads(meta.read_text(encoding="utf-8")))
        return path, stats, False
    for stale in (path, meta, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    stats = generate_sqlite(partial, spec)
    partial.rename(path)
    meta.write_text(json.dumps(stats.as_dict(), indent=2), encoding="utf-8")
    return path, stats, True


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tests.benchmarks.floorgen OUT.sqlite3 [--history N] [--open N]``: generate a floor file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--history", type=int, default=FULL_FLOOR.history)
    parser.add_argument("--open", type=int, default=FULL_FLOOR.open)
    parser.add_argument("--customers", type=int, default=FULL_FLOOR.customers)
    args = parser.parse_args(argv)
    if args.out.exists():
        print(f"{args.out} exists; not overwriting it", file=sys.stderr)
        return 2
    spec = FloorSpec(history=args.history, open=args.open, customers=args.customers)
    stats = generate_sqlite(args.out, spec)
    print(json.dumps(stats.as_dict(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
