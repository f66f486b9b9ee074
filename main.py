"""Supervisor Console entry point: run a command-line command, or sign in and open the console window."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from console import cli, startup

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMainWindow

    from console.queue_prefetch import QueuePrefetch


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
    return open_window(args)


def open_window(args: argparse.Namespace) -> int:
    """The window's start (main() without a command; the memory benchmark runs it too): collections held back,
    the queue read in a child, the data layer imported before Qt, then sign-in and the window's event loop."""
    startup.pause()  # until the queue is on screen (console/startup.py); run_gui resumes it
    prefetch = _start_queue_read(args)
    startup.import_before_qt()
    try:
        from widgets.app import run_gui

        return run_gui(args, prefetch=prefetch)
    finally:
        startup.resume()
        if prefetch is not None:
            prefetch.cancel()


def _start_queue_read(args: argparse.Namespace) -> QueuePrefetch | None:
    """The queue's first read, in a child process while this one imports the window (console/queue_prefetch.py);
    not for the demo floor, which the start may create or seed first."""
    if args.demo:
        return None
    from console import queue_prefetch
    from db.location import resolve_database_url

    return queue_prefetch.start(resolve_database_url(args.db, demo=False))


if __name__ == "__main__":
    sys.exit(main())
