"""The Propose step's suggested goodwill gesture (issue #5): what the playbook suggests for this case and why, what
the escalating associate has left, what was already given on the case, and one button that records it (or, over the
cap or beyond what is left, asks for approval).

The box never touches the database: it asks :class:`console.goodwill.GoodwillService` on the task runner (the read
lane to load, the write lane to record) and shows what comes back on the GUI thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QKeySequence, QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from console.actor import Actor
from console.domain import Category
from console.errors import ValidationError
from console.goodwill import (
    ApprovalRequest,
    BudgetStatus,
    GestureType,
    GoodwillService,
    GrantOutcome,
    LedgerLine,
    Period,
    Suggestion,
    parse_gesture_amount,
)
from console.money import money, money_display
from widgets.problem_label import ProblemLabel
from widgets.tasks import TaskRunner

# Free everywhere in the window: Alt+W opens the Workflow menu, Alt+G is "Apology given", Alt+D is the Goodwill
# tab's "Record gesture…", and every other Alt+letter is some page's field.
GESTURE_KEY = "Ctrl+G"
AMOUNT_KEY = "Alt+M"  # the amount label's mnemonic
PERIOD_WORDS = {Period.SHIFT: "this shift", Period.WEEK: "this week", Period.MONTH: "this month"}


def _keys(sequence: str) -> str:
    return QKeySequence(sequence).toString(QKeySequence.SequenceFormat.NativeText)


def _local(moment: datetime) -> str:
    local = moment.astimezone()
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M}"


def _gesture(amount: Decimal, kind: GestureType | None) -> str:
    """``15.00 free item``."""
    return f"{money_display(amount)} {kind.label.lower() if kind else 'gesture'}"


@dataclass(frozen=True)
class CaseGoodwill:
    """Everything the box shows for one case."""

    suggestion: Suggestion
    budget: BudgetStatus | None  # None without an (active) escalating associate
    entries: list[LedgerLine]
    requests: list[ApprovalRequest]
    ceiling: Decimal


def load_case_goodwill(service: GoodwillService, escalation_id: int) -> CaseGoodwill:
    """The suggestion, the associate's budget and the gestures on the case (runs off the GUI thread)."""
    suggestion = service.suggest(escalation_id)
    budget = None
    if suggestion.associate_id is not None:
        try:
            budget = service.budgets(associate=suggestion.associate_id)[0]
        except ValidationError:  # the associate has left the floor: no budget to record against
            budget = None
    return CaseGoodwill(
        suggestion=suggestion,
        budget=budget,
        entries=service.ledger(escalation_id=escalation_id),
        requests=service.requests(status=None, escalation_id=escalation_id),
        ceiling=service.floor_settings().ceiling,
    )


def approval_reasons(amount: Decimal, budget: BudgetStatus) -> list[str]:
    """Why ``amount`` needs approval (the service's own two rules), empty when it is recorded at once."""
    reasons = []
    if amount > budget.cap:
        reasons.append(f"over the {money(budget.cap)} cap per gesture")
    if amount > budget.remaining:
        reasons.append(f"only {money(max(budget.remaining, Decimal(0)))} left {PERIOD_WORDS[budget.period]}")
    return reasons


def budget_line(budget: BudgetStatus) -> str:
    """``Ravi Menon: 30.00 of 150.00 USD left this week, cap 25.00 per gesture``."""
    period = PERIOD_WORDS[budget.period]
    if budget.remaining > 0:
        left = f"{money_display(budget.remaining)} of {money_display(budget.available, budget.currency)} left {period}"
    else:
        left = f"nothing left of {money_display(budget.available, budget.currency)} {period}"
    text = f"{budget.associate}: {left}, cap {money_display(budget.cap)} per gesture"
    if budget.pending_count:
        text += f"; {money_display(budget.pending)} waiting for approval"
    return text


def describe_outcome(outcome: GrantOutcome, kind: GestureType) -> str:
    """``Recorded: 15.00 free item, entry #12`` or ``Sent for approval, request #4: over the 25.00 cap per gesture``."""
    if outcome.granted:
        return f"Recorded: {_gesture(outcome.amount, kind)}, entry #{outcome.id}"
    return f"Sent for approval, request #{outcome.id}: {outcome.because}"


def given_lines(entries: list[LedgerLine], requests: list[ApprovalRequest]) -> list[str]:
    """What was already given or asked for on the case, newest first: so nobody gives twice."""
    lines = []
    for entry in entries:
        if entry.kind != "gesture":
            continue  # a reversal shows on the gesture it reverses
        text = f"{_gesture(entry.amount, entry.gesture_type)}: entry #{entry.id}, {_local(entry.effective_at)}"
        text += f", by {entry.recorded_by}"
        if entry.request_id is not None:
            text += f", approved (request #{entry.request_id})"
        if entry.reversed_by_id is not None:
            text += f"; reversed (entry #{entry.reversed_by_id})"
        lines.append(text)
    for request in requests:
        if request.status == "approved":
            continue  # its ledger entry is listed above
        head = f"{_gesture(request.amount, request.gesture_type)}: request #{request.id}"
        head += f", {_local(request.requested_at)}"
        if request.status == "pending":
            lines.append(f"{head}, waiting for approval ({request.because})")
        else:
            why = f": {request.decision_reason}" if request.decision_reason else ""
            lines.append(f"{head}, {request.status} by {request.decided_by or 'a supervisor'}{why}")
    return lines


class GoodwillSuggestionBox(QFrame):
    """The suggested gesture for the case on the Propose step, with one button that records it."""

    message = Signal(str, str)  # text, kind (info, success, warning, error): for the status bar
    loaded = Signal(object)  # the CaseGoodwill now shown
    recorded = Signal(object)  # the GrantOutcome of a click
    actionChanged = Signal(bool, str)  # whether recording is possible now, and what the button says

    def __init__(self, service: GoodwillService, runner: TaskRunner, actor: Actor, parent: QWidget | None = None):
        super().__init__(parent)
        self.service = service
        self.runner = runner
        self.actor = actor
        self._case_id: int | None = None
        self._data: CaseGoodwill | None = None
        self._generation = 0  # bumped when the case changes: late results for an earlier case are not shown
        self._load_serial = 0  # only the latest load is shown
        self._recording = False
        self._filling = False
        self._needs_approval = False
        self.setObjectName("goodwillSuggestion")
        self.setAccessibleName("Suggested goodwill gesture")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(6)
        bold = QFont(self.font())
        bold.setBold(True)

        caption = QLabel("Suggested goodwill gesture")
        caption.setObjectName("goodwillCaption")
        caption.setFont(bold)
        layout.addWidget(caption)

        row = QHBoxLayout()
        row.setSpacing(8)
        self.type_label = QLabel()
        self.type_label.setObjectName("goodwillType")
        self.type_label.setAccessibleName("Gesture type")
        self.type_label.setFont(bold)
        self.amount = QLineEdit()
        self.amount.setObjectName("goodwillAmount")
        self.amount.setAccessibleName("Gesture amount")
        self.amount.setToolTip(
            f"The gesture's amount, filled with the suggestion; change it if you need to ({_keys(AMOUNT_KEY)}). "
            f"Enter records it"
        )
        self.amount.setPlaceholderText("0.00")
        self.amount.setMaximumWidth(110)
        self.amount.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.amount.textChanged.connect(self._amount_edited)
        self.amount.returnPressed.connect(self.record)
        amount_label = QLabel("a&mount")
        amount_label.setObjectName("goodwillAmountLabel")
        amount_label.setBuddy(self.amount)
        self.currency_label = QLabel()
        self.currency_label.setObjectName("goodwillCurrency")
        self.record_button = QPushButton()
        self.record_button.setObjectName("goodwillRecord")
        self.record_button.clicked.connect(self.record)
        self.problem = ProblemLabel("goodwillAmountProblem", "Gesture amount")
        self.problem.setMaximumWidth(320)
        row.addWidget(self.type_label)
        row.addWidget(amount_label)
        row.addWidget(self.amount)
        row.addWidget(self.currency_label)
        row.addWidget(self.record_button)
        row.addWidget(self.problem, 1)
        row.addStretch(0)
        layout.addLayout(row)

        def line(name: str, accessible: str) -> QLabel:
            label = QLabel()
            label.setObjectName(name)
            label.setAccessibleName(accessible)
            label.setWordWrap(True)
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            layout.addWidget(label)
            return label

        self.approval_note = line("goodwillApprovalNote", "Why it needs approval")
        italic = QFont(self.font())
        italic.setItalic(True)
        self.approval_note.setFont(italic)
        self.explanation = line("goodwillExplanation", "Why this amount")
        self.budget = line("goodwillBudget", "What the associate has left")
        self.outcome = line("goodwillOutcome", "Gesture recorded")
        self.outcome.setFont(bold)
        self.given = line("goodwillGiven", "Gestures on this case")
        self.clear()

    # -- what the panel calls -------------------------------------------------------------------------------------
    def case_id(self) -> int | None:
        """The case the box shows (or is loading)."""
        return self._case_id

    def data(self) -> CaseGoodwill | None:
        """What is shown, once loaded."""
        return self._data

    def tab_chain(self) -> list[QWidget]:
        """The amount, then the button."""
        return [self.amount, self.record_button]

    def can_record(self) -> bool:
        """The button would record (or ask) now."""
        return self.record_button.isEnabled()

    def needs_approval(self) -> bool:
        """The amount as it stands goes for approval (the button says "Request approval")."""
        return self._needs_approval

    def clear(self) -> None:
        """No case."""
        self._generation += 1
        self._case_id = None
        self._data = None
        self._recording = False
        self._fill_amount("")
        self.type_label.setText("Gesture")
        self.currency_label.clear()
        self.problem.clear_problem()
        self._set_text(self.explanation, "")
        self._set_text(self.budget, "")
        self._set_text(self.outcome, "")
        self._set_text(self.given, "")
        self.approval_note.hide()
        self.amount.setEnabled(False)
        self._set_button(False, needs_approval=False)

    def load(self, escalation_id: int) -> None:
        """Show the suggestion for ``escalation_id`` (loaded off the GUI thread)."""
        if escalation_id != self._case_id:
            self.clear()
            self._case_id = escalation_id
            self._set_text(self.explanation, "Working out a suggestion…")
        self._reload()

    def refresh(self) -> None:
        """Load the shown case's goodwill again (after a change elsewhere: an approval, another gesture)."""
        if self._case_id is not None and not self._recording:
            self._reload(keep_typed=True)

    def record(self) -> None:
        """Record the gesture against the case, or ask for approval (Ctrl+G); a bad amount is refused beside it."""
        data = self._data
        if data is None or self._recording or not self.record_button.isEnabled():
            return
        suggestion = data.suggestion
        try:
            amount = parse_gesture_amount(self.amount.text().strip(), data.ceiling)
        except ValidationError as error:
            self.problem.show_problem(str(error))
            self.amount.setFocus(Qt.FocusReason.OtherFocusReason)
            self.message.emit(f"Gesture not recorded: {error}", "warning")
            return
        self.problem.clear_problem()
        self._recording = True
        self._set_text(self.outcome, "Recording…")
        generation, case_id = self._generation, suggestion.escalation_id
        service, actor = self.service, self.actor
        associate = suggestion.associate_id
        assert associate is not None  # the button is disabled without one
        # "other" needs words; the playbook has none for it, so say where the gesture comes from.
        words = f"Playbook suggestion on escalation #{case_id}" if suggestion.reason_code == Category.OTHER else None

        def grant() -> GrantOutcome:
            return service.grant(
                actor,
                associate=associate,
                amount=amount,
                gesture_type=suggestion.gesture_type,
                reason_code=suggestion.reason_code,
                reason_text=words,
                escalation_id=case_id,
            )

        def done(outcome: GrantOutcome) -> None:
            text = describe_outcome(outcome, suggestion.gesture_type)
            if generation != self._generation:
                self.message.emit(f"#{case_id}: {text}", "success" if outcome.granted else "info")
                return
            self._recording = False
            self._set_text(self.outcome, text)
            self.message.emit(f"#{case_id}: {text}", "success" if outcome.granted else "info")
            self.recorded.emit(outcome)
            self._reload()  # what is left shrinks; the list shows the new gesture

        def failed(error: BaseException) -> None:
            if generation != self._generation:
                self.message.emit(f"#{case_id}: gesture not recorded. {error}", "error")
                return
            self._recording = False
            self._set_text(self.outcome, "")
            if isinstance(error, ValidationError) and error.field == "amount":
                self.problem.show_problem(str(error))
                self.amount.setFocus(Qt.FocusReason.OtherFocusReason)
            else:
                self._set_text(self.outcome, f"⚠ Not recorded: {error}")
            self.message.emit(f"Gesture not recorded: {error}", "warning")

        self.runner.write(grant, done, failed)

    # -- inside -----------------------------------------------------------------------------------------------------
    def _reload(self, *, keep_typed: bool = False) -> None:
        case_id = self._case_id
        if case_id is None:
            return
        self._load_serial += 1
        serial, generation = self._load_serial, self._generation
        service = self.service

        def shown(data: CaseGoodwill) -> None:
            if generation == self._generation and serial == self._load_serial:
                self._show(data, keep_typed=keep_typed)

        def failed(error: BaseException) -> None:
            if generation == self._generation and serial == self._load_serial:
                self._set_text(self.explanation, f"⚠ No suggestion: {error}")
                self._set_button(False, needs_approval=False)

        self.runner.read(lambda: load_case_goodwill(service, case_id), shown, failed)

    def _show(self, data: CaseGoodwill, *, keep_typed: bool = False) -> None:
        before = self._data
        typed = before is not None and self.amount.text().strip() != money(before.suggestion.amount)
        self._data = data
        suggestion = data.suggestion
        self.type_label.setText(suggestion.gesture_type.label)
        self.currency_label.setText(suggestion.currency)
        if not (keep_typed and typed):  # a refresh from elsewhere leaves an amount being edited alone
            self._fill_amount(money(suggestion.amount))
            self.problem.clear_problem()
        self._set_text(self.explanation, suggestion.explanation)
        if data.budget is not None:
            self._set_text(self.budget, budget_line(data.budget))
        elif suggestion.associate is None:
            self._set_text(self.budget, "No escalating associate on this case: no budget to record it against.")
        else:
            self._set_text(
                self.budget, f"{suggestion.associate} is no longer an active associate: there is no budget to use."
            )
        lines = given_lines(data.entries, data.requests)
        if lines:
            self._set_text(self.given, "Already on this case:\n" + "\n".join(f"• {text}" for text in lines))
        else:
            self._set_text(self.given, "Nothing given on this case yet.")
        self.amount.setEnabled(data.budget is not None)
        self._update_mode()
        self.loaded.emit(data)

    def _fill_amount(self, text: str) -> None:
        self._filling = True
        try:
            self.amount.setText(text)
        finally:
            self._filling = False

    def _amount_edited(self, _text: str) -> None:
        if self._filling:
            return
        if self._parsed() is not None:
            self.problem.clear_problem()
        self._update_mode()

    def _parsed(self) -> Decimal | None:
        data = self._data
        if data is None:
            return None
        try:
            return parse_gesture_amount(self.amount.text().strip(), data.ceiling)
        except ValidationError:
            return None

    def _update_mode(self) -> None:
        data = self._data
        if data is None or data.budget is None:
            self.approval_note.hide()
            self._set_button(False, needs_approval=data is not None and data.suggestion.needs_approval)
            return
        amount = self._parsed()
        reasons = approval_reasons(amount, data.budget) if amount is not None else []
        suggested = amount == data.suggestion.amount
        needs = bool(reasons) or (suggested and data.suggestion.needs_approval)
        if needs:
            because = "; ".join(reasons) or "the suggestion needs approval"
            self._set_text(self.approval_note, f"Needs a supervisor's approval: {because}.")
        self.approval_note.setVisible(needs)
        self._set_button(True, needs_approval=needs)

    def _set_button(self, enabled: bool, *, needs_approval: bool) -> None:
        keys = _keys(GESTURE_KEY)
        text = "Request approval" if needs_approval else "Record gesture"
        self.record_button.setText(f"{text} ({keys})")
        self.record_button.setAccessibleName(text)
        tip = (
            "Send this gesture to a supervisor or manager for approval; it is recorded once approved"
            if needs_approval
            else "Record this gesture against the case, from the escalating associate's budget"
        )
        self.record_button.setToolTip(f"{tip} ({keys})")
        self.record_button.setEnabled(enabled)
        self._needs_approval = needs_approval
        self.actionChanged.emit(enabled, text)

    @staticmethod
    def _set_text(label: QLabel, text: str) -> None:
        label.setText(text)
        label.setAccessibleDescription(text)
        label.setVisible(bool(text))
