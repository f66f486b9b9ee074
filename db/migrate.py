"""Bring a database to the current schema on start: upgrade older ones, refuse newer ones, never drop data."""

from __future__ import annotations

import logging
import sqlite3
from contextlib import closing
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError

from console.errors import DatabaseTooNew
from db.engine import Database

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    """The Alembic configuration, built in code so the app never depends on the working directory."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str:
    """The newest migration this version of the app knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(database: Database) -> str | None:
    """The database's schema revision, or None for an empty database."""
    with database.read() as session:
        return MigrationContext.configure(session.connection()).get_current_revision()


def upgrade_database(database: Database) -> bool:
    """Upgrade to the head revision; return whether anything was done.

    A database stamped with a revision this app does not know comes from a newer app: it is refused untouched.
    An SQLite file that already holds data is copied aside first (``NAME.before-REV.bak``).
    """
    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    current = current_revision(database)
    if current == head:
        return False
    if current is not None:
        try:
            script.get_revision(current)
        except CommandError:
            raise DatabaseTooNew(
                f"{database.description} was written by a newer version of Supervisor Console "
                f"(schema {current}); update the app. Nothing was changed."
            ) from None
        _backup_sqlite(database, current)
    log.info("upgrading %s from %s to %s", database.description, current, head)
    cfg = alembic_config()
    with database.transaction() as session:
        cfg.attributes["connection"] = session.connection()
        command.upgrade(cfg, "head")
    return True


def _backup_sqlite(database: Database, revision: str) -> None:
    path = database.sqlite_path
    if path is None or not path.exists():
        return
    target = path.with_name(f"{path.name}.before-{revision}.bak")
    with closing(sqlite3.connect(path)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
    target.chmod(0o600)
