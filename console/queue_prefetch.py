"""The queue's first read, started before the window's libraries are loaded, in a child process beside them.

A start spends most of a second importing Qt, SQLAlchemy and the window's modules on one core, holding the
interpreter lock. The queue the window opens to (10,000 open escalations on a busy floor) can be read meanwhile
on the other core: ``start()`` (main.py, first thing) launches this file as a script, ``python -I -S
console/queue_prefetch.py DATABASE OUT``, which imports nothing but the standard library's sqlite3. In one read
transaction it reads the schema revision, the newest change-log id and the open escalations' rows (the same
query as ``console.queue``'s, as SQLite text; a test keeps the two equal), and writes them as one
``marshal`` blob, into a file the parent made. The window's first load then turns those rows into queue items
(``console.queue.QueueService.open_items``) and reads, through the usual path, only what changed after the
snapshot's change id: nothing committed between the snapshot and the change feed's start is missed.

Only for an SQLite file (a server database is read the usual way). Anything unexpected (no such file, another
schema revision, a driver error, a child that never answers) means no snapshot: the window reads the queue as
it always did. The child never creates the file and only reads (it opens it read-write, as the console's
own connections do, so that closing it last tidies SQLite's -wal and -shm files away rather than leaving them).
"""

from __future__ import annotations

import logging
import marshal
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

log = logging.getLogger(__name__)
RESULT_WAIT_S = 10.0
"""How long the first load waits for a snapshot that is still being read before reading the queue itself."""

# The three reads, in one transaction. QUEUE_SQL is console.queue's load_items() query as SQLAlchemy compiles it
# for SQLite (tests/test_queue_prefetch.py compares them); the statuses are console.domain.QUEUE_STATUSES.
REVISION_SQL = "SELECT version_num FROM alembic_version"
LAST_CHANGE_SQL = "SELECT coalesce(max(id), 0) FROM changes"
QUEUE_SQL = (
    "SELECT escalations.id, escalations.external_ref, escalations.status, escalations.severity, "
    "escalations.channel, escalations.category, escalations.product, escalations.summary, customers.id AS id_1, "
    "customers.name, customers.external_ref AS external_ref_1, customers.tier, "
    "customers.lifetime_value AS lifetime_value, customers.churn_risk, associates.name AS name_1, "
    "escalations.claimed_by_id, users_1.display_name, escalations.escalated_at AS escalated_at, "
    "escalations.queued_at AS queued_at, escalations.claimed_at AS claimed_at, "
    "escalations.held_since AS held_since, escalations.hold_reason, escalations.held_seconds, escalations.version "
    "FROM escalations JOIN customers ON customers.id = escalations.customer_id "
    "LEFT OUTER JOIN associates ON associates.id = escalations.associate_id "
    "LEFT OUTER JOIN users AS users_1 ON users_1.id = escalations.claimed_by_id "
    "WHERE escalations.status IN ('open', 'claimed', 'reopened')"
)
_SQLITE_SCHEMES = ("sqlite", "sqlite+pysqlite")


@dataclass(frozen=True)
class Snapshot:
    """What the child read, in one transaction: the schema revision, the change log's newest id, the rows."""

    revision: str
    last_change_id: int
    rows: list[tuple[Any, ...]]


def sqlite_file(url: str) -> Path | None:
    """The file of a plain ``sqlite:///PATH`` URL, as ``db.engine.Database.sqlite_path`` gives it; None for
    anything else (a server, an in-memory database, a URL with options), which is read the usual way."""
    scheme, sep, rest = url.partition(":///")
    if not sep or scheme not in _SQLITE_SCHEMES or "?" in rest:
        return None
    path = unquote(rest)
    if not path or path == ":memory:":
        return None
    return Path(path)


class QueuePrefetch:
    """A running child's snapshot, once it has answered (see the module's docstring).

    The child writes its blob to a file of ours rather than to a pipe: megabytes through a 64 kB pipe would need
    a thread here draining it, and that thread would fight the imports for the interpreter lock at every chunk.
    """

    def __init__(self, path: Path, process: subprocess.Popen[bytes], out: Path) -> None:
        self.path = path
        self._process = process
        self._out = out
        self.error: str | None = None  # why there was no snapshot, when there was none
        self._taken = False

    def take(self, timeout: float = RESULT_WAIT_S) -> Snapshot | None:
        """The snapshot, waiting up to ``timeout`` for the child; once (None after that). None, with ``error``
        saying why, if the child failed or is still reading (it is then stopped)."""
        if self._taken:
            return None
        self._taken = True
        snapshot = self._collect(timeout)
        if snapshot is None:
            log.info("the queue's start-up read gave nothing, it is read the usual way: %s", self.error)
        return snapshot

    def _collect(self, timeout: float) -> Snapshot | None:
        try:
            code = self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.error = f"no answer within {timeout:.0f} s"
            self.cancel()
            return None
        try:
            if code != 0:
                err = self._process.stderr.read() if self._process.stderr else b""
                self.error = err.decode(errors="replace").strip() or f"exit code {code}"
                return None
            revision, last_change_id, rows = marshal.loads(self._out.read_bytes())
            return Snapshot(revision, last_change_id, rows)
        except Exception as exc:  # a truncated or missing blob: no snapshot, the usual read instead
            self.error = f"{type(exc).__name__}: {exc}"
            return None
        finally:
            self._finish()

    def cancel(self) -> None:
        """Stop the child if it is still reading and remove its file (the snapshot will not be used)."""
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._taken = True
        self._finish()

    def _finish(self) -> None:
        self._out.unlink(missing_ok=True)
        if self._process.stderr is not None:
            self._process.stderr.close()


def start(url: str) -> QueuePrefetch | None:
    """Start reading the queue of the SQLite file ``url`` names in a child process; None when it cannot help
    (not an SQLite file, no such file, a frozen build, a child that cannot be started)."""
    from console.startup import can_use_child  # here: the child runs this file with the standard library only

    path = sqlite_file(url)
    if path is None or not path.is_file() or not can_use_child():
        return None
    fd, name = tempfile.mkstemp(prefix="supervisor-console-queue-", suffix=".marshal")  # owner-only
    os.close(fd)
    out = Path(name)
    try:
        process = subprocess.Popen(
            [sys.executable, "-I", "-S", str(Path(__file__).resolve()), str(path), str(out)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
    except OSError:
        out.unlink(missing_ok=True)
        return None
    return QueuePrefetch(path, process, out)


def read(path: str) -> tuple[str, int, list[tuple[Any, ...]]]:
    """The child's work: the revision, the newest change id and the queue's rows, in one read transaction."""
    import sqlite3  # here: the parent, importing this module, needs none of it

    uri = f"{Path(path).resolve().as_uri()}?mode=rw"  # never creates it; closing last tidies the -wal away
    conn = sqlite3.connect(uri, uri=True, isolation_level=None)
    try:
        conn.execute("BEGIN")  # one snapshot for all three reads (WAL readers see one consistent state)
        revision = conn.execute(REVISION_SQL).fetchone()[0]
        last_change_id = conn.execute(LAST_CHANGE_SQL).fetchone()[0]
        rows = conn.execute(QUEUE_SQL).fetchall()
        conn.execute("COMMIT")
    finally:
        conn.close()
    return revision, last_change_id, rows


def _child(argv: list[str]) -> int:
    """``queue_prefetch.py DATABASE OUT``: the snapshot into OUT (a file the parent made), or an error on stderr."""
    try:
        Path(argv[1]).write_bytes(marshal.dumps(read(argv[0])))
    except Exception as exc:  # reported to the parent, which reads the queue the usual way
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
