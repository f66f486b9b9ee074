"""The queue view a floor supervisor watches all shift: counters, a filter bar, and the live table of escalations.

It shows what it is fed (``set_items`` for a load, ``apply`` for what the change feed reports) and never touches
the database. Once a second it moves the clocks of the rows on screen and passes on SLA alerts; it never opens a
dialog of its own.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TypeVar

from PySide6.QtCore import (
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QFont, QKeyEvent, QKeySequence, QPainter, QPaintEvent, QPalette, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from console.domain import Category, Channel, LabelledEnum, Severity
from console.queue import QueueItem
from console.sla import ClockState, SlaPolicy, format_duration
from db.types import utcnow
from widgets.queue_model import (
    HEADERS,
    Column,
    ItemIdRole,
    QueueFilterProxy,
    QueueModel,
    SlaTransition,
)
from widgets.theme import BREACHED_MARKER, palette_is_dark, state_foreground

E = TypeVar("E", bound=LabelledEnum)

SEARCH_SHORTCUT = "Ctrl+F"
TICK_INTERVAL_MS = 1000
SEARCH_DEBOUNCE_MS = 150  # one filter pass per pause in typing, not per key, on a long queue

# Starting widths in pixels; Summary takes the rest.
COLUMN_WIDTHS: dict[Column, int] = {
    Column.WAITING: 84,
    Column.SLA: 250,
    Column.SEVERITY: 78,
    Column.CUSTOMER: 270,
    Column.CHANNEL: 100,
    Column.CATEGORY: 200,
    Column.ESCALATED_BY: 110,
    Column.CLAIMED_BY: 110,
}

NO_ESCALATIONS = "No open escalations — the queue is clear."
NO_MATCHES = "No escalations match these filters."


class ElidedLabel(QLabel):
    """A one-line label that shortens its text with "…" when it has less room than the text needs."""

    def paintEvent(self, event: QPaintEvent) -> None:
        """Draw the text elided to the width there is."""
        painter = QPainter(self)
        shown = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, self.contentsRect().width())
        self.style().drawItemText(
            painter,
            self.contentsRect(),
            int(self.alignment()),
            self.palette(),
            self.isEnabled(),
            shown,
            self.foregroundRole(),
        )

    def minimumSizeHint(self) -> QSize:
        """Room for the "…" only: the text gives way first on a narrow window."""
        return QSize(self.fontMetrics().horizontalAdvance("…"), super().minimumSizeHint().height())


def _name(widget: QWidget, object_name: str, accessible: str, tip: str) -> None:
    widget.setObjectName(object_name)
    widget.setAccessibleName(accessible)
    widget.setToolTip(tip)


class QueueView(QWidget):
    """The live escalation queue: counters, filters, and a sortable table kept current without reloading."""

    activated = Signal(int)  # Enter or double-click on a row: the lead's window claims it
    selectionChangedTo = Signal(object)  # the selected escalation id, or None
    alert = Signal(int, str, str)  # escalation id, "warning" | "breached", text for the status bar

    def __init__(
        self,
        current_user_id: int,
        policy: SlaPolicy,
        parent: QWidget | None = None,
        *,
        now_fn: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("queuePanel")
        self.setAccessibleName("Escalation queue panel")
        self._model = QueueModel(policy, self, now_fn=now_fn)
        self._proxy = QueueFilterProxy(self._model, current_user_id, self)
        self._last_selected: int | None = None
        self._selected_is_leaving = False

        # Connected before the table gets the proxy, so these run before the table's own handling (Qt calls slots
        # in the order they were connected): see _rows_left.
        self._proxy.rowsAboutToBeRemoved.connect(self._rows_leaving)
        self._proxy.rowsRemoved.connect(self._rows_left)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self._build_counters())
        layout.addWidget(self._build_filter_bar())
        layout.addWidget(self._build_table(), 1)
        self._set_tab_order()
        self._viewport = self.table.viewport()
        for watched in (self.search, self.table, self._viewport, *self._filter_controls()):
            watched.installEventFilter(self)

        self._search_timer = QTimer(self)
        self._search_timer.setObjectName("queueSearchDebounce")
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DEBOUNCE_MS)
        self._search_timer.timeout.connect(self._apply_search)

        self._clock = QTimer(self)
        self._clock.setObjectName("queueClock")
        self._clock.setTimerType(Qt.TimerType.PreciseTimer)  # second-by-second countdowns should not stutter
        self._clock.setInterval(TICK_INTERVAL_MS)
        self._clock.timeout.connect(self.tick)
        self._clock.start()

        self._model.slaAlert.connect(self._forward_alert)
        self._model.countersChanged.connect(self._show_counters)
        for signal in (
            self._proxy.rowsInserted,
            self._proxy.rowsRemoved,
            self._proxy.modelReset,
            self._proxy.layoutChanged,
        ):
            signal.connect(self._show_row_count)
        self._proxy.filtersChanged.connect(self._show_row_count)
        # The proxy reports a removal before the model has finished it; count again once it has.
        for signal in (self._model.rowsInserted, self._model.rowsRemoved, self._model.modelReset):
            signal.connect(self._show_row_count)
        self.table.horizontalHeader().sortIndicatorChanged.connect(self._show_row_count)
        self._show_counters()
        self._show_row_count()

    # -- building ------------------------------------------------------------------------------------------------
    def _build_counters(self) -> QWidget:
        strip = QFrame()
        strip.setObjectName("queueCounters")
        strip.setAccessibleName("Queue counters")
        row = QHBoxLayout(strip)
        row.setContentsMargins(2, 0, 2, 0)
        row.setSpacing(18)
        bold = QFont(self.font())
        bold.setBold(True)
        bold.setPointSizeF(bold.pointSizeF() * 1.1)
        self.unclaimed_label = QLabel()
        _name(self.unclaimed_label, "queueWaitingUnclaimed", "Waiting unclaimed", "Escalations nobody has claimed")
        self.breached_label = QLabel()
        _name(
            self.breached_label,
            "queueBreached",
            "Breached",
            "Escalations past their SLA target (to claim or to resolve), including those on hold",
        )
        self.longest_label = QLabel()
        _name(
            self.longest_label,
            "queueLongestWait",
            "Longest wait",
            "How long the longest-waiting unclaimed customer has waited",
        )
        for label in (self.unclaimed_label, self.breached_label, self.longest_label):
            label.setFont(bold)
            row.addWidget(label)
        self.shown_label = ElidedLabel()  # secondary: on a narrow window it gives up its room first
        self.shown_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.shown_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        _name(self.shown_label, "queueShown", "Rows shown", "How many escalations the filters show, and their order")
        row.addWidget(self.shown_label, 1)
        self.clear_button = QPushButton("Clear filters")
        _name(self.clear_button, "queueClearFilters", "Clear filters", "Show every open escalation again")
        self.clear_button.clicked.connect(self.clear_filters)
        row.addWidget(self.clear_button)
        self.urgency_button = QPushButton("Sort by urgency")
        _name(
            self.urgency_button,
            "queueSortByUrgency",
            "Sort by urgency",
            "Most urgent first: overdue, then nearest due, severity breaking ties; cases on hold last",
        )
        self.urgency_button.clicked.connect(self.sort_by_urgency)
        row.addWidget(self.urgency_button)
        return strip

    def _build_filter_bar(self) -> QWidget:
        bar = QWidget()
        bar.setObjectName("queueFilterBar")
        bar.setAccessibleName("Queue filters")
        row = QHBoxLayout(bar)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)

        self.search = QLineEdit()
        _name(
            self.search,
            "queueSearch",
            "Search the queue",
            f"Search customer, summary, reference, associate, category, channel or #case number "
            f"({SEARCH_SHORTCUT}; Esc clears)",
        )
        self.search.setPlaceholderText("Search customer, summary, #id")
        self.search.setClearButtonEnabled(True)
        # Explicit minimum widths let the bar give way on a narrow window (down to ~700 px) while each control
        # still asks for its full width when there is room.
        self.search.setMinimumWidth(140)
        self.search.textChanged.connect(self._search_timer_restart)
        self.search.returnPressed.connect(self._search_submitted)
        for button in self.search.findChildren(QToolButton):  # the line edit's own clear button
            button.setAccessibleName("Clear search")
            button.setToolTip("Clear the search (Esc)")
        row.addWidget(self.search, 2)

        self.search_action = QAction("Search the queue", self)
        self.search_action.setObjectName("queueSearchAction")
        self.search_action.setShortcut(QKeySequence(SEARCH_SHORTCUT))
        self.search_action.setToolTip(f"Search the queue ({SEARCH_SHORTCUT})")
        self.search_action.triggered.connect(self.focus_search)
        self.addAction(self.search_action)

        self.channel_filter = self._combo("queueChannelFilter", "Channel filter", "All channels", Channel)
        self.category_filter = self._combo("queueCategoryFilter", "Category filter", "All categories", Category)
        self.severity_filter = self._combo("queueSeverityFilter", "Severity filter", "All severities", Severity)
        self.channel_filter.currentIndexChanged.connect(
            lambda _i: self._proxy.set_channels(self._chosen(self.channel_filter, Channel))
        )
        self.category_filter.currentIndexChanged.connect(
            lambda _i: self._proxy.set_categories(self._chosen(self.category_filter, Category))
        )
        self.severity_filter.currentIndexChanged.connect(
            lambda _i: self._proxy.set_severities(self._chosen(self.severity_filter, Severity))
        )
        for combo in (self.channel_filter, self.category_filter, self.severity_filter):
            row.addWidget(combo)

        self.unclaimed_only = QCheckBox("Unclaimed only")
        _name(self.unclaimed_only, "queueUnclaimedOnly", "Unclaimed only", "Show only escalations nobody has claimed")
        self.unclaimed_only.toggled.connect(self._proxy.set_unclaimed_only)
        self.mine_only = QCheckBox("Mine only")
        _name(self.mine_only, "queueMineOnly", "Mine only", "Show only escalations you have claimed")
        self.mine_only.toggled.connect(self._proxy.set_mine_only)
        row.addWidget(self.unclaimed_only)
        row.addWidget(self.mine_only)

        row.addStretch(1)
        return bar

    def _combo(self, object_name: str, accessible: str, everything: str, kind: type[LabelledEnum]) -> QComboBox:
        combo = QComboBox()
        _name(combo, object_name, accessible, f"{accessible.replace(' filter', '')}: show one or all")
        combo.addItem(everything, None)
        for member in kind:
            combo.addItem(member.label, member)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        combo.setMinimumWidth(120 if kind is Category else 100)
        return combo

    def _build_table(self) -> QWidget:
        table = QTableView()
        self.table = table
        _name(
            table,
            "queueView",
            "Escalation queue",
            "Open escalations. Arrow keys move, Enter claims the selected case, a header click sorts by it.",
        )
        table.setAccessibleDescription("Most urgent first unless sorted by a column; clocks update every second")
        table.setModel(self._proxy)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setAlternatingRowColors(True)
        table.setWordWrap(False)
        table.setTextElideMode(Qt.TextElideMode.ElideRight)
        table.setShowGrid(False)
        table.setTabKeyNavigation(False)  # Tab leaves the table for the next control; arrows move in it
        table.setCornerButtonEnabled(False)
        table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        vertical = table.verticalHeader()
        vertical.hide()
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # no per-row measuring on a long queue
        vertical.setDefaultSectionSize(table.fontMetrics().height() + 12)
        header = table.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        header.setSectionsClickable(True)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for column, width in COLUMN_WIDTHS.items():
            header.resizeSection(column, width)
        header.setMinimumSectionSize(48)
        table.setSortingEnabled(True)
        table.sortByColumn(Column.SLA, Qt.SortOrder.AscendingOrder)
        table.doubleClicked.connect(self._double_clicked)
        table.selectionModel().selectionChanged.connect(self._selection_changed)

        self.empty_label = QLabel(table.viewport())
        self.empty_label.setObjectName("queueEmptyState")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.empty_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        bigger = QFont(self.font())
        bigger.setPointSizeF(bigger.pointSizeF() * 1.25)
        self.empty_label.setFont(bigger)
        self.empty_label.hide()
        return table

    def _filter_controls(self) -> list[QWidget]:
        return [
            self.channel_filter,
            self.category_filter,
            self.severity_filter,
            self.unclaimed_only,
            self.mine_only,
            self.clear_button,
            self.urgency_button,
        ]

    def _set_tab_order(self) -> None:
        chain: list[QWidget] = [self.search, *self._filter_controls(), self.table]
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)

    # -- feeding (from the lead's controller) ----------------------------------------------------------------------
    def set_items(self, items: Iterable[QueueItem]) -> None:
        """Show a fresh load of the queue, keeping the selection when the case is still there."""
        keep = self.selected_id()
        self._model.set_items(items)
        if keep is not None:
            self.select_escalation(keep)
        self._selection_changed(QItemSelection(), QItemSelection())  # a reset clears the selection silently

    def apply(self, changed: Iterable[QueueItem], removed_ids: Iterable[int]) -> None:
        """Apply what changed: updated rows in place, new rows added, gone rows removed."""
        self._model.apply(changed, removed_ids)

    def set_policy(self, policy: SlaPolicy) -> None:
        """Run the clocks by a new SLA policy."""
        self._model.set_policy(policy)

    def tick(self) -> list[SlaTransition]:
        """Move the clocks of the rows on screen to now; return (and signal) SLA transitions of every row."""
        return self._model.tick(self.visible_source_rows())

    def visible_source_rows(self) -> list[int]:
        """The source rows the table shows on screen now."""
        table = self.table
        if not table.isVisible() or self._proxy.rowCount() == 0:
            return []
        top = table.rowAt(0)
        if top < 0:
            return []
        bottom = table.rowAt(table.viewport().height() - 1)
        if bottom < 0:
            bottom = self._proxy.rowCount() - 1
        proxy = self._proxy
        return [proxy.mapToSource(proxy.index(row, 0)).row() for row in range(top, bottom + 1)]

    # -- accessors ---------------------------------------------------------------------------------------------------
    def model(self) -> QueueModel:
        """The queue model (source rows)."""
        return self._model

    def proxy(self) -> QueueFilterProxy:
        """The sorted, filtered rows the table shows."""
        return self._proxy

    def selected_id(self) -> int | None:
        """The selected escalation, if any."""
        selection = self.table.selectionModel()
        rows = selection.selectedRows() if selection is not None else []
        return int(rows[0].data(ItemIdRole)) if rows else None

    def select_escalation(self, escalation_id: int) -> bool:
        """Select (and scroll to) an escalation; False when it is not in the queue or the filters hide it."""
        try:
            row = self._model.row_of(escalation_id)
        except KeyError:
            return False
        index = self._proxy.mapFromSource(self._model.index(row, 0))
        if not index.isValid():
            return False
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        self.table.selectionModel().setCurrentIndex(index, flags)
        self.table.scrollTo(index)
        return True

    # -- keyboard and filters ----------------------------------------------------------------------------------------
    def focus_search(self) -> None:
        """Move the keyboard focus to the search box, its text selected for typing over."""
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def focus_table(self) -> None:
        """Move the keyboard focus to the queue, selecting the first row if nothing is selected."""
        self.table.setFocus(Qt.FocusReason.ShortcutFocusReason)
        if self.selected_id() is None and self._proxy.rowCount() > 0:
            first = self._proxy.index(0, 0)
            flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
            self.table.selectionModel().setCurrentIndex(first, flags)

    def sort_by_urgency(self) -> None:
        """Back to the default order: most urgent first."""
        self.table.sortByColumn(Column.SLA, Qt.SortOrder.AscendingOrder)

    def clear_filters(self) -> None:
        """Reset every filter and the search."""
        for combo in (self.channel_filter, self.category_filter, self.severity_filter):
            combo.blockSignals(True)
            combo.setCurrentIndex(0)
            combo.blockSignals(False)
        for box in (self.unclaimed_only, self.mine_only):
            box.blockSignals(True)
            box.setChecked(False)
            box.blockSignals(False)
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self._search_timer.stop()
        self._proxy.clear_filters()

    @staticmethod
    def _chosen(combo: QComboBox, kind: type[E]) -> list[E] | None:
        value = combo.currentData()
        return [kind(value)] if value is not None else None

    def _search_timer_restart(self, _text: str) -> None:
        self._search_timer.start()

    def _apply_search(self) -> None:
        self._proxy.set_search(self.search.text())

    def _search_submitted(self) -> None:
        """Enter in the search box: filter now (not after the typing pause) and go to the first match."""
        self._search_timer.stop()
        self._apply_search()
        self.focus_table()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Enter on a row, Esc in the search box, and keeping the empty-state line over the table."""
        kind = event.type()
        if watched is self._viewport and kind == QEvent.Type.Resize:
            self.empty_label.setGeometry(self._viewport.rect().adjusted(12, 12, -12, -12))
        elif kind == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            # Keys a control uses itself must not trigger window shortcuts (Enter claims only from the table).
            key = event.key()
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and watched is not self.table:
                event.accept()
                return False
            if key == Qt.Key.Key_Escape and watched is self.search:
                event.accept()
                return False
        elif kind == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            key = event.key()
            if watched is self.search and key == Qt.Key.Key_Escape:
                if self.search.text():
                    self.search.clear()
                    self._search_timer.stop()
                    self._apply_search()
                else:
                    self.focus_table()
                return True
            no_modifiers = event.modifiers() in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier)
            if watched is self.table and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and no_modifiers:
                selected = self.selected_id()
                if selected is not None:
                    self.activated.emit(selected)
                return True
        return super().eventFilter(watched, event)

    def showEvent(self, event: QShowEvent) -> None:
        """Give way to a window-wide search shortcut if the window has one, so the two never clash."""
        window = self.window()
        mine = self.search_action.shortcut()
        clash = any(
            action is not self.search_action and action.isEnabled() and action.shortcut() == mine
            for action in window.findChildren(QAction)
        )
        self.search_action.setEnabled(not clash)
        super().showEvent(event)

    # -- reactions ---------------------------------------------------------------------------------------------------
    def _forward_alert(self, escalation_id: int, state: str, text: str) -> None:
        self.alert.emit(escalation_id, state, text)

    def _double_clicked(self, index: QModelIndex) -> None:
        if index.isValid():
            self.activated.emit(int(index.data(ItemIdRole)))

    def _selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        if self._selected_is_leaving:
            return  # Qt moving the selection to a neighbour; _rows_left undoes that
        current = self.selected_id()
        if current != self._last_selected:
            self._last_selected = current
            self.selectionChangedTo.emit(current)

    def _rows_leaving(self, _parent: QModelIndex, first: int, last: int) -> None:
        selection = self.table.selectionModel()
        rows = selection.selectedRows() if selection is not None else []
        self._selected_is_leaving = bool(rows) and first <= rows[0].row() <= last

    def _rows_left(self, *_args: object) -> None:
        # When the selected case leaves the queue (claimed elsewhere, resolved, filtered out), Qt would select
        # its neighbour; then Enter would claim a case the supervisor never chose. Select nothing instead.
        if self._selected_is_leaving:
            self._selected_is_leaving = False
            self.table.selectionModel().clearSelection()
            self._selection_changed(QItemSelection(), QItemSelection())

    def _show_counters(self) -> None:
        counters = self._model.counters()
        waiting = f"Waiting unclaimed: {counters.waiting_unclaimed}"
        breached = f"{BREACHED_MARKER} Breached: {counters.breached}" if counters.breached else "Breached: 0"
        longest = format_duration(counters.longest_wait) if counters.waiting_unclaimed else "—"
        for label, text in (
            (self.unclaimed_label, waiting),
            (self.breached_label, breached),
            (self.longest_label, f"Longest wait: {longest}"),
        ):
            if label.text() != text:  # no relayout when nothing moved
                label.setText(text)
        alarm = state_foreground(ClockState.BREACHED, palette_is_dark(self.palette())) if counters.breached else None
        palette = self.breached_label.palette()
        wanted = alarm.color() if alarm is not None else self.palette().color(QPalette.ColorRole.WindowText)
        if palette.color(QPalette.ColorRole.WindowText) != wanted:
            palette.setColor(QPalette.ColorRole.WindowText, wanted)
            self.breached_label.setPalette(palette)

    def _show_row_count(self, *_args: object) -> None:
        shown, total = self._proxy.rowCount(), self._model.rowCount()
        if self._proxy.is_urgency_order():
            order = "most urgent first"
        else:
            title = HEADERS[Column(self._proxy.sortColumn())][0] if self._proxy.sortColumn() >= 0 else "?"
            arrow = "ascending" if self._proxy.sortOrder() == Qt.SortOrder.AscendingOrder else "descending"
            order = f"by {title.lower()}, {arrow}"
        self.shown_label.setText(f"{shown} of {total} shown · {order}")
        if shown:
            self.empty_label.hide()
        else:
            text = f"{NO_MATCHES}\nClear filters to see all {total}." if total else NO_ESCALATIONS
            self.empty_label.setText(text)
            self.empty_label.setAccessibleName(text)
            self.empty_label.setGeometry(self.table.viewport().rect().adjusted(12, 12, -12, -12))
            self.empty_label.show()
        self.clear_button.setEnabled(self._proxy.has_filters())
