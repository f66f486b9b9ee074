"""Shifts: start (idempotent), end with the saved summary and handover note, the next supervisor's handover."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from console.domain import Category, Channel, Severity
from console.errors import Conflict, NotFound
from console.intake import IntakeService, NewEscalation
from console.shifts import ShiftService, default_range
from console.summary import SummaryService
from db.engine import Database
from db.models import AuditEvent
from tests.conftest import make_actor

T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)


def test_a_shift_starts_once_ends_with_its_summary_and_is_audited(database: Database) -> None:
    sam = make_actor(database, "sam")
    shifts = ShiftService(database)
    assert shifts.current_shift(sam) is None
    first = shifts.start_shift(sam, at=T0)
    assert shifts.start_shift(sam, at=T0 + timedelta(hours=1)).id == first.id  # signing in again starts nothing
    assert shifts.current_shift(sam) == first
    IntakeService(database).escalate(
        None,
        NewEscalation(customer_name="Zoe Park", customer_ref=None, channel=Channel.CHAT, category=Category.LONG_WAIT,
                      severity=Severity.NORMAL, associate_name="Ravi", summary="waited",
                      escalated_at=T0 + timedelta(hours=2)),
    )  # fmt: skip
    end = T0 + timedelta(hours=8)
    ended = shifts.end_shift(sam, "  Zoe Park waits for a callback.  ", at=end)
    assert (ended.ended_at, ended.handover_note) == (end, "Zoe Park waits for a callback.")
    assert ended.summary is not None
    assert ended.summary["received"] == 1
    assert ended.summary["open_carried_over"] == 1
    # The saved summary is the service's summary of the shift, for the whole floor.
    fresh = SummaryService(database).build(T0, end).as_dict()
    assert {k: v for k, v in ended.summary.items() if k != "generated_at"} == {
        k: v for k, v in fresh.items() if k != "generated_at"
    }
    saved = ended.saved_summary()
    assert saved is not None
    assert saved.handover[0].customer_name == "Zoe Park"
    assert shifts.current_shift(sam) is None
    with pytest.raises(Conflict):
        shifts.end_shift(sam, "again", at=end)
    with database.read() as session:
        actions = [e.action for e in session.scalars(select(AuditEvent).where(AuditEvent.entity == "shift"))]
    assert actions == ["shift.start", "shift.end"]
    assert shifts.shift(first.id).ended_at == end
    with pytest.raises(NotFound):
        shifts.shift(9999)


def test_the_next_supervisor_sees_the_latest_handover_until_they_acknowledge_it(database: Database) -> None:
    sam, priya = make_actor(database, "sam"), make_actor(database, "priya")
    shifts = ShiftService(database)
    assert shifts.pending_handover_for(priya) is None
    shifts.start_shift(sam, at=T0)
    earlier = shifts.end_shift(sam, "first", at=T0 + timedelta(hours=1))
    shifts.start_shift(sam, at=T0 + timedelta(hours=2))
    latest = shifts.end_shift(sam, "second", at=T0 + timedelta(hours=8))
    assert shifts.pending_handover_for(sam) is None  # one's own handover is not shown to oneself
    pending = shifts.pending_handover_for(priya)
    assert pending is not None
    assert (pending.id, pending.handover_note, pending.supervisor) == (latest.id, "second", "sam")
    shifts.acknowledge_handover(priya, latest.id)
    shifts.acknowledge_handover(priya, latest.id)  # harmless twice
    assert shifts.pending_handover_for(priya) is None  # the older one is superseded, not shown instead
    assert [s.id for s in shifts.past_shifts()] == [latest.id, earlier.id]
    assert [s.id for s in shifts.past_shifts(limit=1)] == [latest.id]
    assert shifts.last_ended_shift() == latest
    # Priya's own shift ends: now Sam has a handover to read.
    shifts.start_shift(priya, at=T0 + timedelta(hours=8))
    hers = shifts.end_shift(priya, "", at=T0 + timedelta(hours=16))
    assert hers.handover_note is None
    mine = shifts.pending_handover_for(sam)
    assert mine is not None
    assert mine.id == hers.id
    open_shift = shifts.start_shift(sam, at=T0 + timedelta(hours=16))
    with pytest.raises(Conflict):
        shifts.acknowledge_handover(priya, open_shift.id)


def test_the_default_range_is_the_last_ended_shift_else_the_last_eight_hours(database: Database) -> None:
    now = T0 + timedelta(days=1)
    assert default_range(database, now=now) == (now - timedelta(hours=8), now)
    sam = make_actor(database, "sam")
    shifts = ShiftService(database)
    shifts.start_shift(sam, at=T0)
    shifts.end_shift(sam, "", at=T0 + timedelta(hours=7))
    assert default_range(database, now=now) == (T0, T0 + timedelta(hours=7))
