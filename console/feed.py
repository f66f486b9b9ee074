"""The live change feed: tells every open view what changed, whoever changed it.

A background thread watches the database: on SQLite it polls ``PRAGMA data_version`` (a few microseconds when
nothing changed) and reads the ``changes`` log after a change; on PostgreSQL it LISTENs for the NOTIFY that every
change's transaction sends on commit. Batches reach the GUI thread as a queued Qt signal; this module uses QtCore
only, for that signal.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

from console.changes import NOTIFY_CHANNEL
from db.engine import SQLITE_BUSY_TIMEOUT_MS, Database

log = logging.getLogger(__name__)

POLL_INTERVAL_S = 0.25
RECONNECT_DELAYS_S = (0.5, 1.0, 2.0, 5.0)


@dataclass(frozen=True)
class ChangeBatch:
    """What changed since the last batch: ids per entity, or ``full_refresh`` after a gap (reconnect)."""

    entities: dict[str, frozenset[int]] = field(default_factory=dict)
    full_refresh: bool = False

    def ids(self, entity: str) -> frozenset[int]:
        """The changed ids of one entity ("escalation", "sla_policy", ...)."""
        return self.entities.get(entity, frozenset())

    def touches(self, entity: str) -> bool:
        """Whether anything of this entity changed (or everything must be reloaded)."""
        return self.full_refresh or entity in self.entities

    @staticmethod
    def of(pairs: Iterable[tuple[str, int]]) -> ChangeBatch:
        """Group (entity, id) pairs."""
        grouped: dict[str, set[int]] = defaultdict(set)
        for entity, entity_id in pairs:
            grouped[entity].add(int(entity_id))
        return ChangeBatch({k: frozenset(v) for k, v in grouped.items()})


class _Accumulator:
    """Changes the watching thread found and the GUI thread has not taken yet (guarded by a lock)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._grouped: dict[str, set[int]] = defaultdict(set)
        self._full = False
        self._posted = False

    def add(self, pairs: Iterable[tuple[str, int]], *, full_refresh: bool = False) -> bool:
        """Merge changes in; True when the GUI thread must be told (nothing was waiting for it already)."""
        with self._lock:
            for entity, entity_id in pairs:
                self._grouped[entity].add(int(entity_id))
            self._full = self._full or full_refresh
            if self._posted or not (self._full or self._grouped):
                return False
            self._posted = True
            return True

    def take(self) -> ChangeBatch | None:
        """Everything merged since the last take, as one batch (None if nothing)."""
        with self._lock:
            grouped, full = self._grouped, self._full
            self._grouped, self._full, self._posted = defaultdict(set), False, False
        if not grouped and not full:
            return None
        return ChangeBatch({k: frozenset(v) for k, v in grouped.items()}, full_refresh=full)


class ChangeFeed(QObject):
    """Watches one database from a background thread and emits ``changed(ChangeBatch)`` on the GUI thread.

    While the GUI thread is busy (a burst of changes, an import), what the watcher finds meanwhile is merged into
    the batch still waiting for it, so it is handed one batch per turn of its event loop, never a backlog.
    """

    changed = Signal(object)
    connectionLost = Signal(str)
    connectionRestored = Signal()
    _ready = Signal()  # from the watching thread: changes wait in the accumulator

    def __init__(self, database: Database, *, interval: float = POLL_INTERVAL_S, parent: QObject | None = None):
        super().__init__(parent)
        self._database = database
        self._interval = interval
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lost = False
        self._watching = threading.Event()  # set once changes from now on are sure to be seen
        self._late = threading.Event()  # someone stopped waiting for that: a full refresh once it is so
        self._pending = _Accumulator()
        self._ready.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def start(self) -> None:
        """Start watching (idempotent)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="change-feed", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching and wait for the thread to end."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def wait_watching(self, timeout: float) -> bool:
        """Wait (off the GUI thread) until every change committed from now on is sure to be reported.

        A view that loads its data after this returns misses nothing: what commits between its read and the
        feed's next look is in the feed's next batch. False when the feed could not connect in time; it then sends
        a full refresh once it does.
        """
        if self._watching.wait(timeout):
            return True
        self._late.set()
        return self._watching.is_set()  # if it became so meanwhile, _connected has seen _late or needs not

    def poke(self) -> None:
        """Look now rather than at the next poll (after this console's own write)."""
        self._wake.set()

    @Slot()
    def _deliver(self) -> None:
        batch = self._pending.take()
        if batch is not None:
            self.changed.emit(batch)

    # -- the watching thread ------------------------------------------------------------------------------------
    def _publish(self, pairs: Iterable[tuple[str, int]], *, full_refresh: bool = False) -> None:
        if self._pending.add(pairs, full_refresh=full_refresh):
            self._ready.emit()

    def _run(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            try:
                if self._database.dialect == "postgresql":
                    self._watch_postgres()
                else:
                    self._watch_sqlite()
                return
            except Exception as exc:  # any driver error: the connection is gone; say so and retry
                if self._stop.is_set():
                    return
                log.warning("change feed lost its connection: %s", exc)
                if not self._lost:
                    self._lost = True
                    self.connectionLost.emit(f"Lost the live connection to the database: {_first_line(exc)}")
                delay = RECONNECT_DELAYS_S[min(attempt, len(RECONNECT_DELAYS_S) - 1)]
                attempt += 1
                self._stop.wait(delay)

    def _connected(self) -> None:
        self._watching.set()
        if self._lost:
            self._lost = False
            self._late.clear()
            self.connectionRestored.emit()
            self._publish((), full_refresh=True)  # we may have missed changes meanwhile
        elif self._late.is_set():  # a view loaded before the feed was watching: what it missed is unknown
            self._late.clear()
            self._publish((), full_refresh=True)

    def _watch_sqlite(self) -> None:
        path = self._database.sqlite_path
        if path is None:
            raise RuntimeError("the change feed needs an SQLite file, not an in-memory database")
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            last_id = conn.execute("SELECT coalesce(max(id), 0) FROM changes").fetchone()[0]
            version = conn.execute("PRAGMA data_version").fetchone()[0]
            self._connected()
            while not self._stop.is_set():
                poked = self._wake.wait(self._interval)
                self._wake.clear()
                now_version = conn.execute("PRAGMA data_version").fetchone()[0]
                if now_version == version and not poked:
                    continue
                version = now_version
                rows = conn.execute(
                    "SELECT id, entity, entity_id FROM changes WHERE id > ? ORDER BY id", (last_id,)
                ).fetchall()
                if rows:
                    last_id = rows[-1][0]
                    self._publish((entity, entity_id) for _, entity, entity_id in rows)
        finally:
            conn.close()

    def _watch_postgres(self) -> None:
        import psycopg

        conninfo = self._database.url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
            last_id = _scalar(conn, "SELECT coalesce(max(id), 0) FROM changes")
            self._connected()
            while not self._stop.is_set():
                # Wake on the first notification, then drain what arrives right behind it into one batch.
                payloads = [n.payload for n in conn.notifies(timeout=0.5, stop_after=1)]
                if not payloads:
                    conn.execute("SELECT 1")  # notices a dead server between notifications
                    continue
                payloads += [n.payload for n in conn.notifies(timeout=0.01)]
                pairs: list[tuple[str, int]] = []
                sweep = False
                for payload in payloads:
                    entity, _, ident = payload.partition(":")
                    if ident.isdigit():
                        pairs.append((entity, int(ident)))
                    else:  # a bulk write ("escalation:*") announces itself once; read the log for its rows
                        sweep = True
                if sweep:
                    rows = conn.execute(
                        "SELECT id, entity, entity_id FROM changes WHERE id > %s ORDER BY id", (last_id,)
                    ).fetchall()
                    if rows:
                        last_id = rows[-1][0]
                        pairs.extend((entity, entity_id) for _, entity, entity_id in rows)
                if pairs:
                    self._publish(pairs)


def _scalar(conn: Any, sql: str) -> int:
    row = conn.execute(sql).fetchone()
    return int(row[0]) if row else 0


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
