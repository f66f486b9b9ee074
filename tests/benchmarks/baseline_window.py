"""The start and memory baselines: a process that imports PySide6 and SQLAlchemy and shows an empty QMainWindow.

``python -m tests.benchmarks.baseline_window MARK [--hold SECONDS]`` writes ``{"painted_at": time.time()}`` to MARK
once the window's first paint has finished (the same signal the console gives with SUPERVISOR_CONSOLE_BENCH_MARK);
with ``--hold`` it then waits that long and adds its peak resident memory (``VmHWM``) before quitting.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import sqlalchemy
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow


def status_kb(field: str) -> int:
    """A ``VmHWM``/``VmRSS`` line of /proc/self/status, in kB."""
    for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


class FirstPaint(QObject):
    """Writes the mark once the window's first paint has finished."""

    def __init__(self, window: QMainWindow, mark: Path, hold: float | None) -> None:
        super().__init__(window)
        self.window, self.mark, self.hold = window, mark, hold
        self.painted_at = 0.0
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Paint:
            self.window.removeEventFilter(self)
            QTimer.singleShot(0, self.painted)
        return False

    def painted(self) -> None:
        self.painted_at = time.time()
        if self.hold is None:
            self.write({"painted_at": self.painted_at})
        else:
            QTimer.singleShot(int(self.hold * 1000), self.measured)

    def measured(self) -> None:
        self.write({"painted_at": self.painted_at, "vm_hwm_kb": status_kb("VmHWM"), "vm_rss_kb": status_kb("VmRSS")})
        QApplication.quit()

    def write(self, data: dict[str, float]) -> None:
        partial = self.mark.with_name(self.mark.name + ".partial")
        partial.write_text(json.dumps(data), encoding="utf-8")
        partial.replace(self.mark)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mark", type=Path)
    parser.add_argument("--hold", type=float)
    args = parser.parse_args()
    assert sqlalchemy.__version__  # imported, as the console imports it, and kept
    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    window.setWindowTitle("Baseline")
    window.resize(1400, 860)
    FirstPaint(window, args.mark, args.hold)
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
