"""In-process helpers: the real main window on a floor, waiting in a real event loop, and a GUI-thread heartbeat."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtWidgets import QApplication

from tests.benchmarks.floorgen import BENCH_USERNAME

LOAD_TIMEOUT_S = 120.0


def run_until(predicate: Callable[[], bool], timeout: float, *, what: str = "condition", poll_ms: int = 20) -> float:
    """Run the event loop (as the app's own loop runs, idle between events) until ``predicate``; the seconds taken."""
    began = time.perf_counter()
    if predicate():
        return 0.0
    loop = QEventLoop()
    timed_out = False

    def look() -> None:
        nonlocal timed_out
        if predicate():
            loop.quit()
        elif time.perf_counter() - began > timeout:
            timed_out = True
            loop.quit()

    timer = QTimer()
    timer.timeout.connect(look)
    timer.start(poll_ms)
    loop.exec()
    timer.stop()
    if timed_out:
        raise TimeoutError(f"{what} not reached within {timeout:.0f} s")
    return time.perf_counter() - began


def run_for(seconds: float) -> None:
    """Let the event loop run for a while."""
    end = time.perf_counter() + seconds
    run_until(lambda: time.perf_counter() >= end, seconds + 5, what="the end of the wait")


@contextmanager
def main_window(url: str, username: str = BENCH_USERNAME) -> Iterator[Any]:
    """The real main window on ``url`` (main.build_main_window), shown, with its queue loaded; closed afterwards."""
    import main

    window: Any = main.build_main_window(url, username)  # a MainWindow
    window.show()
    try:
        run_until(lambda: bool(window.queue.has_loaded), LOAD_TIMEOUT_S, what="the queue's first load")
        yield window
    finally:
        window.close()
        window.deleteLater()
        QApplication.processEvents()


class Heartbeat:
    """A 10 ms precise QTimer on the GUI thread; the gaps between its beats show every stall."""

    def __init__(self, interval_ms: int = 10) -> None:
        self.interval_ms = interval_ms
        self.beats: list[float] = []
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._beat)

    def _beat(self) -> None:
        self.beats.append(time.perf_counter())

    def start(self) -> None:
        """Start beating (forgetting earlier beats)."""
        self.beats = [time.perf_counter()]
        self._timer.start()

    def stop(self) -> None:
        """Stop beating."""
        self._beat()
        self._timer.stop()

    def gaps_ms(self) -> list[float]:
        """The time between consecutive beats, in ms."""
        return [(b - a) * 1000 for a, b in zip(self.beats, self.beats[1:], strict=False)]

    def longest_ms(self) -> float:
        """The longest gap: the longest the GUI thread could not answer."""
        gaps = self.gaps_ms()
        return max(gaps) if gaps else 0.0


def percentile(values: list[float], share: float) -> float:
    """Linear interpolation between closest ranks (as the summary's p90)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = share * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
