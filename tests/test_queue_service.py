"""The queue services on both engines: claim, release, reassign, hold, resume, SLA policy, their audit trail,
and the claim race between two processes."""

from __future__ import annotations

import contextlib
import multiprocessing
from collections.abc import Iterator
from datetime import datetime, timedelta
from multiprocessing.connection import Connection
from typing import Any

import pytest
from sqlalchemy import func, select, update

from console.actor import Actor
from console.domain import Category, Channel, Severity, Status
from console.errors import Conflict, NotFound, PermissionDenied, ValidationError
from console.intake import IntakeService, NewEscalation
from console.queue import QueueService, load_policy
from console.sla import ClockState, SlaTargets
from db.engine import Database
from db.models import AuditEvent, CaseNote, Change, Escalation, HoldPeriod
from db.types import utcnow
from tests.conftest import make_actor

RACE_TRIALS = 20


def _escalate(database: Database, severity: Severity = Severity.HIGH, summary: str = "Charged twice") -> int:
    new = NewEscalation("Ann Lee", Channel.PHONE, Category.BILLING_ERROR, severity, "Bo Diaz", summary)
    return IntakeService(database).escalate(None, new)


def _row(database: Database, escalation_id: int) -> dict[str, Any]:
    with database.read() as session:
        esc = session.get(Escalation, escalation_id)
        assert esc is not None
        return {c.key: getattr(esc, c.key) for c in Escalation.__mapper__.column_attrs}


def _audit(database: Database, escalation_id: int) -> list[tuple[str, str, str | None]]:
    """(action, actor, entity id) of every audit event about one escalation, oldest first."""
    with database.read() as session:
        rows = session.execute(
            select(AuditEvent.action, AuditEvent.actor, AuditEvent.entity_id)
            .where(AuditEvent.entity == "escalation", AuditEvent.entity_id == str(escalation_id))
            .order_by(AuditEvent.id)
        )
        return [(action, actor, entity_id) for action, actor, entity_id in rows]


def _snapshot(database: Database, escalation_id: int) -> tuple[dict[str, Any], list[int]]:
    """The escalation's row and how many audit events, change-log rows, notes and hold periods exist."""
    with database.read() as session:
        counts = [
            int(session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (AuditEvent, Change, CaseNote, HoldPeriod)
        ]
    return _row(database, escalation_id), counts


def _set(database: Database, escalation_id: int, **values: object) -> None:
    """Put a case into a state no queue operation leads to (resolved, reopened, ...) or move its clock back."""
    with database.transaction() as session:
        session.execute(update(Escalation).where(Escalation.id == escalation_id).values(**values))


@pytest.fixture
def lee(database: Database) -> Actor:
    """A second supervisor."""
    return make_actor(database, "lee")


# -- claim -------------------------------------------------------------------------------------------------------


def test_claim_takes_the_case(database: Database, supervisor: Actor) -> None:
    queue = QueueService(database)
    case = _escalate(database)
    before = utcnow()

    item = queue.claim(supervisor, case)

    after = utcnow()
    assert (item.status, item.claimed_by_id, item.claimed_by_name, item.version) == (
        Status.CLAIMED,
        supervisor.user_id,
        "Sam",
        2,
    )
    row = _row(database, case)
    assert row["status"] == "claimed"
    assert row["claimed_by_id"] == supervisor.user_id
    assert before <= row["claimed_at"] <= after
    assert row["first_claimed_at"] == row["claimed_at"]
    assert row["version"] == 2
    assert _audit(database, case) == [
        ("escalation.create", "system", str(case)),
        ("escalation.claim", "sam", str(case)),
    ]


def test_claiming_again_by_the_holder_changes_nothing(database: Database, supervisor: Actor) -> None:
    queue = QueueService(database)
    case = _escalate(database)
    first = queue.claim(supervisor, case)
    state = _snapshot(database, case)

    again = queue.claim(supervisor, case)

    assert again == first
    assert _snapshot(database, case) == state


def test_claiming_a_case_someone_else_holds_names_them_and_changes_nothing(
    database: Database, supervisor: Actor, lee: Actor
) -> None:
    queue = QueueService(database)
    case = _escalate(database)
    queue.claim(supervisor, case)
    state = _snapshot(database, case)

    with pytest.raises(Conflict) as caught:
        queue.claim(lee, case)

    assert "Sam" in str(caught.value)
    assert f"#{case}" in str(caught.value)
    assert _snapshot(database, case) == state


def test_only_waiting_cases_can_be_claimed(database: Database, supervisor: Actor) -> None:
    queue = QueueService(database)
    resolved, reopened = _escalate(database), _escalate(database)
    _set(database, resolved, status="resolved")
    _set(database, reopened, status="reopened", reopen_count=1)
    state = _snapshot(database, resolved)

    with pytest.raises(Conflict, match="resolved"):
        queue.claim(supervisor, resolved)
    assert _snapshot(database, resolved) == state
    with pytest.raises(NotFound):
        queue.claim(supervisor, 987654)

    assert queue.claim(supervisor, reopened).status is Status.CLAIMED
    # Released again, a reopened case goes back to the queue as reopened.
    assert queue.release(supervisor, reopened).status is Status.REOPENED


# -- release, reassign -------------------------------------------------------------------------------------------


def test_the_holder_releases_a_case_back_to_the_queue(database: Database, supervisor: Actor) -> None:
    queue = QueueService(database)
    case = _escalate(database)
    claimed = queue.claim(supervisor, case)

    item = queue.release(supervisor, case)

    assert (item.status, item.claimed_by_id, item.claimed_by_name, item.claimed_at) == (Status.OPEN, None, None, None)
    row = _row(database, case)
    assert row["first_claimed_at"] == claimed.claimed_at  # the first claim stays on record
    assert row["version"] == 3
    assert _audit(database, case)[-1] == ("escalation.release", "sam", str(case))
    assert [i.id for i in queue.open_items()] == [case]


def test_another_supervisor_may_not_release_or_hold_but_a_manager_may(
    database: Database, supervisor: Actor, lee: Actor, manager: Actor
) -> None:
    queue = QueueService(database)
    case = _escalate(database)
    queue.claim(supervisor, case)
    state = _snapshot(database, case)

    for attempt in (lambda: queue.release(lee, case), lambda: queue.hold(lee, case, "Waiting on the courier")):
        with pytest.raises(PermissionDenied, match="Sam has"):
            attempt()
    assert _snapshot(database, case) == state

    held = queue.hold(manager, case, "Waiting on the courier")
    assert held.held_since is not None
    assert held.claimed_by_id == supervisor.user_id  # holding does not take the case over
    released = queue.release(manager, case)
    assert released.claimed_by_id is None
    assert [a[:2] for a in _audit(database, case)[-2:]] == [("escalation.hold", "mia"), ("escalation.release", "mia")]


def test_reassign_moves_the_claim_and_leaves_a_note(database: Database, supervisor: Actor, lee: Actor) -> None:
    queue = QueueService(database)
    case = _escalate(database)
    first = queue.claim(supervisor, case)

    item = queue.reassign(supervisor, case, lee.user_id, "  Customer prefers a refund; call back after 3 pm.  ")

    assert (item.status, item.claimed_by_id, item.claimed_by_name) == (Status.CLAIMED, lee.user_id, "Lee")
    assert item.claimed_at is not None
    assert first.claimed_at is not None
    assert item.claimed_at >= first.claimed_at
    assert _row(database, case)["first_claimed_at"] == first.claimed_at
    with database.read() as session:
        notes = [(n.kind, n.author_id, n.body) for n in session.scalars(select(CaseNote))]
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
    assert notes == [("reassign", supervisor.user_id, "Customer prefers a refund; call back after 3 pm.")]
    assert (event.action, event.actor, event.entity_id) == ("escalation.reassign", "sam", str(case))
    assert (event.before, event.after) == ({"claimed_by": "Sam"}, {"claimed_by": "Lee"})


def test_reassign_needs_a_note_the_holder_and_a_new_person(
    database: Database, supervisor: Actor, lee: Actor, manager: Actor
) -> None:
    queue = QueueService(database)
    case = _escalate(database)
    queue.claim(supervisor, case)
    state = _snapshot(database, case)

    with pytest.raises(ValidationError) as caught:
        queue.reassign(supervisor, case, lee.user_id, "   ")
    assert caught.value.field == "note"
    with pytest.raises(PermissionDenied):
        queue.reassign(lee, case, lee.user_id, "I will take it")
    with pytest.raises(ValidationError, match="already has"):
        queue.reassign(supervisor, case, supervisor.user_id, "Back to me")
    with pytest.raises(NotFound):
        queue.reassign(supervisor, case, 987654, "To nobody")
    assert _snapshot(database, case) == state

    assert queue.reassign(manager, case, lee.user_id, "Lee knows this customer").claimed_by_id == lee.user_id


def test_a_resolved_case_cannot_be_reassigned(database: Database, supervisor: Actor, lee: Actor) -> None:
    queue = QueueService(database)
    case = _escalate(database)
    _set(database, case, status="resolved", resolved_at=utcnow())  # e.g. an imported, already resolved complaint
    state = _snapshot(database, case)

    with pytest.raises(Conflict, match="resolved"):
        queue.reassign(supervisor, case, lee.user_id, "Please look at this")

    assert _snapshot(database, case) == state


# -- hold and resume ---------------------------------------------------------------------------------------------


def test_hold_pauses_the_clock_and_resume_adds_the_pause(database: Database, supervisor: Actor) -> None:
    queue = QueueService(database)
    case = _escalate(database)
    queue.claim(supervisor, case)

    held = queue.hold(supervisor, case, "  Waiting on the courier's report ")

    assert held.held_since is not None
    assert held.hold_reason == "Waiting on the courier's report"
    policy = queue.policy()
    clocks = [held.clock(policy, held.held_since + wait) for wait in (timedelta(0), timedelta(hours=30))]
    assert [c.state for c in clocks] == [ClockState.PAUSED, ClockState.PAUSED]
    assert clocks[0].remaining == clocks[1].remaining
    with pytest.raises(ValidationError, match="already on hold"):
        queue.hold(supervisor, case, "Again")

    # Ten minutes on hold, without waiting ten minutes: move the start of the hold back.
    started = held.held_since - timedelta(minutes=10)
    _set(database, case, held_since=started)
    with database.transaction() as session:
        session.execute(update(HoldPeriod).values(started_at=started))
    resumed = queue.resume(supervisor, case)

    assert resumed.held_since is None
    assert resumed.hold_reason is None
    assert 600 <= resumed.held_seconds <= 605
    due = resumed.clock(policy, utcnow()).due_at
    assert due == resumed.queued_at + policy.for_severity(Severity.HIGH).resolve + timedelta(
        seconds=resumed.held_seconds
    )
    with database.read() as session:
        periods = [(p.reason, p.started_by_id, p.ended_by_id, p.ended_at) for p in session.scalars(select(HoldPeriod))]
    assert len(periods) == 1
    reason, started_by, ended_by, ended_at = periods[0]
    assert (reason, started_by, ended_by) == ("Waiting on the courier's report", supervisor.user_id, supervisor.user_id)
    assert isinstance(ended_at, datetime)
    assert resumed.held_seconds == int((ended_at - started).total_seconds())  # whole seconds of this hold
    with pytest.raises(ValidationError, match="not on hold"):
        queue.resume(supervisor, case)


def test_hold_needs_a_reason_and_a_claimed_case(database: Database, supervisor: Actor) -> None:
    queue = QueueService(database)
    case = _escalate(database)
    with pytest.raises(Conflict, match="not claimed"):
        queue.hold(supervisor, case, "Waiting on the customer")
    queue.claim(supervisor, case)
    state = _snapshot(database, case)
    with pytest.raises(ValidationError) as caught:
        queue.hold(supervisor, case, " ")
    assert caught.value.field == "reason"
    assert _snapshot(database, case) == state


# -- the audit trail of queue operations -------------------------------------------------------------------------


def test_every_queue_operation_writes_exactly_one_audit_event(
    database: Database, supervisor: Actor, lee: Actor, manager: Actor
) -> None:
    queue = QueueService(database)
    case = _escalate(database)
    queue.claim(supervisor, case)
    queue.hold(supervisor, case, "Waiting on the customer")
    queue.resume(supervisor, case)
    queue.reassign(supervisor, case, lee.user_id, "Over to Lee")
    queue.release(lee, case)
    queue.set_policy(manager, {Severity.HIGH: SlaTargets(timedelta(minutes=20), timedelta(hours=8))}, 0.75)

    assert _audit(database, case) == [
        ("escalation.create", "system", str(case)),
        ("escalation.claim", "sam", str(case)),
        ("escalation.hold", "sam", str(case)),
        ("escalation.resume", "sam", str(case)),
        ("escalation.reassign", "sam", str(case)),
        ("escalation.release", "lee", str(case)),
    ]
    with database.read() as session:
        policy_events = list(session.scalars(select(AuditEvent).where(AuditEvent.entity == "sla_policy")))
        actor_ids = {
            e.action: e.actor_id for e in session.scalars(select(AuditEvent).where(AuditEvent.entity_id == str(case)))
        }
    assert [(e.action, e.actor, e.actor_id) for e in policy_events] == [("sla.update", "mia", manager.user_id)]
    assert policy_events[0].after is not None
    assert policy_events[0].after["high"] == [20, 480]
    assert actor_ids["escalation.release"] == lee.user_id


def test_refused_operations_write_no_audit_event_and_change_nothing(
    database: Database, supervisor: Actor, lee: Actor
) -> None:
    queue = QueueService(database)
    case = _escalate(database)
    queue.claim(supervisor, case)
    state = _snapshot(database, case)
    policy = queue.policy()

    refused: list[tuple[type[Exception], Any]] = [
        (Conflict, lambda: queue.claim(lee, case)),
        (PermissionDenied, lambda: queue.release(lee, case)),
        (PermissionDenied, lambda: queue.hold(lee, case, "Waiting")),
        (PermissionDenied, lambda: queue.reassign(lee, case, lee.user_id, "Mine now")),
        (PermissionDenied, lambda: queue.set_policy(supervisor, {}, 0.7)),
    ]
    for error, attempt in refused:
        with pytest.raises(error):
            attempt()

    assert _snapshot(database, case) == state
    assert queue.policy() == policy


# -- SLA policy --------------------------------------------------------------------------------------------------


def test_a_manager_sets_the_sla_policy_and_it_is_loaded_back(database: Database, manager: Actor) -> None:
    queue = QueueService(database)
    defaults = queue.policy()
    normal = SlaTargets(timedelta(minutes=30), timedelta(minutes=120))

    returned = queue.set_policy(manager, {Severity.NORMAL: normal}, 0.7)

    with database.read() as session:
        loaded = load_policy(session)
    assert returned == loaded
    assert loaded.warn_ratio == 0.7
    assert loaded.for_severity(Severity.NORMAL) == normal
    for severity in (Severity.CRITICAL, Severity.HIGH, Severity.LOW):
        assert loaded.for_severity(severity) == defaults.for_severity(severity)
    # The limits of the pre-breach threshold are allowed.
    assert queue.set_policy(manager, {}, 0.5).warn_ratio == 0.5
    assert queue.set_policy(manager, {}, 0.99).warn_ratio == 0.99


@pytest.mark.parametrize(
    ("claim", "resolve", "ratio", "field"),
    [
        (timedelta(minutes=30), timedelta(minutes=20), 0.8, "normal"),  # resolve due before claim
        (timedelta(0), timedelta(minutes=20), 0.8, "normal"),
        (timedelta(minutes=-5), timedelta(minutes=20), 0.8, "normal"),
        (timedelta(seconds=30), timedelta(minutes=20), 0.8, "normal"),  # under a minute: would be stored as 0
        (timedelta(minutes=5), timedelta(minutes=20, seconds=30), 0.8, "normal"),  # not whole minutes
        (timedelta(minutes=5), timedelta(minutes=20), 0.49, "warn_ratio"),
        (timedelta(minutes=5), timedelta(minutes=20), 0.995, "warn_ratio"),
        (timedelta(minutes=5), timedelta(minutes=20), 1.0, "warn_ratio"),
    ],
)
def test_sla_policy_is_validated(
    database: Database, manager: Actor, claim: timedelta, resolve: timedelta, ratio: float, field: str
) -> None:
    queue = QueueService(database)
    before = queue.policy()
    with pytest.raises(ValidationError) as caught:
        queue.set_policy(manager, {Severity.NORMAL: SlaTargets(claim, resolve)}, ratio)
    assert caught.value.field == field
    assert queue.policy() == before
    with database.read() as session:
        assert session.scalar(select(func.count()).where(AuditEvent.entity == "sla_policy")) == 0


# -- the queue ---------------------------------------------------------------------------------------------------


def test_open_items_lists_exactly_the_cases_in_the_queue(database: Database, supervisor: Actor) -> None:
    queue = QueueService(database)
    ids = {status: _escalate(database, summary=f"Case {status}") for status in Status}
    queue.claim(supervisor, ids[Status.CLAIMED])
    _set(database, ids[Status.REOPENED], status="reopened", reopen_count=1)
    _set(database, ids[Status.RESOLVED], status="resolved", resolved_at=utcnow())
    _set(database, ids[Status.CLOSED], status="closed", resolved_at=utcnow(), closed_at=utcnow())

    items = {item.id: item for item in queue.open_items()}

    # domain.md: a case waits in the queue until it is resolved; open, claimed and reopened ones are there.
    assert set(items) == {ids[Status.OPEN], ids[Status.CLAIMED], ids[Status.REOPENED]}
    assert {item.status for item in items.values()} == {Status.OPEN, Status.CLAIMED, Status.REOPENED}
    assert items[ids[Status.CLAIMED]].claimed_by_name == "Sam"
    assert items[ids[Status.OPEN]].summary == "Case open"
    assert [i.id for i in queue.items([ids[Status.RESOLVED], ids[Status.OPEN]])] == [ids[Status.OPEN]]
    with pytest.raises(NotFound):
        queue.item(ids[Status.CLOSED])


# -- the claim race ----------------------------------------------------------------------------------------------


def _claim_worker(url: str, actor: Actor, start: Any, conn: Connection) -> None:
    """A second console in its own process: claims each case id it is sent the moment both are ready."""
    database = Database(url)
    queue = QueueService(database)
    queue.open_items()  # connect and warm up before the first trial
    conn.send("ready")
    try:
        while (case_id := conn.recv()) is not None:
            start.wait(timeout=60)
            try:
                item = queue.claim(actor, case_id)
                conn.send(("won", item.claimed_by_id))
            except Conflict as exc:
                conn.send(("lost", str(exc)))
            except Exception as exc:  # reported to the test, which fails on it
                conn.send(("error", repr(exc)))
    finally:
        database.dispose()


@pytest.fixture
def claim_workers(database: Database) -> Iterator[list[tuple[Actor, Connection]]]:
    """Two worker processes (spawned once per engine), each claiming as its own supervisor."""
    url = database.url.render_as_string(hide_password=False)
    actors = [make_actor(database, "ann"), make_actor(database, "ben")]
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    workers: list[tuple[Actor, Connection, Any]] = []
    try:
        for actor in actors:
            ours, theirs = context.Pipe()
            process = context.Process(target=_claim_worker, args=(url, actor, start, theirs), daemon=True)
            process.start()
            theirs.close()
            workers.append((actor, ours, process))
        for _, conn, _ in workers:
            assert conn.poll(120), "a claim worker did not start"
            assert conn.recv() == "ready"
        yield [(actor, conn) for actor, conn, _ in workers]
    finally:
        for _, conn, process in workers:
            with contextlib.suppress(OSError):  # the worker is gone already
                conn.send(None)
            process.join(timeout=20)
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)


def test_two_processes_claiming_one_case_at_once_exactly_one_wins(
    database: Database, claim_workers: list[tuple[Actor, Connection]]
) -> None:
    by_id = {actor.user_id: actor for actor, _ in claim_workers}
    winners: list[str] = []
    for trial in range(RACE_TRIALS):
        case = _escalate(database, summary=f"Race {trial}")
        for _, conn in claim_workers:
            conn.send(case)
        results = []
        for _, conn in claim_workers:
            assert conn.poll(60), f"trial {trial}: a worker did not answer"
            results.append(conn.recv())

        assert sorted(kind for kind, _ in results) == ["lost", "won"], results
        winner = by_id[next(value for kind, value in results if kind == "won")]
        loss = next(value for kind, value in results if kind == "lost")
        assert winner.display_name in loss
        assert f"#{case}" in loss
        assert _row(database, case)["claimed_by_id"] == winner.user_id
        assert [a for a in _audit(database, case) if a[0] == "escalation.claim"] == [
            ("escalation.claim", winner.username, str(case))
        ]
        winners.append(winner.username)
    assert len(winners) == RACE_TRIALS
