"""Engine and session factory: one code path for an embedded SQLite file and a shared PostgreSQL server."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.exc import DatabaseError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from console.errors import DatabaseUnavailable
from db.location import APP_NAME

SQLITE_BUSY_TIMEOUT_MS = 10_000


def normalize_url(url: str | URL) -> URL:
    """Parse a database URL; plain ``postgresql://`` (or ``postgres://``) uses psycopg 3."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except Exception as exc:  # ArgumentError and friends: the user typed it
        raise DatabaseUnavailable(f"Not a database URL: {url!s} ({exc})") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def describe_url(url: URL) -> str:
    """A short, password-free description of where the data lives, for the status bar and messages."""
    if url.get_backend_name() == "sqlite":
        return f"SQLite {url.database or ':memory:'}"
    host = url.host or "localhost"
    port = f":{url.port}" if url.port else ""
    user = f"{url.username}@" if url.username else ""
    return f"PostgreSQL {user}{host}{port}/{url.database or ''}"


def _prepare_sqlite_file(path: Path) -> None:
    """Create the file owner-only (0600, directory 0700) or check an existing one is usable."""
    if path.exists():
        if not os.access(path, os.R_OK | os.W_OK):
            raise DatabaseUnavailable(f"The database file {path} is read-only; nothing was changed.")
        if not os.access(path.parent, os.W_OK | os.X_OK):
            raise DatabaseUnavailable(
                f"The folder {path.parent} is read-only; SQLite needs it writable for its journal."
            )
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, stat.S_IRUSR | stat.S_IWUSR)
        os.close(fd)
    except FileExistsError:
        pass
    except OSError as exc:
        raise DatabaseUnavailable(f"Cannot create the database file {path}: {exc.strerror}") from exc


def _install_sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # We issue BEGIN ourselves (below) so that writers can take the lock up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A write transaction takes SQLite's write lock at BEGIN, so a read-then-write (a budget check) cannot
        # be overtaken by another process between the read and the write; readers stay DEFERRED.
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


def user_message(exc: BaseException, url: URL) -> str:
    """Turn a driver error into one sentence a supervisor can act on."""
    where = describe_url(url)
    text = str(getattr(exc, "orig", exc) or exc).strip().splitlines()[0] if str(exc) else type(exc).__name__
    low = text.lower()
    if "file is not a database" in low or "malformed" in low:
        return f"{where} is not a Supervisor Console database or is damaged ({text}). Nothing was changed."
    if "readonly" in low or "read-only" in low:
        return f"{where} is read-only ({text}). Nothing was changed."
    if "locked" in low or "busy" in low:
        return f"{where} is busy; another console is writing. Try again in a moment."
    return f"Cannot reach the database ({where}): {text}"


class Database:
    """One database: engine, session factories and the unit-of-work context managers services run in."""

    def __init__(self, url: str | URL, *, echo: bool = False) -> None:
        self.url = normalize_url(url)
        self.dialect = self.url.get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.dialect == "sqlite":
            if self.url.database and self.url.database != ":memory:":
                _prepare_sqlite_file(Path(self.url.database))
            kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
        elif self.dialect == "postgresql":
            kwargs["pool_pre_ping"] = True
            kwargs["connect_args"] = {"connect_timeout": 5, "application_name": APP_NAME}
        try:
            self.engine = create_engine(self.url, **kwargs)
        except Exception as exc:  # missing driver, bad option: a user error about the URL
            raise DatabaseUnavailable(f"Cannot use database URL {describe_url(self.url)}: {exc}") from exc
        if self.dialect == "sqlite":
            _install_sqlite_pragmas(self.engine)
        self._reader = sessionmaker(self.engine, expire_on_commit=False)
        self._writer = sessionmaker(self.engine.execution_options(sqlite_begin="IMMEDIATE"), expire_on_commit=False)

    @property
    def description(self) -> str:
        """Where the data lives, without any password."""
        return describe_url(self.url)

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file, or None on a server database."""
        if self.dialect == "sqlite" and self.url.database and self.url.database != ":memory:":
            return Path(self.url.database)
        return None

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A unit of work that writes: committed on success, rolled back on any error."""
        with self._translate_errors(), self._writer() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work (rolled back at the end)."""
        with self._translate_errors(), self._reader() as session:
            yield session

    @contextmanager
    def _translate_errors(self) -> Iterator[None]:
        try:
            yield
        except (OperationalError, InterfaceError) as exc:
            raise DatabaseUnavailable(user_message(exc, self.url)) from exc
        except DatabaseError as exc:
            if isinstance(exc, DBAPIError) and exc.connection_invalidated:
                raise DatabaseUnavailable(user_message(exc, self.url)) from exc
            low = str(exc).lower()
            if "not a database" in low or "malformed" in low or "readonly" in low:
                raise DatabaseUnavailable(user_message(exc, self.url)) from exc
            raise

    def check_connection(self) -> None:
        """Open one connection now, so a wrong URL fails at start with a clear message."""
        with self._translate_errors(), self.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
