"""Figure 2.2: another process commits an escalation -> its row is in the open window's queue model.

The window is the real main window (main.build_main_window) on the floor, idle in its event loop; the queue model's
``rowsInserted`` stamps each arrival. The baseline, watching the same arrivals at the same time, is the bare
mechanism: a thread polling ``PRAGMA data_version`` at the feed's interval (SQLite) or LISTENing on the feed's channel
(PostgreSQL), noting when each new escalation becomes visible to it.
"""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import threading
import time
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex

from console.changes import NOTIFY_CHANNEL
from console.feed import POLL_INTERVAL_S
from tests.benchmarks.conftest import PYTHON, ROOT, Floor, PgFloor, Results, check, python_env
from tests.benchmarks.gui import main_window, percentile, run_until

ARRIVALS = 50
CATCH_UP_S = 60.0  # after the last commit, how long the model may take to show every arrival


class SqliteWatcher(threading.Thread):
    """The baseline on SQLite: poll data_version every POLL_INTERVAL_S, then look for new escalations."""

    def __init__(self, path: str) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.seen: dict[int, float] = {}
        self.stop = threading.Event()
        self.ready = threading.Event()

    def run(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None)
        try:
            last = conn.execute("SELECT max(id) FROM escalations").fetchone()[0]
            version = conn.execute("PRAGMA data_version").fetchone()[0]
            self.ready.set()
            while not self.stop.wait(POLL_INTERVAL_S):
                now_version = conn.execute("PRAGMA data_version").fetchone()[0]
                if now_version == version:
                    continue
                version = now_version
                for (escalation_id,) in conn.execute("SELECT id FROM escalations WHERE id > ?", (last,)).fetchall():
                    self.seen.setdefault(escalation_id, time.time())
                    last = max(last, escalation_id)
        finally:
            conn.close()


class PostgresWatcher(threading.Thread):
    """The baseline on PostgreSQL: LISTEN on the feed's channel and note each escalation's NOTIFY."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        from sqlalchemy import make_url

        self.conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.seen: dict[int, float] = {}
        self.stop = threading.Event()
        self.ready = threading.Event()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
            self.ready.set()
            while not self.stop.is_set():
                for note in conn.notifies(timeout=0.2):
                    entity, _, ident = note.payload.partition(":")
                    if entity == "escalation" and ident.isdigit():
                        self.seen.setdefault(int(ident), time.time())


def measure(url: str, watcher: SqliteWatcher | PostgresWatcher) -> dict[str, Any]:
    """Open the window, start the other process's arrivals, and time each one into the model and the baseline."""
    arrived: dict[int, float] = {}
    with main_window(url) as window:
        model = window.queue_view.model()

        def inserted(_parent: QModelIndex, first: int, last: int) -> None:
            stamp = time.time()
            for row in range(first, last + 1):
                arrived.setdefault(model.item(row).id, stamp)

        model.rowsInserted.connect(inserted)
        watcher.start()
        watcher.ready.wait(10)
        writer = subprocess.Popen(
            [PYTHON, "-m", "tests.benchmarks.arrivals", url, str(ARRIVALS)],
            env=python_env(),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        run_until(lambda: writer.poll() is not None, 300, what="the arrivals")
        out, err = writer.communicate()
        assert writer.returncode == 0, err
        committed = {int(i): float(t) for i, t in (line.split() for line in out.splitlines() if line.strip())}
        # Any still missing count as arriving no sooner than now: the figure fails, the run goes on.
        with contextlib.suppress(TimeoutError):
            run_until(lambda: set(committed) <= set(arrived), CATCH_UP_S, what="every arrival in the model")
        gave_up = time.time()
        watcher.stop.set()
        watcher.join(5)
        rows = model.rowCount()
    product = [(arrived.get(i, gave_up) - t) * 1000 for i, t in committed.items()]
    baseline = [(watcher.seen[i] - t) * 1000 for i, t in committed.items() if i in watcher.seen]
    return {
        "p95_ms": percentile(product, 0.95),
        "baseline_p95_ms": percentile(baseline, 0.95),
        "median_ms": percentile(product, 0.5),
        "max_ms": max(product),
        "baseline_median_ms": percentile(baseline, 0.5),
        "arrivals": len(product),
        "not_in_model_after_catch_up": sum(1 for i in committed if i not in arrived),
        "queue_rows_after": rows,
    }


def test_live_arrival_sqlite(scratch_floor: Floor, qt_app: Any, results: Results) -> None:
    found = measure(scratch_floor.url, SqliteWatcher(str(scratch_floor.path)))
    fig = results.record(
        "2.2a",
        "live arrival p95, SQLite",
        unit="ms",
        value=found["p95_ms"],
        baseline=found["baseline_p95_ms"],
        max_value=500,
        details=found | {"poll_interval_ms": POLL_INTERVAL_S * 1000},
    )
    check(fig)


def test_live_arrival_postgres(pg_floor: PgFloor | None, qt_app: Any, results: Results) -> None:
    if pg_floor is None:
        results.record("2.2b", "live arrival p95, PostgreSQL", unit="ms", value=None, baseline=None, max_value=150)
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found")
    found = measure(pg_floor.url, PostgresWatcher(pg_floor.url))
    fig = results.record(
        "2.2b",
        "live arrival p95, PostgreSQL",
        unit="ms",
        value=found["p95_ms"],
        baseline=found["baseline_p95_ms"],
        max_value=150,
        details=found
        | {
            "postgres": pg_floor.server_version,
            "pg_floor_rows": pg_floor.stats.rows,
            "pg_floor_copy_seconds": round(pg_floor.stats.seconds, 1),
        },
    )
    check(fig)
