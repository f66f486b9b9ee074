"""Managers add accounts from the console; the service, not only the menu, keeps supervisors out."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from console.accounts import AccountService
from console.domain import Role
from db.engine import Database
from tests.conftest import PASSWORD, make_actor
from widgets.accounts_dialog import AccountsDialog
from widgets.tasks import TaskRunner


def _dialog(qtbot: QtBot, database: Database, role: Role) -> AccountsDialog:
    actor = make_actor(database, "mia" if role is Role.MANAGER else "sam", role)
    errors: list[BaseException] = []
    runner = TaskRunner(errors.append)
    dialog = AccountsDialog(AccountService(database), runner, actor)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1, timeout=5000)
    return dialog


def _fill(qtbot: QtBot, dialog: AccountsDialog, repeat: str = PASSWORD) -> None:
    qtbot.keyClicks(dialog.username, "alex")
    qtbot.keyClicks(dialog.display_name, "Alex Kim")
    qtbot.keyClicks(dialog.password, PASSWORD)
    qtbot.keyClicks(dialog.repeat, repeat)


def test_a_manager_adds_a_supervisor_who_can_then_sign_in(qtbot: QtBot, database: Database) -> None:
    dialog = _dialog(qtbot, database, Role.MANAGER)
    _fill(qtbot, dialog, repeat="something else")
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    assert "do not match" in dialog.message.text()
    dialog.repeat.setText(PASSWORD)
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 2, timeout=5000)
    assert "Alex Kim (alex) can now sign in as a supervisor" in dialog.message.text()
    assert dialog.password.text() == ""
    actor = AccountService(database).authenticate("alex", PASSWORD)
    assert actor.role is Role.SUPERVISOR


def test_a_supervisor_is_refused_by_the_service(qtbot: QtBot, database: Database) -> None:
    dialog = _dialog(qtbot, database, Role.SUPERVISOR)
    _fill(qtbot, dialog)
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Only a manager" in dialog.message.text(), timeout=5000)
    assert [u.username for u in AccountService(database).list_users()] == ["sam"]
