"""Bring a database to the current schema on start: upgrade older ones, refuse newer ones, never drop data.

A start on a database already at the head revision (every start but the first after an update) reads the
``alembic_version`` row with one plain query and compares it with ``HEAD_REVISION``; Alembic (and the template
engine it brings, a quarter of a second of imports) is loaded only to actually upgrade, or to look at a revision
this app does not have as its head. A test keeps ``HEAD_REVISION`` equal to the migration scripts' head.
"""

from __future__ import annotations

import logging
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.exc import DBAPIError

from console.errors import DatabaseTooNew
from db.engine import Database

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
HEAD_REVISION = "0005"
"""The newest migration in db/migrations/versions (tests/test_database.py checks it against Alembic's head)."""
VERSION_TABLE = "alembic_version"


def alembic_config() -> Config:
    """The Alembic configuration, built in code so the app never depends on the working directory."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str:
    """The newest migration this version of the app knows, as the migration scripts say."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(database: Database) -> str | None:
    """The database's schema revision, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with database.read() as session:
        return MigrationContext.configure(session.connection()).get_current_revision()


def stamped_revisions(database: Database) -> list[str] | None:
    """The revisions in the database's version table, read with one plain query; None when that cannot be read
    (no such table: an empty database, or anything else the full check below then reports properly)."""
    try:
        with database.engine.connect() as conn:
            rows = conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").all()
    except DBAPIError:
        return None
    return [str(row[0]) for row in rows]


def is_at_head(database: Database) -> bool:
    """Whether the database is stamped with exactly this app's head revision (the quick check of every start)."""
    return stamped_revisions(database) == [HEAD_REVISION]


def upgrade_database(database: Database) -> bool:
    """Upgrade to the head revision; return whether anything was done.

    A database stamped with a revision this app does not know comes from a newer app: it is refused untouched.
    An SQLite file that already holds data is copied aside first (``NAME.before-REV.bak``).
    """
    if is_at_head(database):
        return False
    from alembic import command
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

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
