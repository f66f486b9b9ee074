"""Running an import in a child process, so that a big file does not slow the window that started it.

An import is Python-heavy (reading, mapping, building rows): on a thread of the GUI's process it competes with the
GUI thread for the interpreter lock, and the garbage collector's full passes, which it triggers, walk every object
of the process (the open queue's included) while holding that lock. In a child process it has its own interpreter,
and the GUI's process only reads its progress from a pipe. The child runs :func:`console.importer.run_import`
unchanged, so batches, transactions, rejects and reports are exactly those of an import on a thread; a child that
is killed leaves whole batches behind like any interrupted import, and one whose parent goes away stops after the
batch it is writing (its stdin closes, which it takes as Cancel).

The protocol: the parent writes one pickled :class:`ImportRequest` to the child's stdin, then one byte to cancel
(or closes it); the child writes pickled messages to its stdout: ``("progress", done, total)`` after each batch,
then ``("done", report)`` or ``("failed", message)``. Both ends are this package, in the same Python.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import console
from console.actor import Actor
from console.errors import ConsoleError
from console.importer import DEFAULT_BATCH_SIZE, ImportMapping, ImportReport, ProgressCallback, describe_failure
from db.engine import Database

CANCEL_POLL_S = 0.1  # how often the cancel watcher looks whether the import has ended
STDERR_TAIL = 2000  # characters of a crashed child's stderr kept for the message


class ImportProcessFailed(ConsoleError):
    """The import in the child process failed (the message is the child's) or the child ended without a report."""


@dataclass(frozen=True)
class ImportRequest:
    """What the child imports: everything :func:`console.importer.run_import` takes, the database as its URL."""

    database_url: str  # with the password: it goes through the pipe, never on a command line
    actor: Actor | None
    path: Path
    mapping: ImportMapping
    dry_run: bool
    rejects_path: Path | None
    batch_size: int


def can_run_in_process(database: Database) -> bool:
    """Whether another process can open this database (not an in-memory SQLite one)."""
    return database.dialect != "sqlite" or database.sqlite_path is not None


def run_import_in_process(
    database: Database,
    actor: Actor | None,
    path: Path | str,
    mapping: ImportMapping,
    *,
    dry_run: bool = False,
    rejects_path: Path | str | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> ImportReport:
    """:func:`console.importer.run_import` in a child process; blocks until it ends, calling ``progress`` here.

    Raises ImportProcessFailed with the child's one-line reason (``describe_failure``) when the import fails.
    """
    request = ImportRequest(
        database_url=database.url.render_as_string(hide_password=False),
        actor=actor,
        path=Path(path),
        mapping=mapping,
        dry_run=dry_run,
        rejects_path=Path(rejects_path) if rejects_path is not None else None,
        batch_size=batch_size,
    )
    package_root = str(Path(console.__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    with tempfile.TemporaryFile() as stderr:
        child = subprocess.Popen(
            [sys.executable, "-m", "console.import_process"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=env,
        )
        assert child.stdin is not None
        assert child.stdout is not None
        finished = threading.Event()
        watcher: threading.Thread | None = None
        try:
            pickle.dump(request, child.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            child.stdin.flush()
            if cancel is not None:
                watcher = threading.Thread(
                    target=_pass_cancel, args=(cancel, finished, child.stdin), name="import-cancel", daemon=True
                )
                watcher.start()
            report, failure = _read_messages(child.stdout, progress)
        finally:
            finished.set()
            if watcher is not None:
                watcher.join()
            with _quietly():
                child.stdin.close()
            code = child.wait()
            child.stdout.close()
        if failure is not None:
            raise ImportProcessFailed(failure)
        if report is None:
            stderr.seek(0)
            tail = stderr.read().decode("utf-8", "replace")[-STDERR_TAIL:].strip()
            last = tail.splitlines()[-1] if tail else f"exit code {code}"
            raise ImportProcessFailed(
                f"The import process ended without a report ({last}); the batches it wrote stay. "
                "Import the file again to finish it."
            )
        return report


def _pass_cancel(cancel: threading.Event, finished: threading.Event, stdin: IO[bytes]) -> None:
    while not finished.is_set():
        if cancel.wait(CANCEL_POLL_S):  # passed on at once; ``finished`` is looked at between waits
            with _quietly():
                stdin.write(b"c")
                stdin.flush()
            return


def _read_messages(stdout: IO[bytes], progress: ProgressCallback | None) -> tuple[ImportReport | None, str | None]:
    report: ImportReport | None = None
    failure: str | None = None
    while True:
        try:
            message: tuple[Any, ...] = pickle.load(stdout)
        except (EOFError, pickle.UnpicklingError):
            return report, failure
        kind = message[0]
        if kind == "progress":
            if progress is not None:
                progress(int(message[1]), int(message[2]))
        elif kind == "done":
            report = message[1]
        elif kind == "failed":
            failure = str(message[1])


class _quietly:
    """Ignore a pipe the child has already closed."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, *_exc: object) -> bool:
        return exc_type is not None and issubclass(exc_type, OSError)


# -- the child -----------------------------------------------------------------------------------------------------
def _child() -> int:
    from console.importer import run_import

    stdin, out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the messages
    request: ImportRequest = pickle.load(stdin)
    cancel = threading.Event()

    def watch_stdin() -> None:
        with _quietly():
            stdin.read(1)  # a byte: Cancel; end of file: the parent has gone, stop as Cancel does
        cancel.set()

    threading.Thread(target=watch_stdin, name="import-cancel", daemon=True).start()

    def send(*message: Any) -> None:
        pickle.dump(message, out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()

    try:
        database = Database(request.database_url)
        try:
            report = run_import(
                database,
                request.actor,
                request.path,
                request.mapping,
                dry_run=request.dry_run,
                rejects_path=request.rejects_path,
                progress=lambda done, total: send("progress", done, total),
                cancel=cancel,
                batch_size=request.batch_size,
            )
        finally:
            database.dispose()
    except Exception as exc:
        send("failed", describe_failure(exc))
        return 1
    send("done", report)
    return 0


if __name__ == "__main__":
    sys.exit(_child())
