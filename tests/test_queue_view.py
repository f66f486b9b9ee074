"""The queue view widget driven with qtbot: names, keyboard, search, empty state, counters, signals."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QCheckBox,
    QComboBox,
    QLineEdit,
    QMainWindow,
    QTableView,
)
from pytestqt.qtbot import QtBot

from console.domain import Channel, Severity
from console.queue import QueueItem
from console.sla import SlaPolicy
from tests.test_queue_model import SAM, TOM, Clock, claimed, make_item
from widgets.queue_model import Column, ItemIdRole
from widgets.queue_view import NO_ESCALATIONS, NO_MATCHES, QueueView


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def view(qtbot: QtBot, clock: Clock) -> Iterator[QueueView]:
    widget = QueueView(SAM, SlaPolicy(), now_fn=clock)
    qtbot.addWidget(widget)
    widget.resize(1400, 600)
    with qtbot.waitExposed(widget):
        widget.show()
    yield widget
    widget.close()


def floor() -> list[QueueItem]:
    return [
        make_item(1, severity=Severity.CRITICAL, queued_ago=timedelta(minutes=7), customer="Ann Lee"),
        make_item(2, severity=Severity.HIGH, queued_ago=timedelta(minutes=3), customer="Olivia Chen"),
        make_item(3, claimed_by=SAM, customer="Bob Marsh", channel=Channel.EMAIL),
        make_item(4, claimed_by=TOM, customer="Mia Rossi", held_for=timedelta(minutes=2)),
    ]


def shown_ids(view: QueueView) -> list[int]:
    proxy = view.proxy()
    return [proxy.index(row, 0).data(ItemIdRole) for row in range(proxy.rowCount())]


def test_the_table_is_named_queue_view(view: QueueView) -> None:
    table = view.findChild(QTableView, "queueView")
    assert table is view.table
    assert table.model() is view.proxy()
    assert view.proxy().sourceModel() is view.model()
    assert view.objectName() == "queuePanel"
    assert not table.verticalHeader().isVisible()
    assert table.isSortingEnabled()
    assert table.alternatingRowColors()
    assert table.editTriggers() == table.EditTrigger.NoEditTriggers
    assert table.selectionBehavior() == table.SelectionBehavior.SelectRows
    assert table.selectionMode() == table.SelectionMode.SingleSelection
    assert table.horizontalHeader().stretchLastSection()  # Summary takes the rest


def test_every_control_has_an_accessible_name_and_a_tooltip(view: QueueView) -> None:
    view.set_items(floor())
    controls = [
        widget
        for kind in (QAbstractButton, QComboBox, QLineEdit, QCheckBox, QTableView)
        for widget in view.findChildren(kind)
        if widget.isVisibleTo(view)
    ]
    assert len(controls) >= 9  # search, 3 filters, 2 checkboxes, 2 buttons, the table
    for widget in controls:
        label = f"{widget.metaObject().className()} {widget.objectName()!r}"
        assert widget.accessibleName(), label
        assert widget.toolTip(), label
    assert "Ctrl+F" in view.search.toolTip()
    assert view.search.placeholderText() == "Search customer, summary, #id"
    for counter in (view.unclaimed_label, view.breached_label, view.longest_label):
        assert counter.accessibleName()


def test_typing_in_the_search_filters_rows(qtbot: QtBot, view: QueueView) -> None:
    view.set_items(floor())
    qtbot.keyClicks(view.search, "olivia")
    qtbot.waitUntil(lambda: shown_ids(view) == [2], timeout=2000)
    view.search.clear()
    qtbot.keyClicks(view.search, "#3")
    qtbot.waitUntil(lambda: shown_ids(view) == [3], timeout=2000)


def test_escape_clears_the_search_then_moves_to_the_queue(qtbot: QtBot, view: QueueView) -> None:
    view.set_items(floor())
    view.focus_search()
    qtbot.keyClicks(view.search, "olivia")
    qtbot.waitUntil(lambda: view.proxy().rowCount() == 1, timeout=2000)
    qtbot.keyClick(view.search, Qt.Key.Key_Escape)
    assert view.search.text() == ""
    assert view.proxy().rowCount() == 4
    qtbot.keyClick(view.search, Qt.Key.Key_Escape)
    qtbot.waitUntil(view.table.hasFocus, timeout=2000)


def test_ctrl_f_focuses_the_search(qtbot: QtBot, view: QueueView) -> None:
    view.set_items(floor())
    with qtbot.waitActive(view):
        view.activateWindow()
    view.focus_table()
    assert view.table.hasFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(view.search.hasFocus, timeout=2000)


def test_the_view_gives_way_to_a_window_wide_search_shortcut(qtbot: QtBot, clock: Clock) -> None:
    window = QMainWindow()
    qtbot.addWidget(window)
    window_search = QAction("Search", window)
    window_search.setShortcut(QKeySequence("Ctrl+F"))
    window.addAction(window_search)
    view = QueueView(SAM, SlaPolicy(), now_fn=clock)
    window.setCentralWidget(view)
    window_search.triggered.connect(view.focus_search)
    with qtbot.waitExposed(window):
        window.show()
    with qtbot.waitActive(window):
        window.activateWindow()
    assert not view.search_action.isEnabled()  # one Ctrl+F, no ambiguous shortcut
    view.focus_table()
    qtbot.keyClick(view.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(view.search.hasFocus, timeout=2000)


def test_empty_state_line(qtbot: QtBot, view: QueueView) -> None:
    assert view.empty_label.isVisible()
    assert view.empty_label.text() == NO_ESCALATIONS
    assert "No open escalations" in NO_ESCALATIONS
    view.set_items(floor())
    assert not view.empty_label.isVisible()
    qtbot.keyClicks(view.search, "nobody-by-this-name")
    qtbot.waitUntil(view.empty_label.isVisible, timeout=2000)
    assert view.empty_label.text().startswith("No escalations match these filters.")
    assert NO_MATCHES in view.empty_label.text()
    assert "Clear filters to see all 4" in view.empty_label.text()
    assert view.clear_button.isEnabled()
    qtbot.mouseClick(view.clear_button, Qt.MouseButton.LeftButton)
    assert not view.empty_label.isVisible()
    assert view.search.text() == ""
    assert view.proxy().rowCount() == 4
    view.apply([], [1, 2, 3, 4])
    assert view.empty_label.isVisible()
    assert view.empty_label.text() == NO_ESCALATIONS


def test_filter_controls_filter(qtbot: QtBot, view: QueueView) -> None:
    view.set_items(floor())
    view.channel_filter.setCurrentIndex(view.channel_filter.findText("Email"))
    assert shown_ids(view) == [3]
    assert view.channel_filter.itemText(0) == "All channels"
    view.channel_filter.setCurrentIndex(0)
    view.severity_filter.setCurrentIndex(view.severity_filter.findText("Critical"))
    assert shown_ids(view) == [1]
    view.severity_filter.setCurrentIndex(0)
    qtbot.mouseClick(view.unclaimed_only, Qt.MouseButton.LeftButton)
    assert sorted(shown_ids(view)) == [1, 2]
    qtbot.mouseClick(view.unclaimed_only, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(view.mine_only, Qt.MouseButton.LeftButton)
    assert shown_ids(view) == [3]
    assert "1 of 4 shown" in view.shown_label.text()


def test_enter_and_double_click_on_a_row_emit_activated(qtbot: QtBot, view: QueueView) -> None:
    view.set_items(floor())
    assert view.select_escalation(2)
    assert view.selected_id() == 2
    view.table.setFocus()
    with qtbot.waitSignal(view.activated, timeout=1000) as enter:
        qtbot.keyClick(view.table, Qt.Key.Key_Return)
    assert enter.args == [2]
    view.table.clearSelection()
    with qtbot.assertNotEmitted(view.activated):
        qtbot.keyClick(view.table, Qt.Key.Key_Return)
    row = view.proxy().mapFromSource(view.model().index(view.model().row_of(1), Column.CUSTOMER))
    rect = view.table.visualRect(row)
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # a double-click's press
    with qtbot.waitSignal(view.activated, timeout=1000) as double:
        qtbot.mouseDClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert double.args == [1]


def test_return_in_the_search_box_moves_to_the_queue_without_activating(qtbot: QtBot, view: QueueView) -> None:
    view.set_items(floor())
    activated: list[int] = []
    view.activated.connect(activated.append)
    view.focus_search()
    qtbot.keyClicks(view.search, "olivia")
    qtbot.keyClick(view.search, Qt.Key.Key_Return)  # at once, before the typing pause runs the filter
    assert view.proxy().rowCount() == 1
    assert view.table.hasFocus()
    assert view.selected_id() == 2  # the first match is ready to claim with a second Enter
    assert activated == []


def test_selection_is_reported_and_survives_a_reload(qtbot: QtBot, view: QueueView) -> None:
    view.set_items(floor())
    with qtbot.waitSignal(view.selectionChangedTo, timeout=1000) as selected:
        view.select_escalation(3)
    assert selected.args == [3]
    view.set_items(floor())  # a full reload keeps the supervisor's place
    assert view.selected_id() == 3
    with qtbot.waitSignal(view.selectionChangedTo, timeout=1000) as gone:
        view.apply([], [3])
    assert gone.args == [None]  # not its neighbour: Enter must never claim a case nobody chose
    assert view.selected_id() is None
    assert not view.select_escalation(3)

    # The same when a filter hides the selected case: Olivia's case is claimed elsewhere under "Unclaimed only".
    qtbot.mouseClick(view.unclaimed_only, Qt.MouseButton.LeftButton)
    assert view.select_escalation(2)
    with qtbot.waitSignal(view.selectionChangedTo, timeout=1000) as hidden:
        view.apply([claimed(floor()[1], TOM)], [])
    assert hidden.args == [None]
    assert view.selected_id() is None
    assert 2 not in shown_ids(view)


def test_counters_update_after_apply(qtbot: QtBot, view: QueueView, clock: Clock) -> None:
    view.set_items(floor())
    assert view.unclaimed_label.text() == "Waiting unclaimed: 2"
    assert view.breached_label.text() == "⛔ Breached: 1"  # #1: critical, 7 of 5 minutes
    assert view.longest_label.text() == "Longest wait: 7m 00s"
    view.apply([make_item(9, queued_ago=timedelta(minutes=30), now=clock.now)], [])
    assert view.unclaimed_label.text() == "Waiting unclaimed: 3"
    assert view.longest_label.text() == "Longest wait: 30m 00s"
    view.apply([claimed(floor()[0], SAM)], [9])
    assert view.unclaimed_label.text() == "Waiting unclaimed: 1"
    assert view.breached_label.text() == "Breached: 0"
    assert view.longest_label.text() == "Longest wait: 3m 00s"


def test_alerts_are_passed_on_and_only_visible_rows_are_refreshed(qtbot: QtBot, view: QueueView, clock: Clock) -> None:
    items = [make_item(i, severity=Severity.NORMAL, queued_ago=timedelta(minutes=40)) for i in range(1, 201)]
    view.set_items(items)
    visible = view.visible_source_rows()
    assert 0 < len(visible) < 200  # 600 pixels show a few dozen rows, not 200
    top = view.proxy().mapToSource(view.proxy().index(0, 0)).row()
    assert visible[0] == top
    alerts: list[tuple[int, str, str]] = []
    view.alert.connect(lambda i, s, t: alerts.append((i, s, t)))
    clock.advance(minutes=9)  # 49 of 60 minutes: past 80 % (48)
    view.tick()
    assert len(alerts) == 200
    assert {state for _i, state, _t in alerts} == {"warning"}


def test_tab_goes_from_the_search_through_the_filters_to_the_table(qtbot: QtBot, view: QueueView) -> None:
    view.set_items(floor())
    with qtbot.waitActive(view):
        view.activateWindow()
    view.focus_search()
    qtbot.keyClick(view.search, Qt.Key.Key_Tab)
    assert view.channel_filter.hasFocus()
    view.urgency_button.setFocus()
    qtbot.keyClick(view.urgency_button, Qt.Key.Key_Tab)
    assert view.table.hasFocus()


def test_sort_by_urgency_button_restores_the_default_order(qtbot: QtBot, view: QueueView) -> None:
    view.set_items(floor())
    urgent = shown_ids(view)
    assert urgent[0] == 1  # breached critical first
    header = view.table.horizontalHeader()
    spot = QPoint(header.sectionViewportPosition(Column.CUSTOMER) + 20, header.height() // 2)
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=spot)
    qtbot.waitUntil(lambda: view.proxy().sortColumn() == Column.CUSTOMER, timeout=1000)
    assert shown_ids(view) != urgent
    qtbot.mouseClick(view.urgency_button, Qt.MouseButton.LeftButton)
    assert shown_ids(view) == urgent
    assert "most urgent first" in view.shown_label.text()


def test_the_view_never_touches_a_database() -> None:
    import widgets.queue_model
    import widgets.queue_view

    for module in (widgets.queue_view, widgets.queue_model):
        source = Path(module.__file__ or "").read_text(encoding="utf-8")
        assert "sqlalchemy" not in source
        assert "QueueService" not in source


def test_nothing_pops_up(qtbot: QtBot, view: QueueView, clock: Clock) -> None:
    view.set_items(floor())
    clock.advance(hours=5)
    view.tick()
    assert QApplication.activeModalWidget() is None
