"""The console as a user runs it, for the memory figure: ``python -m tests.benchmarks.app_driver OUT --db URL``.

Runs main.py's own start (``main.open_window``: the queue read in a child process, then ``widgets.app.run_gui``:
open and upgrade the database, sign in, the main window, its event loop; the data layer is imported before Qt, at
the top of this module), signed in by SUPERVISOR_CONSOLE_AUTOLOGIN. Once the queue has loaded it opens the shift summary
(``MainWindow.show_summary_view``, as Ctrl+Shift+Y does); once the summary and its charts are shown and painted it
writes the process's peak resident memory (VmHWM) and its resident memory at each stage to OUT, with the peak of
the child process that draws the charts, and quits.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from console import startup

startup.import_before_qt()  # as main.py does, before Qt

from PySide6.QtCore import QObject, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

SETTLE_S = 2.0


def status_kb(field: str, pid: int | str = "self") -> int:
    """A VmHWM/VmRSS line of /proc/PID/status (this process by default), in kB."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


class Probe(QObject):
    """Watches the running console from its own event loop and drives it to the summary."""

    def __init__(self, out: Path) -> None:
        super().__init__()
        self.out = out
        self.stage = "waiting for the window"
        self.marks: dict[str, Any] = {"started_at": time.time()}
        self.view: Any = None
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.look)
        self.timer.start(50)

    def look(self) -> None:
        from widgets.main_window import MainWindow

        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        if not windows:
            return
        window = windows[0]
        if self.view is None and window.queue.has_loaded:
            self.marks["rss_queue_loaded_kb"] = status_kb("VmRSS")
            self.marks["hwm_queue_loaded_kb"] = status_kb("VmHWM")
            self.marks["open_rows"] = window.queue_view.model().rowCount()
            self.view = window.show_summary_view()
        elif self.view is not None and self.view.summary is not None and self.view.charts is not None:
            self.timer.stop()
            self.marks["summary_handover_rows"] = len(self.view.summary.handover)
            QTimer.singleShot(int(SETTLE_S * 1000), self.finish)

    def finish(self) -> None:
        self.marks |= {"vm_hwm_kb": status_kb("VmHWM"), "vm_rss_kb": status_kb("VmRSS"), "done_at": time.time()}
        # The charts are drawn by a child process (console/summary_charts.py): its memory is the console's too.
        child = self.view.renderer.child_pid
        self.marks["chart_process_vm_hwm_kb"] = status_kb("VmHWM", child) if child is not None else 0
        partial = self.out.with_name(self.out.name + ".partial")
        partial.write_text(json.dumps(self.marks), encoding="utf-8")
        partial.replace(self.out)
        QApplication.quit()


def main(argv: list[str]) -> int:
    import main as console_main
    from console import cli
    from widgets.app import application

    out = Path(argv[0])
    args = cli.parse(argv[1:])
    application()
    probe = Probe(out)
    code = console_main.open_window(args)  # main.py's own start (the data layer is already in, before Qt)
    del probe
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
