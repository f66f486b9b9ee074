"""Sign-in dialog: username and password, checked off the GUI thread, with the wait after repeated failures."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from console.accounts import AccountService
from console.actor import Actor
from console.errors import AuthenticationFailed, ConsoleError
from widgets.tasks import TaskRunner


class LoginDialog(QDialog):
    """Asks who is signing in; ``actor`` holds the result after ``exec()`` returns Accepted.

    ``meanwhile`` runs once on the GUI thread while the first password check runs on its worker (the start uses it
    to import the main window then, rather than before the dialog could appear).
    """

    def __init__(
        self,
        accounts: AccountService,
        *,
        username: str = "",
        database: str = "",
        parent: QWidget | None = None,
        meanwhile: Callable[[], object] | None = None,
    ) -> None:
        super().__init__(parent)
        self._meanwhile = meanwhile
        self.setObjectName("loginDialog")
        self.setWindowTitle("Sign in — Supervisor Console")
        self.setAccessibleName("Sign in to Supervisor Console")
        self._accounts = accounts
        self._runner = TaskRunner(self._show_error, self)
        self.actor: Actor | None = None

        heading = QLabel("<b>Sign in</b>")
        heading.setAccessibleName("Sign in")
        where = QLabel(f"Database: {database}" if database else "")
        where.setAccessibleName("Database in use")
        where.setWordWrap(True)

        self.username = QLineEdit(username)
        self.username.setObjectName("loginUsername")
        self.username.setAccessibleName("Username")
        self.username.setToolTip("Your username (Alt+U)")
        self.password = QLineEdit()
        self.password.setObjectName("loginPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Password")
        self.password.setToolTip("Your password (Alt+P)")

        form = QFormLayout()
        user_label = QLabel("&Username")
        user_label.setBuddy(self.username)
        pass_label = QLabel("&Password")
        pass_label.setBuddy(self.password)
        form.addRow(user_label, self.username)
        form.addRow(pass_label, self.password)

        self.message = QLabel("")
        self.message.setObjectName("loginMessage")
        self.message.setAccessibleName("Sign-in message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.sign_in = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.sign_in.setText("Sign in")
        self.sign_in.setObjectName("loginSignIn")
        self.sign_in.setAccessibleName("Sign in")
        self.sign_in.setToolTip("Sign in (Enter)")
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setAccessibleName("Cancel")
        cancel.setToolTip("Quit without signing in (Esc)")
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(where)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.setTabOrder(self.username, self.password)
        self.setTabOrder(self.password, self.sign_in)
        (self.password if username else self.username).setFocus()

        self._unlock = QTimer(self)
        self._unlock.setSingleShot(True)
        self._unlock.timeout.connect(self._enable)

    def _submit(self) -> None:
        username, password = self.username.text(), self.password.text()
        if not username.strip() or not password:
            self._show_message("Enter your username and password.")
            return
        self._set_busy(True)
        self._show_message("Checking…")
        self._runner.write(lambda: self._accounts.authenticate(username, password), self._signed_in)
        meanwhile, self._meanwhile = self._meanwhile, None
        if meanwhile is not None:
            QTimer.singleShot(0, self, meanwhile)  # after "Checking…" is on screen

    def _signed_in(self, actor: Actor) -> None:
        self.actor = actor
        self._set_busy(False)
        self.accept()

    def _show_error(self, error: BaseException) -> None:
        self.password.clear()
        self.password.setFocus()
        if isinstance(error, AuthenticationFailed):
            self._show_message(f"⚠ {error}")
            if error.retry_after > 0:
                self._unlock.start(int(error.retry_after * 1000))
                return
        elif isinstance(error, ConsoleError):
            self._show_message(f"⚠ {error}")
        else:
            self._show_message(f"⚠ Unexpected error: {error}")
        self._set_busy(False)

    def _enable(self) -> None:
        self._set_busy(False)
        self._show_message("You can try again now.")

    def _set_busy(self, busy: bool) -> None:
        self.sign_in.setEnabled(not busy)
        self.username.setEnabled(not busy)
        self.password.setEnabled(not busy)
        if not busy:
            self.password.setFocus()

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setAccessibleDescription(text)

    def done(self, result: int) -> None:
        """Close, after any running check finished (its result is then ignored)."""
        self._unlock.stop()
        self._runner.shutdown()
        super().done(result)
