"""The very first start on an empty database: create the first manager account."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from console.accounts import MIN_PASSWORD_LENGTH, AccountService
from console.actor import Actor
from console.errors import ConsoleError


class FirstRunDialog(QDialog):
    """Creates the first manager; ``actor`` holds the new account after Accepted."""

    def __init__(self, accounts: AccountService, *, database: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("firstRunDialog")
        self.setWindowTitle("Set up Supervisor Console")
        self.setAccessibleName("Create the first manager account")
        self._accounts = accounts
        self.actor: Actor | None = None

        intro = QLabel(
            "This database has no accounts yet. Create the first <b>manager</b>: managers add the other "
            f"supervisors and managers, set SLA targets and budgets.<br>Database: {database}"
        )
        intro.setWordWrap(True)
        intro.setAccessibleName("About this step")
        self.username = self._field("Username", "lower-case letters, digits, '.', '_' or '-' (Alt+U)")
        self.display_name = self._field("Full name", "Shown on screen and in the audit log (Alt+F)")
        self.password = self._field("Password", f"At least {MIN_PASSWORD_LENGTH} characters (Alt+P)", secret=True)
        self.repeat = self._field("Repeat password", "Type the password again (Alt+R)", secret=True)
        form = QFormLayout()
        for text, field in (
            ("&Username", self.username),
            ("&Full name", self.display_name),
            ("&Password", self.password),
            ("&Repeat password", self.repeat),
        ):
            label = QLabel(text)
            label.setBuddy(field)
            form.addRow(label, field)
        self.message = QLabel("")
        self.message.setObjectName("firstRunMessage")
        self.message.setAccessibleName("Message")
        self.message.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.create_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.create_button.setText("Create manager")
        self.create_button.setAccessibleName("Create manager")
        self.create_button.setToolTip("Create the account and sign in (Enter)")
        cancel = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setAccessibleName("Cancel")
        cancel.setToolTip("Quit without creating an account (Esc)")
        buttons.accepted.connect(self._create)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.username.setFocus()

    def _field(self, name: str, tip: str, *, secret: bool = False) -> QLineEdit:
        field = QLineEdit()
        field.setAccessibleName(name)
        field.setToolTip(tip)
        field.setObjectName("firstRun" + name.title().replace(" ", ""))
        if secret:
            field.setEchoMode(QLineEdit.EchoMode.Password)
        return field

    def _create(self) -> None:
        if self.password.text() != self.repeat.text():
            self.message.setText("⚠ The passwords do not match.")
            self.repeat.setFocus()
            return
        try:
            # One small local write before any window exists; nothing else is waiting on the GUI thread.
            self.actor = self._accounts.create_first_manager(
                self.username.text(), self.display_name.text(), self.password.text()
            )
        except ConsoleError as exc:
            self.message.setText(f"⚠ {exc}")
            return
        self.accept()
