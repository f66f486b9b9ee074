"""``user add``: create an account from the command line (the password never comes from argv)."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING, Any

from console.domain import Role
from console.errors import ValidationError

if TYPE_CHECKING:
    from db.engine import Database


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``user`` command group."""
    user = commands.add_parser("user", parents=[common], help="manage sign-in accounts")
    actions = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    add = actions.add_parser(
        "add",
        parents=[common],
        help="create an account; the password is read from a prompt, or from stdin's first line when piped",
    )
    add.add_argument("name", help="username: lower-case letters, digits, '.', '_' or '-'")
    add.add_argument("--role", choices=[r.value for r in Role], default=Role.SUPERVISOR.value)
    add.add_argument("--display-name", help="name shown on screen (default: the username)")
    add.set_defaults(handler=add_user)


def read_password() -> str:
    """Ask twice on a terminal; read one line from stdin otherwise."""
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != first:
            raise ValidationError("The passwords do not match; nothing was created.")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def add_user(args: argparse.Namespace, database: Database) -> int:
    """Create the account and print its username."""
    from console.accounts import AccountService

    password = read_password()
    info = AccountService(database).create_user(
        None, args.name, args.display_name or args.name, password, Role(args.role)
    )
    print(info.username)
    return 0
