"""Shared fixtures: a fresh, migrated database per test on SQLite and on a throwaway PostgreSQL server."""

from __future__ import annotations

import itertools
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from console.accounts import AccountService
from console.actor import Actor
from console.domain import Role
from db.engine import Database
from db.migrate import upgrade_database
from tests.pgserver import PostgresServer, find_pg_bindir

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
CFPB_SAMPLE = SHARED_DATA / "cfpb_complaints_2019_sample.csv"
PASSWORD = "correct horse battery"
ENGINES = ["sqlite", "postgresql"]
_db_counter = itertools.count()


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point platformdirs and QSettings at a temporary home, so no test touches a real user's files."""
    home = tmp_path_factory.mktemp("home")
    for var, sub in (("XDG_DATA_HOME", "data"), ("XDG_CONFIG_HOME", "config"), ("XDG_CACHE_HOME", "cache")):
        (home / sub).mkdir()
        monkeypatch.setenv(var, str(home / sub))
    monkeypatch.delenv("SUPERVISOR_CONSOLE_DB", raising=False)
    return home


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole run; skipped without binaries, except under CI where it fails."""
    bindir = find_pg_bindir()
    if bindir is None:
        reason = "PostgreSQL server binaries (initdb, pg_ctl) not found; install postgresql to run these tests"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (CI=true: PostgreSQL tests must run)", pytrace=False)
        pytest.skip(reason)
    server = PostgresServer.start(bindir)
    try:
        template = Database(server.url("postgres"))
        with template.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("CREATE DATABASE sc_template"))
        template.dispose()
        migrated = Database(server.url("sc_template"))
        upgrade_database(migrated)
        migrated.dispose()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies (migrating once per run, not once per test)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    database = Database(f"sqlite:///{path}")
    upgrade_database(database)
    with database.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.dispose()
    return path


def new_postgres_database(server: PostgresServer) -> str:
    """A fresh database cloned from the migrated template; returns its URL."""
    name = f"sc_test_{os.getpid()}_{next(_db_counter)}"
    engine = create_engine(server.url("postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE sc_template'))
    engine.dispose()
    return server.url(name)


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh migrated SQLite database file for this test."""
    path = tmp_path / "console.sqlite3"
    shutil.copyfile(sqlite_template, path)
    path.chmod(0o600)
    return f"sqlite:///{path}"


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest, sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh migrated database on each engine in turn."""
    if request.param == "sqlite":
        url: str = request.getfixturevalue("sqlite_url")
        return url
    server: PostgresServer = request.getfixturevalue("pg_server")
    return new_postgres_database(server)


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """An open Database on each engine in turn."""
    db = Database(database_url)
    yield db
    db.dispose()


def make_actor(database: Database, username: str, role: Role = Role.SUPERVISOR) -> Actor:
    """Create an account and return it as an Actor."""
    accounts = AccountService(database)
    info = accounts.create_user(None, username, username.title(), PASSWORD, role)
    return Actor(info.user_id, info.username, info.display_name, info.role)


@pytest.fixture
def manager(database: Database) -> Actor:
    """A manager account."""
    return make_actor(database, "mia", Role.MANAGER)


@pytest.fixture
def supervisor(database: Database) -> Actor:
    """A supervisor account."""
    return make_actor(database, "sam")


def run_main_env(database_url: str | None = None) -> dict[str, str]:
    """Environment for running main.py in a subprocess: offscreen Qt, no user config touched."""
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["PYTHONPATH"] = str(ROOT)
    if database_url:
        env["SUPERVISOR_CONSOLE_DB"] = database_url
    return env


PYTHON = sys.executable
MAIN = str(ROOT / "main.py")


def escalate_elsewhere(
    database_url: str,
    summary: str,
    *,
    customer: str = "Zoe Park",
    channel: str = "chat",
    category: str = "long_wait",
    severity: str = "normal",
    by: str = "Ravi",
) -> int:
    """Create an escalation from another process, as an associate's tool would (``main.py escalate``)."""
    import subprocess

    out = subprocess.run(
        [
            PYTHON,
            MAIN,
            "escalate",
            "--customer",
            customer,
            "--channel",
            channel,
            "--category",
            category,
            "--severity",
            severity,
            "--by",
            by,
            "--summary",
            summary,
        ],
        env=run_main_env(database_url),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return int(out.stdout.strip())
