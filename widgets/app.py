"""Start-up: the QApplication, opening the database, first-run and sign-in, then the main window."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QDialog, QMainWindow, QMessageBox, QStyleFactory

from console import startup
from console.accounts import AccountService
from console.actor import Actor
from console.cli import open_database
from console.errors import ConsoleError, NotFound
from db.engine import Database
from db.migrate import upgrade_database
from widgets.settings import APPLICATION, ORGANIZATION, Settings

if TYPE_CHECKING:
    from console.queue_prefetch import QueuePrefetch
    from console.simulator import ArrivalSimulator
    from widgets.main_window import MainWindow

log = logging.getLogger(__name__)
T = TypeVar("T")

ENV_AUTOLOGIN = "SUPERVISOR_CONSOLE_AUTOLOGIN"
"""``USERNAME:PASSWORD``: sign in without the dialog (benchmarks, kiosks), through the same password check."""
ENV_BENCH_MARK = "SUPERVISOR_CONSOLE_BENCH_MARK"
"""A file path: once the queue's first load has been painted, write the time there (the start benchmark)."""
START_GC_GRACE_MS = 15_000
"""Garbage collection resumes this long after the window opens, should the queue's first load never arrive."""


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
    if not args.demo:
        return None
    from console.simulator import ArrivalSimulator

    return ArrivalSimulator(database, seed=args.seed)


def sign_in(
    database: Database, args: argparse.Namespace, *, meanwhile: Callable[[Actor | None], object] | None = None
) -> Actor | None:
    """First-run manager creation, demo auto sign-in, or the sign-in dialog; None when the user gives up.

    ``meanwhile`` runs on this thread while a password is being checked (argon2 takes a quarter of a second on
    another thread, without the interpreter lock, so the two overlap). It is given the account the check is for,
    when that is known beforehand (signing in from ``SUPERVISOR_CONSOLE_AUTOLOGIN``), else None; whatever it
    prepares for that account must not be shown or written until this returns that same actor.
    """
    accounts = AccountService(database)
    settings = Settings()
    autologin = os.environ.pop(ENV_AUTOLOGIN, None)  # popped: no child process inherits the password
    if autologin:
        username, _, password = autologin.partition(":")
        expected = _account_named(accounts, username)
        # A wrong password fails the start, never opens the dialog.
        return _while_running(
            lambda: accounts.authenticate(username, password),
            None if meanwhile is None else lambda: meanwhile(expected),
        )
    if not accounts.has_users():
        from widgets.first_run_dialog import FirstRunDialog

        first = FirstRunDialog(accounts, database=database.description)
        with startup.collecting():
            if first.exec() != QDialog.DialogCode.Accepted or first.actor is None:
                return None
        return first.actor
    if args.demo and not args.login:
        from db.seed import DEMO_SUPERVISOR_USERNAME

        return accounts.actor_for(DEMO_SUPERVISOR_USERNAME)
    from widgets.login_dialog import LoginDialog

    dialog = LoginDialog(
        accounts,
        username=args.user or settings.last_username,
        database=database.description,
        meanwhile=None if meanwhile is None else lambda: meanwhile(None),
    )
    with startup.collecting():
        accepted = dialog.exec() == QDialog.DialogCode.Accepted
    if not accepted or dialog.actor is None:
        return None
    settings.last_username = dialog.actor.username
    return dialog.actor


def _while_running(job: Callable[[], T], meanwhile: Callable[[], object] | None) -> T:
    """``job()`` on another thread while ``meanwhile()`` runs on this one; job's result, or its error."""
    if meanwhile is None:
        return job()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="console-sign-in") as pool:
        future = pool.submit(job)
        meanwhile()
        return future.result()


def _account_named(accounts: AccountService, username: str) -> Actor | None:
    """The active account a sign-in is for, read before its password is checked (None: no such account)."""
    try:
        return accounts.actor_for(username)
    except NotFound:
        return None


def _import_main_window() -> type[MainWindow]:
    from widgets.main_window import MainWindow

    return MainWindow


def run_gui(args: argparse.Namespace, *, prefetch: QueuePrefetch | None = None) -> int:
    """Open the console window; returns the exit code. Start-up errors are a dialog and one line on stderr.

    The main window's modules are imported while the password is checked (or while the sign-in dialog waits),
    not before the database is open: the sign-in dialog and a start-up error come up sooner too. ``prefetch``
    (main.py) is the queue being read meanwhile; the window's first load takes it if it is of this database.
    """
    app = application()
    try:
        database = open_database(args)
    except ConsoleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        QMessageBox.critical(None, APPLICATION, str(exc))
        return exc.exit_code
    if prefetch is not None and database.sqlite_path != prefetch.path:
        prefetch.cancel()
        prefetch = None
    prepared: list[MainWindow] = []

    def prepare(expected: Actor | None) -> None:
        """While the password is checked: import the window and, when whose it will be is known, build it (its
        first reads start; it writes nothing and stays hidden until the check has succeeded)."""
        window_class = _import_main_window()
        if expected is not None:
            prepared.append(
                window_class(
                    database, expected, simulator=_simulator_for(args, database), signed_in=False, prefetch=prefetch
                )
            )

    def drop_prepared() -> None:
        while prepared:
            prepared.pop().discard()

    try:
        actor = sign_in(database, args, meanwhile=prepare)
    except ConsoleError as exc:
        drop_prepared()
        print(f"error: {exc}", file=sys.stderr)
        QMessageBox.critical(None, APPLICATION, str(exc))
        database.dispose()
        return exc.exit_code
    except BaseException:
        drop_prepared()
        raise
    if actor is None:
        drop_prepared()
        database.dispose()
        return 1
    if prepared and prepared[-1].actor == actor:
        window = prepared.pop()
        window.begin_session()
    else:  # built for an account that changed meanwhile (or not built): build it for the one signed in
        drop_prepared()
        window = _import_main_window()(database, actor, simulator=_simulator_for(args, database), prefetch=prefetch)
    # Collections held back for the start (main.py) resume once the queue is on screen (MainWindow calls
    # startup.settle()), or after a while anyway.
    QTimer.singleShot(START_GC_GRACE_MS, startup.resume)
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
