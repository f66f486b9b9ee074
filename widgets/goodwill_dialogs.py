"""Dialogs of the Goodwill panel: record a gesture, give a reason, edit a budget, adjust a budget.

Each dialog stays open while its service call runs; a refusal is shown beside the field it concerns
(``ValidationError.field``) and everything typed stays, so nothing is lost on an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.domain import Category
from console.errors import ValidationError
from console.goodwill import REASON_CODES, BudgetStatus, GestureType, Period, parse_gesture_amount, parse_reason
from console.money import money

CASE_NUMBER = re.compile(r"^#?\s*(\d+)$")


class FormDialog(QDialog):
    """A form whose fields each have a problem label beside them; ``submitted`` asks the caller to save."""

    submitted = Signal()

    def __init__(self, name: str, title: str, ok_text: str, ok_tip: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.problems: dict[str, QLabel] = {}
        self.fields: dict[str, QWidget] = {}
        self.general = QLabel()
        self.general.setObjectName(f"{name}Problem")
        self.general.setAccessibleName("Problem")
        self.general.setWordWrap(True)
        self.general.hide()
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        ok = box.button(QDialogButtonBox.StandardButton.Ok)
        assert ok is not None
        self.ok_button: QPushButton = ok
        ok.setText(ok_text)
        ok.setAccessibleName(ok_text.replace("&", ""))
        ok.setToolTip(f"{ok_tip} (Enter)")
        cancel = box.button(QDialogButtonBox.StandardButton.Cancel)
        assert cancel is not None
        cancel.setAccessibleName("Cancel")
        cancel.setToolTip("Close without changing anything (Esc)")
        box.accepted.connect(self._submit)
        box.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.general)
        layout.addWidget(box)

    def add_field(self, key: str, label: str, field: QWidget, name: str, tip: str) -> None:
        """A labelled field with its problem label under it; the label's mnemonic is named in the tooltip."""
        text = QLabel(label)
        text.setBuddy(field)
        field.setObjectName(f"{self.objectName()}_{key}")
        field.setAccessibleName(name)
        mnemonic = label.find("&")
        keys = f" (Alt+{label[mnemonic + 1].upper()})" if mnemonic >= 0 else ""
        field.setToolTip(f"{tip}{keys}")
        problem = QLabel()
        problem.setObjectName(f"{self.objectName()}_{key}Problem")
        problem.setAccessibleName(f"Problem with {name.lower()}")
        problem.setWordWrap(True)
        problem.hide()
        self.problems[key] = problem
        self.fields[key] = field
        column = QWidget()
        inner = QVBoxLayout(column)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.setSpacing(2)
        inner.addWidget(field)
        inner.addWidget(problem)
        self.form.addRow(text, column)

    def clear_problems(self) -> None:
        """Hide every problem shown so far."""
        for label in (*self.problems.values(), self.general):
            label.clear()
            label.hide()

    def show_problem(self, field: str | None, message: str) -> None:
        """Show a refusal beside its field (or under the form when no field is named); focus that field."""
        label = self.problems.get(field or "", self.general)
        label.setText(f"⛔ {message}")
        label.setAccessibleDescription(message)
        label.show()
        editor = self.fields.get(field or "")
        if editor is not None:
            editor.setFocus()

    def problem(self, field: str) -> str:
        """The problem shown beside a field ('' when none)."""
        label = self.problems[field]
        return label.text() if not label.isHidden() else ""

    def set_busy(self, busy: bool) -> None:
        """While saving, the save button waits (so a double press cannot save twice)."""
        self.ok_button.setEnabled(not busy)

    def check(self) -> bool:
        """Checks that need no database; True when the form may be submitted."""
        return True

    def _submit(self) -> None:
        self.clear_problems()
        try:
            if not self.check():
                return
        except ValidationError as error:
            self.show_problem(error.field, str(error))
            return
        self.set_busy(True)
        self.submitted.emit()


@dataclass(frozen=True)
class GestureInput:
    """What the Record gesture dialog collected."""

    associate_id: int
    customer_ref: str | None
    escalation_id: int | None
    gesture_type: GestureType
    amount: str
    reason_code: str
    reason_text: str


# The service's field names, mapped to the dialog's fields.
GESTURE_FIELDS = {"escalation": "customer", "customer": "customer", "gesture_type": "gesture_type"}


class GestureDialog(FormDialog):
    """Record a goodwill gesture for an associate: within their budget at once, otherwise for approval."""

    def __init__(
        self,
        associates: list[tuple[int, str]],
        ceiling: Decimal,
        currency: str,
        selected: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("gestureDialog", "Record a goodwill gesture", "&Record", "Record the gesture", parent)
        self._ceiling = ceiling
        self.associate = QComboBox()
        for associate_id, name in associates:
            self.associate.addItem(name, associate_id)
        if selected is not None:
            self.associate.setCurrentIndex(max(0, self.associate.findData(selected)))
        self.customer = QLineEdit()
        self.customer.setPlaceholderText("Customer reference, or a case number like #12")
        self.gesture_type = QComboBox()
        for kind in GestureType:
            self.gesture_type.addItem(kind.label, kind.value)
        self.amount = QLineEdit()
        self.amount.setPlaceholderText(f"e.g. 20.00 (at most {money(ceiling)} {currency})")
        self.reason_code = QComboBox()
        for code in REASON_CODES:
            self.reason_code.addItem(Category(code).label, code)
        self.reason_text = QPlainTextEdit()
        self.reason_text.setTabChangesFocus(True)
        self.reason_text.setPlaceholderText("What happened, in a few words (needed for 'Other')")
        self.reason_text.setFixedHeight(70)
        self.add_field("associate", "A&ssociate", self.associate, "Associate", "Whose budget the gesture comes from")
        self.add_field(
            "customer", "Customer or &case", self.customer, "Customer or case", "A customer reference or a case number"
        )
        self.add_field("gesture_type", "&Type", self.gesture_type, "Gesture type", "What the customer gets")
        self.add_field("amount", "&Amount", self.amount, "Amount", f"What it is worth in {currency}, two decimals")
        self.add_field("reason_code", "Rea&son", self.reason_code, "Reason code", "The kind of failure it makes up for")
        self.add_field("reason_text", "&Why", self.reason_text, "Reason text", "A few words on why")
        self.resize(520, self.sizeHint().height())

    def values(self) -> GestureInput:
        """The form as typed."""
        target = self.customer.text().strip()
        case = CASE_NUMBER.match(target)
        return GestureInput(
            associate_id=int(self.associate.currentData()),
            customer_ref=None if case or not target else target,
            escalation_id=int(case.group(1)) if case else None,
            gesture_type=GestureType(self.gesture_type.currentData()),
            amount=self.amount.text().strip(),
            reason_code=str(self.reason_code.currentData()),
            reason_text=self.reason_text.toPlainText(),
        )

    def check(self) -> bool:
        """Amount and reason are checked here at once; the budget and the customer by the service."""
        if self.associate.currentData() is None:
            self.show_problem("associate", "Choose the associate whose budget this comes from.")
            return False
        if not self.customer.text().strip():
            self.show_problem("customer", "Name the customer (their reference) or the case the gesture is for.")
            return False
        values = self.values()
        parse_gesture_amount(values.amount, self._ceiling)
        parse_reason(values.reason_code, values.reason_text)
        return True

    def show_problem(self, field: str | None, message: str) -> None:
        """Service field names map onto this form's fields."""
        super().show_problem(GESTURE_FIELDS.get(field or "", field), message)


class ReasonDialog(FormDialog):
    """Ask for the reason a reversal or a decline needs."""

    def __init__(self, name: str, title: str, prompt: str, ok_text: str, parent: QWidget | None = None) -> None:
        super().__init__(name, title, ok_text, title, parent)
        intro = QLabel(prompt)
        intro.setWordWrap(True)
        self.form.insertRow(0, intro)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Required; it is kept with the record")
        self.add_field("reason", "&Reason", self.reason, "Reason", "Why; kept in the audit trail")
        self.resize(460, self.sizeHint().height())

    def text(self) -> str:
        """The reason as typed."""
        return self.reason.text().strip()

    def check(self) -> bool:
        """A reason is required."""
        if not self.text():
            self.show_problem("reason", "Give a reason; it is kept with the record.")
            return False
        return True


class BudgetDialog(FormDialog):
    """A manager changes one associate's allowance, cap per gesture and period."""

    def __init__(self, status: BudgetStatus, parent: QWidget | None = None) -> None:
        super().__init__("budgetDialog", f"Budget of {status.associate}", "&Save budget", "Save the budget", parent)
        self._associate_id = status.associate_id
        source = {"floor": "the floor's default", "team": "their team's default", "associate": "their own budget"}
        intro = QLabel(f"Now from {source.get(status.rule.source, status.rule.source)}, in {status.currency}.")
        intro.setWordWrap(True)
        self.form.insertRow(0, intro)
        self.allowance = QLineEdit(money(status.allowance))
        self.cap = QLineEdit(money(status.cap))
        self.period = QComboBox()
        for period in Period:
            self.period.addItem(period.label, period.value)
        self.period.setCurrentIndex(max(0, self.period.findData(status.period.value)))
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Required; kept in the audit trail")
        # Where the new budget applies: the narrowest scope first, so a slip never changes the whole floor.
        self.scope = QComboBox()
        self._team = status.team
        self.scope.addItem(f"Only {status.associate}", "associate")
        if status.team:
            self.scope.addItem(f"Team default: {status.team}", "team")
        self.scope.addItem("Floor default: everyone without a team or own budget", "floor")
        self.add_field(
            "scope",
            "&Applies to",
            self.scope,
            "Applies to",
            "This associate's own budget, their team's default, or the floor's default (an own budget wins)",
        )
        self.add_field("allowance", "A&llowance", self.allowance, "Allowance", "What the associate may give per period")
        self.add_field("cap", "&Cap per gesture", self.cap, "Cap per gesture", "The largest gesture without approval")
        self.add_field("period", "&Period", self.period, "Period", "How often the allowance starts afresh")
        self.add_field("reason", "&Reason", self.reason, "Reason", "Why the budget changes")
        self.resize(460, self.sizeHint().height())

    def scope_arguments(self) -> dict[str, object]:
        """The scope as GoodwillService.set_budget takes it: associate=…, team=…, or neither for the floor."""
        kind = self.scope.currentData()
        if kind == "associate":
            return {"associate": self._associate_id}
        if kind == "team":
            return {"team": self._team}
        return {}

    def check(self) -> bool:
        """A reason is required."""
        if not self.reason.text().strip():
            self.show_problem("reason", "A budget change needs a reason.")
            return False
        return True


class AdjustDialog(FormDialog):
    """A manager adds to (or takes from) an associate's budget for the current period."""

    def __init__(self, status: BudgetStatus, parent: QWidget | None = None) -> None:
        super().__init__("adjustDialog", f"Adjust {status.associate}'s budget", "&Adjust", "Adjust the budget", parent)
        intro = QLabel(
            f"Adds to this period's allowance ({money(status.available)} {status.currency} now); "
            "a minus sign takes away."
        )
        intro.setWordWrap(True)
        self.form.insertRow(0, intro)
        self.amount = QLineEdit()
        self.amount.setPlaceholderText("e.g. 50.00 or -20.00")
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Required; kept in the audit trail")
        self.add_field("amount", "A&mount", self.amount, "Adjustment amount", "Signed amount, two decimals")
        self.add_field("reason", "&Reason", self.reason, "Reason", "Why the budget changes")
        self.resize(460, self.sizeHint().height())

    def check(self) -> bool:
        """A reason is required; the amount is checked by the service."""
        if not self.reason.text().strip():
            self.show_problem("reason", "An adjustment needs a reason.")
            return False
        return True
