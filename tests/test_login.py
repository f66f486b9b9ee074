"""Sign-in, first run and start-up errors, driven through the real dialogs with qtbot."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtWidgets import QAbstractButton, QApplication, QLineEdit, QMessageBox
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from console.accounts import AccountService
from console.domain import Role
from db.engine import Database
from db.models import Shift
from tests.conftest import PASSWORD, make_actor
from widgets.first_run_dialog import FirstRunDialog
from widgets.login_dialog import LoginDialog


def test_sign_in_with_the_keyboard(qtbot: QtBot, database: Database) -> None:
    make_actor(database, "sam")
    dialog = LoginDialog(AccountService(database), username="sam", database=database.description)
    qtbot.addWidget(dialog)
    with qtbot.waitExposed(dialog):
        dialog.show()
    assert dialog.focusWidget() is dialog.password  # the username was given, so the password has focus
    qtbot.keyClicks(dialog.password, PASSWORD)
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    assert dialog.actor is not None
    assert dialog.actor.username == "sam"
    assert dialog.actor.role is Role.SUPERVISOR


def test_wrong_password_is_refused_and_repeated_failures_lock_the_dialog(qtbot: QtBot, database: Database) -> None:
    make_actor(database, "sam")
    dialog = LoginDialog(AccountService(database), username="sam")
    qtbot.addWidget(dialog)
    dialog.show()
    for attempt in range(3):
        dialog.password.setText(f"wrong-{attempt}")
        qtbot.mouseClick(dialog.sign_in, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "Wrong username or password" in dialog.message.text(), timeout=5000)
        if attempt < 2:
            qtbot.waitUntil(dialog.sign_in.isEnabled, timeout=5000)
            dialog.message.clear()
    # The third failure starts a wait: the button stays disabled and the message says so with a marker.
    assert dialog.message.text().startswith("⚠")
    assert not dialog.sign_in.isEnabled()
    assert dialog.result() == 0
    assert dialog.actor is None


def test_every_control_is_named_for_screen_readers(qtbot: QtBot, database: Database) -> None:
    for dialog in (LoginDialog(AccountService(database)), FirstRunDialog(AccountService(database))):
        qtbot.addWidget(dialog)
        controls = dialog.findChildren(QLineEdit) + dialog.findChildren(QAbstractButton)
        assert controls
        for control in controls:
            assert control.accessibleName(), f"{control!r} has no accessible name"
            assert control.toolTip(), f"{control.accessibleName()} has no tooltip"


def test_first_run_creates_the_first_manager(qtbot: QtBot, database: Database) -> None:
    accounts = AccountService(database)
    assert not accounts.has_users()
    dialog = FirstRunDialog(accounts, database=database.description)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.username, "mia")
    qtbot.keyClicks(dialog.display_name, "Mia Manager")
    qtbot.keyClicks(dialog.password, PASSWORD)
    qtbot.keyClicks(dialog.repeat, PASSWORD + "x")
    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    assert "do not match" in dialog.message.text()
    assert not accounts.has_users()
    dialog.repeat.setText(PASSWORD)
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    assert dialog.actor is not None
    assert dialog.actor.role is Role.MANAGER
    assert accounts.authenticate("mia", PASSWORD).display_name == "Mia Manager"


def _close_message_boxes(seen: list[str]) -> None:
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QMessageBox) and widget.isVisible():
            seen.append(widget.text())
            widget.accept()


def test_a_corrupt_database_is_a_dialog_and_one_line_not_a_traceback(
    qtbot: QtBot, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from widgets.app import run_gui

    corrupt = tmp_path / "corrupt.sqlite3"
    corrupt.write_bytes(b"this is not a database" * 200)
    before = corrupt.read_bytes()
    seen: list[str] = []
    timer = QTimer()
    timer.timeout.connect(lambda: _close_message_boxes(seen))
    timer.start(50)
    args = argparse.Namespace(db=f"sqlite:///{corrupt}", demo=False, seed=None, login=False, user=None)
    code = run_gui(args)
    timer.stop()
    assert code == 1
    assert seen
    assert "not a Supervisor Console database" in seen[0]
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("error: ")
    assert "Traceback" not in err[0]
    assert corrupt.read_bytes() == before


def _shifts(database: Database) -> int:
    with database.read() as session:
        return int(session.scalar(select(func.count()).select_from(Shift)) or 0)


def _gui_args(database: Database) -> argparse.Namespace:
    url = database.url.render_as_string(hide_password=False)
    return argparse.Namespace(db=url, demo=False, seed=None, login=False, user=None)


def test_signing_in_from_the_environment_opens_the_window_built_meanwhile_and_starts_the_shift(
    qtbot: QtBot, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from widgets.app import ENV_AUTOLOGIN, run_gui
    from widgets.main_window import MainWindow

    make_actor(database, "sam")
    monkeypatch.setenv(ENV_AUTOLOGIN, f"sam:{PASSWORD}")
    seen: list[MainWindow] = []

    def close_when_ready() -> None:
        for widget in QApplication.topLevelWidgets():
            # The shift starts once the password has been checked.
            if isinstance(widget, MainWindow) and widget.isVisible() and widget.queue.has_loaded and _shifts(database):
                seen.append(widget)
                widget.close()

    timer = QTimer()
    timer.timeout.connect(close_when_ready)
    timer.start(50)
    code = run_gui(_gui_args(database))
    timer.stop()
    assert code == 0
    assert len(seen) == 1
    assert seen[0].actor.username == "sam"
    assert ENV_AUTOLOGIN not in os.environ  # no child process inherits the password
    assert _shifts(database) == 1


def test_a_wrong_password_from_the_environment_fails_the_start_and_the_window_built_meanwhile_is_dropped(
    qtbot: QtBot, database: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from widgets.app import ENV_AUTOLOGIN, run_gui
    from widgets.main_window import MainWindow

    make_actor(database, "sam")
    monkeypatch.setenv(ENV_AUTOLOGIN, "sam:not-the-password")
    seen: list[str] = []
    shown: list[MainWindow] = []
    before = {id(w) for w in QApplication.topLevelWidgets()}

    def watch() -> None:
        shown.extend(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible())
        _close_message_boxes(seen)

    timer = QTimer()
    timer.timeout.connect(watch)
    timer.start(20)
    code = run_gui(_gui_args(database))
    timer.stop()
    assert code != 0
    assert seen
    assert "Wrong username or password" in seen[0]
    assert capsys.readouterr().err.strip().startswith("error: ")
    assert not shown  # the window built during the check was never shown
    assert _shifts(database) == 0  # nor did it start a shift
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)  # its deleteLater
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and id(w) not in before]
