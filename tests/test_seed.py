"""The demo floor: what a fresh demo database holds, that it is made once, that a seed fixes it, and arrivals."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import time
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from console.accounts import AccountService
from console.actor import Actor
from console.domain import Category, Role, Severity, Status
from console.queue import QueueService
from console.simulator import ArrivalSimulator
from console.sla import ClockState, clock
from db.engine import Database
from db.models import (
    Associate,
    AuditEvent,
    Change,
    Customer,
    Escalation,
    HoldPeriod,
    Interaction,
    Team,
    User,
)
from db.seed import (
    DEFAULT_SEED,
    DEMO_MANAGER_USERNAME,
    DEMO_SUPERVISOR_PASSWORD,
    DEMO_SUPERVISOR_USERNAME,
    ensure_demo_floor,
)
from db.types import utcnow
from tests.conftest import MAIN, PYTHON, run_main_env

TABLES = (User, Team, Associate, Customer, Escalation, Interaction, HoldPeriod, AuditEvent, Change)


def _counts(database: Database) -> dict[str, int]:
    with database.read() as session:
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0 for model in TABLES}


def _fresh_sqlite(template: Path, path: Path) -> Database:
    shutil.copyfile(template, path)
    return Database(f"sqlite:///{path}")


def _digest(database: Database) -> str:
    """A fingerprint of what a person sees on the floor: customers, escalations and their texts."""
    sha = hashlib.sha256()
    with database.read() as session:
        for c in session.scalars(select(Customer).order_by(Customer.id)):
            sha.update(f"{c.name}|{c.external_ref}|{c.tier}|{c.lifetime_value}|{c.churn_risk}|{c.email}\n".encode())
        for e in session.scalars(select(Escalation).order_by(Escalation.id)):
            fields = (e.summary, e.details, e.severity, e.status, e.category, e.channel, e.escalated_at.isoformat())
            sha.update(("|".join(fields) + "\n").encode())
        for i in session.scalars(select(Interaction).order_by(Interaction.id)):
            sha.update(f"{i.summary}|{i.occurred_at.isoformat()}\n".encode())
    return sha.hexdigest()


def test_a_fresh_database_gets_a_believable_floor(database: Database) -> None:
    now = utcnow()
    started = time.monotonic()
    assert ensure_demo_floor(database, now=now) is True
    # About 1 s when the machine is idle (half of it hashing five passwords); the bound leaves room for a busy
    # CI machine while still catching a seeding that commits per row or hashes per customer.
    assert time.monotonic() - started < 10.0

    with database.read() as session:
        teams = session.scalars(select(Team)).all()
        associates = session.scalars(select(Associate)).all()
        customers = session.scalars(select(Customer)).all()
        escalations = session.scalars(select(Escalation)).all()
        interactions = session.scalars(select(Interaction)).all()
        open_holds = session.scalars(select(HoldPeriod).where(HoldPeriod.ended_at.is_(None))).all()
        users = {u.id: u for u in session.scalars(select(User))}
        seed_events = session.scalars(select(AuditEvent).where(AuditEvent.action == "demo.seed")).all()

    # Teams and associates: 10-14 people on 2-3 desks, nobody without a desk.
    assert 2 <= len(teams) <= 3
    assert 10 <= len(associates) <= 14
    per_team = Counter(a.team_id for a in associates)
    assert set(per_team) == {t.id for t in teams}
    assert min(per_team.values()) >= 2

    # Customers: a few hundred with a believable spread of tiers, values and risk.
    assert 200 <= len(customers) <= 400
    tiers = Counter(c.tier for c in customers)
    assert tiers["standard"] > len(customers) / 2
    assert tiers["standard"] > tiers["silver"] > tiers["platinum"] >= 1
    assert tiers["gold"] >= tiers["platinum"]
    values = [c.lifetime_value for c in customers]
    assert all(isinstance(v, Decimal) and v >= 0 for v in values)
    assert sum(Decimal(100) <= v <= Decimal(3000) for v in values) > len(values) / 2
    assert sum(v >= Decimal(5000) for v in values) >= 5
    assert all(0.0 <= c.churn_risk <= 1.0 for c in customers)
    at_risk = sum(c.churn_risk >= 0.6 for c in customers) / len(customers)
    assert 0.04 <= at_risk <= 0.2
    assert sum(c.contact_consent for c in customers) > 0.7 * len(customers)
    refs = [c.external_ref for c in customers]
    assert len(set(refs)) == len(refs)
    assert all(ref is not None and re.fullmatch(r"C-\d{5}", ref) for ref in refs)
    assert all(c.email is None or c.email.endswith("@example.com") for c in customers)
    assert all(c.phone is None or "555-01" in c.phone for c in customers)
    assert sum(c.email is not None for c in customers) > 0.8 * len(customers)

    # The live queue: about fifteen cases with the stated mix.
    items = QueueService(database).open_items()
    assert 13 <= len(items) <= 17
    severities = Counter(item.severity for item in items)
    assert 1 <= severities[Severity.CRITICAL] <= 2
    assert 3 <= severities[Severity.HIGH] <= 4
    assert 2 <= severities[Severity.LOW] <= 3
    assert severities[Severity.NORMAL] == max(severities.values())
    assert {item.category for item in items} >= {
        Category.PRODUCT_MALFUNCTION,
        Category.LONG_WAIT,
        Category.BILLING_ERROR,
        Category.UNMET_EXPECTATION,
    }
    assert len({item.channel for item in items}) >= 3
    for item in items:
        assert timedelta(minutes=2) <= now - item.escalated_at <= timedelta(hours=5), item
        assert item.queued_at <= now
    holders = [users[item.claimed_by_id].username for item in items if item.claimed_by_id is not None]
    assert 3 <= len(holders) <= 4
    assert DEMO_SUPERVISOR_USERNAME not in holders
    held = [item for item in items if item.on_hold]
    assert len(held) == 1
    assert held[0].hold_reason
    assert held[0].claimed_by_id is not None
    assert [h.escalation_id for h in open_holds] == [held[0].id]
    policy = QueueService(database).policy()
    states = Counter(clock(item.clock_inputs, policy, now).state for item in items)
    assert states[ClockState.BREACHED] + states[ClockState.WARNING] >= 1
    assert states[ClockState.PAUSED] == 1

    # The day's history: 60-90 handled escalations from the last 24 hours, most closed or resolved properly.
    day = [e for e in escalations if e.escalated_at >= now - timedelta(hours=24)]
    handled = [e for e in day if e.status in (Status.RESOLVED.value, Status.CLOSED.value)]
    assert 60 <= len(handled) <= 90
    for e in handled:
        assert e.claimed_by_id in users
        assert e.escalated_at <= e.queued_at < e.claimed_at < e.resolved_at <= now, e.id  # type: ignore[operator]
        assert e.first_claimed_at is not None
        assert e.first_claimed_at <= e.claimed_at  # type: ignore[operator]
        assert e.outcome
        if e.status == Status.CLOSED.value:
            assert e.closed_at is not None
            assert e.resolved_at <= e.closed_at <= now  # type: ignore[operator]
        else:
            assert e.closed_at is None
    assert sum(e.status == Status.CLOSED.value for e in handled) >= 10
    assert sum(e.status == Status.RESOLVED.value for e in handled) >= 10
    assert sum(e.reopen_count == 1 for e in handled) >= 2
    assert len({e.claimed_by_id for e in handled}) >= 3
    assert all(e.version == 1 and e.created_at == e.escalated_at for e in escalations)

    # The customers now waiting have a history to show: earlier contacts, and for some an earlier escalation.
    waiting = {item.customer_id for item in items}
    assert all(
        any(i.customer_id == cid and i.escalation_id is None and i.occurred_at < now for i in interactions)
        for cid in waiting
    )
    earlier = {e.customer_id for e in escalations if e.status == Status.CLOSED.value and e.customer_id in waiting}
    assert len(earlier) >= 2
    assert len({i.customer_id for i in interactions}) > len(customers) / 2
    assert len({i.channel for i in interactions}) >= 5

    # The documented demo accounts sign in; one seed event records what was made.
    accounts = AccountService(database)
    demo = accounts.authenticate(DEMO_SUPERVISOR_USERNAME, DEMO_SUPERVISOR_PASSWORD)
    assert demo.role is Role.SUPERVISOR
    assert accounts.authenticate(DEMO_MANAGER_USERNAME, "demo-manager").role is Role.MANAGER
    supervisors = [u for u in users.values() if u.role == Role.SUPERVISOR.value]
    assert len(supervisors) >= 3
    assert len(seed_events) == 1
    assert seed_events[0].after is not None
    assert seed_events[0].after["seed"] == DEFAULT_SEED


def test_the_floor_is_made_once_then_reused(database: Database) -> None:
    now = utcnow()
    assert ensure_demo_floor(database, seed=5, now=now) is True
    before = _counts(database)
    assert ensure_demo_floor(database, seed=5, now=now) is False
    assert ensure_demo_floor(database, seed=6) is False
    assert _counts(database) == before


def test_a_database_in_use_is_left_alone(database: Database, manager: Actor) -> None:
    before = _counts(database)
    assert ensure_demo_floor(database) is False
    assert _counts(database) == before
    assert before["customers"] == 0


def test_same_seed_same_floor_other_seed_other_floor(sqlite_template: Path, tmp_path: Path) -> None:
    now = datetime.fromisoformat("2026-03-10T14:30:00+00:00")
    floors = []
    for name, seed in (("a", 11), ("b", 11), ("c", 12)):
        database = _fresh_sqlite(sqlite_template, tmp_path / f"{name}.sqlite3")
        try:
            assert ensure_demo_floor(database, seed=seed, now=now)
            floors.append(_digest(database))
        finally:
            database.dispose()
    assert floors[0] == floors[1]
    assert floors[0] != floors[2]


def test_an_arrival_joins_the_queue_with_audit_and_change_log(database: Database) -> None:
    ensure_demo_floor(database, seed=3)
    queue = QueueService(database)
    before = {item.id for item in queue.open_items()}
    with database.read() as session:
        associates = set(session.scalars(select(Associate.name)))
        customers_before = session.scalar(select(func.count()).select_from(Customer)) or 0

    new_id = ArrivalSimulator(database, seed=5).arrive()

    assert new_id not in before
    item = queue.item(new_id)
    assert item.status is Status.OPEN
    assert item.summary
    assert item.associate_name in associates
    assert utcnow() - item.escalated_at < timedelta(minutes=1)
    with database.read() as session:
        changes = session.scalars(select(Change).where(Change.entity == "escalation", Change.entity_id == new_id))
        assert len(changes.all()) == 1
        audit = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "escalation.create", AuditEvent.entity_id == str(new_id))
        ).all()
        assert len(audit) == 1
        customers_after = session.scalar(select(func.count()).select_from(Customer)) or 0
        escalation = session.get(Escalation, new_id)
        assert escalation is not None
        assert escalation.source == "demo"
    assert customers_after - customers_before in (0, 1)


def test_arrivals_on_a_floor_without_customers_create_them(database: Database) -> None:
    simulator = ArrivalSimulator(database, seed=1)
    ids = [simulator.arrive() for _ in range(3)]
    items = {item.id: item for item in QueueService(database).open_items()}
    assert set(ids) <= set(items)
    assert all(items[i].customer_ref for i in ids)


def test_delays_are_20_to_60_seconds_and_repeat_per_seed(sqlite_url: str) -> None:
    database = Database(sqlite_url)
    try:
        one = ArrivalSimulator(database, seed=4)
        two = ArrivalSimulator(database, seed=4)
        other = ArrivalSimulator(database, seed=8)
        a = [one.next_delay_seconds() for _ in range(200)]
        b = [two.next_delay_seconds() for _ in range(200)]
        c = [other.next_delay_seconds() for _ in range(200)]
    finally:
        database.dispose()
    assert a == b
    assert a != c
    assert all(20.0 <= d <= 60.0 for d in a + c)
    assert min(a) < 25.0
    assert max(a) > 55.0


def test_arrivals_repeat_per_seed(sqlite_template: Path, tmp_path: Path) -> None:
    now = datetime.fromisoformat("2026-03-10T14:30:00+00:00")
    runs: dict[str, list[tuple[str, ...]]] = {}
    for name, sim_seed in (("a", 9), ("b", 9), ("c", 10)):
        database = _fresh_sqlite(sqlite_template, tmp_path / f"{name}.sqlite3")
        try:
            ensure_demo_floor(database, seed=3, now=now)
            simulator = ArrivalSimulator(database, seed=sim_seed)
            ids = [simulator.arrive(now + timedelta(seconds=40 * n)) for n in range(1, 7)]
            items = {item.id: item for item in QueueService(database).open_items()}
            runs[name] = [
                (
                    items[i].summary,
                    items[i].severity.value,
                    items[i].channel.value,
                    items[i].customer_name,
                    str(items[i].associate_name),
                    items[i].escalated_at.isoformat(),
                )
                for i in ids
            ]
        finally:
            database.dispose()
    assert runs["a"] == runs["b"]
    assert runs["a"] != runs["c"]
    assert runs["a"][0][5] == (now + timedelta(seconds=40)).isoformat()


@pytest.mark.slow
def test_demo_flag_on_the_command_line_seeds_and_shows_a_case(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    out = subprocess.run(
        [PYTHON, MAIN, "--db", url, "--demo", "case", "show", "1", "--json"],
        env=run_main_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    record = json.loads(out.stdout)
    assert record["id"] == 1
    assert record["customer"]["ref"].startswith("C-")
    assert record["status"] in {s.value for s in Status}


def test_the_floor_has_goodwill_within_its_budgets_and_approvals_waiting(database: Database) -> None:
    """Desk budgets, gestures that never overdraw without an approval, a reversal, and requests to decide."""
    from console.goodwill import GoodwillService
    from db.models import FollowUp, GoodwillBudget, GoodwillEntry, GoodwillRequest

    now = utcnow()
    assert ensure_demo_floor(database, now=now) is True
    goodwill = GoodwillService(database)
    statuses = goodwill.budgets(at=now)
    with database.read() as session:
        budgets = list(session.scalars(select(GoodwillBudget)))
        entries = list(session.scalars(select(GoodwillEntry)))
        requests = list(session.scalars(select(GoodwillRequest)))
        users = {u.id: u.username for u in session.scalars(select(User))}
        done = session.scalar(select(func.count()).select_from(FollowUp).where(FollowUp.status == "done"))
        scheduled = session.scalar(select(func.count()).select_from(FollowUp).where(FollowUp.status == "scheduled"))
        churned = session.scalar(select(func.count()).select_from(Customer).where(Customer.churned_at.is_not(None)))
    # One floor default, one per desk, one associate of their own; every associate is covered.
    scopes = Counter(b.scope_key.split(":")[0] for b in budgets)
    assert scopes == {"floor": 1, "team": 3, "associate": 1}
    assert len(statuses) == len({s.associate_id for s in statuses}) >= 12
    assert {s.period.value for s in statuses} == {"week", "shift"}
    # Gestures alone stay within every allowance; only an approved request goes beyond the rules.
    approved_ids = {r.id for r in requests if r.status == "approved"}
    for status in statuses:
        assert status.spent >= 0
        own = [e for e in entries if e.associate_id == status.associate_id and e.kind == "gesture"]
        within = [e for e in own if e.request_id is None]
        assert all(e.amount <= status.cap for e in within)
        assert all(e.request_id in approved_ids for e in own if e.request_id is not None)
    assert any(s.near_limit for s in statuses)
    assert any(not s.near_limit for s in statuses)
    # Every gesture has a reason code from the playbook and a customer; one correction is a reversal.
    assert all(e.reason_code in {c.value for c in Category} for e in entries)
    assert all(e.customer_id is not None for e in entries if e.kind == "gesture")
    reversals = [e for e in entries if e.kind == "reversal"]
    assert len(reversals) == 1
    original = next(e for e in entries if e.id == reversals[0].reverses_id)
    assert reversals[0].amount == -original.amount
    # Three requests wait, none asked by the demo supervisor (who can therefore decide them); one needs a manager.
    pending = [r for r in requests if r.status == "pending"]
    assert len(pending) == 3
    assert DEMO_SUPERVISOR_USERNAME not in {users[r.requested_by_id] for r in pending}
    assert max(r.amount for r in pending) > Decimal("100.00")
    assert [r.status for r in requests].count("declined") == 1
    assert all(r.decision_reason for r in requests if r.status == "declined")
    # Closed cases had their follow-up call; some resolved ones have one coming; a couple of customers left.
    assert (done or 0) > 10
    assert (scheduled or 0) >= 1
    assert churned == 2
    returns = goodwill.returns()
    assert {r.key for r in returns.by_type} <= {"discount", "credit", "free_item", "expedited_shipping"}
    assert sum(r.gestures for r in returns.by_type) == len(
        [e for e in entries if e.kind == "gesture" and e.id != original.id]
    )
