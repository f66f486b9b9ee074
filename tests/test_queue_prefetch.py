"""The queue's first read in a child process at start (console/queue_prefetch.py), on real SQLite files: the same
items as the usual read, nothing committed after the snapshot lost, and the usual read whenever it cannot help."""

from __future__ import annotations

import hashlib
import marshal
import re
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import update
from sqlalchemy.dialects import sqlite

from console import queue_prefetch, startup
from console.changes import record_change
from console.domain import QUEUE_STATUSES, Category, Channel, Severity
from console.intake import IntakeService, NewEscalation
from console.queue import QueueItem, QueueService, _item_query
from db.engine import Database, normalize_url
from db.migrate import HEAD_REVISION
from db.models import Customer, Escalation
from tests.conftest import PYTHON, ROOT, make_actor
from widgets.main_window import MainWindow


def _escalate(database: Database, summary: str, severity: Severity = Severity.NORMAL) -> int:
    new = NewEscalation("Ann Lee", Channel.PHONE, Category.BILLING_ERROR, severity, "Bo Diaz", summary)
    return IntakeService(database).escalate(None, new)


def _by_id(items: list[QueueItem]) -> dict[int, QueueItem]:
    return {item.id: item for item in items}


@pytest.fixture
def floor(sqlite_url: str) -> Iterator[Database]:
    database = Database(sqlite_url)
    for i in range(12):
        _escalate(database, f"case {i}", Severity.HIGH if i % 3 == 0 else Severity.NORMAL)
    with database.transaction() as session:  # an amount a float cannot hold exactly, a churn risk
        session.execute(update(Customer).values(lifetime_value=Decimal("5000.10"), churn_risk=0.65))
    yield database
    database.dispose()


def test_the_childs_query_is_the_queues_query_as_sqlalchemy_compiles_it() -> None:
    query = _item_query().where(Escalation.status.in_(QUEUE_STATUSES))
    compiled = str(query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
    assert re.sub(r"\s+", " ", compiled).strip() == queue_prefetch.QUEUE_SQL


@pytest.mark.parametrize(
    "url",
    ["sqlite:////srv/floor.sqlite3", "sqlite:///relative/floor.sqlite3", "sqlite+pysqlite:////srv/a%20b.sqlite3"],
)
def test_the_childs_file_is_the_engines_file(url: str) -> None:
    assert queue_prefetch.sqlite_file(url) == Path(str(normalize_url(url).database))  # Database.sqlite_path's


@pytest.mark.parametrize(
    "url", ["sqlite://", "sqlite:///:memory:", "sqlite:////srv/f.sqlite3?mode=ro", "postgresql://floor@db/floor"]
)
def test_other_databases_are_read_the_usual_way(url: str) -> None:
    assert queue_prefetch.sqlite_file(url) is None
    assert queue_prefetch.start(url) is None


def test_a_snapshot_gives_the_same_items_as_the_usual_read(floor: Database) -> None:
    prefetch = queue_prefetch.start(str(floor.url))
    assert prefetch is not None
    snapshot = prefetch.take()
    assert snapshot is not None, prefetch.error
    assert snapshot.revision == HEAD_REVISION
    assert len(snapshot.rows) == 12
    service = QueueService(floor)
    items = _by_id(service.open_items_from(snapshot))
    assert items == _by_id(service.open_items())
    assert {item.customer_ltv for item in items.values()} == {Decimal("5000.10")}
    assert all(item.high_value and item.churn_risk for item in items.values())
    assert prefetch.take() is None  # handed over once


def test_what_changes_after_the_snapshot_is_read_again(floor: Database) -> None:
    sam = make_actor(floor, "sam")
    service = QueueService(floor)
    before = service.open_items()
    prefetch = queue_prefetch.start(str(floor.url))
    assert prefetch is not None
    snapshot = prefetch.take()
    assert snapshot is not None, prefetch.error
    # After the snapshot, before the window's feed starts: a claim, an arrival, and a case that leaves the queue.
    claimed = service.claim(sam, before[0].id)
    arrived = _escalate(floor, "arrived after the snapshot", Severity.CRITICAL)
    gone = before[1].id
    with floor.transaction() as session:
        session.execute(update(Escalation).where(Escalation.id == gone).values(status="resolved"))
        record_change(session, "escalation", gone)

    items = _by_id(service.open_items_from(snapshot))
    assert items == _by_id(service.open_items())
    assert items[claimed.id].claimed_by_id == sam.user_id
    assert arrived in items
    assert gone not in items


def test_a_database_at_another_revision_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    empty = Database(f"sqlite:///{path}")
    with empty.transaction() as session:  # a file with no tables at all
        session.connection()
    empty.dispose()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    prefetch = queue_prefetch.start(f"sqlite:///{path}")
    assert prefetch is not None
    assert prefetch.take() is None
    assert prefetch.error is not None
    assert "alembic_version" in prefetch.error
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.sqlite3"]  # no -wal, no -shm left beside it
    assert not prefetch._out.exists()


def test_a_frozen_build_reads_the_usual_way(floor: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)  # sys.executable is the application itself there
    assert queue_prefetch.start(str(floor.url)) is None


def test_a_missing_file_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "none.sqlite3"
    assert queue_prefetch.start(f"sqlite:///{path}") is None
    assert not path.exists()


def test_a_cancelled_read_leaves_no_child_and_no_file(floor: Database) -> None:
    prefetch = queue_prefetch.start(str(floor.url))
    assert prefetch is not None
    prefetch.cancel()
    assert prefetch.take() is None
    assert prefetch._process.poll() is not None
    assert not prefetch._out.exists()


def test_the_window_opens_to_the_snapshot_brought_up_to_date(qtbot: QtBot, floor: Database) -> None:
    sam = make_actor(floor, "sam")
    prefetch = queue_prefetch.start(str(floor.url))
    assert prefetch is not None
    prefetch._process.wait(30)  # the snapshot is taken before the arrival below
    arrived = _escalate(floor, "arrived while the window was being built", Severity.CRITICAL)
    window = MainWindow(floor, sam, owns_database=False, prefetch=prefetch)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.queue.has_loaded, timeout=10_000)
    model = window.queue_view.model()
    shown = {model.item(row).id for row in range(model.rowCount())}
    assert shown == {item.id for item in QueueService(floor).open_items()}
    assert arrived in shown
    assert prefetch.take() is None  # the window took it


def test_a_window_given_a_snapshot_of_an_older_schema_reads_the_usual_way(qtbot: QtBot, floor: Database) -> None:
    sam = make_actor(floor, "sam")
    prefetch = queue_prefetch.start(str(floor.url))
    assert prefetch is not None
    prefetch._process.wait(30)
    prefetch._out.write_bytes(marshal.dumps(("0001", 0, [])))  # as an older file would answer
    window = MainWindow(floor, sam, owns_database=False, prefetch=prefetch)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.queue.has_loaded, timeout=10_000)
    model = window.queue_view.model()
    assert model.rowCount() == 12


def test_the_data_layer_is_imported_before_qt() -> None:
    code = (
        "import sys\nfrom console import startup\nstartup.import_before_qt()\n"
        "assert not any(m.startswith(('PySide6', 'shiboken6')) for m in sys.modules), 'Qt came in'\n"
        f"missing = [m for m in {startup.BEFORE_QT!r} if m not in sys.modules]\n"
        "assert not missing, missing\n"
    )
    subprocess.run([PYTHON, "-c", code], cwd=ROOT, check=True, timeout=60)


def test_a_snapshot_of_another_schema_is_not_used(floor: Database) -> None:
    service = QueueService(floor)
    stale = queue_prefetch.Snapshot("0001", 0, [])  # what a database of an older schema would have given
    assert len(service.open_items(stale)) == 12
    current = queue_prefetch.Snapshot(HEAD_REVISION, 10**9, [])  # of this schema: taken as it is
    assert service.open_items(current) == []
