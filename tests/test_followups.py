"""Scheduled follow-ups: what is due, reminders when due and when overdue, and the tab in the window."""

from __future__ import annotations

from datetime import datetime, timedelta

from pytestqt.qtbot import QtBot
from sqlalchemy import update

from console.domain import Category, Channel, Severity
from console.followups import OVERDUE_AFTER, DueFollowUp, FollowUpService
from console.intake import IntakeService, NewEscalation
from console.queue import QueueService
from console.workflow import Step, WorkflowService
from db.engine import Database
from db.models import FollowUp
from db.types import utcnow
from main import build_main_window
from tests.conftest import make_actor
from widgets.followups_view import FollowUpModel
from widgets.main_window import MainWindow


def _resolved_with_follow_up(database: Database, due_in: timedelta, customer: str = "Ann Lee") -> int:
    sam = make_actor(database, f"sam{abs(hash(customer)) % 10_000}")
    new = NewEscalation(customer, Channel.PHONE, Category.BILLING_ERROR, Severity.HIGH, "Bo", "Charged twice")
    case_id = IntakeService(database).escalate(None, new)
    QueueService(database).claim(sam, case_id)
    flow = WorkflowService(database)
    flow.open(sam, case_id)
    flow.save(
        sam, case_id, Step.PROPOSE, {"remedies": [{"type": "refund", "amount": "49.99"}], "response": "accepted"}, 0
    )
    flow.complete(sam, case_id, Step.PROPOSE)
    flow.resolve(sam, case_id)
    flow.schedule_follow_up(sam, case_id, utcnow() + timedelta(minutes=5), Channel.EMAIL)
    # Move it to the wanted time (scheduling in the past is refused, as it should be).
    with database.transaction() as session:
        session.execute(update(FollowUp).where(FollowUp.escalation_id == case_id).values(due_at=utcnow() + due_in))
    return case_id


def test_scheduled_lists_what_falls_due_within_the_horizon_soonest_first(database: Database) -> None:
    late = _resolved_with_follow_up(database, -timedelta(hours=2), "Late Larry")
    soon = _resolved_with_follow_up(database, timedelta(hours=1), "Soon Sue")
    _resolved_with_follow_up(database, timedelta(days=3), "Far Fay")
    rows = FollowUpService(database).scheduled()
    assert [r.escalation_id for r in rows] == [late, soon]
    assert rows[0].customer_name == "Late Larry"
    assert rows[0].channel is Channel.EMAIL
    assert rows[0].owner is not None


def _row(due_at: datetime, follow_up_id: int = 1) -> DueFollowUp:
    return DueFollowUp(follow_up_id, 40 + follow_up_id, "Ann Lee", Channel.PHONE, due_at, "Charged twice", "Sam", 1)


def test_reminders_fire_once_when_due_and_once_when_overdue(qtbot: QtBot) -> None:
    start = datetime(2026, 11, 22, 9, 0, tzinfo=utcnow().tzinfo)
    now = [start]
    model = FollowUpModel(lambda: now[0])
    reminders: list[tuple[int, str, str]] = []
    model.reminder.connect(lambda *args: reminders.append(args))
    model.set_follow_ups([_row(start + timedelta(minutes=10))])
    assert reminders == []
    assert "in 10m" in model.data(model.index(0, 0))
    now[0] = start + timedelta(minutes=11)
    model.check()
    model.check()
    assert [r[1] for r in reminders] == ["due"]
    assert "is due now" in reminders[0][2]
    assert "Due now" in model.data(model.index(0, 0))
    now[0] = start + timedelta(minutes=10) + OVERDUE_AFTER + timedelta(seconds=1)
    model.check()
    model.set_follow_ups([_row(start + timedelta(minutes=10))])  # a reload does not repeat the reminder
    assert [r[1] for r in reminders] == ["due", "overdue"]
    assert model.counts() == (0, 1)
    assert "Overdue" in model.data(model.index(0, 0))


def test_follow_ups_model_is_a_valid_qt_model(qtbot: QtBot, qtmodeltester) -> None:
    model = FollowUpModel()
    model.set_follow_ups([_row(utcnow() + timedelta(minutes=i), i) for i in range(1, 4)])
    qtmodeltester.check(model)


def test_the_window_shows_due_follow_ups_in_their_tab(qtbot: QtBot, database: Database) -> None:
    case_id = _resolved_with_follow_up(database, -timedelta(minutes=5))
    make_actor(database, "viewer")
    window = build_main_window(database.url.render_as_string(hide_password=False), "viewer")
    assert isinstance(window, MainWindow)
    qtbot.addWidget(window)
    window.show()
    view = window.followups_view
    qtbot.waitUntil(lambda: view.model.rowCount() == 1, timeout=5000)
    assert window.tabs.tabText(1) == "Follow-ups (1 due)"
    assert f"#{case_id}" in view.model.data(view.model.index(0, 3))
    qtbot.waitUntil(lambda: "is due now" in window.statusBar().currentMessage(), timeout=3000)
