"""The real main window on a real database (both engines), driven with qtbot."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QMenu, QMessageBox, QScrollArea, QTableView, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import update

from console.casefile import CaseFileService
from console.domain import Category, Channel, Role, Severity
from console.intake import IntakeService, NewEscalation, add_escalation
from console.queue import QueueService
from db.engine import Database
from db.models import Escalation
from db.types import utcnow
from main import build_main_window
from tests.conftest import escalate_elsewhere, make_actor
from widgets.actions import ActionId
from widgets.main_window import MainWindow
from widgets.queue_model import FEW_INSERTS, QueueModel


def _new(summary: str, severity: Severity = Severity.NORMAL, customer: str = "Ann Lee") -> NewEscalation:
    return NewEscalation(customer, Channel.PHONE, Category.BILLING_ERROR, severity, "Bo", summary)


@pytest.fixture
def open_window(qtbot: QtBot, database: Database) -> Iterator[Callable[[str], MainWindow]]:
    """Opens the real window for a user, as main() does after sign-in; closed at the end of the test."""
    windows: list[MainWindow] = []

    def opener(username: str) -> MainWindow:
        window = build_main_window(database.url.render_as_string(hide_password=False), username)
        assert isinstance(window, MainWindow)
        windows.append(window)
        with qtbot.waitExposed(window):
            window.show()
        qtbot.waitUntil(lambda: window.queue.has_loaded, timeout=5000)
        return window

    yield opener
    for window in windows:
        window.close()


def _table(window: MainWindow) -> QTableView:
    table = window.findChild(QTableView, "queueView")
    assert table is not None
    return table


def _ids(window: MainWindow) -> set[int]:
    model = window.queue_view.model()
    return {model.item(row).id for row in range(model.rowCount())}


def _select(window: MainWindow, escalation_id: int) -> None:
    window.queue_view.select_escalation(escalation_id)
    assert window.queue_view.selected_id() == escalation_id


def test_window_shows_user_database_and_the_open_queue(
    open_window: Callable[[str], MainWindow], database: Database
) -> None:
    make_actor(database, "sam")
    ids = {IntakeService(database).escalate(None, _new(f"case {i}")) for i in range(3)}
    window = open_window("sam")
    assert window.objectName() == "mainWindow"
    assert "Sam" in window.user_label.text()
    assert database.description in window.db_label.text()
    assert _ids(window) == ids


def test_the_first_load_moves_what_the_start_made_out_of_the_collectors_way(
    open_window: Callable[[str], MainWindow], database: Database
) -> None:
    make_actor(database, "sam")
    IntakeService(database).escalate(None, _new("loaded at start"))
    gc.unfreeze()  # whatever earlier tests froze: only this window's start counts
    window = open_window("sam")
    item = window.queue_view.model().item(0)
    tracked = {id(o) for o in gc.get_objects()}  # every generation the collector walks; not the permanent one
    assert gc.get_freeze_count() > 0
    assert id(item) not in tracked
    assert id(window.queue_view.model()) not in tracked


def test_a_burst_of_arrivals_lands_in_slices_in_urgency_order(
    open_window: Callable[[str], MainWindow], database: Database
) -> None:
    make_actor(database, "sam")
    window = open_window("sam")
    severities = list(Severity)
    burst = 3 * FEW_INSERTS + 7  # more than one slice, and more than a batch the model inserts in place
    ids = set()
    with database.transaction() as session:  # one commit: the feed reports them together
        for i in range(burst):
            ids.add(add_escalation(session, None, _new(f"burst {i}", severities[i % len(severities)])).id)
    model = window.queue_view.model()
    deadline = time.monotonic() + 10
    while _ids(window) != ids and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.01)
    assert _ids(window) == ids
    # Applied a slice at a time, the rows stand exactly where a full load of the same items puts them.
    rebuilt = QueueModel(model.policy())
    rebuilt.set_items(model.items())
    assert [i.id for i in model.items()] == [i.id for i in rebuilt.items()]


def test_the_case_docks_fill_in_once_the_loaded_queue_is_painted(qtbot: QtBot, database: Database) -> None:
    from widgets.workflow_panel import WorkflowPanel

    make_actor(database, "sam")
    window = build_main_window(database.url.render_as_string(hide_password=False), "sam")
    assert isinstance(window, MainWindow)
    try:
        scroller = window.workflow_dock.widget()
        assert isinstance(scroller, QScrollArea)
        # Until the queue is on screen the docks hold a named placeholder and the Workflow menu is empty.
        placeholder = scroller.widget()
        assert isinstance(placeholder, QLabel)
        assert placeholder.accessibleName() == "Workflow panel, opening"
        assert window.workflow_menu.actions() == []
        with qtbot.waitExposed(window):
            window.show()
        qtbot.waitUntil(lambda: window.queue.has_loaded, timeout=5000)
        qtbot.waitUntil(lambda: isinstance(scroller.widget(), WorkflowPanel), timeout=5000)
        assert scroller.widget() is window.workflow_panel
        panel = window.workflow_panel
        wanted = [panel.complete_action, *panel.step_actions, panel.read_back_action, panel.resolve_action]
        menu = window.workflow_menu.actions()
        assert all(action in menu for action in wanted)
        assert panel.complete_action.shortcut().toString() == "Ctrl+Return"
    finally:
        window.close()


def test_another_process_escalation_appears_within_a_second(
    qtbot: QtBot, open_window: Callable[[str], MainWindow], database: Database
) -> None:
    make_actor(database, "sam")
    window = open_window("sam")
    time.sleep(0.3)
    new_id = escalate_elsewhere(
        database.url.render_as_string(hide_password=False),
        "Parcel two weeks late",
        channel="email",
        category="unmet_expectation",
        severity="high",
    )
    committed = time.monotonic()
    qtbot.waitUntil(lambda: new_id in _ids(window), timeout=1000)
    assert time.monotonic() - committed < 1.0


def test_enter_claims_the_selected_escalation(
    qtbot: QtBot, open_window: Callable[[str], MainWindow], database: Database
) -> None:
    make_actor(database, "sam")
    case_id = IntakeService(database).escalate(None, _new("Charged twice"))
    window = open_window("sam")
    table = _table(window)
    _select(window, case_id)
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: CaseFileService(database).show(case_id)["claimed_by"] == "sam", timeout=3000)
    qtbot.waitUntil(lambda: "You have #" in window.messages.text(), timeout=3000)
    model = window.queue_view.model()
    qtbot.waitUntil(lambda: model.item(model.row_of(case_id)).claimed_by_name == "Sam", timeout=3000)


def test_a_lost_claim_race_names_the_holder_and_updates_the_row(
    qtbot: QtBot, open_window: Callable[[str], MainWindow], database: Database
) -> None:
    make_actor(database, "sam")
    tom = make_actor(database, "tom")
    case_id = IntakeService(database).escalate(None, _new("Charged twice"))
    window = open_window("sam")
    window.feed.stop()  # so the window cannot have heard of Tom's claim before its own attempt
    QueueService(database).claim(tom, case_id)
    _select(window, case_id)
    window.registry[ActionId.CLAIM].trigger()
    qtbot.waitUntil(lambda: "Tom has already claimed" in window.messages.text(), timeout=3000)
    model = window.queue_view.model()
    qtbot.waitUntil(lambda: model.item(model.row_of(case_id)).claimed_by_name == "Tom", timeout=3000)
    assert CaseFileService(database).show(case_id)["claimed_by"] == "tom"


def _answer_dialog(fill: Callable[[QDialog], None]) -> QTimer:
    """Fill and accept the next modal dialog when it opens (dialogs run their own event loop)."""

    def poll() -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, QDialog) and dialog.isVisible():
            timer.stop()
            fill(dialog)
            dialog.accept()

    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(30)
    return timer


def test_hold_pauses_and_resume_restarts_the_clocks(
    qtbot: QtBot, open_window: Callable[[str], MainWindow], database: Database
) -> None:
    sam = make_actor(database, "sam")
    case_id = IntakeService(database).escalate(None, _new("Waiting for courier"))
    QueueService(database).claim(sam, case_id)
    window = open_window("sam")
    _select(window, case_id)
    timer = _answer_dialog(lambda d: d.reason.setCurrentText("Waiting on the courier"))  # type: ignore[attr-defined]
    window.registry[ActionId.HOLD].trigger()
    timer.stop()
    qtbot.waitUntil(lambda: CaseFileService(database).show(case_id)["on_hold"], timeout=3000)
    assert CaseFileService(database).show(case_id)["hold_reason"] == "Waiting on the courier"
    qtbot.waitUntil(lambda: "clocks are paused" in window.messages.text(), timeout=3000)
    window.registry[ActionId.RESUME].trigger()
    qtbot.waitUntil(lambda: not CaseFileService(database).show(case_id)["on_hold"], timeout=3000)


def test_reassign_hands_the_case_over_with_a_note(
    qtbot: QtBot, open_window: Callable[[str], MainWindow], database: Database
) -> None:
    sam = make_actor(database, "sam")
    make_actor(database, "tom")
    case_id = IntakeService(database).escalate(None, _new("Needs the billing expert"))
    QueueService(database).claim(sam, case_id)
    window = open_window("sam")
    _select(window, case_id)

    def fill(dialog: QDialog) -> None:
        combo = dialog.to  # type: ignore[attr-defined]
        combo.setCurrentIndex(combo.findText("Tom", Qt.MatchFlag.MatchStartsWith))
        dialog.note.setPlainText("Customer prefers email; refund promised by Friday")  # type: ignore[attr-defined]

    timer = _answer_dialog(fill)
    window.registry[ActionId.REASSIGN].trigger()
    qtbot.waitUntil(lambda: CaseFileService(database).show(case_id)["claimed_by"] == "tom", timeout=5000)
    timer.stop()


def test_only_managers_see_the_sla_targets_action(open_window: Callable[[str], MainWindow], database: Database) -> None:
    make_actor(database, "sam")
    make_actor(database, "mia", Role.MANAGER)
    supervisor_window = open_window("sam")
    manager_window = open_window("mia")

    def in_menus(window: MainWindow) -> bool:
        sla = window.registry[ActionId.SLA_POLICY]
        return any(sla in menu.actions() for menu in window.menuBar().findChildren(QMenu))

    assert not in_menus(supervisor_window)
    assert in_menus(manager_window)


def test_breach_alert_goes_to_the_status_bar_never_a_modal(
    qtbot: QtBot, open_window: Callable[[str], MainWindow], database: Database
) -> None:
    make_actor(database, "sam")
    case_id = IntakeService(database).escalate(None, _new("Phone dead on day two", Severity.CRITICAL))
    window = open_window("sam")
    # Critical: 5 minutes to claim. Move its arrival 4m58s back so it breaches within the next ticks.
    with database.transaction() as session:
        at = utcnow() - timedelta(minutes=4, seconds=58)
        session.execute(
            update(Escalation)
            .where(Escalation.id == case_id)
            .values(queued_at=at, escalated_at=at, version=Escalation.version + 1)
        )
    window.queue.refresh({case_id})
    qtbot.waitUntil(lambda: f"#{case_id}" in window.statusBar().currentMessage(), timeout=6000)
    qtbot.waitUntil(
        lambda: (
            "breach" in window.statusBar().currentMessage().lower()
            or "overdue" in window.statusBar().currentMessage().lower()
        ),
        timeout=6000,
    )
    assert QApplication.activeModalWidget() is None
    assert not any(isinstance(w, QMessageBox) and w.isVisible() for w in QApplication.topLevelWidgets())


def test_every_action_names_its_shortcut_and_every_control_is_named(
    open_window: Callable[[str], MainWindow], database: Database
) -> None:
    make_actor(database, "mia", Role.MANAGER)
    window = open_window("mia")
    for action_id, action in window.registry.items():
        assert action.text(), action_id
        keys = action.shortcut().toString()
        if keys:
            assert f"({keys})" in action.toolTip() or keys in action.toolTip(), action_id
    for widget in window.findChildren(QWidget):
        if not widget.isVisibleTo(window) or widget.focusPolicy() == Qt.FocusPolicy.NoFocus:
            continue
        if widget.metaObject().className() in {"QWidget", "QScrollBar", "QHeaderView", "QMenuBar", "QToolButton"}:
            continue
        parent = widget.parent()
        if parent is not None and parent.metaObject().className() in {"QComboBox", "QTableView"}:
            continue
        assert widget.accessibleName(), f"{widget.metaObject().className()} {widget.objectName()!r} has no name"


def test_window_geometry_is_restored(
    qtbot: QtBot, open_window: Callable[[str], MainWindow], database: Database
) -> None:
    make_actor(database, "sam")
    first = open_window("sam")
    screen = first.screen().availableGeometry()
    least = first.minimumSizeHint()
    first.resize(min(least.width() + 60, screen.width() - 20), min(least.height() + 300, screen.height() - 40))
    kept = (first.width(), first.height())  # what Qt allowed on this (small, virtual) screen
    assert kept[1] != 860  # not the default size, so restoring is really tested
    first.close()
    second = open_window("sam")
    assert (second.width(), second.height()) == kept


def test_claiming_opens_the_workflow_and_the_customer_and_a_restart_resumes_it(
    qtbot: QtBot, open_window: Callable[[str], MainWindow], database: Database
) -> None:
    make_actor(database, "sam")
    case_id = IntakeService(database).escalate(None, _new("Charged twice", customer="Ann Lee"))
    window = open_window("sam")
    _select(window, case_id)
    window.registry[ActionId.CLAIM].trigger()
    qtbot.waitUntil(lambda: window.workflow_panel.current_case() == case_id, timeout=5000)
    qtbot.waitUntil(lambda: "Ann Lee" in window.customer_panel.name_label.text(), timeout=5000)
    assert window.workflow_dock.isVisible()
    assert window.customer_dock.isVisible()
    workflow_menu = next(m for m in window.menuBar().findChildren(QMenu) if m.title() == "&Workflow")
    complete = window.workflow_panel.complete_action
    assert complete in workflow_menu.actions()
    assert "Ctrl+Return" in complete.toolTip()
    window.close()
    again = open_window("sam")  # as after a restart
    qtbot.waitUntil(lambda: again.workflow_panel.current_case() == case_id, timeout=5000)
