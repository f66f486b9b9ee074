"""Managers' account list: who can sign in, and adding a supervisor or manager."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.accounts import MIN_PASSWORD_LENGTH, AccountService, UserInfo
from console.actor import Actor
from console.domain import Role
from console.errors import ConsoleError
from widgets.tasks import TaskRunner


class AccountsDialog(QDialog):
    """Lists the active accounts and adds new ones (the service checks that the actor is a manager)."""

    def __init__(self, accounts: AccountService, runner: TaskRunner, actor: Actor, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("accountsDialog")
        self.setWindowTitle("Accounts")
        self.setAccessibleName("Accounts")
        self._accounts = accounts
        self._runner = runner
        self._actor = actor

        self.table = QTableWidget(0, 3)
        self.table.setObjectName("accountsTable")
        self.table.setAccessibleName("Accounts")
        self.table.setToolTip("Everyone who can sign in")
        self.table.setHorizontalHeaderLabels(["Username", "Name", "Role"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)

        self.username = self._field("New account: username", "lower-case letters, digits, '.', '_' or '-' (Alt+U)")
        self.display_name = self._field("New account: full name", "Shown on screen and in the audit log (Alt+N)")
        self.password = self._field("New account: password", f"At least {MIN_PASSWORD_LENGTH} characters (Alt+P)")
        self.repeat = self._field("New account: repeat password", "Type the password again (Alt+R)")
        for secret in (self.password, self.repeat):
            secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.role = QComboBox()
        self.role.setAccessibleName("New account: role")
        self.role.setToolTip("Managers also manage accounts, SLA targets and budgets (Alt+O)")
        for role in Role:
            self.role.addItem(role.label, role.value)
        self.add_button = QPushButton("Add account")
        self.add_button.setObjectName("accountsAdd")
        self.add_button.setAccessibleName("Add account")
        self.add_button.setToolTip("Create the account (Alt+A)")
        self.add_button.setText("&Add account")
        self.add_button.clicked.connect(self._add)
        self.message = QLabel("")
        self.message.setObjectName("accountsMessage")
        self.message.setAccessibleName("Message")
        self.message.setWordWrap(True)

        form = QFormLayout()
        for text, field in (
            ("&Username", self.username),
            ("Full &name", self.display_name),
            ("R&ole", self.role),
            ("&Password", self.password),
            ("&Repeat password", self.repeat),
        ):
            label = QLabel(text)
            label.setBuddy(field)
            form.addRow(label, field)
        form.addRow(self.add_button)
        form.addRow(self.message)
        group = QGroupBox("Add an account")
        group.setLayout(form)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close_button = close.button(QDialogButtonBox.StandardButton.Close)
        close_button.setAccessibleName("Close")
        close_button.setToolTip("Close (Esc)")
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(group)
        layout.addWidget(close)
        self.resize(620, 560)
        self.reload()

    def _field(self, name: str, tip: str) -> QLineEdit:
        field = QLineEdit()
        field.setAccessibleName(name)
        field.setToolTip(tip)
        return field

    def reload(self) -> None:
        """Read the accounts again, off the GUI thread."""
        self._runner.read(self._accounts.list_users, self._show_users, self._show_error)

    def _show_users(self, users: list[UserInfo]) -> None:
        self.table.setRowCount(len(users))
        for row, user in enumerate(users):
            for column, text in enumerate((user.username, user.display_name, user.role.label)):
                self.table.setItem(row, column, QTableWidgetItem(text))

    def _add(self) -> None:
        if self.password.text() != self.repeat.text():
            self._say("⚠ The passwords do not match.")
            return
        username, name, password = self.username.text(), self.display_name.text(), self.password.text()
        role = Role(self.role.currentData())
        self.add_button.setEnabled(False)
        self._runner.write(
            lambda: self._accounts.create_user(self._actor, username, name or username, password, role),
            self._added,
            self._show_error,
        )

    def _added(self, user: UserInfo) -> None:
        self.add_button.setEnabled(True)
        for field in (self.username, self.display_name, self.password, self.repeat):
            field.clear()
        self._say(f"✔ {user.display_name} ({user.username}) can now sign in as a {user.role.value}.")
        self.reload()

    def _show_error(self, error: BaseException) -> None:
        self.add_button.setEnabled(True)
        if not isinstance(error, ConsoleError):
            raise error
        self._say(f"⚠ {error}")

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.message.setAccessibleDescription(text)
