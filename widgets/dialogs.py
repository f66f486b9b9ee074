"""Small dialogs of the queue: reassign, hold, SLA targets, keyboard shortcuts."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.domain import Severity
from console.queue import SupervisorInfo
from console.sla import SlaPolicy, SlaTargets

HOLD_REASONS = ("Waiting on the customer", "Waiting on a third party", "Waiting on another team")


def _buttons(dialog: QDialog, ok_text: str, ok_tip: str) -> QDialogButtonBox:
    box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    ok = box.button(QDialogButtonBox.StandardButton.Ok)
    ok.setText(ok_text)
    ok.setAccessibleName(ok_text)
    ok.setToolTip(f"{ok_tip} (Ctrl+Enter)")
    cancel = box.button(QDialogButtonBox.StandardButton.Cancel)
    cancel.setAccessibleName("Cancel")
    cancel.setToolTip("Close without changing anything (Esc)")
    box.accepted.connect(dialog.accept)
    box.rejected.connect(dialog.reject)
    return box


def _labelled(form: QFormLayout, text: str, field: QWidget) -> None:
    label = QLabel(text)
    label.setBuddy(field)
    form.addRow(label, field)


class ReassignDialog(QDialog):
    """Choose the supervisor and write the hand-off note."""

    def __init__(
        self,
        case_id: int,
        supervisors: list[SupervisorInfo],
        exclude_user_id: int | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("reassignDialog")
        self.setWindowTitle(f"Reassign #{case_id}")
        self.setAccessibleName(f"Reassign escalation {case_id}")
        self.to = QComboBox()
        self.to.setAccessibleName("Reassign to")
        self.to.setToolTip("The supervisor who takes the case over (Alt+T)")
        for info in supervisors:
            if info.user_id != exclude_user_id:
                self.to.addItem(f"{info.display_name} ({info.username})", info.user_id)
        self.note = QPlainTextEdit()
        self.note.setAccessibleName("Hand-off note")
        self.note.setToolTip("What the next supervisor needs to know (Alt+N)")
        self.note.setPlaceholderText("Where it stands, what was promised, what to do next")
        self.note.setTabChangesFocus(True)
        form = QFormLayout()
        _labelled(form, "&To", self.to)
        _labelled(form, "&Note", self.note)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(_buttons(self, "Reassign", "Hand the case over"))

    def chosen(self) -> tuple[int, str] | None:
        """(user id, note), or None when nobody can be chosen."""
        user_id = self.to.currentData()
        return None if user_id is None else (int(user_id), self.note.toPlainText())


class HoldDialog(QDialog):
    """Say what the case is waiting on."""

    def __init__(self, case_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("holdDialog")
        self.setWindowTitle(f"Put #{case_id} on hold")
        self.setAccessibleName(f"Put escalation {case_id} on hold")
        self.reason = QComboBox()
        self.reason.setEditable(True)
        self.reason.addItems(HOLD_REASONS)
        self.reason.setAccessibleName("Waiting on")
        self.reason.setToolTip("What the case is waiting on; type your own (Alt+W)")
        form = QFormLayout()
        _labelled(form, "&Waiting on", self.reason)
        hint = QLabel("The SLA clocks pause until you take the case off hold.")
        hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addWidget(_buttons(self, "Put on hold", "Pause the clocks"))

    def reason_text(self) -> str:
        """The reason as typed or chosen."""
        return self.reason.currentText().strip()


class SlaPolicyDialog(QDialog):
    """Managers edit the minutes to claim and to resolve per severity, and the pre-breach threshold."""

    def __init__(self, policy: SlaPolicy, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("slaPolicyDialog")
        self.setWindowTitle("SLA targets")
        self.setAccessibleName("SLA targets")
        self.fields: dict[Severity, tuple[QSpinBox, QSpinBox]] = {}
        form = QFormLayout()
        for severity in Severity:
            target = policy.for_severity(severity)
            claim = self._minutes(f"{severity.label}: minutes to claim", target.claim)
            resolve = self._minutes(f"{severity.label}: minutes to resolve", target.resolve)
            self.fields[severity] = (claim, resolve)
            form.addRow(QLabel(f"{severity.label} — claim within"), claim)
            form.addRow(QLabel(f"{severity.label} — resolve within"), resolve)
        self.warn = QSpinBox()
        self.warn.setRange(50, 99)
        self.warn.setSuffix(" %")
        self.warn.setValue(round(policy.warn_ratio * 100))
        self.warn.setAccessibleName("Pre-breach alert at percent of target")
        self.warn.setToolTip("Warn when this share of a target has passed")
        form.addRow(QLabel("Pre-breach alert at"), self.warn)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(_buttons(self, "Save targets", "Save for the whole floor"))

    @staticmethod
    def _minutes(name: str, value: timedelta) -> QSpinBox:
        box = QSpinBox()
        box.setRange(1, 60 * 24 * 60)
        box.setSuffix(" min")
        box.setValue(int(value.total_seconds() // 60))
        box.setAccessibleName(name)
        box.setToolTip(name)
        return box

    def policy(self) -> tuple[dict[Severity, SlaTargets], float]:
        """The targets and warn ratio as entered."""
        targets = {
            sev: SlaTargets(timedelta(minutes=c.value()), timedelta(minutes=r.value()))
            for sev, (c, r) in self.fields.items()
        }
        return targets, self.warn.value() / 100


class ShortcutsDialog(QDialog):
    """Every shortcut, from the action registry."""

    def __init__(self, rows: list[tuple[str, str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("shortcutsDialog")
        self.setWindowTitle("Keyboard shortcuts")
        self.setAccessibleName("Keyboard shortcuts")
        table = QTableWidget(len(rows), 3)
        table.setAccessibleName("Shortcut list")
        table.setHorizontalHeaderLabels(["Menu", "Action", "Shortcut"])
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                table.setItem(r, c, QTableWidgetItem(text))
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        table.verticalHeader().hide()
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close = box.button(QDialogButtonBox.StandardButton.Close)
        close.setAccessibleName("Close")
        close.setToolTip("Close (Esc)")
        box.rejected.connect(self.reject)
        layout.addWidget(box)
        self.resize(520, 480)
