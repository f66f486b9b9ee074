"""Command-line commands: plain Python over console/ services, no Qt. ``main.py`` dispatches here.

Parsing the command line imports no service and no database library: each command module registers its options
with plain values, and imports what it works with when it runs. The window's start pays only for what it uses.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NoReturn, TextIO

from console.errors import ConsoleError

if TYPE_CHECKING:
    from db.engine import Database

    Handler = Callable[[argparse.Namespace, Database], int]


def common_options() -> argparse.ArgumentParser:
    """Options every command and the GUI accept, before or after the command name."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="SQLAlchemy database URL (default: $SUPERVISOR_CONSOLE_DB, else a SQLite file in your data folder)",
    )
    common.add_argument(
        "--demo",
        action="store_true",
        default=argparse.SUPPRESS,
        help="use the separate demo-floor database (created on first use)",
    )
    common.add_argument(
        "--seed",
        type=int,
        metavar="N",
        default=argparse.SUPPRESS,
        help="random seed for the demo floor and its simulator (deterministic runs)",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: GUI options and every command."""
    from console.cli import cases, goodwill, importing, summary, users

    common = common_options()
    parser = argparse.ArgumentParser(
        prog="main.py",
        parents=[common],
        description="Supervisor Console: with no command, opens the console window.",
    )
    _window_options(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (users, cases, importing, goodwill, summary):
        module.register(commands, common)
    return parser


def _window_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--login",
        action="store_true",
        help="always show the sign-in dialog (the demo floor otherwise signs its supervisor in)",
    )
    parser.add_argument("--user", metavar="NAME", help="username to pre-fill in the sign-in dialog")


class _NotWindowOptions(Exception):
    """The command line is more than the window's options: the whole parser reads it."""


class _WindowOptionsParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _NotWindowOptions(message)


def _window_only(argv: list[str]) -> argparse.Namespace | None:
    """The arguments when they are only the window's options (the usual start), else None.

    Building the whole parser means importing every command's module and making two dozen parsers, a few tens
    of milliseconds of every start; opening the window needs none of it. Anything else (a command, ``--help``,
    a mistake) goes to the whole parser, so its help and its errors are what the user sees.
    """
    parser = _WindowOptionsParser(prog="main.py", parents=[common_options()], add_help=False)
    _window_options(parser)
    try:
        args, rest = parser.parse_known_args(argv)
    except _NotWindowOptions:
        return None
    if rest:
        return None
    args.command = None
    return args


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse arguments (argparse prints usage and exits 2 on unknown flags)."""
    given = sys.argv[1:] if argv is None else list(argv)
    args = _window_only(given) or build_parser().parse_args(given)
    for name, default in (("db", None), ("demo", False), ("seed", None)):
        if not hasattr(args, name):
            setattr(args, name, default)
    return args


def open_database(args: argparse.Namespace) -> Database:
    """Open and upgrade the database the arguments name; seed the demo floor if it is new."""
    from db.engine import Database
    from db.location import resolve_database_url
    from db.migrate import upgrade_database

    database = Database(resolve_database_url(args.db, demo=args.demo))
    try:
        database.check_connection()
        upgrade_database(database)
        if args.demo:
            from db.seed import ensure_demo_floor

            ensure_demo_floor(database, seed=args.seed)
    except BaseException:
        database.dispose()  # close the file now: no stray -wal/-shm beside a database we refused
        raise
    return database


def run(args: argparse.Namespace, *, stderr: TextIO | None = None) -> int:
    """Run the parsed command; user errors become one line on stderr and a non-zero exit code."""
    err = stderr or sys.stderr
    handler: Handler = args.handler
    database: Database | None = None
    try:
        database = open_database(args)
        return handler(args, database)
    except ConsoleError as exc:
        print(f"error: {exc}", file=err)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=err)
        return 130
    finally:
        if database is not None:
            database.dispose()
