"""Start-up: the QApplication, opening the database, first-run and sign-in, then the main window."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QDialog, QMainWindow, QMessageBox, QStyleFactory

from console.accounts import AccountService
from console.actor import Actor
from console.cli import open_database
from console.errors import ConsoleError
from console.simulator import ArrivalSimulator
from db.engine import Database
from db.migrate import upgrade_database
from widgets.settings import APPLICATION, ORGANIZATION, Settings

if TYPE_CHECKING:
    from widgets.main_window import MainWindow

log = logging.getLogger(__name__)

ENV_AUTOLOGIN = "SUPERVISOR_CONSOLE_AUTOLOGIN"
"""``USERNAME:PASSWORD``: sign in without the dialog (benchmarks, kiosks), through the same password check."""
ENV_BENCH_MARK = "SUPERVISOR_CONSOLE_BENCH_MARK"
"""A file path: once the queue's first load has been painted, write the time there (the start benchmark)."""


def application() -> QApplication:
    """The one QApplication, created with our names and theme if it does not exist yet."""
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    app = QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName(APPLICATION)
    apply_theme(app, Settings().theme)
    return app


def apply_theme(app: QApplication, theme: str) -> None:
    """Fusion style; ``dark`` or ``light`` force a palette, ``system`` follows the desktop."""
    style = QStyleFactory.create("Fusion")
    if style is not None:
        app.setStyle(style)
    if theme == "dark":
        app.setPalette(dark_palette())
    elif theme == "light":
        app.setPalette(app.style().standardPalette())


def dark_palette() -> QPalette:
    """A calm dark palette with enough contrast for small text."""
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#1f2124",
        QPalette.ColorRole.WindowText: "#e8e8e8",
        QPalette.ColorRole.Base: "#17191c",
        QPalette.ColorRole.AlternateBase: "#22252a",
        QPalette.ColorRole.Text: "#e8e8e8",
        QPalette.ColorRole.Button: "#2a2d31",
        QPalette.ColorRole.ButtonText: "#e8e8e8",
        QPalette.ColorRole.Highlight: "#3d6fb6",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.ToolTipBase: "#2a2d31",
        QPalette.ColorRole.ToolTipText: "#e8e8e8",
        QPalette.ColorRole.PlaceholderText: "#9a9a9a",
    }
    for role, colour in roles.items():
        palette.setColor(role, QColor(colour))
    disabled = QPalette.ColorGroup.Disabled
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(disabled, role, QColor("#7a7a7a"))
    palette.setColor(disabled, QPalette.ColorRole.Button, QColor("#25282c"))
    return palette


def _simulator_for(args: argparse.Namespace, database: Database) -> ArrivalSimulator | None:
    """On the demo floor, new escalations keep arriving so the queue is visibly live."""
    return ArrivalSimulator(database, seed=args.seed) if args.demo else None


def sign_in(database: Database, args: argparse.Namespace) -> Actor | None:
    """First-run manager creation, demo auto sign-in, or the sign-in dialog; None when the user gives up."""
    from widgets.first_run_dialog import FirstRunDialog
    from widgets.login_dialog import LoginDialog

    accounts = AccountService(database)
    settings = Settings()
    autologin = os.environ.pop(ENV_AUTOLOGIN, None)  # popped: no child process inherits the password
    if autologin:
        username, _, password = autologin.partition(":")
        return accounts.authenticate(username, password)  # a wrong one fails the start, never opens the dialog
    if not accounts.has_users():
        first = FirstRunDialog(accounts, database=database.description)
        if first.exec() != QDialog.DialogCode.Accepted or first.actor is None:
            return None
        return first.actor
    if args.demo and not args.login:
        from db.seed import DEMO_SUPERVISOR_USERNAME

        return accounts.actor_for(DEMO_SUPERVISOR_USERNAME)
    dialog = LoginDialog(accounts, username=args.user or settings.last_username, database=database.description)
    if dialog.exec() != QDialog.DialogCode.Accepted or dialog.actor is None:
        return None
    settings.last_username = dialog.actor.username
    return dialog.actor


def run_gui(args: argparse.Namespace) -> int:
    """Open the console window; returns the exit code. Start-up errors are a dialog and one line on stderr."""
    from widgets.main_window import MainWindow

    app = application()
    try:
        database = open_database(args)
    except ConsoleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        QMessageBox.critical(None, APPLICATION, str(exc))
        return exc.exit_code
    try:
        actor = sign_in(database, args)
    except ConsoleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        QMessageBox.critical(None, APPLICATION, str(exc))
        database.dispose()
        return exc.exit_code
    if actor is None:
        database.dispose()
        return 1
    window = MainWindow(database, actor, simulator=_simulator_for(args, database))
    mark = os.environ.get(ENV_BENCH_MARK)
    if mark:
        _FirstPaint(window, Path(mark))
    window.show()
    return app.exec()


class _FirstPaint(QObject):
    """Writes ``{"painted_at": time.time(), "rows": N}`` to a file once the loaded queue has been painted."""

    def __init__(self, window: MainWindow, path: Path) -> None:
        super().__init__(window)
        self._path = path
        self._rows = 0
        self._viewport = window.queue_view.table.viewport()
        window.queue.loaded.connect(self._loaded)

    def _loaded(self, rows: int) -> None:
        self._rows = rows
        self._viewport.installEventFilter(self)
        self._viewport.update()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """On the first paint after the load: write once that paint has finished."""
        if watched is self._viewport and event.type() == QEvent.Type.Paint:
            self._viewport.removeEventFilter(self)
            QTimer.singleShot(0, self._write)
        return False

    def _write(self) -> None:
        partial = self._path.with_name(self._path.name + ".partial")
        partial.write_text(json.dumps({"painted_at": time.time(), "rows": self._rows}), encoding="utf-8")
        partial.replace(self._path)


def build_main_window(database_url: str, username: str) -> QMainWindow:
    """The real main window on ``database_url`` for ``username`` (the test seam; see main.build_main_window)."""
    from widgets.main_window import MainWindow

    application()
    database = Database(database_url)
    try:
        upgrade_database(database)
        actor = AccountService(database).actor_for(username)
    except BaseException:
        database.dispose()
        raise
    return MainWindow(database, actor)
