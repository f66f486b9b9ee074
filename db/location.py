"""Where the data lives when no URL is given, and which URL wins: plain Python, no database library.

The start (main.py) resolves the database before SQLAlchemy is imported, to read the queue meanwhile
(console/queue_prefetch.py); db.engine uses the same functions.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "supervisor-console"
ENV_DATABASE_URL = "SUPERVISOR_CONSOLE_DB"


def data_dir() -> Path:
    """The platform's per-user data directory for the app (not created here)."""
    return platformdirs.user_data_path(APP_NAME, appauthor=False)


def default_database_url(*, demo: bool = False) -> str:
    """The SQLite file used when no URL is given: ``console.sqlite3`` or, for the demo floor, ``demo.sqlite3``."""
    name = "demo.sqlite3" if demo else "console.sqlite3"
    return f"sqlite:///{data_dir() / name}"


def resolve_database_url(cli_url: str | None, *, demo: bool, environ: dict[str, str] | None = None) -> str:
    """``--db`` wins, then ``$SUPERVISOR_CONSOLE_DB``, then the default file (the demo file with ``--demo``)."""
    env = os.environ if environ is None else environ
    if cli_url:
        return cli_url
    if demo:
        return default_database_url(demo=True)
    return env.get(ENV_DATABASE_URL) or default_database_url()
