"""The Follow-ups tab: promised contacts coming up, due now, or late, with a reminder as each falls due."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from console.followups import DueFollowUp, FollowUpService
from console.sla import format_duration
from db.types import utcnow
from widgets.tasks import ErrorHandler, TaskRunner

log = logging.getLogger(__name__)

ModelIndex = QModelIndex | QPersistentModelIndex
HEADERS = ("When", "Customer", "Channel", "Case", "Owner")
RELOAD_DEBOUNCE_MS = 100  # changes this close together make one reload
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

    def rows(self) -> list[DueFollowUp]:
        """The follow-ups shown, in order."""
        return list(self._rows)

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
        on_error: ErrorHandler | None = None,
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._runner = runner
        self._on_error = on_error
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
        # Reloads are coalesced: one in flight at a time, changes arriving meanwhile make one more after it.
        self._reload_timer = QTimer(self)
        self._reload_timer.setObjectName("followUpsReloadTimer")
        self._reload_timer.setSingleShot(True)
        self._reload_timer.setInterval(RELOAD_DEBOUNCE_MS)
        self._reload_timer.timeout.connect(self._start_reload)
        self._reloading = False
        self._want_full = False  # a reload whatever changed (the first load, Refresh, a reconnect)
        self._changed_ids: set[int] = set()  # escalations changed since the last reload started

    def set_follow_ups(self, rows: Iterable[DueFollowUp]) -> None:
        """Show these follow-ups."""
        self.model.set_follow_ups(rows)

    def reload(self) -> None:
        """Read the scheduled follow-ups again, off the GUI thread (after the one running, if one is)."""
        self._want_full = True
        self._reload_timer.stop()
        self._start_reload()

    def on_changes(self, escalation_ids: Iterable[int] | None) -> None:
        """Escalations changed (``None``: maybe all of them): reload soon if that can change the list.

        A change can touch the tab only through an escalation that has a scheduled follow-up or is shown here;
        bursts of changes (an import) make one reload, not one per batch.
        """
        if escalation_ids is None:
            self._want_full = True
        else:
            self._changed_ids.update(escalation_ids)
        if not self._want_full and not self._changed_ids:
            return
        if not self._reloading and not self._reload_timer.isActive():
            self._reload_timer.start()

    @property
    def reload_pending(self) -> bool:
        """Whether a reload is running or waiting to run."""
        return self._reloading or self._reload_timer.isActive()

    def _start_reload(self) -> None:
        if self._reloading:
            return  # _reloaded starts the next one
        if not self._want_full and not self._changed_ids:
            return
        full, changed = self._want_full, frozenset(self._changed_ids)
        self._want_full = False
        self._changed_ids = set()
        shown = {f.escalation_id for f in self.model.rows()}
        service = self._service

        def job() -> list[DueFollowUp] | None:
            if full or not changed.isdisjoint(shown) or service.any_scheduled(changed):
                return service.scheduled()
            return None  # nothing that changed has a follow-up to show

        self._reloading = True
        self._runner.read(job, self._reloaded, self._reload_failed)

    def _reloaded(self, rows: list[DueFollowUp] | None) -> None:
        self._reloading = False
        if rows is not None:
            self.set_follow_ups(rows)
        self._again()

    def _reload_failed(self, error: BaseException) -> None:
        self._reloading = False
        self._again()
        if self._on_error is not None:
            self._on_error(error)
        else:
            log.error("could not read the follow-ups: %s", error)

    def _again(self) -> None:
        if (self._want_full or self._changed_ids) and not self._reload_timer.isActive():
            self._reload_timer.start()

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
