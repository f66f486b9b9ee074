"""Shift dialogs: end the shift with a handover note, read the handover at sign-in, open a past shift's summary."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.actor import Actor
from console.errors import ConsoleError
from console.shifts import MAX_HANDOVER_NOTE, ShiftInfo, ShiftService
from widgets.goodwill_panel import Column, RowsModel, _table
from widgets.summary_view import FloorClock, handover_table, refresh_cells
from widgets.tasks import TaskRunner


def _name(widget: QWidget, name: str, accessible: str, tip: str = "") -> None:
    widget.setObjectName(name)
    widget.setAccessibleName(accessible)
    if tip:
        widget.setToolTip(tip)


def _shift_span(info: ShiftInfo, clock: FloorClock) -> str:
    end = clock.time(info.ended_at) if info.ended_at else "now"
    return f"{clock.time(info.started_at)} – {end}"


class EndShiftDialog(QDialog):
    """Ask for the handover note (required: the next supervisor must have something to act on), then end the shift
    off the GUI thread, showing the summary's progress. ``ended`` carries the ended shift with its saved summary."""

    ended = Signal(object)  # ShiftInfo
    _progressed = Signal(float, str)  # from the worker thread, delivered queued

    def __init__(self, service: ShiftService, runner: TaskRunner, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("endShiftDialog")
        self.setAccessibleName("End shift")
        self.setWindowTitle("End shift")
        self.service, self.runner, self.actor = service, runner, actor
        self.result_shift: ShiftInfo | None = None
        self._progressed.connect(self._on_progress)
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Ending your shift saves the floor's summary of it. Write what the next supervisor must know: "
            "promises made, cases to watch, anything unusual."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        label = QLabel("&Handover note (required):")
        self.note = QPlainTextEdit()
        _name(self.note, "handoverNoteEdit", "Handover note", "What the next shift must know (required)")
        self.note.setPlaceholderText("e.g. #1042 promised a call back by 10:00; carrier outage on fibre orders…")
        self.note.setTabChangesFocus(True)
        label.setBuddy(self.note)
        layout.addWidget(label)
        layout.addWidget(self.note, 1)
        self.progress = QProgressBar()
        _name(self.progress, "endShiftProgress", "Summary progress", "How far the shift's summary has got")
        self.progress.setRange(0, 100)
        self.progress.hide()
        layout.addWidget(self.progress)
        self.problem = QLabel()
        _name(self.problem, "endShiftProblem", "Problem")
        self.problem.setWordWrap(True)
        self.problem.hide()
        layout.addWidget(self.problem)
        self.buttons = QDialogButtonBox()
        self.end_button = QPushButton("&End shift")
        _name(self.end_button, "endShiftButton", "End shift", "Save the summary and the handover note (Alt+E)")
        self.end_button.setDefault(True)
        self.end_button.setEnabled(False)
        cancel = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        _name(cancel, "endShiftCancel", "Cancel", "Keep the shift open (Esc)")
        self.buttons.addButton(self.end_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.end_shift)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.note.textChanged.connect(self._note_changed)
        self.resize(560, 360)

    def _note_changed(self) -> None:
        text = self.note.toPlainText().strip()
        self.end_button.setEnabled(0 < len(text) <= MAX_HANDOVER_NOTE)

    def end_shift(self) -> None:
        """End the shift with the note typed (nothing happens while the note is blank)."""
        note = self.note.toPlainText().strip()
        if not note:
            self.problem.setText("Write a handover note: the next supervisor reads it first.")
            self.problem.show()
            return
        service, actor, report = self.service, self.actor, self._progressed.emit
        self.end_button.setEnabled(False)
        self.note.setReadOnly(True)
        self.problem.hide()
        self.progress.setValue(0)
        self.progress.show()
        self.runner.write(lambda: service.end_shift(actor, note, progress=report), self._ended, self._failed)

    @Slot(float, str)
    def _on_progress(self, fraction: float, text: str) -> None:
        self.progress.setValue(round(fraction * 100))
        self.progress.setFormat(f"{text} — %p%")

    def _ended(self, info: ShiftInfo) -> None:
        self.result_shift = info
        self.accept()
        self.ended.emit(info)

    def _failed(self, error: BaseException) -> None:
        if not isinstance(error, ConsoleError):
            raise error
        self.progress.hide()
        self.note.setReadOnly(False)
        self._note_changed()
        self.problem.setText(str(error))
        self.problem.show()


class HandoverDialog(QDialog):
    """The last shift's handover, shown first after sign-in; closing it (any way) acknowledges it."""

    openSummary = Signal(object)  # ShiftInfo
    acknowledged = Signal(int)  # shift id, once saved

    def __init__(
        self, info: ShiftInfo, service: ShiftService, runner: TaskRunner, actor: Actor, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("handoverDialog")
        self.setAccessibleName("Handover from the last shift")
        self.setWindowTitle(f"Handover from {info.supervisor_name}")
        self.info, self.service, self.runner, self.actor = info, service, runner, actor
        self._acknowledging = False
        summary = info.saved_summary()
        self.clock = FloorClock()
        layout = QVBoxLayout(self)
        self.who = QLabel()
        _name(self.who, "handoverFrom", "Who handed over, and when")
        layout.addWidget(self.who)
        label = QLabel("&Note:")
        self.note = QPlainTextEdit(info.handover_note or "(no note)")
        _name(self.note, "handoverNoteText", "Handover note", "What the last supervisor wrote for you")
        self.note.setReadOnly(True)
        self.note.setMaximumHeight(140)
        label.setBuddy(self.note)
        layout.addWidget(label)
        layout.addWidget(self.note)
        self.table, self.model = handover_table("handoverDialogTable", self.clock)
        cases = list(summary.handover) if summary is not None else []
        self.model.set_rows(cases)
        self._show_times()
        self.clock.load(service.db, runner, self._show_times)
        caption = QLabel(f"<b>{len(cases)} open escalation{'s' if len(cases) != 1 else ''}</b> at the end of the shift")
        caption.setBuddy(self.table)
        layout.addWidget(caption)
        layout.addWidget(self.table, 1)
        buttons = QDialogButtonBox()
        self.open_button = buttons.addButton("&Open full summary", QDialogButtonBox.ButtonRole.ActionRole)
        _name(self.open_button, "handoverOpenSummary", "Open full summary",
              "The last shift's whole summary: measures, charts, stories (Alt+O)")  # fmt: skip
        self.open_button.setEnabled(summary is not None)
        self.close_button = buttons.addButton("&Got it", QDialogButtonBox.ButtonRole.AcceptRole)
        _name(self.close_button, "handoverAcknowledge", "Got it",
              "Mark the handover as read; it will not be shown again (Alt+G)")  # fmt: skip
        self.close_button.setDefault(True)
        self.open_button.clicked.connect(self._open_summary)
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)
        self.resize(1000, 560)
        self.setWindowModality(Qt.WindowModality.WindowModal)

    def _show_times(self) -> None:
        """The shift's span and the due times, in the floor's time zone once it is known."""
        self.who.setText(
            f"<b>Handover from {self.info.supervisor_name}</b> — shift {_shift_span(self.info, self.clock)} "
            f"(times in {self.clock.name})"
        )
        refresh_cells(self.model)

    def _open_summary(self) -> None:
        self.openSummary.emit(self.info)
        self.accept()

    def done(self, result: int) -> None:
        """Closing the handover, with any button or Esc, acknowledges it."""
        if not self._acknowledging:
            self._acknowledging = True
            service, actor, shift_id = self.service, self.actor, self.info.id
            self.runner.write(
                lambda: service.acknowledge_handover(actor, shift_id),
                lambda _none: self.acknowledged.emit(shift_id),
                lambda _error: None,  # the next sign-in simply shows it again
            )
        super().done(result)


class PastShiftsDialog(QDialog):
    """Ended shifts, the latest first; opening one shows its saved summary."""

    openShift = Signal(object)  # ShiftInfo

    def __init__(self, service: ShiftService, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pastShiftsDialog")
        self.setAccessibleName("Past shifts")
        self.setWindowTitle("Past shifts")
        layout = QVBoxLayout(self)
        self.clock = FloorClock()
        self.model: RowsModel[ShiftInfo] = RowsModel(
            [
                Column("Supervisor", lambda s: s.supervisor_name),
                Column("Shift", lambda s: _shift_span(s, self.clock)),
                Column("Open at the end", lambda s: str(len((s.summary or {}).get("handover", []))), align_right=True),
                Column("Handover note", lambda s: " ".join((s.handover_note or "—").split())),
            ],
            lambda s: s.id,
            lambda s: f"{s.supervisor_name}'s shift {_shift_span(s, self.clock)}",
        )
        self.table = _table("pastShiftsTable", "Past shifts", "Ended shifts; open one to see its summary", self.model)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.doubleClicked.connect(lambda _index: self.open_selected())
        layout.addWidget(self.table, 1)
        buttons = QDialogButtonBox()
        self.open_button = buttons.addButton("&Open summary", QDialogButtonBox.ButtonRole.ActionRole)
        _name(self.open_button, "pastShiftsOpen", "Open summary", "Show the selected shift's saved summary (Alt+O)")
        close = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        _name(close, "pastShiftsClose", "Close", "Close the list (Esc)")
        self.open_button.clicked.connect(self.open_selected)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(900, 420)
        self.clock.load(service.db, runner, lambda: refresh_cells(self.model))
        runner.read(service.past_shifts, self._loaded)

    def _loaded(self, shifts: list[ShiftInfo]) -> None:
        self.model.set_rows(shifts)
        if shifts:
            self.table.selectRow(0)

    def open_selected(self) -> None:
        """Open the selected shift's summary."""
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self.openShift.emit(self.model.row_at(rows[0].row()))
            self.accept()
