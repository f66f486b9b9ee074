"""Run service calls off the GUI thread and deliver their results back on it (Anki's CollectionOp idea).

Workers never touch a widget: a finished job only emits a queued signal; the callback runs on the GUI thread.
"""

from __future__ import annotations

import logging
import traceback
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from console.errors import ConsoleError

log = logging.getLogger(__name__)
T = TypeVar("T")
ErrorHandler = Callable[[BaseException], None]


class TaskRunner(QObject):
    """Two lanes: writes run one at a time in order; reads (loads, reports) run beside them.

    A read may be ``urgent`` (the queue's first load): while one is pending, other reads wait, so that they neither
    take a read thread nor compete with it for the interpreter; they start once its result has been delivered (after
    the events already waiting, such as the paint it caused).
    """

    _done = Signal(object, object)  # callback, argument
    busyChanged = Signal(bool)

    def __init__(self, on_error: ErrorHandler, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._on_error = on_error
        self._writes = ThreadPoolExecutor(max_workers=1, thread_name_prefix="console-write")
        self._reads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="console-read")
        self._pending = 0
        self._urgent = 0
        self._held: deque[tuple[Callable[[], Any], Callable[[Any], None], ErrorHandler | None]] = deque()
        self._closed = False
        self._done.connect(self._deliver)

    def write(
        self, job: Callable[[], T], on_success: Callable[[T], None], on_error: ErrorHandler | None = None
    ) -> None:
        """Run a state-changing service call; writes keep their order."""
        self._submit(self._writes, job, on_success, on_error)

    def read(
        self,
        job: Callable[[], T],
        on_success: Callable[[T], None],
        on_error: ErrorHandler | None = None,
        *,
        urgent: bool = False,
    ) -> None:
        """Run a query that may take a while (a load, a report); an urgent one goes before the other reads."""
        if urgent:
            self._urgent += 1
            self._submit(self._reads, job, self._urgent_done(on_success), self._urgent_done(on_error or self._on_error))
        elif self._urgent:
            if not self._closed:
                self._held.append((job, on_success, on_error))
        else:
            self._submit(self._reads, job, on_success, on_error)

    def _urgent_done(self, callback: Callable[[Any], None]) -> Callable[[Any], None]:
        def done(argument: Any) -> None:
            try:
                callback(argument)
            finally:
                self._urgent -= 1
                if not self._urgent and self._held:
                    QTimer.singleShot(0, self, self._release_held)

        return done

    def _release_held(self) -> None:
        while self._held and not self._urgent:
            job, on_success, on_error = self._held.popleft()
            self._submit(self._reads, job, on_success, on_error)

    @property
    def busy(self) -> bool:
        """Whether any job is still running or waiting."""
        return self._pending > 0 or bool(self._held)

    def shutdown(self) -> None:
        """Wait for running jobs; drop their results (the window is closing)."""
        self._closed = True
        self._held.clear()
        self._writes.shutdown(wait=True, cancel_futures=False)
        self._reads.shutdown(wait=True, cancel_futures=True)

    def _submit(
        self,
        pool: ThreadPoolExecutor,
        job: Callable[[], T],
        on_success: Callable[[T], None],
        on_error: ErrorHandler | None,
    ) -> None:
        if self._closed:
            return
        self._pending += 1
        if self._pending == 1:
            self.busyChanged.emit(True)
        future: Future[T] = pool.submit(job)
        handler = on_error or self._on_error

        def finished(done: Future[T]) -> None:
            if done.cancelled():  # dropped at shutdown: nobody waits for it (exception() would raise here)
                return
            error = done.exception()
            if error is not None:
                if not isinstance(error, ConsoleError):  # a bug, not a user error: keep the traceback
                    log.error("background task failed:\n%s", "".join(traceback.format_exception(error)))
                self._done.emit(handler, error)
            else:
                self._done.emit(on_success, done.result())

        future.add_done_callback(finished)

    @Slot(object, object)
    def _deliver(self, callback: Callable[[Any], None], argument: Any) -> None:
        self._pending -= 1
        if self._pending == 0:
            self.busyChanged.emit(False)
        if not self._closed:
            callback(argument)
