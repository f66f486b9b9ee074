"""The live change feed on both engines: other processes' writes, our own writes, lost connections."""

from __future__ import annotations

import time

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import text

from console.domain import Category, Channel, Severity
from console.feed import ChangeBatch, ChangeFeed
from console.intake import IntakeService, NewEscalation, add_escalation
from db.engine import Database
from db.migrate import upgrade_database
from tests.conftest import escalate_elsewhere
from tests.pgserver import PostgresServer, find_pg_bindir


def _new(summary: str = "Charged twice") -> NewEscalation:
    return NewEscalation("Ann Lee", Channel.PHONE, Category.BILLING_ERROR, Severity.HIGH, "Bo", summary)


def _collect(feed: ChangeFeed) -> list[ChangeBatch]:
    batches: list[ChangeBatch] = []
    feed.changed.connect(batches.append)
    return batches


def _seen(batches: list[ChangeBatch], escalation_id: int) -> bool:
    return any(escalation_id in b.ids("escalation") for b in batches)


def test_other_process_write_reaches_the_feed_within_a_second(qtbot: QtBot, database: Database) -> None:
    feed = ChangeFeed(database)
    batches = _collect(feed)
    feed.start()
    try:
        time.sleep(0.3)  # the feed has taken its starting point
        new_id = escalate_elsewhere(database.url.render_as_string(hide_password=False), "No reply for a week")
        committed_at = time.monotonic()
        qtbot.waitUntil(lambda: _seen(batches, new_id), timeout=1000)
        assert time.monotonic() - committed_at < 1.0
    finally:
        feed.stop()


def test_own_writes_are_reported_and_nothing_is_reported_when_nothing_changes(qtbot: QtBot, database: Database) -> None:
    feed = ChangeFeed(database)
    batches = _collect(feed)
    feed.start()
    try:
        time.sleep(0.3)
        first = IntakeService(database).escalate(None, _new())
        feed.poke()
        qtbot.waitUntil(lambda: _seen(batches, first), timeout=1000)
        # Idle: several poll intervals pass without a change, so no batch arrives.
        count = len(batches)
        qtbot.wait(800)
        assert len(batches) == count
        second = IntakeService(database).escalate(None, _new("Refund missing"))
        qtbot.waitUntil(lambda: _seen(batches, second), timeout=1000)
        assert not any(second in b.ids("escalation") for b in batches[:count])
    finally:
        feed.stop()


def test_a_rolled_back_write_is_never_reported(qtbot: QtBot, database: Database) -> None:
    feed = ChangeFeed(database)
    batches = _collect(feed)
    feed.start()
    try:
        time.sleep(0.3)
        doomed: list[int] = []

        def write_then_fail() -> None:
            with database.transaction() as session:
                doomed.append(add_escalation(session, None, _new("never committed")).id)
                raise RuntimeError("abort")

        with pytest.raises(RuntimeError):
            write_then_fail()
        kept = IntakeService(database).escalate(None, _new("committed"))
        qtbot.waitUntil(lambda: _seen(batches, kept), timeout=1500)
        assert not _seen(batches, doomed[0]) or doomed[0] == kept  # SQLite may reuse the rolled-back id for `kept`
    finally:
        feed.stop()


def test_a_change_committed_right_after_the_feed_is_watching_is_reported(qtbot: QtBot, database: Database) -> None:
    # What a view reads once wait_watching() returns, plus what the feed reports after, misses nothing: here the
    # change commits at once, before the feed's first poll.
    feed = ChangeFeed(database)
    batches = _collect(feed)
    feed.start()
    try:
        assert feed.wait_watching(5.0)
        new_id = IntakeService(database).escalate(None, _new())
        qtbot.waitUntil(lambda: _seen(batches, new_id), timeout=2000)
        assert not any(b.full_refresh for b in batches)
    finally:
        feed.stop()


def test_a_view_that_stopped_waiting_gets_a_full_refresh_once_the_feed_is_on(qtbot: QtBot, database: Database) -> None:
    feed = ChangeFeed(database)
    batches = _collect(feed)
    assert not feed.wait_watching(0.05)  # not started: the view reads anyway and may miss what commits next
    IntakeService(database).escalate(None, _new())  # committed before the feed takes its starting point
    feed.start()
    try:
        qtbot.waitUntil(lambda: any(b.full_refresh for b in batches), timeout=2000)
        assert feed.wait_watching(0.0)
    finally:
        feed.stop()


@pytest.mark.skipif(find_pg_bindir() is None, reason="PostgreSQL server binaries not found")
def test_lost_postgres_connection_is_reported_then_recovers_with_a_full_refresh(qtbot: QtBot) -> None:
    bindir = find_pg_bindir()
    assert bindir is not None
    server = PostgresServer.start(bindir)
    try:
        admin = Database(server.url("postgres"))
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("CREATE DATABASE feedtest"))
        admin.dispose()
        database = Database(server.url("feedtest"))
        upgrade_database(database)
        feed = ChangeFeed(database)
        batches = _collect(feed)
        lost: list[str] = []
        restored: list[bool] = []
        feed.connectionLost.connect(lost.append)
        feed.connectionRestored.connect(lambda: restored.append(True))
        feed.start()
        try:
            time.sleep(0.5)
            server.stop_server()
            qtbot.waitUntil(lambda: bool(lost), timeout=5000)
            assert "Lost the live connection" in lost[0]
            server.start_server()
            qtbot.waitUntil(lambda: bool(restored), timeout=15000)
            assert any(b.full_refresh for b in batches)
            database.dispose()  # the pool's connections died with the server
            new_id = IntakeService(database).escalate(None, _new())
            qtbot.waitUntil(lambda: _seen(batches, new_id), timeout=2000)
        finally:
            feed.stop()
            database.dispose()
    finally:
        server.stop()


def test_pruning_keeps_recent_changes_and_the_newest_row(database: Database) -> None:
    from datetime import timedelta

    from sqlalchemy import select, update

    from console.changes import prune_changes
    from db.models import Change
    from db.types import utcnow

    old = utcnow() - timedelta(days=3)
    with database.transaction() as session:
        session.add_all([Change(entity="escalation", entity_id=i, at=old) for i in range(1, 6)])
    recent = IntakeService(database).escalate(None, _new())
    assert prune_changes(database) == 5
    with database.read() as session:
        left = session.execute(select(Change.entity, Change.entity_id)).all()
    assert left == [("escalation", recent)]
    # When every row is old, the newest stays so the next id never repeats one a feed has seen.
    with database.transaction() as session:
        session.execute(update(Change).values(at=old))
    assert prune_changes(database) == 0
