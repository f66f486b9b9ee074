"""Guards against Qt binding defects that would take a console down in the middle of a shift."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal
from pytestqt.qtbot import QtBot


class _Emitter(QObject):
    plain = Signal()
    number = Signal(int)
    anything = Signal(object, object)


def test_signal_emission_keeps_python_refcounts_intact(qtbot: QtBot) -> None:
    """PySide6 6.12.0 dropped a reference to True per emission, aborting Python 3.11 after a few thousand."""
    emitter = _Emitter()
    received: list[object] = []
    emitter.plain.connect(lambda: None)
    emitter.number.connect(lambda n: None)
    emitter.anything.connect(lambda a, b: received.append(b))
    before_true, before_false, before_none = sys.getrefcount(True), sys.getrefcount(False), sys.getrefcount(None)
    for _ in range(300):
        emitter.plain.emit()
        emitter.number.emit(7)
        emitter.anything.emit(None, False)
    received.clear()
    assert sys.getrefcount(True) >= before_true - 5
    assert sys.getrefcount(False) >= before_false - 5
    assert sys.getrefcount(None) >= before_none - 50
