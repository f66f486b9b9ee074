"""The workflow panel: the screen a supervisor works from with an upset customer on the line.

It guides through the five steps (listen, gather, apologize, propose, follow up) without getting in the way: one
keystroke moves on (Ctrl+Return), the right words are on screen (the step's purpose, de-escalation cues, the
playbook's apology and remedies), and nothing typed is lost: every change is saved after a pause in typing, one save
per step at a time, each based on the revision it last saw. A save refused because another supervisor saved first
shows their text, and keeps ours on screen beside it.

The panel never touches the database: every call goes through :class:`console.workflow.WorkflowService` on the
task runner's write lane, and results come back on the GUI thread.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from PySide6.QtCore import QDate, QDateTime, QEvent, QObject, Qt, QTime, QTimer, Signal
from PySide6.QtGui import QAction, QFont, QKeyEvent, QKeySequence, QPalette, QResizeEvent, QShortcut, QTextCursor
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDateTimeEdit,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from console.actor import Actor
from console.domain import Category, Channel, Status
from console.errors import ConsoleError, ValidationError
from console.goodwill import GoodwillService
from console.money import parse_amount
from console.workflow import (
    APOLOGIES,
    GUIDES,
    PLAYBOOK_REMEDIES,
    EditConflict,
    FollowUpState,
    Remedy,
    Response,
    Step,
    StepState,
    WorkflowService,
    WorkflowState,
    read_back,
)
from db.types import utcnow
from widgets.goodwill_suggestion import GESTURE_KEY, GoodwillSuggestionBox
from widgets.problem_label import ProblemLabel
from widgets.tasks import TaskRunner

T = TypeVar("T")

AUTOSAVE_MS = 1500  # a pause in typing this long saves
AUTOSAVE_MAX_WAIT_MS = 1000  # steady typing is saved at least this often: a crash loses about a second at most
COMPLETE_KEYS = ("Ctrl+Return", "Ctrl+Enter")
RESOLVE_KEYS = ("Ctrl+Shift+Return", "Ctrl+Shift+Enter")
READ_BACK_KEY = "Ctrl+R"
STORY_KEY = "Ctrl+Shift+S"
REMOVE_REMEDY_KEY = "Ctrl+Shift+Del"  # not Ctrl+Del: a line edit deletes a word with it
SIDE_WIDE, SIDE_NARROW, NARROW_PANEL = 290, 220, 900  # the cues column gives way on a narrow panel (a dock)
NO_PROMISED_DATE = QDate(2000, 1, 1)  # the date edit's "no date promised" value (shown as special text)

UPSET_LABELS = ("calm", "uneasy", "upset", "angry", "furious")
CSAT_LABELS = ("very dissatisfied", "dissatisfied", "neither", "satisfied", "very satisfied")
RESPONSE_LABELS = {Response.ACCEPTED: "Accepted", Response.DECLINED: "Declined", Response.CHOSE: "Chose among options"}
REMEDY_LABELS = {
    Remedy.REFUND: "Refund",
    Remedy.REPLACEMENT: "Replacement",
    Remedy.REPAIR: "Repair",
    Remedy.CREDIT: "Credit",
    Remedy.DISCOUNT: "Discount",
    Remedy.EXPEDITED: "Expedited service",
    Remedy.EXPLANATION: "Explanation",
    Remedy.OTHER: "Other",
}
# What each captured field is called on screen: in the "your unsaved text" box and in messages.
FIELD_LABELS = {
    "account": "Account",
    "upset": "How upset",
    "what_happened": "What happened",
    "when": "When",
    "references": "References",
    "tried": "Already tried",
    "wants": "What they want",
    "given": "Apology given",
    "skip_reason": "Skip because",
    "remedies": "Remedies",
    "promised_date": "Promised date",
    "response": "Customer's response",
    "due_at": "Follow up at",
    "channel": "Channel",
}


def _name(widget: QWidget, object_name: str, accessible: str, tip: str) -> None:
    widget.setObjectName(object_name)
    widget.setAccessibleName(accessible)
    widget.setToolTip(tip)


def _keys(sequence: str) -> str:
    return QKeySequence(sequence).toString(QKeySequence.SequenceFormat.NativeText)


def _local(moment: datetime) -> str:
    """A stored (UTC) moment as the supervisor's local time, e.g. 'Tue 14 May, 10:00'."""
    local = moment.astimezone()
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M}"


def _chain(widgets: Sequence[QWidget]) -> None:
    for first, second in itertools.pairwise(widgets):
        QWidget.setTabOrder(first, second)


def _uncheck_all(group: QButtonGroup) -> None:
    group.setExclusive(False)
    for button in group.buttons():
        button.setChecked(False)
    group.setExclusive(True)


def _readable(value: Any) -> str:
    """A captured value as a line of text (remedies as "Refund 25.00 (note)")."""
    if isinstance(value, list):
        parts = []
        for item in value:
            if isinstance(item, dict):
                words = [REMEDY_LABELS.get(Remedy(item["type"]), "") if item.get("type") in set(Remedy) else ""]
                words += [str(item.get("amount") or ""), f"({item['note']})" if item.get("note") else ""]
                parts.append(" ".join(w for w in words if w))
            else:
                parts.append(str(item))
        return "; ".join(parts)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def format_timer(seconds: int) -> str:
    """The call timer's reading: mm:ss, or h:mm:ss after an hour."""
    hours, rest = divmod(max(0, seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def _beside(field: QWidget, problem: ProblemLabel, *more: QWidget) -> QWidget:
    """A row: the field, anything that belongs with it, then its problem label."""
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(8)
    layout.addWidget(field, 1)
    for widget in more:
        layout.addWidget(widget)
    layout.addWidget(problem)
    layout.addStretch(0)  # a field with a maximum width stays at the left; the room left stays empty
    return row


def _form() -> QFormLayout:
    form = QFormLayout()
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
    form.setVerticalSpacing(10)
    return form


def _label(text: str, buddy: QWidget) -> QLabel:
    label = QLabel(text)
    label.setBuddy(buddy)
    return label


def _text_box(object_name: str, accessible: str, tip: str, placeholder: str, lines: int) -> QPlainTextEdit:
    box = QPlainTextEdit()
    _name(box, object_name, accessible, tip)
    box.setPlaceholderText(placeholder)
    box.setTabChangesFocus(True)  # Tab moves on through the form; the customer's words need no tab characters
    height = box.fontMetrics().lineSpacing() * lines + 14
    box.setMinimumHeight(height)
    box.setMaximumHeight(height + box.fontMetrics().lineSpacing() * 2)
    return box


def _set_text(box: QPlainTextEdit, text: str) -> None:
    """Show stored text with the cursor at its end, where the supervisor goes on typing."""
    if box.toPlainText() != text:
        box.setPlainText(text)
        box.moveCursor(QTextCursor.MoveOperation.End)


def _line(object_name: str, accessible: str, tip: str, placeholder: str) -> QLineEdit:
    line = QLineEdit()
    _name(line, object_name, accessible, tip)
    line.setPlaceholderText(placeholder)
    return line


class DateEdit(QDateEdit):
    """A date field that Tab leaves at once (arrow keys move between day, month and year)."""

    def focusNextPrevChild(self, next: bool) -> bool:
        """Tab goes to the next field, not the next section: no keyboard trap on the special "no date" text."""
        return QWidget.focusNextPrevChild(self, next)


class DateTimeEdit(QDateTimeEdit):
    """A date-and-time field that Tab leaves at once (arrow keys move between its sections)."""

    def focusNextPrevChild(self, next: bool) -> bool:
        """Tab goes to the next field, as everywhere else in the form."""
        return QWidget.focusNextPrevChild(self, next)


# -- the five pages ---------------------------------------------------------------------------------------------------
class StepPage(QWidget):
    """One step's fields. The panel saves what :meth:`fields` returns; :meth:`check` finds what cannot be saved."""

    changed = Signal()
    step: Step

    def __init__(self) -> None:
        super().__init__()
        self.problems: dict[str, ProblemLabel] = {}

    def fields(self) -> dict[str, Any]:
        """The step's fields as the service stores them."""
        raise NotImplementedError

    def load(self, fields: dict[str, Any]) -> None:
        """Show stored fields (the panel ignores the change signals this causes)."""
        raise NotImplementedError

    def first_field(self) -> QWidget:
        """Where the keyboard focus lands when the step opens."""
        raise NotImplementedError

    def tab_chain(self) -> list[QWidget]:
        """The page's controls in the order of the work."""
        raise NotImplementedError

    def check(self, now: datetime) -> dict[str, str]:
        """Problems found on screen before saving: field key -> reason. Nothing is saved while there are any."""
        return {}

    def show_problems(self, problems: dict[str, str]) -> None:
        """Show each reason beside its field; clear the others."""
        for key, label in self.problem_labels().items():
            if key in problems:
                label.show_problem(problems[key])
            else:
                label.clear_problem()

    def show_problem(self, field: str | None, reason: str) -> bool:
        """Show a service's refusal beside its field; False when the page has no such field."""
        label = self.problem_labels().get(field or "")
        if label is None:
            return False
        label.show_problem(reason)
        return True

    def clear_fixed(self, now: datetime) -> None:
        """After an edit: clear the problems that are fixed now (new ones wait for the pause in typing)."""
        still = self.check(now)
        for key, label in self.problem_labels().items():
            if key not in still:
                label.clear_problem()

    def problem_labels(self) -> dict[str, ProblemLabel]:
        """Every problem label of the page, by field key."""
        return self.problems

    def _problem(self, key: str, what: str) -> ProblemLabel:
        label = ProblemLabel(f"{self.step.value}_{key}_problem", what)
        self.problems[key] = label
        return label

    def _emit_changed(self, *_args: object) -> None:
        self.changed.emit()


class ListenPage(StepPage):
    """Listen: the customer's account in their words, and how upset they are."""

    step = Step.LISTEN

    def __init__(self) -> None:
        super().__init__()
        form = _form()
        self.account = _text_box(
            "listenAccount",
            "Customer's account",
            "The customer's account, in their words; saved as you type",
            "The customer's account, in their words",
            10,
        )
        self.account.textChanged.connect(self._emit_changed)
        form.addRow(
            _label("&Account", self.account), _beside(self.account, self._problem("account", "Customer's account"))
        )

        upset_row = QWidget()
        upset_layout = QHBoxLayout(upset_row)
        upset_layout.setContentsMargins(0, 0, 0, 0)
        self.upset_group = QButtonGroup(self)
        self.upset_buttons: list[QRadioButton] = []
        for number, word in enumerate(UPSET_LABELS, start=1):
            button = QRadioButton(f"{number} {word}")
            _name(
                button,
                f"listenUpset{number}",
                f"Upset {number}: {word}",
                "How upset the customer is: 1 calm … 5 furious (arrow keys or 1-5 choose)",
            )
            button.installEventFilter(self)
            self.upset_group.addButton(button, number)
            self.upset_buttons.append(button)
            upset_layout.addWidget(button)
        upset_layout.addStretch(1)
        self.upset_group.idToggled.connect(self._emit_changed)
        form.addRow(
            _label("How &upset", self.upset_buttons[0]),
            _beside(upset_row, self._problem("upset", "How upset")),
        )
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(form)
        outer.addStretch(1)  # the fields keep their height; the room left stays below them

    def fields(self) -> dict[str, Any]:
        """Account text and upset 1-5 (None until chosen)."""
        chosen = self.upset_group.checkedId()
        return {"account": self.account.toPlainText(), "upset": chosen if chosen > 0 else None}

    def load(self, fields: dict[str, Any]) -> None:
        """Show stored fields."""
        _set_text(self.account, str(fields.get("account") or ""))
        upset = fields.get("upset")
        button = self.upset_group.button(int(upset)) if isinstance(upset, int | str) and str(upset).isdigit() else None
        if button is not None:
            button.setChecked(True)
        else:
            _uncheck_all(self.upset_group)

    def first_field(self) -> QWidget:
        """The account."""
        return self.account

    def tab_chain(self) -> list[QWidget]:
        """Account, then the upset scale."""
        return [self.account, *self.upset_buttons]

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Arrow keys choose on the upset scale (not only move), and 1-5 choose directly."""
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent) and watched in self.upset_buttons:
            index = self.upset_buttons.index(watched)
            key = event.key()
            target: int | None = None
            if key in (Qt.Key.Key_Right, Qt.Key.Key_Down):
                target = min(index + 1, 4)
            elif key in (Qt.Key.Key_Left, Qt.Key.Key_Up):
                target = max(index - 1, 0)
            elif Qt.Key.Key_1.value <= key <= Qt.Key.Key_5.value:
                target = key - Qt.Key.Key_1.value
            if target is not None:
                self.upset_buttons[target].setChecked(True)
                self.upset_buttons[target].setFocus(Qt.FocusReason.TabFocusReason)
                return True
        return super().eventFilter(watched, event)


class GatherPage(StepPage):
    """Gather: the facts, so nobody makes the customer repeat themselves."""

    step = Step.GATHER

    def __init__(self) -> None:
        super().__init__()
        form = _form()
        self.what_happened = _text_box(
            "gatherWhatHappened", "What happened", "What happened, as the facts stand", "What happened", 4
        )
        self.when = _line("gatherWhen", "When", "When it happened: dates, how often", "e.g. 3 May; the second time")
        self.references = _line(
            "gatherReferences",
            "References",
            "Order, product or account numbers involved",
            "Order, product or account numbers",
        )
        self.tried = _text_box(
            "gatherTried",
            "Already tried, and by whom",
            "What was already tried and by whom, on any channel (filled from the contact history when empty)",
            "What was already tried, and by whom",
            3,
        )
        self.wants = _line(
            "gatherWants", "What the customer wants", "What the customer wants", "What the customer wants"
        )
        self.what_happened.textChanged.connect(self._emit_changed)
        self.tried.textChanged.connect(self._emit_changed)
        for line in (self.when, self.references, self.wants):
            line.textChanged.connect(self._emit_changed)
        for key, text, field in (
            ("what_happened", "&What happened", self.what_happened),
            ("when", "Whe&n", self.when),
            ("references", "&References", self.references),
            ("tried", "Already &tried", self.tried),
            ("wants", "What the&y want", self.wants),
        ):
            form.addRow(_label(text, field), _beside(field, self._problem(key, FIELD_LABELS[key])))
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(form)
        outer.addStretch(1)  # the fields keep their height; the room left stays below them

    def fields(self) -> dict[str, Any]:
        """The five facts as text."""
        return {
            "what_happened": self.what_happened.toPlainText(),
            "when": self.when.text(),
            "references": self.references.text(),
            "tried": self.tried.toPlainText(),
            "wants": self.wants.text(),
        }

    def load(self, fields: dict[str, Any]) -> None:
        """Show stored fields."""
        _set_text(self.what_happened, str(fields.get("what_happened") or ""))
        self.when.setText(str(fields.get("when") or ""))
        self.references.setText(str(fields.get("references") or ""))
        _set_text(self.tried, str(fields.get("tried") or ""))
        self.wants.setText(str(fields.get("wants") or ""))

    def first_field(self) -> QWidget:
        """What happened."""
        return self.what_happened

    def tab_chain(self) -> list[QWidget]:
        """In the order the facts are usually asked for."""
        return [self.what_happened, self.when, self.references, self.tried, self.wants]


class ApologizePage(StepPage):
    """Apologize: the playbook's wording, and whether it was given (or why it was skipped)."""

    step = Step.APOLOGIZE

    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        caption = QLabel("Suggested wording")
        caption.setObjectName("apologyCaption")
        layout.addWidget(caption)
        self.suggestion = QLabel()
        self.suggestion.setObjectName("apologySuggestion")
        self.suggestion.setAccessibleName("Suggested apology")
        self.suggestion.setWordWrap(True)
        self.suggestion.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.suggestion.setFrameShape(QFrame.Shape.StyledPanel)
        self.suggestion.setMargin(10)
        bigger = QFont(self.font())
        bigger.setPointSizeF(bigger.pointSizeF() * 1.15)
        bigger.setItalic(True)
        self.suggestion.setFont(bigger)
        layout.addWidget(self.suggestion)
        form = _form()
        self.given = QCheckBox("Apology &given")
        _name(self.given, "apologyGiven", "Apology given", "The apology was given (Alt+G; Space toggles)")
        self.given.toggled.connect(self._emit_changed)
        form.addRow("", _beside(self.given, self._problem("given", "Apology given")))
        self.skip_reason = _line(
            "apologySkipReason",
            "Skip because",
            "Only when no apology fits: say why it is skipped",
            "Skip because… (only when no apology fits)",
        )
        self.skip_reason.textChanged.connect(self._emit_changed)
        form.addRow(
            _label("&Skip because", self.skip_reason),
            _beside(self.skip_reason, self._problem("skip_reason", "Skip because")),
        )
        layout.addLayout(form)
        layout.addStretch(1)

    def set_suggestion(self, category: Category, product: str | None) -> None:
        """The playbook's apology for the failure type, naming the product."""
        self.suggestion.setText(APOLOGIES[category].replace("{product}", product or "product"))
        self.suggestion.setAccessibleDescription(self.suggestion.text())

    def fields(self) -> dict[str, Any]:
        """Given (yes/no) and the reason for skipping."""
        return {"given": self.given.isChecked(), "skip_reason": self.skip_reason.text()}

    def load(self, fields: dict[str, Any]) -> None:
        """Show stored fields."""
        self.given.setChecked(bool(fields.get("given")))
        self.skip_reason.setText(str(fields.get("skip_reason") or ""))

    def first_field(self) -> QWidget:
        """The Apology given box."""
        return self.given

    def tab_chain(self) -> list[QWidget]:
        """Given, then the reason for skipping."""
        return [self.given, self.skip_reason]


class RemedyRow(QWidget):
    """One remedy offered: its type, an amount where it costs money, a note, and a remove button."""

    changed = Signal()
    removeRequested = Signal(object)

    def __init__(self, number: int, kind: Remedy, note: str = "", amount: str = "") -> None:
        super().__init__()
        self.setObjectName(f"remedyRow{number}")
        self.setAccessibleName(f"Remedy {number}")
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setHorizontalSpacing(6)
        layout.setVerticalSpacing(2)
        self.type_combo = QComboBox()
        _name(self.type_combo, f"remedyType{number}", f"Remedy {number} type", "What kind of remedy this is")
        for remedy in Remedy:
            self.type_combo.addItem(REMEDY_LABELS[remedy], remedy.value)
        self.type_combo.setCurrentIndex(self.type_combo.findData(kind.value))
        self.amount = _line(
            f"remedyAmount{number}",
            f"Remedy {number} amount",
            "The amount, when it costs money: like 25.00, at most two decimals",
            "0.00",
        )
        self.amount.setText(amount)
        self.amount.setMaximumWidth(110)
        self.amount.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.problem = ProblemLabel(f"remedyAmount{number}Problem", f"Remedy {number} amount")
        self.problem.setMaximumWidth(16_777_215)  # right under the amount, across the note: the row keeps its width
        self.note = _line(f"remedyNote{number}", f"Remedy {number} note", "What exactly is offered", "Note")
        self.note.setText(note)
        self.note.setCursorPosition(0)  # the start of the note in view, not its end
        self.remove = QToolButton()
        self.remove.setText("✕ Remove")
        keys = _keys(REMOVE_REMEDY_KEY)
        _name(
            self.remove, f"remedyRemove{number}", f"Remove remedy {number}", f"Remove this remedy ({keys} in its row)"
        )
        self.remove.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.remove.clicked.connect(lambda: self.removeRequested.emit(self))
        shortcut = QShortcut(QKeySequence(REMOVE_REMEDY_KEY), self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(lambda: self.removeRequested.emit(self))
        self.note.setMinimumWidth(140)
        layout.addWidget(self.type_combo, 0, 0)
        layout.addWidget(self.amount, 0, 1)
        layout.addWidget(self.note, 0, 2)
        layout.addWidget(self.remove, 0, 3)
        layout.addWidget(self.problem, 1, 1, 1, 2)
        layout.setColumnStretch(2, 1)
        self.type_combo.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self.amount.textChanged.connect(lambda _t: self.changed.emit())
        self.note.textChanged.connect(lambda _t: self.changed.emit())

    def kind(self) -> Remedy:
        """The remedy's type."""
        return Remedy(self.type_combo.currentData())

    def value(self) -> dict[str, Any]:
        """As the service stores it (the amount as typed; the service checks it again)."""
        return {"type": self.kind().value, "amount": self.amount.text().strip(), "note": self.note.text()}

    def amount_problem(self) -> str | None:
        """Why the amount cannot be saved, or None."""
        text = self.amount.text().strip()
        if not text:
            return None
        try:
            parse_amount(text)
        except ValidationError as error:
            return str(error)
        return None

    def controls(self) -> list[QWidget]:
        """In tab order."""
        return [self.type_combo, self.amount, self.note, self.remove]


class ProposePage(StepPage):
    """Propose: the playbook's remedies as one-click suggestions, the remedies offered, the suggested goodwill
    gesture, the date, the answer."""

    step = Step.PROPOSE
    rowsChanged = Signal()

    def __init__(self, gesture_box: GoodwillSuggestionBox | None = None) -> None:
        super().__init__()
        self.gesture_box = gesture_box
        self.rows: list[RemedyRow] = []
        self.playbook_buttons: list[QPushButton] = []
        self._row_numbers = itertools.count(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)

        caption = QLabel("From the playbook (one click adds it):")
        caption.setObjectName("playbookCaption")
        layout.addWidget(caption)
        self.playbook_box = QWidget()
        self.playbook_box.setObjectName("playbookSuggestions")
        self.playbook_layout = QVBoxLayout(self.playbook_box)
        self.playbook_layout.setContentsMargins(0, 0, 0, 0)
        self.playbook_layout.setSpacing(4)
        layout.addWidget(self.playbook_box)
        self.add_button = QPushButton("&Add another remedy")
        _name(self.add_button, "proposeAddRemedy", "Add another remedy", "Add a remedy of your own (Alt+A)")
        self.add_button.clicked.connect(lambda: self.add_remedy(Remedy.OTHER, ""))
        add_row = QHBoxLayout()
        add_row.addWidget(self.add_button)
        add_row.addStretch(1)
        layout.addLayout(add_row)

        heading = QHBoxLayout()
        remedies_caption = QLabel("Remedies offered")
        remedies_caption.setObjectName("remediesCaption")
        bold = QFont(self.font())
        bold.setBold(True)
        remedies_caption.setFont(bold)
        heading.addWidget(remedies_caption)
        heading.addWidget(self._problem("remedies", "Remedies"), 1)
        layout.addLayout(heading)
        self.rows_box = QWidget()
        self.rows_box.setObjectName("remedyList")
        self.rows_box.setAccessibleName("Remedies offered")
        self.rows_layout = QVBoxLayout(self.rows_box)
        self.rows_layout.setContentsMargins(0, 0, 0, 0)
        self.rows_layout.setSpacing(4)
        self.empty_hint = QLabel("No remedy yet: add one from the playbook above.")
        self.empty_hint.setObjectName("remediesEmpty")
        self.empty_hint.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.rows_layout.addWidget(self.empty_hint)
        layout.addWidget(self.rows_box)
        if gesture_box is not None:
            layout.addSpacing(4)
            layout.addWidget(gesture_box)

        form = _form()
        self.promised = DateEdit()
        _name(
            self.promised,
            "proposePromisedDate",
            "Promised date",
            "The date promised to the customer; Alt+Down opens a calendar",
        )
        self.promised.setCalendarPopup(True)
        self.promised.setDisplayFormat("ddd d MMM yyyy")
        self.promised.setMinimumDate(NO_PROMISED_DATE)
        self.promised.setSpecialValueText("no date promised")
        self.promised.setDate(NO_PROMISED_DATE)
        self.promised.setMaximumWidth(280)
        self.promised.dateChanged.connect(self._emit_changed)
        form.addRow(
            _label("&Promised by", self.promised),
            _beside(self.promised, self._problem("promised_date", "Promised date")),
        )
        response_row = QWidget()
        response_layout = QHBoxLayout(response_row)
        response_layout.setContentsMargins(0, 0, 0, 0)
        self.response_group = QButtonGroup(self)
        self.response_buttons: dict[Response, QRadioButton] = {}
        for response, text in RESPONSE_LABELS.items():
            button = QRadioButton(text)
            _name(
                button,
                f"proposeResponse{response.value.title()}",
                f"Customer {text.lower()}",
                "What the customer said to the proposal (Space chooses)",
            )
            self.response_group.addButton(button)
            self.response_buttons[response] = button
            response_layout.addWidget(button)
        response_layout.addStretch(1)
        self.response_group.buttonToggled.connect(self._emit_changed)
        first_response = self.response_buttons[Response.ACCEPTED]
        form.addRow(
            _label("Customer's &response", first_response),
            _beside(response_row, self._problem("response", "Customer's response")),
        )
        layout.addLayout(form)
        layout.addStretch(1)

    def set_playbook(self, category: Category) -> None:
        """One button per remedy the playbook suggests for this failure type."""
        for button in self.playbook_buttons:
            button.deleteLater()
        self.playbook_buttons = []
        for index, (remedy, text) in enumerate(PLAYBOOK_REMEDIES[category], start=1):
            button = QPushButton(f"+ {REMEDY_LABELS[remedy]}: {text}")
            _name(
                button,
                f"playbookRemedy{index}",
                f"Add {REMEDY_LABELS[remedy].lower()}: {text}",
                f"Add this remedy to the list (Tab to it, Space). Playbook for {category.label.lower()}",
            )
            button.setStyleSheet("text-align: left; padding: 4px 10px;")
            button.clicked.connect(lambda _c=False, r=remedy, t=text: self.add_remedy(r, t))
            self.playbook_layout.addWidget(button)
            self.playbook_buttons.append(button)

    def add_remedy(self, kind: Remedy, note: str, amount: str = "", *, focus: bool = True) -> RemedyRow:
        """Add a remedy to the list; the focus goes where the supervisor types next."""
        row = RemedyRow(next(self._row_numbers), kind, note, amount)
        row.changed.connect(self._emit_changed)
        row.removeRequested.connect(self._remove)
        self.rows.append(row)
        self.rows_layout.addWidget(row)
        row.show()  # now, not on the layout's next turn: the focus and the row's shortcut need it shown
        self.empty_hint.setVisible(False)
        self.rowsChanged.emit()
        self.changed.emit()
        if focus:
            target = row.amount if kind.costs_money else row.note
            target.setFocus(Qt.FocusReason.OtherFocusReason)
        return row

    def _remove(self, row: RemedyRow) -> None:
        if row not in self.rows:
            return
        index = self.rows.index(row)
        self.rows.remove(row)
        row.hide()
        row.deleteLater()
        self.empty_hint.setVisible(not self.rows)
        self.rowsChanged.emit()
        self.changed.emit()
        following = self.rows[min(index, len(self.rows) - 1)].type_combo if self.rows else self.first_field()
        following.setFocus(Qt.FocusReason.OtherFocusReason)

    def fields(self) -> dict[str, Any]:
        """Remedies, the promised date (ISO, '' when none) and the response ('' until given)."""
        promised = self.promised.date()
        response = next((r.value for r, b in self.response_buttons.items() if b.isChecked()), "")
        return {
            "remedies": [row.value() for row in self.rows],
            "promised_date": "" if promised == NO_PROMISED_DATE else promised.toString(Qt.DateFormat.ISODate),
            "response": response,
        }

    def load(self, fields: dict[str, Any]) -> None:
        """Show stored fields."""
        for row in self.rows:
            row.hide()
            row.deleteLater()
        self.rows = []
        for raw in fields.get("remedies") or []:
            try:
                kind = Remedy(str(raw.get("type")))
            except (ValueError, AttributeError):
                kind = Remedy.OTHER
            self.add_remedy(kind, str(raw.get("note") or ""), str(raw.get("amount") or ""), focus=False)
        self.empty_hint.setVisible(not self.rows)
        stored = str(fields.get("promised_date") or "")
        promised = QDate.fromString(stored, Qt.DateFormat.ISODate) if stored else NO_PROMISED_DATE
        self.promised.setDate(promised if promised.isValid() else NO_PROMISED_DATE)
        try:
            response: Response | None = Response(str(fields.get("response")))
        except ValueError:
            response = None
        if response is None:
            _uncheck_all(self.response_group)
        else:
            self.response_buttons[response].setChecked(True)
        self.rowsChanged.emit()

    def first_field(self) -> QWidget:
        """The first playbook suggestion."""
        return self.playbook_buttons[0] if self.playbook_buttons else self.add_button

    def tab_chain(self) -> list[QWidget]:
        """Suggestions, the list, the goodwill gesture, the date, the answer."""
        controls: list[QWidget] = [*self.playbook_buttons, self.add_button]
        for row in self.rows:
            controls.extend(row.controls())
        if self.gesture_box is not None:
            controls.extend(self.gesture_box.tab_chain())
        return [*controls, self.promised, *self.response_buttons.values()]

    def check(self, now: datetime) -> dict[str, str]:
        """Amounts that are not amounts, and a promised date in the past."""
        problems: dict[str, str] = {}
        for index, row in enumerate(self.rows):
            reason = row.amount_problem()
            if reason:
                problems[f"amount{index}"] = reason
        promised = self.promised.date()
        local = now.astimezone()
        if promised != NO_PROMISED_DATE and promised < QDate(local.year, local.month, local.day):
            problems["promised_date"] = "The promised date is in the past."
        return problems

    def problem_labels(self) -> dict[str, ProblemLabel]:
        """The page's labels and one per remedy amount."""
        labels = dict(self.problems)
        for index, row in enumerate(self.rows):
            labels[f"amount{index}"] = row.problem
        return labels


class FollowUpPage(StepPage):
    """Follow up: schedule it (or say why none is needed); when it has happened, record the outcome."""

    step = Step.FOLLOW_UP

    def __init__(self, now_fn: Callable[[], datetime]) -> None:
        super().__init__()
        self._now = now_fn
        self.scheduled: FollowUpState | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        plan_caption = QLabel("Plan the follow-up")
        plan_caption.setObjectName("followUpPlanCaption")
        bold = QFont(self.font())
        bold.setBold(True)
        plan_caption.setFont(bold)
        layout.addWidget(plan_caption)

        form = _form()
        self.due = DateTimeEdit()
        _name(
            self.due,
            "followUpDue",
            "Follow up at",
            "When to contact the customer again, in your local time; Alt+Down opens a calendar",
        )
        self.due.setCalendarPopup(True)
        self.due.setDisplayFormat("ddd d MMM yyyy  HH:mm")
        self.due.setMaximumWidth(280)
        self.due.dateTimeChanged.connect(self._emit_changed)
        form.addRow(_label("Follow up &at", self.due), _beside(self.due, self._problem("due_at", "Follow up at")))
        self.channel = QComboBox()
        _name(self.channel, "followUpChannel", "Follow-up channel", "How to contact the customer")
        for channel in Channel:
            self.channel.addItem(channel.label, channel.value)
        self.channel.setMaximumWidth(280)
        self.channel.currentIndexChanged.connect(self._emit_changed)
        self.schedule_button = QPushButton("&Schedule follow-up")
        _name(self.schedule_button, "followUpSchedule", "Schedule follow-up", "Schedule the follow-up (Alt+S)")
        form.addRow(
            _label("Chann&el", self.channel),
            _beside(self.channel, self._problem("channel", "Channel"), self.schedule_button),
        )
        self.reason = _line(
            "followUpNoneReason",
            "No follow-up needed because",
            "Only when no follow-up is needed: say why",
            "No follow-up needed because…",
        )
        self.none_button = QPushButton("&No follow-up needed")
        _name(
            self.none_button,
            "followUpNotNeeded",
            "No follow-up needed",
            "Record that no follow-up is needed, with the reason (Alt+N)",
        )
        form.addRow(
            _label("Or, &because", self.reason),
            _beside(self.reason, self._problem("reason", "No follow-up reason"), self.none_button),
        )
        layout.addLayout(form)

        self.list = QListWidget()
        _name(self.list, "followUpList", "Follow-ups", "Follow-ups of this case, oldest first")
        self.list.setMaximumHeight(self.list.fontMetrics().lineSpacing() * 4 + 12)
        self.list.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        list_caption = QLabel("Follow-ups")
        list_caption.setObjectName("followUpListCaption")
        list_caption.setBuddy(self.list)
        layout.addWidget(list_caption)
        layout.addWidget(self.list)

        self.outcome_box = QFrame()
        self.outcome_box.setObjectName("followUpOutcome")
        self.outcome_box.setAccessibleName("Outcome of the follow-up")
        self.outcome_box.setFrameShape(QFrame.Shape.StyledPanel)
        outcome = QVBoxLayout(self.outcome_box)
        self.outcome_title = QLabel()
        self.outcome_title.setObjectName("followUpOutcomeTitle")
        self.outcome_title.setWordWrap(True)
        self.outcome_title.setFont(bold)
        outcome.addWidget(self.outcome_title)
        outcome_form = _form()
        self.csat = QComboBox()
        _name(self.csat, "followUpCsat", "Satisfaction (CSAT)", "How satisfied the customer is, 1 to 5")
        self.csat.addItem("not answered", None)
        for number, word in enumerate(CSAT_LABELS, start=1):
            self.csat.addItem(f"{number} {word}", number)
        self.nps = QComboBox()
        _name(
            self.nps,
            "followUpNps",
            "Likelihood to recommend (NPS)",
            "How likely the customer is to recommend us, 0 to 10",
        )
        self.nps.addItem("not answered", None)
        for number in range(11):
            word = {0: " not at all likely", 10: " extremely likely"}.get(number, "")
            self.nps.addItem(f"{number}{word}", number)
        self.comment = _line("followUpComment", "Outcome comment", "What the customer said", "What the customer said")
        solved_row = QWidget()
        solved_layout = QHBoxLayout(solved_row)
        solved_layout.setContentsMargins(0, 0, 0, 0)
        self.solved_group = QButtonGroup(self)
        self.solved_yes = QRadioButton("Yes, solved")
        _name(self.solved_yes, "followUpSolvedYes", "Problem solved: yes", "The problem is solved: close the case")
        self.solved_no = QRadioButton("No, not solved")
        _name(
            self.solved_no,
            "followUpSolvedNo",
            "Problem solved: no",
            "Not solved: the case goes back to the queue, reopened, with its whole history",
        )
        for button in (self.solved_yes, self.solved_no):
            self.solved_group.addButton(button)
            solved_layout.addWidget(button)
        solved_layout.addStretch(1)
        self.record_button = QPushButton("Record &outcome")
        _name(self.record_button, "followUpRecord", "Record outcome", "Record the follow-up's outcome (Alt+O)")
        outcome_form.addRow(_label("CSA&T", self.csat), _beside(self.csat, self._problem("csat", "CSAT")))
        outcome_form.addRow(_label("N&PS", self.nps), _beside(self.nps, self._problem("nps", "NPS")))
        outcome_form.addRow(_label("Co&mment", self.comment), self.comment)
        outcome_form.addRow(
            _label("Problem solved?", self.solved_yes),
            _beside(solved_row, self._problem("solved", "Problem solved"), self.record_button),
        )
        outcome.addLayout(outcome_form)
        layout.addWidget(self.outcome_box)
        self.outcome_box.hide()
        layout.addStretch(1)
        self.reset_due()

    def reset_due(self) -> None:
        """The suggested time: tomorrow at 10:00 local."""
        tomorrow = self._now().astimezone() + timedelta(days=1)
        self.due.setDateTime(
            QDateTime(QDate(tomorrow.year, tomorrow.month, tomorrow.day), QTime(10, 0))  # local time
        )

    def due_at(self) -> datetime:
        """The chosen time as aware UTC."""
        return datetime.fromtimestamp(self.due.dateTime().toSecsSinceEpoch(), tz=UTC)

    def chosen_channel(self) -> Channel:
        """The chosen channel."""
        return Channel(self.channel.currentData())

    def fields(self) -> dict[str, Any]:
        """The planned time (aware UTC, ISO) and channel, kept as a draft until scheduled."""
        return {"due_at": self.due_at().isoformat(), "channel": self.chosen_channel().value}

    def load(self, fields: dict[str, Any]) -> None:
        """Show stored fields."""
        try:
            due = datetime.fromisoformat(str(fields.get("due_at"))) if fields.get("due_at") else None
        except ValueError:
            due = None
        if due is not None and due.tzinfo is not None:
            self.due.setDateTime(QDateTime.fromSecsSinceEpoch(int(due.timestamp())))
        else:
            self.reset_due()
        index = self.channel.findData(str(fields.get("channel") or Channel.PHONE.value))
        self.channel.setCurrentIndex(max(index, 0))

    def show_follow_ups(self, follow_ups: list[FollowUpState]) -> None:
        """List the follow-ups; offer the outcome form for the first one still scheduled."""
        self.list.clear()
        for item in follow_ups:
            if item.status == "scheduled" and item.due_at is not None:
                text = f"Scheduled: {_local(item.due_at)} by {Channel(item.channel or 'other').label.lower()}"
            elif item.status == "not_needed":
                text = f"Not needed: {item.reason or ''}"
            else:
                scores = ", ".join(
                    part
                    for part in (
                        f"CSAT {item.csat}" if item.csat is not None else "",
                        f"NPS {item.nps}" if item.nps is not None else "",
                    )
                    if part
                )
                solved = "solved" if item.solved else "not solved"
                when = _local(item.done_at) if item.done_at else ""
                text = f"Done {when}: {solved}" + (f" ({scores})" if scores else "")
            self.list.addItem(text)
        if not follow_ups:
            self.list.addItem("None yet.")
        scheduled = next((f for f in follow_ups if f.status == "scheduled"), None)
        if scheduled is not None and (self.scheduled is None or self.scheduled.id != scheduled.id):
            self.csat.setCurrentIndex(0)
            self.nps.setCurrentIndex(0)
            self.comment.clear()
            _uncheck_all(self.solved_group)
        self.scheduled = scheduled
        if scheduled is not None and scheduled.due_at is not None:
            channel = Channel(scheduled.channel or "other").label.lower()
            self.outcome_title.setText(
                f"Record the outcome of the follow-up due {_local(scheduled.due_at)} ({channel})"
            )
        self.outcome_box.setVisible(scheduled is not None)

    def outcome_problems(self) -> dict[str, str]:
        """What the outcome form lacks before it can be recorded."""
        if self.solved_group.checkedButton() is None:
            return {"solved": "Say whether the problem is solved."}
        return {}

    def first_field(self) -> QWidget:
        """The outcome when a follow-up is waiting for one, else the time to schedule."""
        return self.csat if self.scheduled is not None else self.due

    def tab_chain(self) -> list[QWidget]:
        """Schedule (or not), the list, then the outcome."""
        return [
            self.due,
            self.channel,
            self.schedule_button,
            self.reason,
            self.none_button,
            self.list,
            self.csat,
            self.nps,
            self.comment,
            self.solved_yes,
            self.solved_no,
            self.record_button,
        ]

    def due_problem(self, now: datetime) -> dict[str, str]:
        """A follow-up must be after now."""
        if self.due_at() <= now:
            return {"due_at": "A follow-up must be scheduled after now."}
        return {}

    def check(self, now: datetime) -> dict[str, str]:
        """The planned time, while nothing is scheduled yet (once it is, that time passing is no problem)."""
        return self.due_problem(now) if self.scheduled is None else {}


# -- the panel ----------------------------------------------------------------------------------------------------
class WorkflowPanel(QWidget):
    """Guides a supervisor through the five steps of one claimed escalation, saving every change as it is typed."""

    message = Signal(str, str)  # text, kind: info, success, warning, error
    caseFinished = Signal(int)  # closed, or reopened back into the queue: the panel can be cleared
    stateChanged = Signal(object)  # the WorkflowState after each successful operation

    def __init__(
        self,
        service: WorkflowService,
        runner: TaskRunner,
        actor: Actor,
        parent: QWidget | None = None,
        *,
        autosave_ms: int = AUTOSAVE_MS,
        autosave_max_ms: int = AUTOSAVE_MAX_WAIT_MS,
        now_fn: Callable[[], datetime] = utcnow,
        goodwill: GoodwillService | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("workflowPanel")
        self.setAccessibleName("Workflow")
        self.service = service
        self.goodwill = goodwill if goodwill is not None else GoodwillService(service.db)
        self.runner = runner
        self.actor = actor
        self._now = now_fn
        self._case_id: int | None = None
        self._customer_name = ""
        self._history_hint = ""
        self._state: WorkflowState | None = None
        self._shown: Step = Step.LISTEN
        self._generation = 0  # bumped when the case changes: late results for an earlier case are not shown
        self._loading = False
        self._finished = False
        # Saving: the revision each step's next save is based on, the fields as of that revision, which steps
        # differ on screen from what is stored, which are being saved, which wait for an edit before autosaving
        # again (after a refusal), and what to do once a step is saved.
        self._base: dict[Step, int] = {}
        self._known: dict[Step, dict[str, Any]] = {}
        self._dirty: set[Step] = set()
        self._in_flight: set[Step] = set()
        self._held: set[Step] = set()
        self._prefilled: set[Step] = set()
        self._waiters: dict[Step, list[Callable[[], None]]] = {}
        self._moving = False  # a complete or go-to is on its way: a repeated keystroke is not a second one

        self.pages: dict[Step, StepPage] = {
            Step.LISTEN: ListenPage(),
            Step.GATHER: GatherPage(),
            Step.APOLOGIZE: ApologizePage(),
            Step.PROPOSE: ProposePage(self._build_gesture_box()),
            Step.FOLLOW_UP: FollowUpPage(now_fn),
        }
        for step, page in self.pages.items():
            page.changed.connect(lambda s=step: self._edited(s))

        self._autosave = QTimer(self)
        self._autosave.setObjectName("workflowAutosave")
        self._autosave.setSingleShot(True)
        self._autosave.setInterval(autosave_ms)
        self._autosave.timeout.connect(self._autosave_now)
        # The pause timer restarts with every keystroke, so steady typing would never save; this one starts at the
        # first unsaved change and is not restarted.
        self._autosave_deadline = QTimer(self)
        self._autosave_deadline.setObjectName("workflowAutosaveDeadline")
        self._autosave_deadline.setSingleShot(True)
        self._autosave_deadline.setInterval(autosave_max_ms)
        self._autosave_deadline.timeout.connect(self._autosave_now)
        self._clock = QTimer(self)
        self._clock.setObjectName("workflowCallTimer")
        self._clock.setInterval(1000)
        self._clock.timeout.connect(self.tick)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(8)
        layout.addWidget(self._build_header())
        layout.addWidget(self._build_story_editor())
        layout.addWidget(self._build_stepper())
        self.body = QStackedWidget()
        self.body.setObjectName("workflowBody")
        self.placeholder = QLabel("No case open. Claim an escalation from the queue to work on it here.")
        self.placeholder.setObjectName("workflowPlaceholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.body.addWidget(self.placeholder)
        self.body.addWidget(self._build_work_area())
        layout.addWidget(self.body, 1)
        layout.addWidget(self._build_footer())
        self._build_actions()
        self.pages[Step.PROPOSE].rowsChanged.connect(self._set_tab_order)  # type: ignore[attr-defined]
        self._connect_follow_up()
        self._set_tab_order()
        self._show_nothing()

    # -- building ------------------------------------------------------------------------------------------------
    def _build_gesture_box(self) -> GoodwillSuggestionBox:
        """The Propose step's suggested goodwill gesture; it loads when the step is shown."""
        self.gesture_box = GoodwillSuggestionBox(self.goodwill, self.runner, self.actor)
        self.gesture_box.message.connect(self.message)
        self.gesture_box.actionChanged.connect(lambda _enabled, _text: self._sync_gesture_action())
        return self.gesture_box

    def _build_header(self) -> QWidget:
        header = QWidget()
        header.setObjectName("workflowHeader")
        row = QHBoxLayout(header)
        row.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel()
        self.title.setObjectName("workflowTitle")
        self.title.setAccessibleName("Case")
        big = QFont(self.font())
        big.setBold(True)
        big.setPointSizeF(big.pointSizeF() * 1.25)
        self.title.setFont(big)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_label = QLabel()
        self.status_label.setObjectName("workflowStatus")
        self.status_label.setAccessibleName("Case status")
        self.timer_label = QLabel()
        self.timer_label.setObjectName("workflowTimer")
        self.timer_label.setAccessibleName("Call timer")
        self.timer_label.setToolTip("How long you have had this case")
        mono = QFont(self.font())
        mono.setStyleHint(QFont.StyleHint.Monospace)
        mono.setFamilies(["DejaVu Sans Mono", "monospace"])
        self.timer_label.setFont(mono)
        self.story_button = QPushButton("Mark as story…")
        keys = _keys(STORY_KEY)
        _name(
            self.story_button,
            "workflowStoryButton",
            "Mark as story",
            f"Mark this case as a win or a woe for the shift huddle ({keys})",
        )
        self.story_button.clicked.connect(self.open_story_editor)
        row.addWidget(self.title, 1)
        row.addWidget(self.status_label)
        row.addSpacing(16)
        row.addWidget(self.timer_label)
        row.addSpacing(16)
        row.addWidget(self.story_button)
        return header

    def _build_story_editor(self) -> QWidget:
        self.story_editor = QFrame()
        self.story_editor.setObjectName("workflowStoryEditor")
        self.story_editor.setAccessibleName("Story for the huddle")
        self.story_editor.setFrameShape(QFrame.Shape.StyledPanel)
        row = QHBoxLayout(self.story_editor)
        row.setContentsMargins(6, 4, 6, 4)
        self.story_kind = QComboBox()
        _name(self.story_kind, "storyKind", "Story kind", "A win (went well) or a woe (went badly)")
        self.story_kind.addItem("★ Win", "win")
        self.story_kind.addItem("✗ Woe", "woe")
        self.story_text = _line(
            "storyText", "Story", "The story in one line (Enter saves, Esc cancels)", "The story in one line"
        )
        self.story_text.setMaxLength(300)
        self.story_text.returnPressed.connect(self.save_story)
        self.story_problem = ProblemLabel("storyProblem", "Story")
        self.story_save = QPushButton("Save story")
        _name(self.story_save, "storySave", "Save story", "Save the story (Enter)")
        self.story_save.clicked.connect(self.save_story)
        self.story_cancel = QPushButton("Cancel")
        _name(self.story_cancel, "storyCancel", "Cancel story", "Close without saving (Esc)")
        self.story_cancel.clicked.connect(self.close_story_editor)
        escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self.story_editor)
        escape.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        escape.activated.connect(self.close_story_editor)
        row.addWidget(QLabel("Story:"))
        row.addWidget(self.story_kind)
        row.addWidget(self.story_text, 1)
        row.addWidget(self.story_problem)
        row.addWidget(self.story_save)
        row.addWidget(self.story_cancel)
        self.story_editor.hide()
        return self.story_editor

    def _build_stepper(self) -> QWidget:
        stepper = QWidget()
        stepper.setObjectName("workflowStepper")
        stepper.setAccessibleName("Steps")
        row = QHBoxLayout(stepper)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        self.step_buttons: dict[Step, QPushButton] = {}
        for step in Step:
            button = QPushButton()
            button.setObjectName(f"stepButton{step.number}")
            button.setToolTip(f"Go to step {step.number}, {step.label} (Alt+{step.number})")
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            button.clicked.connect(lambda _c=False, s=step: self.go_to(s))
            self.step_buttons[step] = button
            row.addWidget(button)
        return stepper

    def _build_work_area(self) -> QWidget:
        work = QWidget()
        work.setObjectName("workflowWork")
        row = QHBoxLayout(work)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(12)

        left = QVBoxLayout()
        self.purpose = QLabel()
        self.purpose.setObjectName("workflowPurpose")
        self.purpose.setAccessibleName("What this step is for")
        self.purpose.setWordWrap(True)
        purpose_font = QFont(self.font())
        purpose_font.setBold(True)
        purpose_font.setPointSizeF(purpose_font.pointSizeF() * 1.1)
        self.purpose.setFont(purpose_font)
        left.addWidget(self.purpose)
        left.addWidget(self._build_displaced())
        self.stack = QStackedWidget()
        self.stack.setObjectName("workflowPages")
        for step, page in self.pages.items():
            page.setObjectName(f"{step.value}Page")
            page.setAccessibleName(f"Step {step.number}: {step.label}")
            scroll = QScrollArea()
            scroll.setObjectName(f"{step.value}Scroll")
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QFrame.Shape.NoFrame)
            scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            scroll.setWidget(page)
            self.stack.addWidget(scroll)
        left.addWidget(self.stack, 1)
        row.addLayout(left, 1)

        side = QVBoxLayout()
        self.cues_box = QFrame()
        self.cues_box.setObjectName("cuesBox")
        self.cues_box.setAccessibleName("Keep it calm")
        self.cues_box.setFrameShape(QFrame.Shape.StyledPanel)
        self.cues_box.setAutoFillBackground(True)
        self.cues_box.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        self.cues_box.setFixedWidth(SIDE_WIDE)
        cues_layout = QVBoxLayout(self.cues_box)
        caption = QLabel("Keep it calm")
        caption.setObjectName("cuesCaption")
        bold = QFont(self.font())
        bold.setBold(True)
        caption.setFont(bold)
        self.cues = QLabel()
        self.cues.setObjectName("cuesText")
        self.cues.setAccessibleName("De-escalation cues")
        self.cues.setWordWrap(True)
        self.cues.setTextFormat(Qt.TextFormat.PlainText)
        cues_layout.addWidget(caption)
        cues_layout.addWidget(self.cues)
        side.addWidget(self.cues_box)
        self.read_back_button = QPushButton("Read back")
        keys = _keys(READ_BACK_KEY)
        _name(
            self.read_back_button,
            "workflowReadBack",
            "Read back",
            f"Fill the box with a summary to read back to the customer ({keys})",
        )
        self.read_back_button.setText(f"Read back ({keys})")
        self.read_back_button.clicked.connect(self.read_back)
        self.read_back_box = QPlainTextEdit()
        _name(
            self.read_back_box,
            "workflowReadBackBox",
            "Read-back summary",
            "What to repeat to the customer, from what is on screen now",
        )
        self.read_back_box.setReadOnly(True)
        self.read_back_box.setTabChangesFocus(True)
        self.read_back_box.setFixedWidth(SIDE_WIDE)
        self.read_back_box.setPlaceholderText("Press Read back to summarise what the customer said.")
        self.read_back_box.setMaximumHeight(self.read_back_box.fontMetrics().lineSpacing() * 12 + 14)
        side.addWidget(self.read_back_button)
        side.addWidget(self.read_back_box)
        side.addStretch(1)
        row.addLayout(side)
        return work

    def _build_displaced(self) -> QWidget:
        """Where our own text goes when another supervisor's version replaces it: nothing typed is lost."""
        self.displaced = QFrame()
        self.displaced.setObjectName("workflowDisplaced")
        self.displaced.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self.displaced)
        layout.setContentsMargins(6, 4, 6, 4)
        top = QHBoxLayout()
        self.displaced_caption = QLabel()
        self.displaced_caption.setObjectName("workflowDisplacedCaption")
        self.displaced_caption.setWordWrap(True)
        self.displaced_dismiss = QPushButton("Dismiss")
        _name(
            self.displaced_dismiss,
            "workflowDisplacedDismiss",
            "Dismiss your unsaved text",
            "Hide your unsaved text once you have added what you need",
        )
        self.displaced_dismiss.clicked.connect(self.displaced.hide)
        top.addWidget(self.displaced_caption, 1)
        top.addWidget(self.displaced_dismiss)
        layout.addLayout(top)
        self.displaced_text = QPlainTextEdit()
        _name(
            self.displaced_text,
            "workflowDisplacedText",
            "Your unsaved text",
            "Your version, which was not saved because someone else saved first; copy what you need",
        )
        self.displaced_text.setReadOnly(True)
        self.displaced_text.setTabChangesFocus(True)
        self.displaced_text.setMaximumHeight(self.displaced_text.fontMetrics().lineSpacing() * 4 + 14)
        layout.addWidget(self.displaced_text)
        self.displaced.hide()
        return self.displaced

    def _build_footer(self) -> QWidget:
        footer = QWidget()
        footer.setObjectName("workflowFooter")
        row = QHBoxLayout(footer)
        row.setContentsMargins(0, 0, 0, 0)
        self.save_status = QLabel()
        self.save_status.setObjectName("workflowSaveStatus")
        self.save_status.setAccessibleName("Save status")
        self.save_status.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.resolve_button = QPushButton()
        keys = _keys(RESOLVE_KEYS[0])
        _name(
            self.resolve_button,
            "workflowResolve",
            "Resolve",
            f"The remedy is agreed: resolve the case; it leaves the queue ({keys})",
        )
        self.resolve_button.setText(f"Resolve ({keys})")
        self.resolve_button.clicked.connect(self.resolve)
        self.complete_button = QPushButton()
        keys = _keys(COMPLETE_KEYS[0])
        _name(
            self.complete_button,
            "workflowComplete",
            "Complete step and continue",
            f"Save, mark this step done and go on to the next ({keys})",
        )
        self.complete_button.setText(f"Complete step and continue ({keys})")
        bold = QFont(self.font())
        bold.setBold(True)
        self.complete_button.setFont(bold)
        self.complete_button.clicked.connect(self.complete_step)
        row.addWidget(self.save_status, 1)
        row.addWidget(self.resolve_button)
        row.addWidget(self.complete_button)
        return footer

    def _build_actions(self) -> None:
        """Panel-wide shortcuts: they work wherever the focus is inside the panel."""

        def action(name: str, text: str, keys: Sequence[str], slot: Callable[[], None]) -> QAction:
            act = QAction(text, self)
            act.setObjectName(name)
            act.setShortcuts([QKeySequence(k) for k in keys])
            act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            act.setToolTip(f"{text} ({_keys(keys[0])})")
            act.triggered.connect(slot)
            self.addAction(act)
            return act

        self.complete_action = action("workflowCompleteAction", "Complete step", COMPLETE_KEYS, self.complete_step)
        self.resolve_action = action("workflowResolveAction", "Resolve", RESOLVE_KEYS, self.resolve)
        self.read_back_action = action("workflowReadBackAction", "Read back", (READ_BACK_KEY,), self.read_back)
        self.story_action = action("workflowStoryAction", "Mark as story", (STORY_KEY,), self.open_story_editor)
        self.gesture_action = action(
            "workflowGestureAction", "Record goodwill gesture", (GESTURE_KEY,), self.gesture_box.record
        )
        self.step_actions = [
            action(f"workflowStep{step.number}Action", f"Go to {step.label}", (f"Alt+{step.number}",), self._goer(step))
            for step in Step
        ]

    def _goer(self, step: Step) -> Callable[[], None]:
        return lambda: self.go_to(step)

    def _sync_gesture_action(self) -> None:
        """The gesture's shortcut works on the Propose step while its button does; the menu says what it does."""
        action = getattr(self, "gesture_action", None)
        if action is None:  # the box reports before the actions are built
            return
        box = self.gesture_box
        action.setEnabled(
            box.can_record() and self._shown is Step.PROPOSE and self._state is not None and not self._finished
        )
        action.setText("Request goodwill approval" if box.needs_approval() else "Record goodwill gesture")
        action.setToolTip(f"{action.text()} ({_keys(GESTURE_KEY)})")

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Narrow the cues column on a narrow panel, so the fields keep their room."""
        width = SIDE_WIDE if event.size().width() >= NARROW_PANEL else SIDE_NARROW
        if self.cues_box.width() != width:
            self.cues_box.setFixedWidth(width)
            self.read_back_box.setFixedWidth(width)
        super().resizeEvent(event)

    def _connect_follow_up(self) -> None:
        page = self._follow_up_page()
        page.schedule_button.clicked.connect(self.schedule_follow_up)
        page.none_button.clicked.connect(self.no_follow_up)
        page.reason.returnPressed.connect(self.no_follow_up)
        page.record_button.clicked.connect(self.record_outcome)

    def _set_tab_order(self) -> None:
        chain: list[QWidget] = []
        for page in self.pages.values():
            chain.extend(page.tab_chain())
        chain += [
            self.displaced_text,
            self.displaced_dismiss,
            self.resolve_button,
            self.complete_button,
            self.read_back_button,
            self.read_back_box,
            self.story_button,
            *self.step_buttons.values(),
        ]
        _chain(chain)

    def _propose_page(self) -> ProposePage:
        page = self.pages[Step.PROPOSE]
        assert isinstance(page, ProposePage)
        return page

    def _follow_up_page(self) -> FollowUpPage:
        page = self.pages[Step.FOLLOW_UP]
        assert isinstance(page, FollowUpPage)
        return page

    # -- the case ------------------------------------------------------------------------------------------------
    def current_case(self) -> int | None:
        """The escalation shown in the panel, once it has loaded (None while it opens): typing can start."""
        return self._case_id if self._state is not None else None

    def state(self) -> WorkflowState | None:
        """The workflow as last reported by the service."""
        return self._state

    def shown_step(self) -> Step:
        """The step whose page is on screen."""
        return self._shown

    def open_case(self, escalation_id: int, customer_name: str, history_hint: str = "") -> None:
        """Open (or resume) a claimed escalation at its current step; earlier edits of another case are saved."""
        if self._case_id is not None:
            self.close_case()
        self._generation += 1
        self._case_id = escalation_id
        self._customer_name = customer_name
        self._history_hint = history_hint.strip()
        self._reset_tracking()
        self.title.setText(f"#{escalation_id} · {customer_name}")
        self.placeholder.setText(f"Opening #{escalation_id}…")
        self.body.setCurrentIndex(0)
        service, actor = self.service, self.actor
        self._run(lambda: service.open(actor, escalation_id), self._opened, None, opening=True)

    def close_case(self) -> None:
        """Save what is pending, then show no case."""
        if self._case_id is None:
            return
        self.flush()
        self._generation += 1
        self._case_id = None
        self._state = None
        self._reset_tracking()
        self._show_nothing()

    def flush(self) -> None:
        """Save every pending edit now (before switching case or closing the window); returns once queued."""
        self._stop_autosave()
        if self._case_id is None or self._finished:
            return
        for step in list(self._dirty):  # not a mere pre-fill: saving it would start that step's clock
            if step not in self._held:
                self._save(step)

    def _reset_tracking(self) -> None:
        self._stop_autosave()
        self._clock.stop()
        self._finished = False
        self._base.clear()
        self._known.clear()
        self._dirty.clear()
        self._in_flight.clear()
        self._held.clear()
        self._prefilled.clear()
        self._waiters.clear()
        self._moving = False
        self.displaced.hide()
        self.close_story_editor()
        self.read_back_box.clear()
        self.gesture_box.clear()

    def _show_nothing(self) -> None:
        self._loading = True
        try:
            for page in self.pages.values():
                page.load({})
                page.show_problems({})
        finally:
            self._loading = False
        self.title.setText("No case open")
        self.status_label.clear()
        self.timer_label.setText("On this case —")
        self.placeholder.setText("No case open. Claim an escalation from the queue to work on it here.")
        self.body.setCurrentIndex(0)
        self.save_status.clear()
        for step, button in self.step_buttons.items():
            button.setText(f"{step.number} {step.label}")
            button.setAccessibleName(f"Step {step.number}, {step.label}")
            button.setEnabled(False)
        for widget in (self.complete_button, self.resolve_button, self.story_button, self.read_back_button):
            widget.setEnabled(False)
        for act in (
            self.complete_action,
            self.resolve_action,
            self.read_back_action,
            self.story_action,
            self.gesture_action,
        ):
            act.setEnabled(False)
        for act in self.step_actions:
            act.setEnabled(False)

    def _opened(self, state: WorkflowState) -> None:
        self._loading = True
        try:
            for step, page in self.pages.items():
                stored = state.step(step)
                page.load(stored.fields)
                page.show_problems({})
                self._base[step] = stored.revision
                self._known[step] = dict(stored.fields)
            gather = state.step(Step.GATHER).fields
            if self._history_hint and not str(gather.get("tried") or "").strip():
                # Pre-filled from the contact history, saved with the step's first save (not before: saving would
                # start the Gather step's clock while the supervisor is still listening).
                self.pages[Step.GATHER].tried.setPlainText(self._history_hint)  # type: ignore[attr-defined]
                self._prefilled.add(Step.GATHER)
            self.pages[Step.APOLOGIZE].set_suggestion(state.category, state.product)  # type: ignore[attr-defined]
            self._propose_page().set_playbook(state.category)
        finally:
            self._loading = False
        self._set_tab_order()
        self.stack.setEnabled(True)
        self.body.setCurrentIndex(1)
        for act in (self.complete_action, self.resolve_action, self.read_back_action, self.story_action):
            act.setEnabled(True)
        for act in self.step_actions:
            act.setEnabled(True)
        for widget in (self.complete_button, self.story_button, self.read_back_button):
            widget.setEnabled(True)
        self._apply_state(state, show=state.current)
        self._clock.start()
        self.tick()
        self.save_status.setText("All changes saved")
        self._focus_first()  # the supervisor starts typing at once

    # -- state -----------------------------------------------------------------------------------------------------
    def _apply_state(self, state: WorkflowState, *, show: Step | None = None) -> None:
        """Take in a state from the service: steps saved by someone else are shown unless we have edits."""
        self._state = state
        for step, stored in state.steps.items():
            if stored.revision <= self._base.get(step, 0) or step in self._in_flight:
                continue
            if step not in self._dirty and stored.fields != self._known.get(step, {}):
                self._load_step(step, stored.fields)
            if step not in self._dirty:
                self._base[step] = stored.revision
                self._known[step] = dict(stored.fields)
        category = state.category.label
        self.title.setText(f"#{state.escalation_id} · {self._customer_name} · {category}")
        self.title.setAccessibleDescription(self.title.text())
        self._follow_up_page().show_follow_ups(state.follow_ups)
        self._show_status(state)
        if show is not None:
            self._show_step(show)
        self._show_stepper()
        self.stateChanged.emit(state)
        if state.status in (Status.CLOSED, Status.REOPENED):
            self._finish(state)

    def _load_step(self, step: Step, fields: dict[str, Any]) -> None:
        self._loading = True
        try:
            self.pages[step].load(fields)
        finally:
            self._loading = False
        self._set_tab_order()

    def _show_status(self, state: WorkflowState) -> None:
        texts = {
            Status.CLAIMED: "Claimed by you",
            Status.RESOLVED: "✔ Resolved · follow-up pending",
            Status.CLOSED: "✔ Closed",
            Status.REOPENED: "↩ Back in the queue (reopened)",
            Status.OPEN: "In the queue",
        }
        self.status_label.setText(texts[state.status])
        resolvable = state.status is Status.CLAIMED
        self.resolve_button.setEnabled(resolvable)
        self.resolve_action.setEnabled(resolvable)

    def _show_step(self, step: Step) -> None:
        arriving = step is Step.PROPOSE and (
            self._shown is not Step.PROPOSE or self.gesture_box.case_id() != self._case_id
        )
        self._shown = step
        if arriving and self._case_id is not None:
            self.gesture_box.load(self._case_id)  # fresh each time the step opens: budgets move all day
        self._sync_gesture_action()
        self.stack.setCurrentIndex(list(Step).index(step))
        guide = GUIDES[step]
        self.purpose.setText(f"{step.number}. {step.label}: {guide.purpose}")
        self.cues.setText("\n".join(f"• {cue}" for cue in guide.cues))
        self.cues.setAccessibleDescription(" ".join(guide.cues))
        last = step.next() is None
        keys = _keys(COMPLETE_KEYS[0])
        self.complete_button.setText(f"Complete follow-up ({keys})" if last else f"Complete step and continue ({keys})")

    def _show_stepper(self) -> None:
        state = self._state
        if state is None:
            return
        for step, button in self.step_buttons.items():
            done = state.step(step).done
            current = step is self._shown
            text = f"{step.number} {step.label}" + (" ✔" if done else "")
            button.setText(f"▶ {text}" if current else text)
            font = QFont(self.font())
            font.setBold(current)
            button.setFont(font)
            where = (
                "current step"
                if current
                else ("done" if done else "not started" if not state.step(step).started_at else "started")
            )
            if current and done:
                where = "current step, done"
            button.setAccessibleName(f"Step {step.number}, {step.label}: {where}")
            button.setEnabled(not self._finished)

    def _focus_first(self) -> None:
        target = self.pages[self._shown].first_field()
        if target.isEnabled():
            target.setFocus(Qt.FocusReason.OtherFocusReason)

    def tick(self) -> None:
        """Move the call timer to now."""
        claimed = self._state.claimed_at if self._state is not None else None
        if claimed is None or self._finished:
            if self._finished:
                self._clock.stop()
            else:
                self.timer_label.setText("On this case —")
            return
        seconds = int((self._now() - claimed).total_seconds())
        self.timer_label.setText(f"On this case {format_timer(seconds)}")

    def _finish(self, state: WorkflowState) -> None:
        """Closed or back in the queue: nothing more to do here; the lead's window may clear the panel."""
        self._finished = True
        self._stop_autosave()
        self._clock.stop()
        self.stack.setEnabled(False)
        for widget in (self.complete_button, self.resolve_button):
            widget.setEnabled(False)
        for act in (self.complete_action, self.resolve_action):
            act.setEnabled(False)
        for act in self.step_actions:
            act.setEnabled(False)
        self._sync_gesture_action()
        self._show_stepper()
        self.caseFinished.emit(state.escalation_id)

    # -- saving ----------------------------------------------------------------------------------------------------
    def _edited(self, step: Step) -> None:
        if self._loading or self._case_id is None or self._finished:
            return
        self._dirty.add(step)
        self._held.discard(step)  # the supervisor typed again: autosave may go on (also after a conflict)
        self.pages[step].clear_fixed(self._now())
        self.save_status.setText("Unsaved changes…")
        self._autosave.start()
        if not self._autosave_deadline.isActive():
            self._autosave_deadline.start()

    def _stop_autosave(self) -> None:
        self._autosave.stop()
        self._autosave_deadline.stop()

    def _autosave_now(self) -> None:
        self._stop_autosave()
        for step in list(self._dirty):
            if step not in self._held:
                self._save(step)

    def _save(self, step: Step) -> bool:
        """Save one step's fields unless the screen shows a problem; False when it cannot be saved as it is."""
        case_id = self._case_id
        if case_id is None or self._finished:
            return False
        page = self.pages[step]
        problems = page.check(self._now())
        if problems:
            page.show_problems(problems)
            self.save_status.setText(f"⚠ Not saved: {step.label} has a field to fix")
            return False
        if step in self._in_flight:
            return True  # saved again when this one returns (the step stays dirty)
        fields = page.fields()
        base = self._base.get(step, 0)
        self._dirty.discard(step)
        self._in_flight.add(step)
        self.save_status.setText("Saving…")
        generation = self._generation
        service, actor = self.service, self.actor

        def saved(stored: StepState) -> None:
            self._in_flight.discard(step)
            if generation != self._generation:
                return
            self._base[step] = stored.revision
            self._known[step] = dict(stored.fields)
            self._prefilled.discard(step)
            if self._state is not None:
                self._state = replace(self._state, steps={**self._state.steps, step: stored})
                self.stateChanged.emit(self._state)
            if step in self._dirty and step not in self._held:
                if not self._save(step):  # typed again while this save ran, and that text has a problem
                    self._drop_waiters(step)
                return
            if not self._dirty and not self._in_flight:
                self.save_status.setText("All changes saved")
            for then in self._waiters.pop(step, []):
                then()

        def refused(error: BaseException) -> None:
            self._in_flight.discard(step)
            self._drop_waiters(step)
            if generation != self._generation:
                self.message.emit(f"#{case_id}, {step.label}: not saved. {error}", "error")
                return
            if isinstance(error, EditConflict):
                self._take_theirs(step, fields, error)
                return
            self._dirty.add(step)  # the screen still differs from what is stored
            self._held.add(step)  # no retry until the supervisor changes something
            if isinstance(error, ValidationError) and page.show_problem(error.field, str(error)):
                self.save_status.setText(f"⚠ Not saved: {step.label} has a field to fix")
                return
            self.save_status.setText(f"⚠ Not saved: {error}")
            self.message.emit(str(error), "error")

        self.runner.write(lambda: service.save(actor, case_id, step, fields, base), saved, refused)
        return True

    def _take_theirs(self, step: Step, mine: dict[str, Any], error: EditConflict) -> None:
        """Someone saved first: show their text, keep ours beside it, and wait for an edit before saving again."""
        current = error.current
        self._dirty.discard(step)
        self._held.add(step)
        self._base[step] = current.revision
        self._known[step] = dict(current.fields)
        self._load_step(step, current.fields)
        if self._state is not None:
            self._state = replace(self._state, steps={**self._state.steps, step: current})
        lines = [
            f"{FIELD_LABELS.get(key, key)}: {_readable(value)}"
            for key, value in mine.items()
            if value not in (None, "", []) and value != current.fields.get(key)
        ]
        if lines:
            self.displaced_caption.setText(
                f"Your {step.label} text was not saved because {current.updated_by or 'someone'} saved first. "
                "It is kept here: add what you need to the fields."
            )
            self.displaced_text.setPlainText("\n".join(lines))
            self.displaced.show()
        self.save_status.setText(f"⚠ {step.label}: showing {current.updated_by or 'the other'}'s text")
        self.message.emit(str(error), "warning")

    def _drop_waiters(self, step: Step) -> None:
        """The step could not be saved: what waited for it waits for the supervisor instead."""
        if self._waiters.pop(step, None):
            self._moving = False

    def _when_saved(self, step: Step, then: Callable[[], None]) -> None:
        """Run ``then`` once the step's fields on screen are stored (at once when they are)."""
        self._stop_autosave()
        for other in list(self._dirty):
            if other is not step and other not in self._held:
                self._save(other)
        if step in self._dirty or step in self._prefilled or step in self._in_flight:
            self._waiters.setdefault(step, []).append(then)
            if step not in self._in_flight and not self._save(step):
                self._drop_waiters(step)
                self.message.emit(f"{step.label}: fix the field marked ⚠ first; nothing was saved.", "warning")
            return
        then()

    # -- operations ----------------------------------------------------------------------------------------------
    def _run(
        self,
        job: Callable[[], T],
        done: Callable[[T], None],
        page: StepPage | None,
        *,
        opening: bool = False,
        moving: bool = False,
    ) -> None:
        """Run a service call on the write lane; a refusal is shown beside its field, or as a message."""
        generation = self._generation
        case_id = self._case_id

        def succeeded(result: T) -> None:
            if generation == self._generation:
                if moving:
                    self._moving = False
                done(result)

        def failed(error: BaseException) -> None:
            if generation != self._generation:
                return
            if moving:
                self._moving = False
            if opening:
                self._case_id = None
                self._show_nothing()
                self.placeholder.setText(f"Could not open #{case_id}: {error}")
                self.message.emit(str(error), "error")
                return
            if not isinstance(error, ConsoleError):
                self.message.emit(f"Something went wrong: {error}", "error")
                return
            if isinstance(error, ValidationError) and page is not None:
                page.show_problem(error.field, str(error))
            self.message.emit(str(error), "warning" if isinstance(error, ValidationError) else "error")

        self.runner.write(job, succeeded, failed)

    def complete_step(self) -> None:
        """Save the step on screen, mark it done and move on to the next (Ctrl+Return)."""
        case_id = self._case_id
        if case_id is None or self._state is None or self._finished or self._moving:
            return
        step = self._shown
        service, actor = self.service, self.actor
        self._moving = True

        def completed(state: WorkflowState) -> None:
            following = step.next()
            self._apply_state(state, show=following or step)
            self._focus_first()
            if following is None:
                self.message.emit(f"#{case_id}: all five steps are done.", "success")

        self._when_saved(
            step,
            lambda: self._run(lambda: service.complete(actor, case_id, step), completed, self.pages[step], moving=True),
        )

    def go_to(self, step: Step) -> None:
        """Show a step (Alt+1 … Alt+5); its start time is kept from the first visit."""
        case_id = self._case_id
        if case_id is None or self._state is None or self._finished or self._moving:
            return
        if step is self._shown:
            self._focus_first()
            return
        self._autosave_now()  # edits of the step being left go first (the write lane keeps the order)
        service, actor = self.service, self.actor
        self._moving = True

        def arrived(state: WorkflowState) -> None:
            self._apply_state(state, show=step)
            self._focus_first()

        self._run(lambda: service.go_to(actor, case_id, step), arrived, None, moving=True)

    def resolve(self) -> None:
        """The remedy is agreed: resolve the case (Ctrl+Shift+Return); it needs a completed proposal."""
        case_id = self._case_id
        if case_id is None or self._state is None or self._finished:
            return
        service, actor = self.service, self.actor

        def resolved(state: WorkflowState) -> None:
            self._apply_state(state, show=state.current)
            self._focus_first()
            self.message.emit(
                f"#{case_id} is resolved and has left the queue. Now schedule the follow-up (Alt+S), "
                "or say why none is needed (Alt+N).",
                "success",
            )

        self._when_saved(
            self._shown,
            lambda: self._run(lambda: service.resolve(actor, case_id), resolved, self._propose_page()),
        )

    def schedule_follow_up(self) -> None:
        """Schedule the follow-up at the chosen local time and channel (Alt+S)."""
        case_id = self._case_id
        if case_id is None or self._finished:
            return
        page = self._follow_up_page()
        problems = page.due_problem(self._now())
        page.show_problems(problems)
        if problems:
            self.message.emit(f"Follow-up not scheduled: {problems['due_at']}", "warning")
            return
        due, channel = page.due_at(), page.chosen_channel()
        service, actor = self.service, self.actor

        def scheduled(state: WorkflowState) -> None:
            self._apply_state(state)
            self.message.emit(f"Follow-up scheduled for {_local(due)} by {channel.label.lower()}.", "success")

        self._when_saved(
            Step.FOLLOW_UP,
            lambda: self._run(lambda: service.schedule_follow_up(actor, case_id, due, channel), scheduled, page),
        )

    def no_follow_up(self) -> None:
        """Record that no follow-up is needed, and why (Alt+N)."""
        case_id = self._case_id
        if case_id is None or self._finished:
            return
        page = self._follow_up_page()
        reason = page.reason.text().strip()
        if not reason:
            page.show_problem("reason", "Say why no follow-up is needed.")
            page.reason.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        if self._state is not None and self._state.status is Status.CLAIMED:
            # Resolving comes first: the service closes a resolved case without a follow-up, not a claimed one.
            page.show_problem("reason", f"Resolve the case first ({_keys(RESOLVE_KEYS[0])}), then record this.")
            return
        page.show_problems({})
        service, actor = self.service, self.actor

        def recorded(state: WorkflowState) -> None:
            page.reason.clear()
            closed = state.status is Status.CLOSED
            text = f"#{case_id}: no follow-up needed" + (", so the case is closed." if closed else ".")
            self.message.emit(text, "success")
            self._apply_state(state)

        self._run(lambda: service.no_follow_up(actor, case_id, reason), recorded, page)

    def record_outcome(self) -> None:
        """Record the follow-up's outcome (Alt+O). Not solved puts the case back in the queue."""
        case_id = self._case_id
        page = self._follow_up_page()
        follow_up = page.scheduled
        if case_id is None or self._finished or follow_up is None:
            return
        problems = page.outcome_problems()
        page.show_problems(problems)
        if problems:
            page.solved_yes.setFocus(Qt.FocusReason.OtherFocusReason)
            self.message.emit("Say whether the problem is solved, then record the outcome.", "warning")
            return
        csat, nps = page.csat.currentData(), page.nps.currentData()
        solved = page.solved_yes.isChecked()
        comment = page.comment.text()
        service, actor = self.service, self.actor

        def recorded(state: WorkflowState) -> None:
            if state.status is Status.REOPENED:
                self.message.emit(
                    f"#{case_id} went back to the queue, reopened: the problem is not solved. "
                    "It keeps its whole history for whoever claims it next.",
                    "warning",
                )
            elif state.status is Status.CLOSED:
                self.message.emit(f"#{case_id} is closed: the customer confirmed it is solved.", "success")
            else:
                self.message.emit(f"#{case_id}: outcome recorded.", "success")
            self._apply_state(state)

        self._run(
            lambda: service.record_outcome(actor, follow_up.id, csat=csat, nps=nps, comment=comment, solved=solved),
            recorded,
            page,
        )

    def read_back(self) -> None:
        """Fill the read-back box from what is on screen now, saved or not (Ctrl+R)."""
        state = self._state
        if state is None:
            return
        steps = dict(state.steps)
        for step in (Step.LISTEN, Step.GATHER):
            steps[step] = replace(steps[step], fields={**steps[step].fields, **self.pages[step].fields()})
        self.read_back_box.setPlainText(read_back(replace(state, steps=steps), self._customer_name))
        self.read_back_box.setAccessibleDescription(self.read_back_box.toPlainText())

    # -- story ---------------------------------------------------------------------------------------------------
    def open_story_editor(self) -> None:
        """Show the one-line story editor (Ctrl+Shift+S)."""
        if self._case_id is None:
            return
        self.story_problem.clear_problem()
        self.story_editor.show()
        self.story_text.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def close_story_editor(self) -> None:
        """Hide the story editor; the focus goes back to the step."""
        had_focus = self.story_editor.isAncestorOf(self.focusWidget()) if self.focusWidget() else False
        self.story_editor.hide()
        self.story_text.clear()
        self.story_problem.clear_problem()
        if had_focus and self._case_id is not None:
            self._focus_first()

    def save_story(self) -> None:
        """Mark the case as a win or a woe for the huddle."""
        case_id = self._case_id
        if case_id is None:
            return
        kind, text = str(self.story_kind.currentData()), self.story_text.text()
        if not text.strip():
            self.story_problem.show_problem("Say the story in one line.")
            return
        service, actor = self.service, self.actor

        def saved(_nothing: None) -> None:
            self.close_story_editor()
            self.message.emit(f"#{case_id} marked as a {kind} for the shift huddle.", "success")

        def refused(error: BaseException) -> None:
            self.story_problem.show_problem(str(error))

        generation = self._generation

        def refused_here(error: BaseException) -> None:
            if generation == self._generation:
                refused(error)

        self.runner.write(
            lambda: service.mark_story(actor, case_id, kind, text),
            lambda result: saved(result) if generation == self._generation else None,
            refused_here,
        )
