"""The Propose step's suggested goodwill gesture: real widgets, real services, a real (SQLite) database, via qtbot."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from console.actor import Actor
from console.domain import Category, Channel, Role, Severity
from console.goodwill import GestureType, GoodwillService
from console.intake import IntakeService, NewEscalation
from console.queue import QueueService
from console.workflow import Step, WorkflowService
from db.engine import Database
from db.models import Customer, Escalation
from tests.conftest import make_actor
from tests.test_workflow_panel import through_apology
from widgets.goodwill_suggestion import GESTURE_KEY, GoodwillSuggestionBox
from widgets.tasks import TaskRunner
from widgets.workflow_panel import ProposePage, WorkflowPanel

WAIT_MS = 5000
CAP = Decimal("25.00")  # the floor's default cap per gesture
ALLOWANCE = Decimal("150.00")  # the floor's default allowance, per week
CEILING = Decimal("1000.00")  # the floor's default ceiling for one gesture


@pytest.fixture
def database(sqlite_url: str) -> Iterator[Database]:
    """A fresh migrated SQLite database."""
    db = Database(sqlite_url)
    yield db
    db.dispose()


class Harness:
    """A workflow panel on real services, opened at Propose on a claimed case."""

    def __init__(self, qtbot: QtBot, database: Database, actor: Actor) -> None:
        self.qtbot = qtbot
        self.errors: list[BaseException] = []
        self.runner = TaskRunner(self.errors.append)
        self.goodwill = GoodwillService(database)
        self.panel = WorkflowPanel(WorkflowService(database), self.runner, actor, goodwill=self.goodwill)
        qtbot.addWidget(self.panel)
        self.messages: list[tuple[str, str]] = []
        self.panel.message.connect(lambda text, kind: self.messages.append((text, kind)))
        self.panel.resize(1000, 900)
        with qtbot.waitExposed(self.panel):
            self.panel.show()

    @property
    def box(self) -> GoodwillSuggestionBox:
        return self.panel.gesture_box

    def open_at_propose(self, escalation_id: int, customer: str) -> None:
        """Open the case (at Propose) and wait for the suggestion to show."""
        with self.qtbot.waitSignal(self.box.loaded, timeout=WAIT_MS):
            self.panel.open_case(escalation_id, customer)
        assert self.panel.shown_step() is Step.PROPOSE

    def click_and_wait(self) -> None:
        """Press the button; wait for the outcome and the refreshed suggestion."""
        with self.qtbot.waitSignal(self.box.loaded, timeout=WAIT_MS):
            self.qtbot.mouseClick(self.box.record_button, Qt.MouseButton.LeftButton)
        self.settle()

    def settle(self) -> None:
        self.qtbot.waitUntil(lambda: not self.runner.busy, timeout=WAIT_MS)

    def close(self) -> None:
        self.panel.close_case()
        self.settle()
        self.runner.shutdown()


@pytest.fixture
def harness(qtbot: QtBot, database: Database) -> Iterator[Callable[[Actor], Harness]]:
    made: list[Harness] = []

    def make(actor: Actor) -> Harness:
        made.append(Harness(qtbot, database, actor))
        return made[-1]

    yield make
    for h in made:
        h.close()


def case_for(
    database: Database,
    actor: Actor,
    *,
    lifetime_value: str,
    churn_risk: float,
    category: Category = Category.BILLING_ERROR,
    associate: str = "Ravi Menon",
    ref: str = "C-9001",
) -> int:
    """A customer with this value and churn risk, an escalation by ``associate`` claimed by ``actor``, at Propose."""
    with database.transaction() as session:
        session.add(
            Customer(external_ref=ref, name="Ada Mensah", lifetime_value=Decimal(lifetime_value), churn_risk=churn_risk)
        )
    new = NewEscalation(
        "Ada Mensah", Channel.PHONE, category, Severity.HIGH, associate, "Charged twice", customer_ref=ref
    )
    escalation_id = IntakeService(database).escalate(None, new)
    QueueService(database).claim(actor, escalation_id)
    through_apology(database, actor, escalation_id)
    return escalation_id


def expected_amount(base: str, lifetime_value: str, churn_risk: str, limit: Decimal) -> Decimal:
    """Worked out by hand from domain.md: base × value factor × churn factor, to whole units, then capped."""
    value_factor = 1 + min(Decimal(lifetime_value), Decimal(10_000)) / Decimal(20_000)  # 1.0 … 1.5
    churn_factor = 1 + Decimal(churn_risk)  # 1.0 … 2.0
    scaled = (Decimal(base) * value_factor * churn_factor).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    return min(scaled, limit).quantize(Decimal("0.01"))


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None
    return widget


# -- the suggestion ------------------------------------------------------------------------------------------------
def test_the_suggestion_is_the_playbooks_gesture_scaled_by_value_and_churn_with_why(
    database: Database, harness: Callable[[Actor], Harness]
) -> None:
    sam = make_actor(database, "sam")
    case = case_for(database, sam, lifetime_value="2000.00", churn_risk=0.2)  # billing error: a 10.00 credit
    h = harness(sam)
    h.open_at_propose(case, "Ada Mensah")

    box = h.box
    expected = expected_amount("10.00", "2000.00", "0.20", min(CAP, ALLOWANCE))  # 10 × 1.1 × 1.2 = 13.2 -> 13
    assert expected == Decimal("13.00")
    assert box.amount.text() == "13.00"
    assert box.type_label.text() == GestureType.CREDIT.label
    assert box.currency_label.text() == "USD"
    why = box.explanation.text()
    assert "Billing error" in why
    assert "goodwill credit" in why
    assert "lifetime value 2,000.00" in why
    assert "churn risk 0.20" in why
    assert "13.00" in why
    assert box.explanation.accessibleDescription() == why  # a screen reader reads the reason too
    assert box.budget.text() == "Ravi Menon: 150.00 of 150.00 USD left this week, cap 25.00 per gesture"
    assert box.given.text() == "Nothing given on this case yet."
    assert box.record_button.isEnabled()
    assert box.record_button.text().startswith("Record gesture")
    assert not box.approval_note.isVisible()
    assert not h.errors


def test_the_suggestion_is_capped_by_the_cap_and_by_what_the_associate_has_left(
    database: Database, harness: Callable[[Actor], Harness]
) -> None:
    sam = make_actor(database, "sam")
    # A valuable customer at risk: product malfunction 15.00 × 1.25 × 1.8 = 33.75 -> 34, over the 25.00 cap.
    case = case_for(database, sam, lifetime_value="5000.00", churn_risk=0.8, category=Category.PRODUCT_MALFUNCTION)
    h = harness(sam)
    h.open_at_propose(case, "Ada Mensah")
    assert h.box.amount.text() == str(expected_amount("15.00", "5000.00", "0.80", CAP)) == "25.00"
    assert "capped at 25.00, Ravi Menon's cap per gesture" in h.box.explanation.text()
    assert h.box.type_label.text() == GestureType.FREE_ITEM.label

    # Ravi spent 140.00 elsewhere this week: 10.00 left, and that is the limit now.
    for amount in ("25.00",) * 5 + ("15.00",):
        h.goodwill.grant(
            sam,
            associate="Ravi Menon",
            amount=amount,
            gesture_type="credit",
            reason_code="long_wait",
            customer_ref="C-9001",
        )
    h.panel.go_to(Step.APOLOGIZE)
    h.qtbot.waitUntil(lambda: h.panel.shown_step() is Step.APOLOGIZE, timeout=WAIT_MS)
    with h.qtbot.waitSignal(h.box.loaded, timeout=WAIT_MS):  # shown again: loaded afresh
        h.panel.go_to(Step.PROPOSE)
    left = ALLOWANCE - Decimal("140.00")
    assert h.box.amount.text() == str(expected_amount("15.00", "5000.00", "0.80", min(CAP, left))) == "10.00"
    assert "capped at 10.00, what Ravi Menon has left this week" in h.box.explanation.text()
    assert h.box.budget.text() == "Ravi Menon: 10.00 of 150.00 USD left this week, cap 25.00 per gesture"


# -- recording -------------------------------------------------------------------------------------------------------
def test_one_click_records_one_ledger_entry_against_the_case_and_the_suggestion_refreshes(
    database: Database, harness: Callable[[Actor], Harness]
) -> None:
    sam = make_actor(database, "sam")
    case = case_for(database, sam, lifetime_value="2000.00", churn_risk=0.2)
    h = harness(sam)
    h.open_at_propose(case, "Ada Mensah")
    h.click_and_wait()

    [entry] = h.goodwill.ledger(escalation_id=case)
    assert (entry.kind, entry.amount, entry.gesture_type) == ("gesture", Decimal("13.00"), GestureType.CREDIT)
    assert (entry.associate, entry.reason_code, entry.recorded_by) == ("Ravi Menon", "billing_error", "sam")
    assert h.goodwill.requests(status=None, escalation_id=case) == []
    assert h.box.outcome.text() == f"Recorded: 13.00 credit, entry #{entry.id}"
    assert (f"#{case}: Recorded: 13.00 credit, entry #{entry.id}", "success") in h.messages
    # What is left shrank, and the list shows the gesture, so nobody gives it twice.
    assert h.box.budget.text() == "Ravi Menon: 137.00 of 150.00 USD left this week, cap 25.00 per gesture"
    assert h.box.given.text().startswith("Already on this case:\n• 13.00 credit: entry #")
    assert f"entry #{entry.id}" in h.box.given.text()
    assert "by sam" in h.box.given.text()
    assert len(h.goodwill.ledger(escalation_id=case)) == 1  # the refresh wrote nothing
    assert not h.errors


def test_over_the_cap_the_button_asks_for_approval_and_a_pending_request_is_raised(
    database: Database, harness: Callable[[Actor], Harness]
) -> None:
    sam = make_actor(database, "sam")
    case = case_for(database, sam, lifetime_value="2000.00", churn_risk=0.2)
    h = harness(sam)
    h.open_at_propose(case, "Ada Mensah")
    box = h.box
    box.amount.clear()
    h.qtbot.keyClicks(box.amount, "40.00")
    assert box.record_button.text().startswith("Request approval")
    assert box.approval_note.isVisible()
    assert "over the 25.00 cap per gesture" in box.approval_note.text()
    assert h.panel.gesture_action.text() == "Request goodwill approval"
    h.click_and_wait()

    [request] = h.goodwill.requests(escalation_id=case)
    assert (request.status, request.amount, request.because) == (
        "pending",
        Decimal("40.00"),
        "over the 25.00 cap per gesture",
    )
    assert (request.associate, request.reason_code, request.gesture_type) == ("Ravi Menon", "billing_error", "credit")
    assert h.goodwill.ledger(escalation_id=case) == []
    assert box.outcome.text() == f"Sent for approval, request #{request.id}: over the 25.00 cap per gesture"
    assert f"request #{request.id}" in box.given.text()
    assert "waiting for approval" in box.given.text()
    assert box.budget.text().endswith("; 40.00 waiting for approval")
    # Back to the suggestion, within the cap: recorded at once again.
    assert box.amount.text() == "13.00"
    assert box.record_button.text().startswith("Record gesture")


def test_with_nothing_left_the_suggestion_itself_needs_approval(
    database: Database, harness: Callable[[Actor], Harness]
) -> None:
    sam = make_actor(database, "sam")
    mia = make_actor(database, "mia", Role.MANAGER)
    case = case_for(database, sam, lifetime_value="0.00", churn_risk=0.0)
    GoodwillService(database).adjust(mia, "Ravi Menon", "-150.00", "Over budget last week")
    h = harness(sam)
    h.open_at_propose(case, "Ada Mensah")
    data = h.box.data()
    assert data is not None
    assert data.suggestion.needs_approval
    assert h.box.record_button.text().startswith("Request approval")
    assert "nothing left" in h.box.budget.text()
    h.click_and_wait()
    [request] = h.goodwill.requests(escalation_id=case)
    assert request.because == "only 0.00 left this week"
    assert h.goodwill.ledger(escalation_id=case) == []


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("0", "more than 0.00"),
        ("-5", "cannot be negative"),
        ("12.345", "at most two decimals"),
        ("ten", "not an amount"),
        ("1000.01", "above the floor's ceiling of 1000.00"),
        ("", "not an amount"),
    ],
)
def test_a_bad_amount_is_refused_beside_the_field_and_nothing_is_written(
    database: Database, harness: Callable[[Actor], Harness], typed: str, reason: str
) -> None:
    sam = make_actor(database, "sam")
    case = case_for(database, sam, lifetime_value="2000.00", churn_risk=0.2)
    h = harness(sam)
    h.open_at_propose(case, "Ada Mensah")
    box = h.box
    box.amount.clear()
    h.qtbot.keyClicks(box.amount, typed)
    h.qtbot.mouseClick(box.record_button, Qt.MouseButton.LeftButton)
    h.settle()
    assert box.problem.isVisible()
    assert reason in box.problem.problem()
    assert box.problem.accessibleName() == "Gesture amount: problem"
    assert box.amount.hasFocus()
    assert h.goodwill.ledger(escalation_id=case) == []
    assert h.goodwill.requests(status=None, escalation_id=case) == []
    # Fixed: the reason goes away as the amount becomes one.
    box.amount.clear()
    h.qtbot.keyClicks(box.amount, "12.00")
    assert not box.problem.isVisible()


def test_without_an_escalating_associate_the_box_says_so_and_the_button_is_off(
    database: Database, harness: Callable[[Actor], Harness]
) -> None:
    sam = make_actor(database, "sam")
    case = case_for(database, sam, lifetime_value="2000.00", churn_risk=0.2)
    with database.transaction() as session:  # an imported complaint may come without one
        escalation = session.get(Escalation, case)
        assert escalation is not None
        escalation.associate_id = None
    h = harness(sam)
    h.open_at_propose(case, "Ada Mensah")
    assert "No escalating associate" in h.box.budget.text()
    assert "no escalating associate" in h.box.explanation.text()
    assert not h.box.record_button.isEnabled()
    assert not h.box.amount.isEnabled()
    assert not h.panel.gesture_action.isEnabled()
    h.panel.gesture_action.trigger()
    h.settle()
    assert h.goodwill.requests(status=None, escalation_id=case) == []


# -- keyboard and screen reader --------------------------------------------------------------------------------------
def test_the_shortcut_records_and_tab_goes_from_the_amount_to_the_button(
    qtbot: QtBot, database: Database, harness: Callable[[Actor], Harness]
) -> None:
    sam = make_actor(database, "sam")
    case = case_for(database, sam, lifetime_value="2000.00", churn_risk=0.2)
    h = harness(sam)
    with qtbot.waitActive(h.panel):
        h.panel.activateWindow()
    h.open_at_propose(case, "Ada Mensah")
    box = h.box
    box.amount.setFocus()
    qtbot.waitUntil(box.amount.hasFocus, timeout=WAIT_MS)
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    assert focused() is box.record_button
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    page = h.panel.pages[Step.PROPOSE]
    assert isinstance(page, ProposePage)
    assert focused() is page.promised  # then on with the proposal

    # The amount is reached from the keyboard; the shortcut records from anywhere in the panel.
    qtbot.keyClick(focused(), Qt.Key.Key_M, Qt.KeyboardModifier.AltModifier)
    assert focused() is box.amount
    box.amount.selectAll()
    qtbot.keyClicks(box.amount, "7.50")
    with qtbot.waitSignal(box.loaded, timeout=WAIT_MS):
        qtbot.keyClick(focused(), Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    h.settle()
    [entry] = h.goodwill.ledger(escalation_id=case)
    assert entry.amount == Decimal("7.50")
    # Enter in the amount records too.
    box.amount.setFocus()
    with qtbot.waitSignal(box.loaded, timeout=WAIT_MS):
        qtbot.keyClick(box.amount, Qt.Key.Key_Return)
    h.settle()
    assert len(h.goodwill.ledger(escalation_id=case)) == 2


def test_the_controls_are_named_and_the_shortcut_is_in_tooltips_and_the_panels_actions(
    database: Database, harness: Callable[[Actor], Harness]
) -> None:
    sam = make_actor(database, "sam")
    case = case_for(database, sam, lifetime_value="2000.00", churn_risk=0.2)
    h = harness(sam)
    h.open_at_propose(case, "Ada Mensah")
    box = h.box
    for widget, name in ((box.amount, "Gesture amount"), (box.record_button, "Record gesture")):
        assert widget.accessibleName() == name
        assert widget.toolTip().strip()
    assert "Alt+M" in box.amount.toolTip()
    assert GESTURE_KEY in box.record_button.toolTip()
    assert GESTURE_KEY in box.record_button.text()
    for label, name in (
        (box.explanation, "Why this amount"),
        (box.budget, "What the associate has left"),
        (box.given, "Gestures on this case"),
    ):
        assert label.accessibleName() == name
        assert label.accessibleDescription() == label.text() != ""
    action = h.panel.gesture_action
    assert action in h.panel.actions()
    assert action.shortcut().toString() == GESTURE_KEY
    assert action.isEnabled()
    assert GESTURE_KEY in action.toolTip()
    # Only on the Propose step: elsewhere the menu shows it greyed out.
    h.panel.go_to(Step.LISTEN)
    h.qtbot.waitUntil(lambda: h.panel.shown_step() is Step.LISTEN, timeout=WAIT_MS)
    assert not action.isEnabled()


def test_screenshot_of_the_propose_step_with_the_suggested_gesture(
    qtbot: QtBot, tmp_path: Path, database: Database, harness: Callable[[Actor], Harness]
) -> None:
    """GOODWILL_SCREENSHOTS=/dir keeps the PNG (propose.png)."""
    sam = make_actor(database, "sam")
    case = case_for(database, sam, lifetime_value="7250.40", churn_risk=0.72)
    h = harness(sam)
    h.panel.resize(1000, 760)
    h.open_at_propose(case, "Ada Mensah")
    page = h.panel.pages[Step.PROPOSE]
    assert isinstance(page, ProposePage)
    page.playbook_buttons[2].click()
    page.rows[0].amount.setText("10.00")
    h.box.amount.setText("40.00")
    h.click_and_wait()
    h.settle()
    qtbot.wait(50)
    out = Path(os.environ.get("GOODWILL_SCREENSHOTS") or tmp_path) / "propose.png"
    assert h.panel.grab().save(str(out))
    assert out.stat().st_size > 10_000


def test_a_refresh_after_a_change_elsewhere_updates_the_budget_and_keeps_an_amount_being_typed(
    database: Database, harness: Callable[[Actor], Harness]
) -> None:
    sam = make_actor(database, "sam")
    case = case_for(database, sam, lifetime_value="2000.00", churn_risk=0.2)
    h = harness(sam)
    h.open_at_propose(case, "Ada Mensah")
    h.box.amount.clear()
    h.qtbot.keyClicks(h.box.amount, "18.00")
    h.goodwill.grant(
        sam,
        associate="Ravi Menon",
        amount="20.00",
        gesture_type="credit",
        reason_code="long_wait",
        customer_ref="C-9001",
    )
    with h.qtbot.waitSignal(h.box.loaded, timeout=WAIT_MS):
        h.box.refresh()
    assert h.box.budget.text().startswith("Ravi Menon: 130.00 of 150.00 USD left")
    assert h.box.amount.text() == "18.00"
