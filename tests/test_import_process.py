"""An import in a child process (console/import_process.py): the same result as one in this process, progress
and Cancel passed across, a failure one clear error."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from console.actor import Actor
from console.import_process import ImportProcessFailed, can_run_in_process, run_import_in_process
from console.importer import preset, run_import
from db.engine import Database
from db.migrate import upgrade_database
from tests.conftest import CFPB_SAMPLE


def test_an_import_in_a_child_process_matches_one_in_this_process(
    tmp_path: Path, supervisor: Actor, database: Database
) -> None:
    other = Database(f"sqlite:///{tmp_path / 'same.sqlite3'}")
    try:
        upgrade_database(other)
        assert can_run_in_process(database)
        seen: list[tuple[int, int]] = []
        child = run_import_in_process(
            database,
            supervisor,
            CFPB_SAMPLE,
            preset("cfpb"),
            rejects_path=tmp_path / "child-rejects.csv",
            progress=lambda done, total: seen.append((done, total)),
            batch_size=200,
        )
        here = run_import(
            other, None, CFPB_SAMPLE, preset("cfpb"), rejects_path=tmp_path / "here-rejects.csv", batch_size=200
        )
        assert child.imported > 0
        assert (child.imported, child.updated, child.rejected) == (here.imported, here.updated, here.rejected)
        assert [r.line for r in child.rejects] == [r.line for r in here.rejects]
        assert child.batches == here.batches > 1
        assert seen
        assert seen[-1][0] == seen[-1][1]
        again = run_import_in_process(database, supervisor, CFPB_SAMPLE, preset("cfpb"))
        assert (again.imported, again.unchanged) == (0, child.imported)  # nothing twice
    finally:
        other.dispose()


def test_a_failing_child_import_is_one_clear_error_and_a_cancel_is_passed_on(tmp_path: Path, sqlite_url: str) -> None:
    database = Database(sqlite_url)
    try:
        with pytest.raises(ImportProcessFailed, match=r"no-such-file\.csv"):
            run_import_in_process(database, None, tmp_path / "no-such-file.csv", preset("cfpb"))
        cancel = threading.Event()
        cancel.set()  # asked before the first batch: stops after at most one
        report = run_import_in_process(database, None, CFPB_SAMPLE, preset("cfpb"), cancel=cancel, batch_size=50)
        assert report.cancelled
        assert report.batches <= 1
    finally:
        database.dispose()


def test_an_in_memory_database_cannot_be_imported_by_another_process() -> None:
    memory = Database("sqlite://")
    try:
        assert not can_run_in_process(memory)
    finally:
        memory.dispose()
