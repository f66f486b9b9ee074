"""The resolution workflow service on both engines: steps, autosave revisions, the rules, reopening."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from console.actor import Actor
from console.casefile import CaseFileService
from console.domain import Category, Channel, Role, Severity, Status
from console.errors import Conflict, PermissionDenied, ValidationError
from console.intake import IntakeService, NewEscalation
from console.queue import QueueService
from console.workflow import EditConflict, Step, WorkflowService, read_back
from db.engine import Database
from db.types import utcnow
from tests.conftest import make_actor

pytestmark = pytest.mark.usefixtures("database")


def _claimed_case(database: Database, actor: Actor, category: Category = Category.BILLING_ERROR) -> int:
    new = NewEscalation("Ann Lee", Channel.PHONE, category, Severity.HIGH, "Bo", "Charged twice for May")
    case_id = IntakeService(database).escalate(None, new)
    QueueService(database).claim(actor, case_id)
    return case_id


def _through_propose(flow: WorkflowService, sam: Actor, case_id: int) -> None:
    state = flow.open(sam, case_id)
    flow.save(
        sam, case_id, Step.LISTEN, {"account": "Charged twice in May", "upset": 4}, state.step(Step.LISTEN).revision
    )
    flow.complete(sam, case_id, Step.LISTEN)
    flow.save(sam, case_id, Step.GATHER, {"what_happened": "Two debits of 49.99 on 3 May"}, 1)
    flow.complete(sam, case_id, Step.GATHER)
    flow.save(sam, case_id, Step.APOLOGIZE, {"given": True}, 1)
    flow.complete(sam, case_id, Step.APOLOGIZE)
    remedies = [{"type": "refund", "amount": "49.99", "note": "second debit"}, {"type": "credit", "amount": "10"}]
    flow.save(sam, case_id, Step.PROPOSE, {"remedies": remedies, "response": "accepted"}, 1)
    flow.complete(sam, case_id, Step.PROPOSE)


def test_open_starts_at_listen_and_only_for_the_holder(database: Database) -> None:
    sam, tom = make_actor(database, "sam"), make_actor(database, "tom")
    case_id = _claimed_case(database, sam)
    flow = WorkflowService(database)
    with pytest.raises(PermissionDenied, match="Sam"):
        flow.open(tom, case_id)
    state = flow.open(sam, case_id)
    assert state.current is Step.LISTEN
    assert state.step(Step.LISTEN).started_at is not None
    assert state.step(Step.GATHER).started_at is None
    assert flow.open(sam, case_id).step(Step.LISTEN).started_at == state.step(Step.LISTEN).started_at


def test_unclaimed_case_cannot_be_worked_on(database: Database) -> None:
    sam = make_actor(database, "sam")
    new = NewEscalation("Ann Lee", Channel.PHONE, Category.OTHER, Severity.LOW, "Bo", "Question")
    case_id = IntakeService(database).escalate(None, new)
    with pytest.raises(Conflict, match="claim it"):
        WorkflowService(database).open(sam, case_id)


def test_saves_carry_revisions_and_a_stale_save_is_refused_with_the_other_text(database: Database) -> None:
    sam, tom = make_actor(database, "sam"), make_actor(database, "tom")
    case_id = _claimed_case(database, sam)
    flow = WorkflowService(database)
    base = flow.open(sam, case_id).step(Step.LISTEN).revision
    first = flow.save(sam, case_id, Step.LISTEN, {"account": "She was charged twice"}, base)
    assert first.revision == base + 1
    # Sam hands the case to Tom mid-call; Tom adds to the account from what he sees (the latest revision).
    QueueService(database).reassign(sam, case_id, tom.user_id, "Billing expert needed")
    flow.save(tom, case_id, Step.LISTEN, {"account": "She was charged twice; bank fee too"}, first.revision)
    QueueService(database).reassign(tom, case_id, sam.user_id, "Back to you")
    # Sam's console still holds the old revision: its save is refused and carries Tom's text.
    with pytest.raises(EditConflict, match="Tom") as refused:
        flow.save(sam, case_id, Step.LISTEN, {"account": "She was charged twice!!"}, first.revision)
    assert refused.value.current.fields["account"] == "She was charged twice; bank fee too"
    assert flow.state(case_id).step(Step.LISTEN).fields["account"] == "She was charged twice; bank fee too"


@pytest.mark.parametrize(
    ("step", "fields", "field"),
    [
        (Step.LISTEN, {"upset": 6}, "upset"),
        (Step.LISTEN, {"upset": 0}, "upset"),
        (Step.LISTEN, {"upset": "very"}, "upset"),
        (Step.LISTEN, {"mood": "bad"}, "mood"),
        (Step.PROPOSE, {"remedies": [{"type": "refund", "amount": "-5"}]}, "remedies"),
        (Step.PROPOSE, {"remedies": [{"type": "refund", "amount": "5.001"}]}, "remedies"),
        (Step.PROPOSE, {"remedies": [{"type": "refund", "amount": "NaN"}]}, "remedies"),
        (Step.PROPOSE, {"remedies": [{"type": "refund", "amount": "five"}]}, "remedies"),
        (Step.PROPOSE, {"remedies": [{"type": "refund", "amount": "1000000"}]}, "remedies"),
        (Step.PROPOSE, {"remedies": [{"type": "teleport"}]}, "remedies"),
        (Step.PROPOSE, {"promised_date": "2001-01-01"}, "promised_date"),
        (Step.PROPOSE, {"response": "maybe"}, "response"),
        (Step.FOLLOW_UP, {"due_at": "2001-01-01T10:00:00+00:00"}, "due_at"),
        (Step.FOLLOW_UP, {"due_at": "2099-01-01T10:00:00"}, "due_at"),
    ],
)
def test_bad_values_are_refused_at_the_field_and_nothing_is_saved(
    database: Database, step: Step, fields: dict[str, Any], field: str
) -> None:
    sam = make_actor(database, "sam")
    case_id = _claimed_case(database, sam)
    flow = WorkflowService(database)
    flow.open(sam, case_id)
    flow.go_to(sam, case_id, step)
    kept = flow.save(sam, case_id, step, {"notes": "kept"}, flow.state(case_id).step(step).revision)
    with pytest.raises(ValidationError) as refused:
        flow.save(sam, case_id, step, {**fields, "notes": "changed"}, kept.revision)
    assert refused.value.field == field
    after = flow.state(case_id).step(step)
    assert after.revision == kept.revision
    assert after.fields == {"notes": "kept"}


def test_completing_needs_what_the_step_captures_and_records_the_times(database: Database) -> None:
    sam = make_actor(database, "sam")
    case_id = _claimed_case(database, sam)
    flow = WorkflowService(database)
    flow.open(sam, case_id)
    with pytest.raises(ValidationError, match="account") as refused:
        flow.complete(sam, case_id, Step.LISTEN)
    assert refused.value.field == "account"
    flow.save(sam, case_id, Step.LISTEN, {"account": "Charged twice"}, 1)
    with pytest.raises(ValidationError, match="upset"):
        flow.complete(sam, case_id, Step.LISTEN)
    flow.save(sam, case_id, Step.LISTEN, {"upset": "3"}, 2)
    state = flow.complete(sam, case_id, Step.LISTEN)
    listen = state.step(Step.LISTEN)
    assert listen.fields == {"account": "Charged twice", "upset": 3}
    assert listen.completed_at is not None
    assert listen.started_at is not None
    assert listen.started_at <= listen.completed_at
    assert state.current is Step.GATHER
    assert state.step(Step.GATHER).started_at is not None
    flow.save(sam, case_id, Step.APOLOGIZE, {"given": False}, 0)
    with pytest.raises(ValidationError) as apology:
        flow.complete(sam, case_id, Step.APOLOGIZE)
    assert apology.value.field == "skip_reason"


def test_steps_can_be_revisited_keeping_their_first_start(database: Database) -> None:
    sam = make_actor(database, "sam")
    case_id = _claimed_case(database, sam)
    flow = WorkflowService(database)
    _through_propose(flow, sam, case_id)
    first_start = flow.state(case_id).step(Step.LISTEN).started_at
    state = flow.go_to(sam, case_id, Step.LISTEN)
    assert state.current is Step.LISTEN
    assert state.step(Step.LISTEN).started_at == first_start
    assert state.step(Step.LISTEN).done


def test_resolving_needs_a_completed_proposal(database: Database) -> None:
    sam = make_actor(database, "sam")
    case_id = _claimed_case(database, sam)
    flow = WorkflowService(database)
    flow.open(sam, case_id)
    with pytest.raises(ValidationError, match="proposal"):
        flow.resolve(sam, case_id)
    _through_propose(flow, sam, case_id)
    state = flow.resolve(sam, case_id)
    assert state.status is Status.RESOLVED
    assert case_id not in {item.id for item in QueueService(database).open_items()}


def test_closing_needs_a_follow_up_outcome_or_a_reason_for_none(database: Database) -> None:
    sam = make_actor(database, "sam")
    flow = WorkflowService(database)
    # No follow-up needed, with a reason: closed.
    quiet = _claimed_case(database, sam)
    _through_propose(flow, sam, quiet)
    flow.resolve(sam, quiet)
    with pytest.raises(ValidationError):
        flow.complete(sam, quiet, Step.FOLLOW_UP)  # neither scheduled nor excused
    with pytest.raises(ValidationError):
        flow.no_follow_up(sam, quiet, "  ")
    assert flow.no_follow_up(sam, quiet, "Refund confirmed by the bank on the call").status is Status.CLOSED
    # A scheduled follow-up keeps it resolved until the outcome is recorded.
    followed = _claimed_case(database, sam)
    _through_propose(flow, sam, followed)
    flow.resolve(sam, followed)
    due = utcnow() + timedelta(days=2)
    state = flow.schedule_follow_up(sam, followed, due, Channel.EMAIL)
    assert state.status is Status.RESOLVED
    [planned] = state.follow_ups
    assert (planned.status, planned.channel) == ("scheduled", "email")
    with pytest.raises(ValidationError):
        flow.record_outcome(sam, planned.id, csat=6, nps=9, comment="", solved=True)
    with pytest.raises(ValidationError):
        flow.record_outcome(sam, planned.id, csat=5, nps=11, comment="", solved=True)
    closed = flow.record_outcome(sam, planned.id, csat=5, nps=9, comment="Quick and fair", solved=True)
    assert closed.status is Status.CLOSED
    record = CaseFileService(database).show(followed)
    assert record["outcome"]["csat"] == 5
    assert record["outcome"]["nps"] == 9
    assert record["outcome"]["solved"] is True
    assert record["closed_at"] is not None


def test_not_solved_reopens_into_the_queue_with_its_history(database: Database) -> None:
    sam, tom = make_actor(database, "sam"), make_actor(database, "tom", Role.SUPERVISOR)
    case_id = _claimed_case(database, sam)
    flow = WorkflowService(database)
    _through_propose(flow, sam, case_id)
    flow.resolve(sam, case_id)
    [planned] = flow.schedule_follow_up(sam, case_id, utcnow() + timedelta(hours=1), Channel.PHONE).follow_ups
    state = flow.record_outcome(tom, planned.id, csat=2, nps=3, comment="Second debit still there", solved=False)
    assert state.status is Status.REOPENED
    [item] = QueueService(database).items([case_id])
    assert item.status is Status.REOPENED
    assert item.claimed_by_id is None
    record = CaseFileService(database).show(case_id)
    assert record["reopen_count"] == 1
    assert [s["name"] for s in record["steps"]] == ["listen", "gather", "apologize", "propose", "follow_up"]
    assert record["proposal"]["remedies"][0] == {"type": "refund", "amount": "49.99", "note": "second debit"}
    assert record["outcome"]["solved"] is False
    # Whoever claims it next resumes the workflow at Listen with everything captured before.
    QueueService(database).claim(tom, case_id)
    again = flow.open(tom, case_id)
    assert again.current is Step.LISTEN
    assert again.step(Step.LISTEN).fields["account"] == "Charged twice in May"
    assert again.step(Step.PROPOSE).done


def test_stories_and_the_full_case_record(database: Database) -> None:
    sam = make_actor(database, "sam")
    case_id = _claimed_case(database, sam)
    flow = WorkflowService(database)
    QueueService(database).hold(sam, case_id, "Waiting on the bank")
    QueueService(database).resume(sam, case_id)
    _through_propose(flow, sam, case_id)
    with pytest.raises(ValidationError):
        flow.mark_story(sam, case_id, "meh", "text")
    flow.mark_story(sam, case_id, "win", "Turned a furious caller into a fan   in five minutes")
    record = CaseFileService(database).show(case_id)
    assert record["stories"][0]["kind"] == "win"
    assert record["stories"][0]["text"] == "Turned a furious caller into a fan in five minutes"
    assert record["hold_periods"][0]["reason"] == "Waiting on the bank"
    assert record["hold_periods"][0]["ended_at"] is not None
    listen = record["steps"][0]
    assert listen["name"] == "listen"
    assert listen["fields"] == {"account": "Charged twice in May", "upset": 4}
    assert listen["started_at"] <= listen["completed_at"]
    assert record["workflow_step"] == "follow_up"


def test_read_back_assembles_what_was_captured(database: Database) -> None:
    sam = make_actor(database, "sam")
    case_id = _claimed_case(database, sam)
    flow = WorkflowService(database)
    flow.open(sam, case_id)
    assert "Nothing captured yet" in read_back(flow.state(case_id), "Ann Lee")
    flow.save(sam, case_id, Step.LISTEN, {"account": "charged twice for the May bill"}, 1)
    flow.save(sam, case_id, Step.GATHER, {"wants": "the money back today"}, 0)
    text = read_back(flow.state(case_id), "Ann Lee")
    assert text.startswith("So, Ann, if I've got this right: charged twice for the May bill.")
    assert "what you'd like is: the money back today." in text
    assert text.endswith("Have I got that right?")


def test_resolving_after_the_follow_up_was_settled_closes_the_case(database: Database) -> None:
    sam = make_actor(database, "sam")
    case_id = _claimed_case(database, sam)
    flow = WorkflowService(database)
    _through_propose(flow, sam, case_id)
    flow.schedule_follow_up(sam, case_id, utcnow() + timedelta(hours=1), Channel.PHONE)
    [planned] = flow.state(case_id).follow_ups
    flow.record_outcome(sam, planned.id, csat=5, nps=10, comment="Sorted on the call", solved=True)
    assert flow.state(case_id).status is Status.CLAIMED  # not resolved yet: nothing to close
    assert flow.resolve(sam, case_id).status is Status.CLOSED
