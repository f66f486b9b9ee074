"""Supervisor Console entry point: run a command-line command, or sign in and open the console window."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from console import cli, startup

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMainWindow


def build_main_window(database_url: str, username: str) -> QMainWindow:
    """The real main window on ``database_url`` for the signed-in ``username`` (used after login and by tests).

    The database must already be upgraded; a QApplication must exist.
    """
    from widgets.app import build_main_window as build

    return build(database_url, username)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, then run a command or the GUI; returns the process exit code."""
    args = cli.parse(argv)
    if args.command:
        return cli.run(args)
    startup.pause()  # until the queue is on screen (console/startup.py); run_gui resumes it
    try:
        from widgets.app import run_gui

        return run_gui(args)
    finally:
        startup.resume()


if __name__ == "__main__":
    sys.exit(main())
