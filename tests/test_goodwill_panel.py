"""The Goodwill panel on a real database, driven with qtbot: bars, drill-down, approvals, the dialog, the live feed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from PySide6.QtCore import QModelIndex, QRectF, Qt
from PySide6.QtGui import QAccessible, QColor, QImage
from PySide6.QtWidgets import QAbstractButton, QComboBox, QLineEdit, QPlainTextEdit, QTableView, QWidget
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from console.actor import Actor
from console.domain import Category, Channel, Role, Severity
from console.goodwill import BudgetStatus, GoodwillService
from console.intake import IntakeService, NewEscalation
from db.engine import Database
from main import build_main_window
from tests.conftest import make_actor
from tests.test_accessibility import INTERACTIVE, _walk
from widgets.actions import ActionId
from widgets.goodwill_dialogs import FormDialog, GestureDialog, ReasonDialog
from widgets.goodwill_panel import BAR_COLUMN, GoodwillPanel, bar_geometry
from widgets.main_window import MainWindow
from widgets.tasks import TaskRunner

ASSOCIATES = ("Ravi Menon", "Lena Ortiz", "Bo Kim")


@dataclass
class Floor:
    """Three associates with a customer each, two supervisors and a manager."""

    db: Database
    service: GoodwillService
    sam: Actor
    tom: Actor
    mia: Actor
    cases: dict[str, int]


def build_floor(db: Database) -> Floor:
    intake = IntakeService(db)
    cases = {
        name: intake.escalate(
            None,
            NewEscalation(
                f"Customer {i}",
                Channel.PHONE,
                Category.BILLING_ERROR,
                Severity.NORMAL,
                name,
                "Charged twice",
                customer_ref=f"C-{i}",
            ),
        )
        for i, name in enumerate(ASSOCIATES, start=1)
    }
    return Floor(
        db,
        GoodwillService(db),
        make_actor(db, "sam"),
        make_actor(db, "tom"),
        make_actor(db, "mia", Role.MANAGER),
        cases,
    )


def give(floor: Floor, associate: str, amount: str, by: Actor | None = None, ref: str = "C-1") -> int:
    outcome = floor.service.grant(
        by or floor.tom,
        associate=associate,
        amount=amount,
        gesture_type="credit",
        reason_code="billing_error",
        customer_ref=ref,
    )
    return outcome.id


def spend(floor: Floor, associate: str, total: int) -> None:
    """Gestures of at most 25.00 (the default cap) adding up to ``total``."""
    while total > 0:
        step = min(total, 25)
        give(floor, associate, f"{step}.00")
        total -= step


@pytest.fixture
def floor(sqlite_url: str) -> Iterator[Floor]:
    db = Database(sqlite_url)
    yield build_floor(db)
    db.dispose()


@pytest.fixture
def open_panel(qtbot: QtBot) -> Iterator[Callable[[Floor, Actor], GoodwillPanel]]:
    """The panel alone, for one signed-in person; shown, so it loads."""
    runners: list[TaskRunner] = []

    def opener(floor: Floor, actor: Actor) -> GoodwillPanel:
        runner = TaskRunner(lambda error: pytest.fail(f"unexpected: {error!r}"))
        runners.append(runner)
        panel = GoodwillPanel(floor.service, runner, actor)
        qtbot.addWidget(panel)
        panel.resize(1400, 900)
        with qtbot.waitSignal(panel.loaded, timeout=10_000):
            panel.show()
        return panel

    yield opener
    for runner in runners:
        runner.shutdown()


def reload(qtbot: QtBot, panel: GoodwillPanel) -> None:
    with qtbot.waitSignal(panel.loaded, timeout=10_000):
        panel.reload()


def names(panel: GoodwillPanel) -> list[str]:
    return [s.associate for s in panel.budget_model.rows()]


def cell(table: QTableView, row: int, column: int, role: int = Qt.ItemDataRole.DisplayRole) -> str:
    return str(table.model().index(row, column).data(role))


def submit(qtbot: QtBot, dialog: FormDialog) -> None:
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)


# --- budgets ----------------------------------------------------------------------------------------------------
def test_rows_are_sorted_by_share_used_and_say_past_80_percent_in_words(
    qtbot: QtBot, floor: Floor, open_panel: Callable[[Floor, Actor], GoodwillPanel]
) -> None:
    spend(floor, "Lena Ortiz", 60)
    spend(floor, "Ravi Menon", 130)
    spend(floor, "Bo Kim", 10)
    panel = open_panel(floor, floor.sam)
    assert names(panel) == ["Ravi Menon", "Lena Ortiz", "Bo Kim"]
    assert cell(panel.budgets, 0, 7) == "⚠ 87 % used"
    assert cell(panel.budgets, 1, 7) == "40 % used"
    assert "⚠" not in cell(panel.budgets, 2, 7)
    sentence = cell(panel.budgets, 0, BAR_COLUMN, Qt.ItemDataRole.AccessibleTextRole)
    assert sentence.startswith("Ravi Menon: 130.00 of 150.00 USD spent this week (87 %), 0.00 pending, 20.00 left")
    assert "past 80 %" in sentence
    for column in range(panel.budget_model.columnCount()):
        text = cell(panel.budgets, 1, column, Qt.ItemDataRole.AccessibleTextRole)
        assert "Lena Ortiz: 60.00 of 150.00 USD spent this week (40 %)" in text
    assert "⚠ 1 past 80 %" in panel.summary.text()


def test_the_bar_column_is_painted_with_spent_pending_and_the_80_percent_mark(
    qtbot: QtBot, floor: Floor, open_panel: Callable[[Floor, Actor], GoodwillPanel]
) -> None:
    spend(floor, "Ravi Menon", 75)
    give(floor, "Ravi Menon", "30.00")  # over the cap: pending
    panel = open_panel(floor, floor.sam)
    status = panel.budget_model.row_at(0)
    assert status.pending == 30
    geometry = bar_geometry(QRectF(0, 0, 316, 28), status)
    assert geometry.outline.width() == pytest.approx(300)
    assert geometry.spent.width() == pytest.approx(150)  # 75 of 150
    assert geometry.pending.left() == pytest.approx(geometry.spent.right())
    assert geometry.pending.width() == pytest.approx(60)
    assert geometry.marker_x == pytest.approx(8 + 240)

    table = panel.budgets
    rect = table.visualRect(table.model().index(0, BAR_COLUMN))
    image: QImage = table.viewport().grab().toImage()
    background = QColor(image.pixel(rect.right() - 2, rect.top() + 2))
    spent_x = rect.left() + 8 + int(rect.width() * 0.2)
    spent_pixel = QColor(image.pixel(spent_x, rect.center().y()))
    assert spent_pixel != background
    marker = rect.left() + 8 + (rect.width() - 16) * 0.8
    column = [QColor(image.pixel(int(marker) + dx, rect.center().y())) for dx in (-1, 0, 1)]
    assert any(c not in (spent_pixel, background) for c in column)


def test_budget_model_passes_the_model_tester(
    qtbot: QtBot, qtmodeltester: ModelTester, floor: Floor, open_panel: Callable[[Floor, Actor], GoodwillPanel]
) -> None:
    spend(floor, "Ravi Menon", 40)
    give(floor, "Lena Ortiz", "60.00")
    panel = open_panel(floor, floor.sam)
    panel.select_associate(panel.budget_model.row_at(0).associate_id)
    qtbot.waitUntil(lambda: panel.ledger_model.rowCount() == 2, timeout=5000)
    for model in (panel.budget_model, panel.ledger_model, panel.request_model, panel.by_associate_model):
        qtmodeltester.check(model)
        assert model.data(QModelIndex()) is None
        assert model.rowCount(model.index(0, 0)) == 0


# --- drill-down ---------------------------------------------------------------------------------------------------
def test_selecting_an_associate_shows_their_ledger_and_reverse_corrects_a_gesture(
    qtbot: QtBot, database: Database, open_panel: Callable[[Floor, Actor], GoodwillPanel]
) -> None:
    floor = build_floor(database)
    first = give(floor, "Ravi Menon", "20.00")
    give(floor, "Ravi Menon", "15.00", ref="C-2")
    give(floor, "Lena Ortiz", "5.00")
    panel = open_panel(floor, floor.sam)
    ravi = next(s for s in panel.budget_model.rows() if s.associate == "Ravi Menon")
    assert panel.select_associate(ravi.associate_id)
    qtbot.waitUntil(lambda: panel.ledger_model.rowCount() == 2, timeout=5000)
    assert "Ravi Menon" in panel.ledger_box.title()
    customers = {cell(panel.ledger, r, 3) for r in range(2)}
    assert customers == {"Customer 1", "Customer 2"}
    assert not panel.reverse_button.isEnabled()  # nothing selected yet
    row = panel.ledger_model.row_of(first)
    assert row is not None
    panel._select_row(panel.ledger, row)
    assert panel.reverse_button.isEnabled()
    qtbot.mouseClick(panel.reverse_button, Qt.MouseButton.LeftButton)
    dialog = panel.open_dialog()
    assert isinstance(dialog, ReasonDialog)
    submit(qtbot, dialog)  # no reason: refused beside the field, nothing written
    assert dialog.isVisible()
    assert "reason" in dialog.problem("reason").lower()
    qtbot.keyClicks(dialog.reason, "Customer returned the item")
    submit(qtbot, dialog)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    qtbot.waitUntil(lambda: panel.ledger_model.rowCount() == 3, timeout=5000)
    statuses = [cell(panel.ledger, r, 8) for r in range(3)]
    assert any(s.startswith("↩ reversed (entry #") for s in statuses)
    assert f"↩ reverses #{first}" in statuses
    assert "Reversed gesture" in panel.messages.text()
    assert panel.selected_associate_id() == ravi.associate_id  # kept across the reload
    assert [line.reversed_by_id is not None for line in floor.service.ledger() if line.id == first] == [True]


# --- approvals ----------------------------------------------------------------------------------------------------
@pytest.fixture
def open_window(qtbot: QtBot, floor: Floor) -> Iterator[Callable[[str], MainWindow]]:
    windows: list[MainWindow] = []

    def opener(username: str) -> MainWindow:
        window = build_main_window(floor.db.url.render_as_string(hide_password=False), username)
        assert isinstance(window, MainWindow)
        windows.append(window)
        window.resize(1600, 1000)
        with qtbot.waitExposed(window):
            window.show()
        qtbot.waitUntil(lambda: window.queue.has_loaded, timeout=5000)
        return window

    yield opener
    for window in windows:
        window.close()


def goodwill_tab(window: MainWindow) -> str:
    return window.tabs.tabText(window.tabs.indexOf(window.goodwill_panel))


def test_approve_and_decline_through_the_buttons_update_the_list_and_the_badge(
    qtbot: QtBot, floor: Floor, open_window: Callable[[str], MainWindow]
) -> None:
    first = give(floor, "Ravi Menon", "30.00")
    second = give(floor, "Lena Ortiz", "40.00")
    window = open_window("sam")
    qtbot.waitUntil(lambda: goodwill_tab(window) == "Goodwill (2)", timeout=5000)
    window.registry[ActionId.FOCUS_GOODWILL].trigger()
    panel = window.goodwill_panel
    assert window.tabs.currentWidget() is panel
    qtbot.waitUntil(lambda: panel.request_model.rowCount() == 2, timeout=5000)
    assert cell(panel.requests, 0, 4) == "over the 25.00 cap per gesture"
    assert panel.select_request(first)
    assert panel.approve_button.isEnabled()
    qtbot.mouseClick(panel.approve_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.request_model.rowCount() == 1, timeout=5000)
    qtbot.waitUntil(lambda: goodwill_tab(window) == "Goodwill (1)", timeout=5000)
    assert f"Approved request #{first}" in panel.messages.text()
    ravi = next(s for s in panel.budget_model.rows() if s.associate == "Ravi Menon")
    assert ravi.spent == 30

    assert panel.select_request(second)
    qtbot.mouseClick(panel.decline_button, Qt.MouseButton.LeftButton)
    dialog = panel.open_dialog()
    assert isinstance(dialog, ReasonDialog)
    submit(qtbot, dialog)
    assert dialog.problem("reason")  # a decline needs a reason
    assert floor.service.pending_count() == 1
    qtbot.keyClicks(dialog.reason, "Outside policy for this product")
    submit(qtbot, dialog)
    qtbot.waitUntil(lambda: panel.request_model.rowCount() == 0, timeout=5000)
    qtbot.waitUntil(lambda: goodwill_tab(window) == "Goodwill", timeout=5000)
    declined = floor.service.requests(status="declined")
    assert [(r.id, r.decision_reason, r.decided_by) for r in declined] == [
        (second, "Outside policy for this product", "sam")
    ]


def test_approve_is_disabled_for_ones_own_request_and_beyond_the_limit(
    qtbot: QtBot, floor: Floor, open_panel: Callable[[Floor, Actor], GoodwillPanel]
) -> None:
    own = give(floor, "Ravi Menon", "30.00", by=floor.sam)
    big = give(floor, "Lena Ortiz", "120.00", by=floor.tom)  # above a supervisor's 100.00
    panel = open_panel(floor, floor.sam)
    panel.select_request(own)
    assert not panel.approve_button.isEnabled()
    assert "yourself" in panel.approve_button.toolTip()
    assert "yourself" in panel.approve_hint.text()
    assert panel.decline_button.isEnabled()
    panel.select_request(big)
    assert not panel.approve_button.isEnabled()
    assert "approval limit of 100.00" in panel.approve_button.toolTip()
    manager_panel = open_panel(floor, floor.mia)
    manager_panel.select_request(big)
    assert manager_panel.approve_button.isEnabled()


def test_a_refusal_from_the_service_goes_to_the_message_line(
    qtbot: QtBot, floor: Floor, open_panel: Callable[[Floor, Actor], GoodwillPanel]
) -> None:
    request = give(floor, "Ravi Menon", "30.00")
    panel = open_panel(floor, floor.sam)
    floor.service.approve(floor.mia, request)  # decided elsewhere; the panel has no feed to hear of it
    panel.select_request(request)
    qtbot.mouseClick(panel.approve_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "already approved by mia" in panel.messages.text(), timeout=5000)
    qtbot.waitUntil(lambda: panel.request_model.rowCount() == 0, timeout=5000)


def test_changes_from_elsewhere_appear_when_the_feed_fires(
    qtbot: QtBot, floor: Floor, open_window: Callable[[str], MainWindow]
) -> None:
    window = open_window("sam")
    panel = window.goodwill_panel
    give(floor, "Bo Kim", "40.00")  # another connection: only the feed tells the window
    qtbot.waitUntil(lambda: goodwill_tab(window) == "Goodwill (1)", timeout=5000)  # hidden tab: badge only
    window.tabs.setCurrentWidget(panel)
    qtbot.waitUntil(lambda: panel.request_model.rowCount() == 1, timeout=5000)
    bo = next(s for s in panel.budget_model.rows() if s.associate == "Bo Kim")
    panel.select_associate(bo.associate_id)
    qtbot.waitUntil(lambda: panel.ledger_title.text() == "No entries this period yet.", timeout=5000)
    give(floor, "Bo Kim", "12.00")
    qtbot.waitUntil(lambda: panel.ledger_model.rowCount() == 1, timeout=5000)
    assert panel.budget_model.row_at(panel.budget_model.row_of(bo.associate_id) or 0).spent == 12
    assert panel.selected_associate_id() == bo.associate_id
    floor.service.decline(floor.mia, floor.service.requests()[0].id, "Not this time")
    qtbot.waitUntil(lambda: goodwill_tab(window) == "Goodwill", timeout=5000)


# --- record a gesture --------------------------------------------------------------------------------------------
def fill(qtbot: QtBot, dialog: GestureDialog, customer: str, amount: str) -> None:
    dialog.customer.setText(customer)
    dialog.amount.clear()
    qtbot.keyClicks(dialog.amount, amount)


def test_record_gesture_refuses_bad_amounts_beside_the_field_and_keeps_the_form(
    qtbot: QtBot, floor: Floor, open_panel: Callable[[Floor, Actor], GoodwillPanel]
) -> None:
    panel = open_panel(floor, floor.sam)
    ravi = next(s for s in panel.budget_model.rows() if s.associate == "Ravi Menon")
    panel.select_associate(ravi.associate_id)
    dialog = panel.record_gesture()  # what the button opens (the button itself is clicked below)
    assert dialog.associate.currentText() == "Ravi Menon"
    dialog.gesture_type.setCurrentIndex(dialog.gesture_type.findData("credit"))
    dialog.reason_text.setPlainText("Charged twice")
    for bad, words in (("0", "more than 0.00"), ("12.345", "two decimals")):
        fill(qtbot, dialog, "C-1", bad)
        submit(qtbot, dialog)
        assert words in dialog.problem("amount"), dialog.problem("amount")
        assert dialog.isVisible()
        assert dialog.amount.text() == bad
        assert dialog.customer.text() == "C-1"
        assert dialog.reason_text.toPlainText() == "Charged twice"
    fill(qtbot, dialog, "C-404", "20.00")
    submit(qtbot, dialog)
    qtbot.waitUntil(lambda: bool(dialog.problem("customer")), timeout=5000)
    assert "C-404" in dialog.problem("customer")
    assert not dialog.problem("amount")
    assert floor.service.ledger() == []
    assert floor.service.requests() == []

    fill(qtbot, dialog, "C-1", "20.00")
    submit(qtbot, dialog)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    entry = floor.service.ledger()[0]
    assert panel.messages.text() == f"✔ Granted: 20.00 credit (entry #{entry.id})"
    qtbot.waitUntil(lambda: panel.ledger_model.rowCount() == 1, timeout=5000)

    qtbot.mouseClick(panel.record_button, Qt.MouseButton.LeftButton)
    second = panel.open_dialog()
    assert isinstance(second, GestureDialog)
    fill(qtbot, second, f"#{floor.cases['Ravi Menon']}", "30.00")
    submit(qtbot, second)
    qtbot.waitUntil(lambda: not second.isVisible(), timeout=5000)
    request = floor.service.requests()[0]
    assert request.escalation_id == floor.cases["Ravi Menon"]
    assert f"Sent for approval (request #{request.id}): over the 25.00 cap per gesture" in panel.messages.text()
    qtbot.waitUntil(lambda: panel.request_model.rowCount() == 1, timeout=5000)


# --- managers -----------------------------------------------------------------------------------------------------
def test_budget_buttons_are_for_managers_only_and_edit_and_adjust_the_budget(
    qtbot: QtBot, floor: Floor, open_panel: Callable[[Floor, Actor], GoodwillPanel]
) -> None:
    supervisor_panel = open_panel(floor, floor.sam)
    assert supervisor_panel.budget_button.isHidden()
    assert supervisor_panel.adjust_button.isHidden()
    panel = open_panel(floor, floor.mia)
    assert panel.budget_button.isVisibleTo(panel)
    ravi = next(s for s in panel.budget_model.rows() if s.associate == "Ravi Menon")
    panel.select_associate(ravi.associate_id)
    dialog = panel.edit_budget()
    assert dialog is not None
    dialog.allowance.setText("200.00")
    submit(qtbot, dialog)
    assert dialog.problem("reason")  # a reason is required
    dialog.reason.setText("Handles the premium line")
    submit(qtbot, dialog)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)

    def selected() -> BudgetStatus:
        status = panel.selected_budget()
        assert status is not None
        return status

    qtbot.waitUntil(lambda: selected().allowance == 200, timeout=5000)
    adjust = panel.adjust_budget()
    assert adjust is not None
    adjust.amount.setText("-20.00")
    adjust.reason.setText("Over-spent last week")
    submit(qtbot, adjust)
    qtbot.waitUntil(lambda: not adjust.isVisible(), timeout=5000)
    qtbot.waitUntil(lambda: selected().available == 180, timeout=5000)
    assert "200.00 (200.00 − 20.00)" not in cell(panel.budgets, 0, 3)
    assert "(200.00 − 20.00)" in cell(panel.budgets, panel.budget_model.row_of(ravi.associate_id) or 0, 3)


# --- accessibility ------------------------------------------------------------------------------------------------
def test_every_interactive_node_of_the_goodwill_tab_is_named(
    qtbot: QtBot, floor: Floor, open_window: Callable[[str], MainWindow]
) -> None:
    give(floor, "Ravi Menon", "10.00")
    give(floor, "Lena Ortiz", "40.00")
    make_actor(floor.db, "morgan", Role.MANAGER)
    window = open_window("morgan")
    window.registry[ActionId.FOCUS_GOODWILL].trigger()
    panel = window.goodwill_panel
    qtbot.waitUntil(lambda: panel.has_loaded and panel.request_model.rowCount() == 1, timeout=5000)
    assert "Ctrl+3" in window.registry[ActionId.FOCUS_GOODWILL].toolTip()
    nodes = list(_walk(QAccessible.queryAccessibleInterface(panel)))
    interactive = [n for n in nodes if n.role() in INTERACTIVE]
    assert len(interactive) >= 10
    unnamed = [
        (str(n.role()), n.object().objectName() if n.object() else "")
        for n in interactive
        if not n.text(QAccessible.Text.Name).strip()
    ]
    assert unnamed == []
    for widget in panel.findChildren(QWidget):
        if isinstance(widget, QAbstractButton | QTableView) and widget.isVisibleTo(panel):
            assert widget.accessibleName(), widget.objectName()
            assert widget.toolTip(), widget.objectName()
    for button in (panel.record_button, panel.approve_button, panel.decline_button, panel.reverse_button):
        assert "(Alt+" in button.toolTip(), button.objectName()
    panel.select_associate(panel.budget_model.row_at(0).associate_id)
    dialog = panel.record_gesture()
    for field in dialog.findChildren(QLineEdit) + dialog.findChildren(QComboBox) + dialog.findChildren(QPlainTextEdit):
        if field.parent() is not None and not isinstance(field.parent(), QComboBox):
            assert field.accessibleName(), field.objectName()
            assert "(Alt+" in field.toolTip(), field.objectName()
    dialog.reject()


def test_a_manager_can_set_the_floor_default_from_the_budget_dialog(
    qtbot: QtBot, floor: Floor, open_panel: Callable[[Floor, Actor], GoodwillPanel]
) -> None:
    """The dialog's scope: only this associate by default; the floor default changes everyone without their own."""
    panel = open_panel(floor, floor.mia)
    ravi = next(s for s in panel.budget_model.rows() if s.associate == "Ravi Menon")
    panel.select_associate(ravi.associate_id)
    dialog = panel.edit_budget()
    assert dialog is not None
    assert dialog.scope.currentData() == "associate"  # the narrowest scope unless chosen otherwise
    dialog.scope.setCurrentIndex(dialog.scope.findData("floor"))
    dialog.allowance.setText("90.00")
    dialog.reason.setText("Tighter month")
    submit(qtbot, dialog)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    statuses = floor.service.budgets()
    assert {s.allowance for s in statuses} == {Decimal("90.00")}
    assert {s.rule.source for s in statuses} == {"floor"}
    assert panel.messages.text().startswith("✔ Floor default")
