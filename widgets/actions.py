"""Every action of the console in one table: text, shortcut, menu, and the tooltip that names the shortcut.

A supervisor on a call works from the keyboard; this is the one place to see (and keep unique) every shortcut.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, auto

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence


class ActionId(Enum):
    """Identifies an action; the main window connects each to what it does."""

    IMPORT = auto()
    QUIT = auto()
    CLAIM = auto()
    RELEASE = auto()
    REASSIGN = auto()
    HOLD = auto()
    RESUME = auto()
    COPY_CASE_ID = auto()
    FOCUS_QUEUE = auto()
    FOCUS_FOLLOWUPS = auto()
    FOCUS_GOODWILL = auto()
    FOCUS_SEARCH = auto()
    REFRESH = auto()
    SHIFT_SUMMARY = auto()
    END_SHIFT = auto()
    PAST_SHIFTS = auto()
    SLA_POLICY = auto()
    ACCOUNTS = auto()
    ALERT_SOUND = auto()
    SHORTCUTS = auto()
    ABOUT = auto()


@dataclass(frozen=True)
class ActionSpec:
    """How an action looks and is reached."""

    text: str
    menu: str
    shortcut: str | QKeySequence.StandardKey | None = None
    tip: str = ""
    checkable: bool = False
    manager_only: bool = False


# Menu order follows the work: File, Case, View, Shift, Floor, Help.
SPECS: dict[ActionId, ActionSpec] = {
    ActionId.IMPORT: ActionSpec(
        "&Import complaints…", "&File", "Ctrl+I", "Import complaints from a CSV or JSON Lines file"
    ),
    ActionId.QUIT: ActionSpec("&Quit", "&File", "Ctrl+Q", "Close the console"),
    ActionId.CLAIM: ActionSpec("&Claim", "&Case", "Return", "Claim the selected escalation"),
    ActionId.RELEASE: ActionSpec("&Release to queue", "&Case", "Ctrl+Shift+R", "Give the escalation back to the queue"),
    ActionId.REASSIGN: ActionSpec("Reassi&gn…", "&Case", "Ctrl+Shift+A", "Hand the escalation to another supervisor"),
    ActionId.HOLD: ActionSpec(
        "Put on &hold…", "&Case", "Ctrl+Shift+H", "Pause the SLA clocks while waiting on someone"
    ),
    ActionId.RESUME: ActionSpec("Take off h&old", "&Case", "Ctrl+Shift+O", "Restart the SLA clocks"),
    ActionId.COPY_CASE_ID: ActionSpec("&Copy case number", "&Case", "Ctrl+Shift+C", "Copy the selected case's number"),
    ActionId.FOCUS_QUEUE: ActionSpec("&Queue", "&View", "Ctrl+1", "Move the keyboard focus to the queue"),
    ActionId.FOCUS_FOLLOWUPS: ActionSpec("&Follow-ups", "&View", "Ctrl+2", "Show the follow-ups promised to customers"),
    ActionId.FOCUS_GOODWILL: ActionSpec(
        "&Goodwill", "&View", "Ctrl+3", "Show goodwill budgets, approvals waiting and what goodwill returns"
    ),
    ActionId.FOCUS_SEARCH: ActionSpec(
        "&Search the queue", "&View", "Ctrl+F", "Search customers, summaries and case numbers"
    ),
    ActionId.REFRESH: ActionSpec("&Reload", "&View", "F5", "Reload everything from the database"),
    ActionId.SHIFT_SUMMARY: ActionSpec(
        "Shift &summary…", "&Shift", "Ctrl+Shift+Y", "The numbers, charts and handover of a shift or any range"
    ),
    ActionId.END_SHIFT: ActionSpec(
        "&End shift…", "&Shift", "Ctrl+Shift+E", "End your shift: save its summary and a note for the next supervisor"
    ),
    ActionId.PAST_SHIFTS: ActionSpec("&Past shifts…", "&Shift", None, "Open the saved summary of an ended shift"),
    ActionId.SLA_POLICY: ActionSpec(
        "&SLA targets…", "F&loor", None, "Change time-to-claim and time-to-resolve targets", manager_only=True
    ),
    ActionId.ACCOUNTS: ActionSpec(
        "&Accounts…", "F&loor", None, "See who can sign in and add accounts", manager_only=True
    ),
    ActionId.ALERT_SOUND: ActionSpec(
        "Sound on &breach", "F&loor", None, "Beep when an escalation breaches its SLA", checkable=True
    ),
    ActionId.SHORTCUTS: ActionSpec("&Keyboard shortcuts", "&Help", "F1", "List every shortcut"),
    ActionId.ABOUT: ActionSpec("&About Supervisor Console", "&Help", None, "Version and database in use"),
}


def tooltip_for(spec: ActionSpec, shortcut: QKeySequence) -> str:
    """The tooltip: what it does, and the shortcut in parentheses when there is one."""
    keys = shortcut.toString(QKeySequence.SequenceFormat.NativeText)
    return f"{spec.tip} ({keys})" if keys else spec.tip


class ActionRegistry(QObject):
    """Creates one QAction per ActionId with its text, shortcut and tooltip."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self._actions: dict[ActionId, QAction] = {}
        for action_id, spec in SPECS.items():
            action = QAction(spec.text, parent)
            action.setObjectName(f"action{action_id.name.title().replace('_', '')}")
            if spec.shortcut is not None:
                action.setShortcut(QKeySequence(spec.shortcut))
            action.setToolTip(tooltip_for(spec, action.shortcut()))
            action.setStatusTip(spec.tip)
            action.setCheckable(spec.checkable)
            if action_id is ActionId.CLAIM:
                # Enter claims only where the queue has focus, never in a text field or dialog.
                action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self._actions[action_id] = action

    def __getitem__(self, action_id: ActionId) -> QAction:
        return self._actions[action_id]

    def items(self) -> list[tuple[ActionId, QAction]]:
        """Every action in menu order."""
        return list(self._actions.items())

    def shortcut_table(self) -> list[tuple[str, str, str]]:
        """(menu, action, shortcut) for the Keyboard shortcuts help."""
        rows = []
        for action_id, action in self._actions.items():
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            if keys:
                rows.append((SPECS[action_id].menu.replace("&", ""), action.text().replace("&", ""), keys))
        return rows
