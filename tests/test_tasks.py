"""The task runner: reads still queued when the window closes are dropped quietly, not reported as failures."""

from __future__ import annotations

import logging
import threading

import pytest
from pytestqt.qtbot import QtBot

from widgets.tasks import TaskRunner


def test_reads_dropped_at_shutdown_are_not_reported_as_failures(qtbot: QtBot, caplog: pytest.LogCaptureFixture) -> None:
    errors: list[BaseException] = []
    runner = TaskRunner(errors.append)
    gate = threading.Event()
    for _ in range(2):  # both read workers busy, so the next reads wait in the queue
        runner.read(gate.wait, lambda _r: None)
    for _ in range(5):
        runner.read(lambda: 1, lambda _r: None)
    threading.Timer(0.2, gate.set).start()
    with caplog.at_level(logging.ERROR):
        runner.shutdown()  # cancels the five queued reads
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert errors == []
