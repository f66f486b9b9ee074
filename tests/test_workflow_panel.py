"""The workflow panel on a real database (both engines), real services and real widgets, driven with qtbot."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QDate, QDateTime, Qt, QTime
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from console.actor import Actor
from console.casefile import CaseFileService
from console.domain import Category, Channel, Role, Severity, Status
from console.errors import ValidationError
from console.intake import IntakeService, NewEscalation
from console.queue import QueueService
from console.workflow import APOLOGIES, GUIDES, PLAYBOOK_REMEDIES, FollowUpState, Remedy, Step, WorkflowService
from db.engine import Database
from db.migrate import upgrade_database
from db.models import User
from db.seed import DEMO_SUPERVISOR_USERNAME, ensure_demo_floor
from tests.conftest import make_actor
from widgets.tasks import TaskRunner
from widgets.workflow_panel import (
    FollowUpPage,
    GatherPage,
    ListenPage,
    ProposePage,
    WorkflowPanel,
    format_timer,
)

AUTOSAVE_MS = 200
WAIT_MS = 5000
CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


class Harness:
    """A panel on a real service and task runner, with the messages it sent."""

    def __init__(self, qtbot: QtBot, database: Database, actor: Actor, **kwargs: object) -> None:
        self.errors: list[BaseException] = []
        self.runner = TaskRunner(self.errors.append)
        options: dict[str, Any] = {"autosave_ms": AUTOSAVE_MS, **kwargs}
        self.panel = WorkflowPanel(WorkflowService(database), self.runner, actor, **options)
        qtbot.addWidget(self.panel)
        self.messages: list[tuple[str, str]] = []
        self.finished: list[int] = []
        self.panel.message.connect(lambda text, kind: self.messages.append((text, kind)))
        self.panel.caseFinished.connect(self.finished.append)
        self.panel.resize(1000, 760)
        with qtbot.waitExposed(self.panel):
            self.panel.show()
        self.qtbot = qtbot

    def open(self, escalation_id: int, customer: str = "Ann Lee", hint: str = "") -> None:
        with self.qtbot.waitSignal(self.panel.stateChanged, timeout=WAIT_MS):
            self.panel.open_case(escalation_id, customer, hint)

    def activate(self) -> None:
        with self.qtbot.waitActive(self.panel):
            self.panel.activateWindow()

    def settle(self) -> None:
        """Wait until every queued service call has come back."""
        self.qtbot.waitUntil(lambda: not self.runner.busy, timeout=WAIT_MS)

    def listen(self) -> ListenPage:
        page = self.panel.pages[Step.LISTEN]
        assert isinstance(page, ListenPage)
        return page

    def gather(self) -> GatherPage:
        page = self.panel.pages[Step.GATHER]
        assert isinstance(page, GatherPage)
        return page

    def propose(self) -> ProposePage:
        page = self.panel.pages[Step.PROPOSE]
        assert isinstance(page, ProposePage)
        return page

    def follow_up(self) -> FollowUpPage:
        page = self.panel.pages[Step.FOLLOW_UP]
        assert isinstance(page, FollowUpPage)
        return page

    def close(self) -> None:
        self.panel.close_case()
        self.settle()
        self.runner.shutdown()


@pytest.fixture
def harnesses(qtbot: QtBot) -> Iterator[Callable[..., Harness]]:
    made: list[Harness] = []

    def make(database: Database, actor: Actor, **kwargs: object) -> Harness:
        harness = Harness(qtbot, database, actor, **kwargs)
        made.append(harness)
        return harness

    yield make
    for harness in made:
        harness.close()


def claimed_case(
    database: Database,
    actor: Actor,
    category: Category = Category.BILLING_ERROR,
    product: str | None = "Fibre 500 plan",
) -> int:
    """A new escalation, claimed by ``actor``."""
    new = NewEscalation(
        "Ann Lee", Channel.PHONE, category, Severity.HIGH, "Bo Berg", "Charged twice for March", product=product
    )
    escalation_id = IntakeService(database).escalate(None, new)
    QueueService(database).claim(actor, escalation_id)
    return escalation_id


def through_apology(database: Database, actor: Actor, escalation_id: int) -> WorkflowService:
    """Listen, gather and apologize done through the service, so the panel opens at Propose."""
    service = WorkflowService(database)
    state = service.open(actor, escalation_id)
    for step, fields in (
        (Step.LISTEN, {"account": "Charged twice.", "upset": 4}),
        (Step.GATHER, {"what_happened": "Double charge on the March invoice."}),
        (Step.APOLOGIZE, {"given": True}),
    ):
        service.save(actor, escalation_id, step, fields, state.step(step).revision)
        state = service.complete(actor, escalation_id, step)
    return service


def through_follow_up(database: Database, actor: Actor, escalation_id: int) -> WorkflowService:
    """Everything up to a scheduled follow-up on a resolved case, through the service."""
    service = through_apology(database, actor, escalation_id)
    revision = service.state(escalation_id).step(Step.PROPOSE).revision
    remedies = [{"type": "refund", "amount": "25.00", "note": "Correct the charge"}]
    service.save(actor, escalation_id, Step.PROPOSE, {"remedies": remedies, "response": "accepted"}, revision)
    service.complete(actor, escalation_id, Step.PROPOSE)
    service.resolve(actor, escalation_id)
    service.schedule_follow_up(actor, escalation_id, datetime.now(UTC) + timedelta(days=2), Channel.EMAIL)
    return service


def status_of(panel: WorkflowPanel) -> Status | None:
    state = panel.state()
    return state.status if state is not None else None


def follow_ups_of(panel: WorkflowPanel) -> list[FollowUpState]:
    state = panel.state()
    return state.follow_ups if state is not None else []


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None
    return widget


def press(qtbot: QtBot, key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    """A key press where the keyboard focus is, as a person's would land."""
    qtbot.keyClick(focused(), key, modifier)


def tab_to(qtbot: QtBot, target: QWidget, limit: int = 25) -> None:
    for _ in range(limit):
        if focused() is target:
            return
        press(qtbot, Qt.Key.Key_Tab)
    assert focused() is target, f"Tab never reached {target.objectName()}; stuck at {focused().objectName()}"


# -- keyboard only -------------------------------------------------------------------------------------------------
def test_the_whole_flow_from_open_to_scheduled_follow_up_works_without_the_mouse(
    qtbot: QtBot, database: Database, harnesses: Callable[..., Harness]
) -> None:
    sam = make_actor(database, "sam")
    case = claimed_case(database, sam)
    h = harnesses(database, sam)
    h.activate()
    h.open(case)
    panel = h.panel

    # Listen: the focus is already in the account.
    assert panel.shown_step() is Step.LISTEN
    assert focused() is h.listen().account
    qtbot.keyClicks(focused(), "They took the money twice for March")
    press(qtbot, Qt.Key.Key_Tab)
    assert focused() is h.listen().upset_buttons[0]
    for _ in range(3):
        press(qtbot, Qt.Key.Key_Right)  # 1 -> 4
    assert h.listen().fields()["upset"] == 4
    press(qtbot, Qt.Key.Key_Return, CTRL)

    # Gather
    qtbot.waitUntil(lambda: panel.shown_step() is Step.GATHER, timeout=WAIT_MS)
    assert focused() is h.gather().what_happened
    qtbot.keyClicks(focused(), "Direct debit ran twice on 3 March")
    press(qtbot, Qt.Key.Key_Return, CTRL)

    # Apologize: Space gives it.
    qtbot.waitUntil(lambda: panel.shown_step() is Step.APOLOGIZE, timeout=WAIT_MS)
    press(qtbot, Qt.Key.Key_Space)
    press(qtbot, Qt.Key.Key_Return, CTRL)

    # Propose: Tab to the playbook's credit suggestion (the third), Space adds it; type the amount; Accepted.
    qtbot.waitUntil(lambda: panel.shown_step() is Step.PROPOSE, timeout=WAIT_MS)
    propose = h.propose()
    suggestion = PLAYBOOK_REMEDIES[Category.BILLING_ERROR][2]
    assert suggestion[0] is Remedy.CREDIT
    tab_to(qtbot, propose.playbook_buttons[2])
    press(qtbot, Qt.Key.Key_Space)
    assert len(propose.rows) == 1
    assert focused() is propose.rows[0].amount  # a credit costs money: the amount is next
    qtbot.keyClicks(focused(), "15.50")
    tab_to(qtbot, propose.response_buttons[next(iter(propose.response_buttons))])
    press(qtbot, Qt.Key.Key_Space)
    press(qtbot, Qt.Key.Key_Return, CTRL)

    # Follow up: resolve with its shortcut, then schedule by keyboard.
    qtbot.waitUntil(lambda: panel.shown_step() is Step.FOLLOW_UP, timeout=WAIT_MS)
    follow_up = h.follow_up()
    assert focused() is follow_up.due
    press(qtbot, Qt.Key.Key_Return, CTRL | SHIFT)
    qtbot.waitUntil(lambda: status_of(panel) is Status.RESOLVED, timeout=WAIT_MS)
    due = follow_up.due_at()
    tab_to(qtbot, follow_up.channel)
    press(qtbot, Qt.Key.Key_Down)  # phone -> chat
    tab_to(qtbot, follow_up.schedule_button)
    press(qtbot, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: bool(follow_ups_of(panel)), timeout=WAIT_MS)
    h.settle()

    # What the service stored.
    state = WorkflowService(database).state(case)
    assert state.status is Status.RESOLVED
    assert state.step(Step.LISTEN).fields == {"account": "They took the money twice for March", "upset": 4}
    assert state.step(Step.GATHER).fields["what_happened"] == "Direct debit ran twice on 3 March"
    assert state.step(Step.APOLOGIZE).fields["given"] is True
    proposal = state.step(Step.PROPOSE).fields
    assert proposal["remedies"] == [{"type": "credit", "amount": "15.50", "note": suggestion[1]}]
    assert proposal["response"] == "accepted"
    assert all(state.step(s).done for s in (Step.LISTEN, Step.GATHER, Step.APOLOGIZE, Step.PROPOSE))
    assert not state.step(Step.FOLLOW_UP).done
    [scheduled] = state.follow_ups
    assert (scheduled.status, scheduled.channel, scheduled.due_at) == ("scheduled", "chat", due)
    tomorrow = datetime.now().astimezone() + timedelta(days=1)  # the suggested time: tomorrow 10:00 local
    assert due == tomorrow.replace(hour=10, minute=0, second=0, microsecond=0)
    assert any("resolved" in text for text, kind in h.messages if kind == "success")

    # And the case file (case show) has the same.
    record = CaseFileService(database).show(case)
    assert [s["name"] for s in record["steps"]] == [s.value for s in Step]
    assert [s["name"] for s in record["steps"] if s["completed_at"]] == ["listen", "gather", "apologize", "propose"]
    assert record["proposal"]["remedies"][0]["amount"] == "15.50"
    assert record["follow_ups"][0]["status"] == "scheduled"
    assert record["follow_ups"][0]["channel"] == "chat"
    assert record["status"] == "resolved"
    assert not h.errors


def test_alt_number_jumps_to_a_step_and_the_stepper_marks_what_is_done(
    qtbot: QtBot, database: Database, harnesses: Callable[..., Harness]
) -> None:
    sam = make_actor(database, "sam")
    case = claimed_case(database, sam)
    through_apology(database, sam, case)
    h = harnesses(database, sam)
    h.activate()
    h.open(case)
    panel = h.panel
    assert panel.shown_step() is Step.PROPOSE
    buttons = panel.step_buttons
    assert buttons[Step.LISTEN].text() == "1 Listen ✔"
    assert buttons[Step.PROPOSE].text() == "▶ 4 Propose"
    assert buttons[Step.PROPOSE].font().bold()
    assert not buttons[Step.LISTEN].font().bold()
    assert buttons[Step.FOLLOW_UP].text() == "5 Follow up"
    assert "not started" in buttons[Step.FOLLOW_UP].accessibleName()
    press(qtbot, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: panel.shown_step() is Step.GATHER, timeout=WAIT_MS)
    assert focused() is h.gather().what_happened
    assert buttons[Step.GATHER].text() == "▶ 2 Gather ✔"
    assert WorkflowService(database).state(case).current is Step.GATHER
    qtbot.mouseClick(buttons[Step.LISTEN], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.shown_step() is Step.LISTEN, timeout=WAIT_MS)
    assert h.listen().account.toPlainText() == "Charged twice."


# -- nothing lost ----------------------------------------------------------------------------------------------------
def test_typing_is_saved_after_a_pause_without_pressing_anything(
    qtbot: QtBot, database: Database, harnesses: Callable[..., Harness]
) -> None:
    sam = make_actor(database, "sam")
    case = claimed_case(database, sam)
    h = harnesses(database, sam)
    h.open(case)
    service = WorkflowService(database)
    account = h.listen().account

    assert h.panel.current_case() == case

    def stored() -> str:
        return str(service.state(case).step(Step.LISTEN).fields.get("account", ""))

    qtbot.keyClicks(account, "I was on hold for an hour")
    qtbot.waitUntil(lambda: stored() == "I was on hold for an hour", timeout=WAIT_MS)
    first = service.state(case).step(Step.LISTEN).revision
    qtbot.keyClicks(account, ", twice")
    qtbot.waitUntil(lambda: stored() == "I was on hold for an hour, twice", timeout=WAIT_MS)
    assert service.state(case).step(Step.LISTEN).revision > first
    qtbot.waitUntil(lambda: h.panel.save_status.text() == "All changes saved", timeout=WAIT_MS)

    # Switching case (or closing the window) saves what is pending at once, without waiting for the pause.
    h.panel._autosave.setInterval(60_000)
    qtbot.keyClicks(account, "; nobody called back")
    h.panel.close_case()
    assert h.panel.current_case() is None
    qtbot.waitUntil(lambda: stored().endswith("nobody called back"), timeout=WAIT_MS)
    assert not h.errors


def test_steady_typing_is_saved_while_it_goes_on_not_only_after_a_pause(
    qtbot: QtBot, database: Database, harnesses: Callable[..., Harness]
) -> None:
    sam = make_actor(database, "sam")
    case = claimed_case(database, sam)
    pause_ms = 3000  # far longer than the typing below: only the bound on waiting can save before it ends
    h = harnesses(database, sam, autosave_ms=pause_ms, autosave_max_ms=300)
    h.panel.open_case(case, "Ann Lee")
    assert h.panel.current_case() is None  # still opening: not ready for typing
    qtbot.waitUntil(lambda: h.panel.current_case() == case, timeout=WAIT_MS)
    service = WorkflowService(database)
    text = "She was charged twice and the bank added a fee"
    started = time.monotonic()
    for char in text:
        qtbot.keyClicks(h.listen().account, char)
        qtbot.wait(25)
    stored = ""

    def saved_some() -> bool:
        nonlocal stored
        stored = str(service.state(case).step(Step.LISTEN).fields.get("account", ""))
        return bool(stored)

    qtbot.waitUntil(saved_some, timeout=1000)
    last_key_ago_ms = (time.monotonic() - started) * 1000 - len(text) * 25
    assert last_key_ago_ms < pause_ms  # saved before the pause after the last key could have saved anything
    assert text.startswith(stored)
    h.panel.flush()
    qtbot.waitUntil(lambda: service.state(case).step(Step.LISTEN).fields.get("account") == text, timeout=WAIT_MS)


def test_a_save_based_on_an_old_revision_is_refused_and_the_other_supervisors_text_is_shown(
    qtbot: QtBot, database: Database, harnesses: Callable[..., Harness]
) -> None:
    sam = make_actor(database, "sam")
    bea = make_actor(database, "bea")
    queue = QueueService(database)
    service = WorkflowService(database)
    case = claimed_case(database, sam)

    def stored() -> str:
        return str(service.state(case).step(Step.LISTEN).fields.get("account", ""))

    a = harnesses(database, sam)
    a.open(case)
    qtbot.keyClicks(a.listen().account, "Sam: billed twice")
    qtbot.waitUntil(lambda: stored() == "Sam: billed twice", timeout=WAIT_MS)

    # Bea takes the case over and adds to it in her own console; then hands it back.
    queue.reassign(sam, case, bea.user_id, "Sam is on another call")
    b = harnesses(database, bea)
    b.open(case)
    assert b.listen().account.toPlainText() == "Sam: billed twice"
    qtbot.keyClicks(b.listen().account, "; Bea: and the refund never came")
    theirs = "Sam: billed twice; Bea: and the refund never came"
    qtbot.waitUntil(lambda: stored() == theirs, timeout=WAIT_MS)
    b.settle()
    queue.reassign(bea, case, sam.user_id, "Back to Sam")

    # Sam's console still has the old revision: its next save is refused.
    revision = service.state(case).step(Step.LISTEN).revision
    qtbot.keyClicks(a.listen().account, " (called 3 times)")
    qtbot.waitUntil(lambda: any(kind == "warning" for _t, kind in a.messages), timeout=WAIT_MS)
    [(text, _kind)] = [m for m in a.messages if m[1] == "warning"]
    assert "Bea" in text
    assert a.listen().account.toPlainText() == theirs
    assert stored() == theirs  # nothing overwritten
    assert service.state(case).step(Step.LISTEN).revision == revision
    assert a.panel.displaced.isVisible()
    assert "(called 3 times)" in a.panel.displaced_text.toPlainText()  # Sam's words are kept, not lost

    # No autosave over the other's text until Sam types again.
    qtbot.wait(AUTOSAVE_MS * 3)
    a.settle()
    assert service.state(case).step(Step.LISTEN).revision == revision
    qtbot.keyClicks(a.listen().account, " Sam again")
    qtbot.waitUntil(lambda: stored() == theirs + " Sam again", timeout=WAIT_MS)
    assert not a.errors
    assert not b.errors


# -- validation at the field -----------------------------------------------------------------------------------------
def test_bad_amounts_and_dates_are_refused_beside_their_field_and_nothing_is_saved(
    qtbot: QtBot, database: Database, harnesses: Callable[..., Harness]
) -> None:
    sam = make_actor(database, "sam")
    case = claimed_case(database, sam)
    service = through_apology(database, sam, case)
    h = harnesses(database, sam)
    h.activate()
    h.open(case)
    propose = h.propose()
    assert h.panel.shown_step() is Step.PROPOSE

    def proposal() -> dict[str, object]:
        return dict(service.state(case).step(Step.PROPOSE).fields)

    qtbot.waitUntil(lambda: propose.playbook_buttons[0].height() > 0, timeout=WAIT_MS)  # laid out
    qtbot.mouseClick(propose.playbook_buttons[0], Qt.MouseButton.LeftButton)  # refund
    row = propose.rows[0]
    for typed, reason in (
        ("-5", "negative"),
        ("12.345", "two decimals"),
        ("twelve", "not an amount"),
        ("100000.01", "ceiling"),
    ):
        row.amount.clear()
        qtbot.keyClicks(row.amount, typed)
        qtbot.waitUntil(row.problem.isVisible, timeout=WAIT_MS)
        assert reason in row.problem.text()
        assert row.problem.text().startswith("⚠")
        assert row.problem.accessibleDescription() in row.problem.text()
        assert row.amount.text() == typed  # the supervisor's text stays on screen
        qtbot.wait(AUTOSAVE_MS * 2)
        h.settle()
        assert not proposal().get("remedies")  # nothing of the step saved while the field is wrong
    row.amount.clear()
    qtbot.keyClicks(row.amount, "12.34")
    assert not row.problem.isVisible()  # fixed: the reason goes at once
    qtbot.waitUntil(lambda: bool(proposal().get("remedies")), timeout=WAIT_MS)
    assert proposal()["remedies"] == [{"type": "refund", "amount": "12.34", "note": "Correct the charge immediately"}]

    # Alt+A adds a remedy of one's own; Ctrl+Shift+Del in its row takes it away again.
    press(qtbot, Qt.Key.Key_A, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: len(propose.rows) == 2, timeout=WAIT_MS)  # a mnemonic clicks after a short flash
    assert focused() is propose.rows[1].amount
    press(qtbot, Qt.Key.Key_Delete, CTRL | SHIFT)
    assert len(propose.rows) == 1
    qtbot.wait(AUTOSAVE_MS * 2)
    h.settle()
    assert len(proposal()["remedies"]) == 1  # type: ignore[arg-type]

    # A promised date in the past.
    propose.promised.setDate(QDate.currentDate().addDays(-1))
    label = propose.problems["promised_date"]
    qtbot.waitUntil(label.isVisible, timeout=WAIT_MS)
    assert "past" in label.text()
    qtbot.wait(AUTOSAVE_MS * 2)
    h.settle()
    assert not proposal().get("promised_date")
    propose.promised.setDate(QDate.currentDate().addDays(3))
    assert not label.isVisible()
    expected = QDate.currentDate().addDays(3).toString(Qt.DateFormat.ISODate)
    qtbot.waitUntil(lambda: proposal().get("promised_date") == expected, timeout=WAIT_MS)

    # Resolve before the proposal is complete: refused, and the reason is shown.
    h.panel.resolve()
    qtbot.waitUntil(propose.problems["remedies"].isVisible, timeout=WAIT_MS)
    assert "completed proposal" in propose.problems["remedies"].text()
    assert service.state(case).status is Status.CLAIMED

    # A follow-up before now.
    h.panel.go_to(Step.FOLLOW_UP)
    qtbot.waitUntil(lambda: h.panel.shown_step() is Step.FOLLOW_UP, timeout=WAIT_MS)
    follow_up = h.follow_up()
    an_hour_ago = QDateTime.currentDateTime().addSecs(-3600)
    follow_up.due.setDateTime(an_hour_ago)
    due_problem = follow_up.problems["due_at"]
    qtbot.waitUntil(due_problem.isVisible, timeout=WAIT_MS)
    assert "after now" in due_problem.text()
    qtbot.mouseClick(follow_up.schedule_button, Qt.MouseButton.LeftButton)
    h.settle()
    assert service.state(case).follow_ups == []
    assert "due_at" not in service.state(case).step(Step.FOLLOW_UP).fields
    assert follow_up.due.dateTime().toSecsSinceEpoch() == an_hour_ago.toSecsSinceEpoch()

    # The comboboxes cannot even offer CSAT 6; the service refuses it all the same, naming the field.
    assert follow_up.csat.findData(6) == -1
    assert follow_up.nps.findData(11) == -1
    service.schedule_follow_up(sam, case, datetime.now(UTC) + timedelta(days=1), Channel.PHONE)
    follow_up_id = service.state(case).follow_ups[0].id
    with pytest.raises(ValidationError) as refused:
        service.record_outcome(sam, follow_up_id, csat=6, nps=None, comment="", solved=True)
    assert refused.value.field == "csat"
    assert service.state(case).follow_ups[0].status == "scheduled"
    assert not h.errors


def test_a_step_the_service_will_not_complete_says_why_beside_the_field(
    qtbot: QtBot, database: Database, harnesses: Callable[..., Harness]
) -> None:
    sam = make_actor(database, "sam")
    case = claimed_case(database, sam)
    h = harnesses(database, sam)
    h.activate()
    h.open(case)
    qtbot.keyClicks(h.listen().account, "Nobody listens")
    press(qtbot, Qt.Key.Key_Return, CTRL)  # no upset chosen yet
    label = h.listen().problems["upset"]
    qtbot.waitUntil(label.isVisible, timeout=WAIT_MS)
    assert "upset" in label.text().lower()
    assert h.panel.shown_step() is Step.LISTEN
    state = WorkflowService(database).state(case)
    assert not state.step(Step.LISTEN).done
    assert state.step(Step.LISTEN).fields["account"] == "Nobody listens"  # the text was saved first
    qtbot.mouseClick(h.listen().upset_buttons[2], Qt.MouseButton.LeftButton)
    assert not label.isVisible()


# -- follow-up outcome -------------------------------------------------------------------------------------------------
def test_not_solved_puts_the_case_back_in_the_queue(
    qtbot: QtBot, database: Database, harnesses: Callable[..., Harness]
) -> None:
    sam = make_actor(database, "sam")
    case = claimed_case(database, sam)
    through_follow_up(database, sam, case)
    h = harnesses(database, sam)
    h.activate()
    h.open(case)
    follow_up = h.follow_up()
    assert h.panel.shown_step() is Step.FOLLOW_UP
    assert follow_up.outcome_box.isVisible()
    assert focused() is follow_up.csat  # the outcome is what is left to do
    follow_up.csat.setCurrentIndex(follow_up.csat.findData(2))
    follow_up.nps.setCurrentIndex(follow_up.nps.findData(3))
    qtbot.keyClicks(follow_up.comment, "Still charged twice")
    qtbot.mouseClick(follow_up.record_button, Qt.MouseButton.LeftButton)  # without an answer to "solved?"
    assert "solved" in follow_up.problems["solved"].text()
    follow_up.solved_no.setFocus()
    press(qtbot, Qt.Key.Key_Space)
    with qtbot.waitSignal(h.panel.caseFinished, timeout=WAIT_MS) as finished:
        press(qtbot, Qt.Key.Key_O, Qt.KeyboardModifier.AltModifier)
    assert finished.args == [case]
    reopened = [item for item in QueueService(database).open_items() if item.id == case]
    assert len(reopened) == 1
    assert reopened[0].status is Status.REOPENED
    assert reopened[0].claimed_by_id is None
    [done] = WorkflowService(database).state(case).follow_ups
    assert (done.status, done.csat, done.nps, done.solved, done.comment) == ("done", 2, 3, False, "Still charged twice")
    assert any("back to the queue" in text for text, kind in h.messages if kind == "warning")
    assert not h.panel.complete_button.isEnabled()  # nothing more to do here


def test_solved_closes_the_case(qtbot: QtBot, database: Database, harnesses: Callable[..., Harness]) -> None:
    sam = make_actor(database, "sam")
    case = claimed_case(database, sam)
    through_follow_up(database, sam, case)
    h = harnesses(database, sam)
    h.open(case)
    follow_up = h.follow_up()
    follow_up.csat.setCurrentIndex(follow_up.csat.findData(5))
    qtbot.mouseClick(follow_up.solved_yes, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(h.panel.caseFinished, timeout=WAIT_MS):
        qtbot.mouseClick(follow_up.record_button, Qt.MouseButton.LeftButton)
    state = WorkflowService(database).state(case)
    assert state.status is Status.CLOSED
    assert state.step(Step.FOLLOW_UP).done
    assert (state.follow_ups[0].csat, state.follow_ups[0].nps, state.follow_ups[0].solved) == (5, None, True)
    assert case not in {item.id for item in QueueService(database).open_items()}


def test_no_follow_up_needed_closes_a_resolved_case_and_needs_a_reason(
    qtbot: QtBot, database: Database, harnesses: Callable[..., Harness]
) -> None:
    sam = make_actor(database, "sam")
    case = claimed_case(database, sam)
    service = through_apology(database, sam, case)
    revision = service.state(case).step(Step.PROPOSE).revision
    remedies = [{"type": "explanation", "note": "Explained the new tariff"}]
    service.save(sam, case, Step.PROPOSE, {"remedies": remedies, "response": "accepted"}, revision)
    service.complete(sam, case, Step.PROPOSE)
    h = harnesses(database, sam)
    h.activate()
    h.open(case)
    follow_up = h.follow_up()
    reason = follow_up.reason

    # Claimed, not yet resolved: resolve first.
    reason.setFocus()
    qtbot.keyClicks(reason, "Customer asked not to be contacted again")
    press(qtbot, Qt.Key.Key_Return)
    assert "Resolve the case first" in follow_up.problems["reason"].text()
    assert service.state(case).follow_ups == []
    press(qtbot, Qt.Key.Key_Return, CTRL | SHIFT)
    qtbot.waitUntil(lambda: status_of(h.panel) is Status.RESOLVED, timeout=WAIT_MS)

    # No reason: refused beside the field.
    reason.clear()
    qtbot.mouseClick(follow_up.none_button, Qt.MouseButton.LeftButton)
    assert "why" in follow_up.problems["reason"].text()
    qtbot.keyClicks(reason, "Customer asked not to be contacted again")
    with qtbot.waitSignal(h.panel.caseFinished, timeout=WAIT_MS):
        press(qtbot, Qt.Key.Key_Return)
    state = service.state(case)
    assert state.status is Status.CLOSED
    assert [(f.status, f.reason) for f in state.follow_ups] == [
        ("not_needed", "Customer asked not to be contacted again")
    ]


# -- guidance ----------------------------------------------------------------------------------------------------------
def test_guidance_read_back_history_hint_call_timer_and_story(
    qtbot: QtBot, database: Database, harnesses: Callable[..., Harness]
) -> None:
    sam = make_actor(database, "sam")
    case = claimed_case(database, sam, Category.PRODUCT_MALFUNCTION, product="FreshCool fridge")
    claimed_at = QueueService(database).item(case).claimed_at
    assert claimed_at is not None
    h = harnesses(database, sam, now_fn=lambda: claimed_at + timedelta(minutes=4, seconds=12))
    h.activate()
    hint = "12 May, phone: asked about invoice (Grace Mwale)"
    h.open(case, "Ann Lee", hint)
    panel = h.panel
    assert panel.title.text() == f"#{case} · Ann Lee · Product malfunction"
    assert panel.timer_label.text() == "On this case 04:12"
    assert panel.timer_label.accessibleName() == "Call timer"
    assert format_timer(3725) == "1:02:05"
    assert GUIDES[Step.LISTEN].purpose in panel.purpose.text()
    assert all(cue in panel.cues.text() for cue in GUIDES[Step.LISTEN].cues)

    # Read back uses what is on screen, saved or not.
    qtbot.keyClicks(h.listen().account, "The fridge stopped cooling after a week")
    press(qtbot, Qt.Key.Key_R, CTRL)
    assert panel.read_back_box.toPlainText().startswith("So, Ann, if I've got this right: The fridge stopped")

    # Gather is pre-filled from the history, and saved with the step.
    assert h.gather().tried.toPlainText() == hint
    assert "tried" not in WorkflowService(database).state(case).step(Step.GATHER).fields
    h.listen().upset_buttons[4].setChecked(True)
    press(qtbot, Qt.Key.Key_Return, CTRL)
    qtbot.waitUntil(lambda: panel.shown_step() is Step.GATHER, timeout=WAIT_MS)
    qtbot.keyClicks(h.gather().what_happened, "Stopped cooling on day 8")
    qtbot.waitUntil(
        lambda: WorkflowService(database).state(case).step(Step.GATHER).fields.get("tried") == hint, timeout=WAIT_MS
    )

    # The apology names the product.
    press(qtbot, Qt.Key.Key_3, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: panel.shown_step() is Step.APOLOGIZE, timeout=WAIT_MS)
    suggestion = panel.pages[Step.APOLOGIZE].suggestion.text()  # type: ignore[attr-defined]
    assert suggestion == APOLOGIES[Category.PRODUCT_MALFUNCTION].replace("{product}", "FreshCool fridge")

    # A story for the huddle, inline: Ctrl+Shift+S, type, Enter.
    press(qtbot, Qt.Key.Key_S, CTRL | SHIFT)
    assert panel.story_editor.isVisible()
    assert focused() is panel.story_text
    qtbot.keyClicks(panel.story_text, "Replaced the fridge same day; customer delighted")
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not panel.story_editor.isVisible(), timeout=WAIT_MS)
    record = CaseFileService(database).show(case)
    assert [(s["kind"], s["text"]) for s in record["stories"]] == [
        ("win", "Replaced the fridge same day; customer delighted")
    ]
    assert not h.errors


# -- accessibility -----------------------------------------------------------------------------------------------------
CONTROL_TYPES = (QAbstractButton, QComboBox, QLineEdit, QPlainTextEdit, QAbstractSpinBox, QListWidget)


def shown(panel: WorkflowPanel, step: Step) -> Callable[[], bool]:
    return lambda: panel.shown_step() is step


def _controls(panel: WorkflowPanel) -> list[QWidget]:
    found: list[QWidget] = []
    for kind in CONTROL_TYPES:
        for widget in panel.findChildren(kind):
            parent = widget.parentWidget()
            if widget.objectName().startswith("qt_") or isinstance(parent, QAbstractSpinBox | QComboBox):
                continue  # Qt's own parts of a spin box or combo box
            found.append(widget)
    return found


def test_every_control_on_every_page_has_an_accessible_name_and_a_tooltip(
    qtbot: QtBot, database: Database, harnesses: Callable[..., Harness]
) -> None:
    sam = make_actor(database, "sam")
    case = claimed_case(database, sam)
    through_follow_up(database, sam, case)
    h = harnesses(database, sam)
    h.open(case)
    panel = h.panel
    h.propose().add_remedy(Remedy.DISCOUNT, "Next order", focus=False)
    panel.open_story_editor()
    panel.displaced.show()
    controls = _controls(panel)
    assert len(controls) > 50
    missing = [
        (w.objectName(), type(w).__name__)
        for w in controls
        if not w.accessibleName().strip() or not w.toolTip().strip()
    ]
    assert missing == []

    # Actions name their shortcuts.
    for name, keys in (
        ("workflowComplete", "Ctrl+Return"),
        ("workflowResolve", "Ctrl+Shift+Return"),
        ("workflowReadBack", "Ctrl+R"),
        ("workflowStoryButton", "Ctrl+Shift+S"),
        ("followUpSchedule", "Alt+S"),
        ("followUpNotNeeded", "Alt+N"),
        ("followUpRecord", "Alt+O"),
        ("apologyGiven", "Alt+G"),
        ("proposeAddRemedy", "Alt+A"),
        ("stepButton3", "Alt+3"),
        ("remedyRemove1", "Ctrl+Shift+Del"),
    ):
        widget = panel.findChild(QWidget, name)
        assert widget is not None, name
        assert keys in widget.toolTip(), (name, widget.toolTip())

    # What a screen reader gets, on each page in turn.
    for step in Step:
        panel.go_to(step)
        qtbot.waitUntil(shown(panel, step), timeout=WAIT_MS)
        root = QAccessible.queryAccessibleInterface(panel.pages[step])
        pending = [root]
        unnamed = []
        while pending:
            node = pending.pop()
            if node is None or not node.isValid():
                continue
            if (
                node.role()
                in (
                    QAccessible.Role.PushButton,
                    QAccessible.Role.CheckBox,
                    QAccessible.Role.RadioButton,
                    QAccessible.Role.ComboBox,
                    QAccessible.Role.EditableText,
                    QAccessible.Role.SpinBox,
                )
                and not node.text(QAccessible.Text.Name).strip()
            ):
                unnamed.append((str(node.role()), node.object().objectName() if node.object() else ""))
            pending.extend(node.child(i) for i in range(node.childCount()))
        assert unnamed == [], step

    # Problems beside a field are named for the field they belong to.
    assert h.listen().problems["account"].accessibleName() == "Customer's account: problem"


# -- screenshots ----------------------------------------------------------------------------------------------------
def test_screenshots_of_each_step_on_the_demo_floor(
    qtbot: QtBot, tmp_path: Path, harnesses: Callable[..., Harness]
) -> None:
    """Each step at 1000x760 on a realistic case; WORKFLOW_SCREENSHOTS=/dir keeps the PNGs (wf_<step>.png)."""
    database = Database(f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    upgrade_database(database)
    ensure_demo_floor(database)
    with database.read() as session:
        user = session.scalar(select(User).where(User.username == DEMO_SUPERVISOR_USERNAME))
        assert user is not None
        demo = Actor(user.id, user.username, user.display_name, Role(user.role))
    queue = QueueService(database)
    waiting = [i for i in queue.open_items() if i.claimed_by_id is None and i.product]
    item = next(i for i in waiting if i.category is Category.BILLING_ERROR)
    queue.claim(demo, item.id)
    h = harnesses(database, demo, now_fn=lambda: datetime.now(UTC) + timedelta(minutes=3, seconds=27))
    out = Path(os.environ.get("WORKFLOW_SCREENSHOTS") or tmp_path)
    hint = "3 May, phone: asked about the invoice (Grace Mwale); 9 May, chat: promised a call-back (Ama Boateng)"
    h.open(item.id, item.customer_name, hint)
    panel = h.panel
    panel.resize(1000, 760)
    first = item.customer_name.split()[0]
    h.listen().account.setPlainText(
        f"{first} says the price of the {item.product} went up without any notice, and two calls and a chat "
        "later nobody has fixed it. They feel cheated and want the old price back."
    )
    h.listen().upset_buttons[3].setChecked(True)
    panel.read_back()
    shots: dict[Step, Path] = {}

    def shoot(step: Step) -> None:
        qtbot.waitUntil(lambda: panel.shown_step() is step, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: not panel.save_status.text().startswith(("Unsaved", "Saving")), timeout=WAIT_MS)
        h.settle()
        qtbot.wait(50)
        shots[step] = out / f"wf_{step.value}.png"
        assert panel.grab().save(str(shots[step]))

    shoot(Step.LISTEN)
    panel.complete_step()
    qtbot.waitUntil(lambda: panel.shown_step() is Step.GATHER, timeout=WAIT_MS)
    h.gather().what_happened.setPlainText("Monthly price rose from 39.00 to 47.00 on the May bill; no letter.")
    h.gather().when.setText("May bill, 2 May")
    h.gather().references.setText("Invoice INV-703581, account " + (item.customer_ref or "C-1"))
    h.gather().wants.setText("The old price back, and the difference refunded")
    shoot(Step.GATHER)
    panel.complete_step()
    qtbot.waitUntil(lambda: panel.shown_step() is Step.APOLOGIZE, timeout=WAIT_MS)
    panel.pages[Step.APOLOGIZE].given.setChecked(True)  # type: ignore[attr-defined]
    shoot(Step.APOLOGIZE)
    panel.complete_step()
    qtbot.waitUntil(lambda: panel.shown_step() is Step.PROPOSE, timeout=WAIT_MS)
    h.propose().playbook_buttons[0].click()
    h.propose().rows[0].amount.setText("8.00")
    h.propose().playbook_buttons[2].click()
    h.propose().rows[1].amount.setText("12.345")
    h.propose().promised.setDate(QDate.currentDate().addDays(2))
    h.propose().response_buttons[next(iter(h.propose().response_buttons))].setChecked(True)
    qtbot.waitUntil(h.propose().rows[1].problem.isVisible, timeout=WAIT_MS)
    shoot(Step.PROPOSE)
    h.propose().rows[1].amount.setText("5.00")
    panel.complete_step()
    qtbot.waitUntil(lambda: panel.shown_step() is Step.FOLLOW_UP, timeout=WAIT_MS)
    panel.resolve()
    qtbot.waitUntil(lambda: status_of(panel) is Status.RESOLVED, timeout=WAIT_MS)
    h.follow_up().due.setDateTime(QDateTime(QDate.currentDate().addDays(3), QTime(10, 30)))
    panel.schedule_follow_up()
    qtbot.waitUntil(lambda: bool(follow_ups_of(panel)), timeout=WAIT_MS)
    shoot(Step.FOLLOW_UP)
    assert all(path.stat().st_size > 10_000 for path in shots.values())
    stored = WorkflowService(database).state(item.id).step(Step.PROPOSE).fields["remedies"]
    assert [Decimal(r["amount"]) for r in stored] == [Decimal("8.00"), Decimal("5.00")]
    h.close()
    database.dispose()
