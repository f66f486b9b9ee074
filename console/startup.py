"""Garbage collection held back while the console starts (and around work that makes many long-lived objects).

Starting the window allocates a great many objects that all stay alive (modules, classes, widgets, the 10,000 rows
of the queue): the cyclic collector would traverse them again and again for nothing, about a third of a second of
a start on a full floor. ``pause()`` (main.py, before the window's modules are imported) turns it off;
``resume()`` (once the queue is on screen, or when the start stops short of it) moves everything alive then into
the permanent generation, where later collections do not look (``gc.freeze``), and turns the collector back on.
``settle()`` is what every main window calls once its queue's first load is on screen: resume, or just freeze.
Objects are still freed by reference counting meanwhile; only cycles wait for the collector.
"""

from __future__ import annotations

import gc
import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager

BEFORE_QT = (
    "sqlalchemy",
    "sqlalchemy.orm",
    "sqlalchemy.dialects.sqlite",
    "argon2",
    "platformdirs",
    "db.engine",
    "db.models",
    "db.migrate",
    "console.accounts",
    "console.queue",
    "console.shifts",
    "console.goodwill",
    "console.followups",
)
"""What the window's start imports that needs no Qt, imported before PySide6 (``import_before_qt``)."""


class _State:
    paused = False


_state = _State()


GUI_SWITCH_INTERVAL_S = 0.001
"""How long a busy thread keeps the interpreter lock from another that wants it, in the window's process."""


def responsive_gui() -> None:
    """Let the GUI thread have the interpreter lock within a millisecond when it needs it, not within five.

    Qt calls back into Python all through a paint or a layout (a delegate's sizeHint, a model's data), and each
    call needs the lock. While a worker runs Python (a queue refresh, a summary) it keeps the lock for Python's
    switch interval, 5 ms by default, before handing it over, so a layout with a dozen callbacks froze the window
    for tens of milliseconds. A shorter interval costs the workers a little throughput, never the screen; the
    start, which wants throughput, keeps Python's default until the queue is on screen (``settle``).
    """
    sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)


def can_use_child() -> bool:
    """Whether this Python can start a child process of the console's own modules (not in a frozen build, where
    ``sys.executable`` is the application itself): the chart renderer and the queue's start-up read use one."""
    return not getattr(sys, "frozen", False) and bool(sys.executable)


def import_before_qt() -> None:
    """Import the database layer and the services the window opens with, before anything imports PySide6.

    Once loaded, PySide6 hooks every import (its ``__feature__`` switch) and reads the whole source of each module
    imported after it, to see whether it mentions PySide6; the text stays in ``linecache``. For SQLAlchemy's 130
    modules, 5.7 MB of source, that is a tenth of a second of a start and megabytes kept for nothing.
    """
    for name in BEFORE_QT:
        importlib.import_module(name)


def pause() -> None:
    """Stop automatic collections until ``resume()`` (nothing to do if they are off already)."""
    if gc.isenabled():
        gc.disable()
        _state.paused = True


def resume() -> None:
    """Undo ``pause()``: freeze what is alive now and collect automatically again. Idempotent."""
    if _state.paused:
        _state.paused = False
        gc.freeze()
        gc.enable()


def settle() -> None:
    """The console is up (its queue's first load is on screen): what is alive now lives as long as the window, so
    move it into the permanent generation, whether or not ``pause()`` held collections back (a window built by a
    test or a benchmark, not by main). Later collections, wherever they are triggered (on the GUI thread or on a
    worker, holding the interpreter lock either way), walk only what was made since, not the queue's 10,000 rows
    and every module. Cyclic garbage made before this stays (the start's, once). From now on the GUI thread gets
    the interpreter lock quickly (``responsive_gui``); until now, throughput mattered more."""
    if _state.paused:
        resume()
    else:
        gc.freeze()
    responsive_gui()


def paused() -> bool:
    """Whether ``pause()`` holds collections back now."""
    return _state.paused


@contextmanager
def no_collections() -> Iterator[None]:
    """No automatic collection inside (as they were after): for work that makes tens of thousands of objects that
    all live on (a summary's handover, the charts' artists), which the collector, triggered by their count, would
    otherwise scan over and over. Nothing inside may rely on the collector to free reference cycles meanwhile."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@contextmanager
def collecting() -> Iterator[None]:
    """Collections as usual inside (a dialog waiting for someone to type), held back again after if they were."""
    if not _state.paused:
        yield
        return
    gc.enable()
    try:
        yield
    finally:
        if _state.paused:  # not resumed meanwhile
            gc.disable()
