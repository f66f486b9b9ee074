"""The Follow-ups tab: promised contacts coming up, due now, or late, with a reminder as each falls due."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from console.followups import DueFollowUp, FollowUpService
from console.sla import format_duration
from db.types import utcnow
from widgets.tasks import TaskRunner

ModelIndex = QModelIndex | QPersistentModelIndex
HEADERS = ("When", "Customer", "Channel", "Case", "Owner")
MARKERS = {"upcoming": "⏰", "due": "🔔 Due now", "overdue": "⛔ Overdue"}


class FollowUpModel(QAbstractTableModel):
    """Scheduled follow-ups; announces each once when it falls due and once when it is overdue."""

    reminder = Signal(int, str, str)  # escalation id, "due" | "overdue", text

    def __init__(self, now_fn: Callable[[], datetime] = utcnow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[DueFollowUp] = []
        self._announced: dict[int, str] = {}
        self._now = now_fn

    def set_follow_ups(self, rows: Iterable[DueFollowUp]) -> None:
        """Replace the list (a small one: a shift's follow-ups), then announce what fell due."""
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()
        self.check()

    def check(self) -> None:
        """Refresh the time column and announce new due/overdue states."""
        now = self._now()
        for follow_up in self._rows:
            state = follow_up.state(now)
            previous = self._announced.get(follow_up.follow_up_id, "upcoming")
            if state not in ("upcoming", previous):
                self._announced[follow_up.follow_up_id] = state
                late = "is due now" if state == "due" else f"is overdue by {format_duration(now - follow_up.due_at)}"
                who = f"{follow_up.customer_name}, {follow_up.channel.label}"
                text = f"Follow-up for #{follow_up.escalation_id} ({who}) {late}."
                self.reminder.emit(follow_up.escalation_id, state, text)
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, 0))

    def counts(self) -> tuple[int, int]:
        """(due now, overdue)."""
        now = self._now()
        states = [f.state(now) for f in self._rows]
        return states.count("due"), states.count("overdue")

    def follow_up(self, row: int) -> DueFollowUp:
        """The follow-up shown in a row."""
        return self._rows[row]

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        """Rows (none under a valid parent: a flat table)."""
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        """Columns."""
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Column titles."""
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(HEADERS)
        ):
            return HEADERS[section]
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Cell text; the accessible text is a sentence."""
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        follow_up = self._rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self._cell(follow_up, index.column())
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{HEADERS[index.column()]}: {self._cell(follow_up, index.column())}"
        if role == Qt.ItemDataRole.UserRole:
            return follow_up.escalation_id
        return None

    def _cell(self, follow_up: DueFollowUp, column: int) -> str:
        if column == 0:
            now = self._now()
            state = follow_up.state(now)
            local = follow_up.due_at.astimezone().strftime("%a %H:%M")
            if state == "upcoming":
                return f"{MARKERS[state]} {local} (in {format_duration(follow_up.due_at - now)})"
            return f"{MARKERS[state]} {local} ({format_duration(now - follow_up.due_at)} ago)"
        if column == 1:
            return follow_up.customer_name
        if column == 2:
            return follow_up.channel.label
        if column == 3:
            return f"#{follow_up.escalation_id} · {follow_up.summary}"
        return follow_up.owner or "—"


class FollowUpsView(QWidget):
    """The table of follow-ups with a one-line count above it."""

    activated = Signal(int)  # an escalation id: open its workflow at Follow up

    def __init__(
        self,
        service: FollowUpService,
        runner: TaskRunner,
        parent: QWidget | None = None,
        *,
        now_fn: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._runner = runner
        self.setObjectName("followUpsPanel")
        self.setAccessibleName("Follow-ups")
        self.model = FollowUpModel(now_fn, self)
        self.summary = QLabel("No follow-ups scheduled")
        self.summary.setObjectName("followUpsSummary")
        self.summary.setAccessibleName("Follow-ups summary")
        self.table = QTableView()
        self.table.setObjectName("followUpsView")
        self.table.setAccessibleName("Follow-ups")
        self.table.setToolTip("Follow-ups promised to customers; Enter opens the case")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(0, 220)
        self.table.setColumnWidth(1, 200)
        self.table.activated.connect(lambda index: self.activated.emit(int(index.data(Qt.ItemDataRole.UserRole))))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        self.model.modelReset.connect(self._update_summary)
        self.model.dataChanged.connect(self._update_summary)
        self._timer = QTimer(self)
        self._timer.setInterval(30_000)
        self._timer.timeout.connect(self.model.check)
        self._timer.start()

    def set_follow_ups(self, rows: Iterable[DueFollowUp]) -> None:
        """Show these follow-ups."""
        self.model.set_follow_ups(rows)

    def reload(self) -> None:
        """Read the scheduled follow-ups again, off the GUI thread."""
        self._runner.read(self._service.scheduled, self.set_follow_ups)

    def _update_summary(self) -> None:
        due, overdue = self.model.counts()
        total = self.model.rowCount()
        if not total:
            self.summary.setText("No follow-ups due in the next 12 hours")
        else:
            self.summary.setText(f"{total} follow-ups in the next 12 hours · 🔔 {due} due now · ⛔ {overdue} overdue")
        self.summary.setAccessibleDescription(self.summary.text())

    def badge(self) -> str:
        """The tab's title: how many need doing now."""
        due, overdue = self.model.counts()
        return f"Follow-ups ({due + overdue} due)" if due + overdue else "Follow-ups"
