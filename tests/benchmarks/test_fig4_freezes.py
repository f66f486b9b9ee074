"""Figure 2.4: the longest GUI-thread stall (gap of a 10 ms heartbeat) while the console imports and summarises.

(a) 100,000 CFPB-format rows through the import dialog's worker, the main window open on the floor beside it (its
live feed sees every imported escalation, as on a real floor). (b) the shift summary over the 1M floor through the
summary view (Ctrl+Shift+Y: ``MainWindow.show_summary_view``, which builds the last ended shift's summary off the
GUI thread and then shows its tables and charts). The baseline is the same window left idle for 5 s just before.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from tests.benchmarks.conftest import Floor, Results, check
from tests.benchmarks.gui import Heartbeat, main_window, run_for, run_until

SETTLE_S = 1.0  # after the work is reported done: the paints and feed updates it causes
IDLE_S = 5.0


def idle_baseline(seconds: float) -> float:
    """The longest heartbeat gap of the idle window (the machine's and the timer's own noise)."""
    beat = Heartbeat()
    beat.start()
    run_for(seconds)
    beat.stop()
    return beat.longest_ms()


def test_freeze_while_importing(scratch_floor: Floor, cfpb_csv: Path, qt_app: Any, results: Results) -> None:
    from widgets.import_dialog import ImportDialog

    with main_window(scratch_floor.url) as window:
        run_for(1.0)
        baseline = idle_baseline(IDLE_S)
        dialog = ImportDialog(window.database, window.actor, window)  # as File > Import complaints… makes it
        dialog.show()
        dialog.set_file(cfpb_csv)  # the preview reads the first rows on the GUI thread, as on choosing the file
        beat = Heartbeat()
        beat.start()
        began = time.perf_counter()
        dialog.start_import()
        run_until(lambda: dialog.last_report is not None or not dialog.is_running, 900, what="the import")
        took = time.perf_counter() - began
        run_for(SETTLE_S)
        beat.stop()
        report = dialog.last_report
        dialog.close()
        rows = window.queue_view.model().rowCount()
    assert report is not None, "the import failed"
    fig = results.record(
        "2.4a",
        "longest GUI stall while importing 100k",
        unit="ms",
        value=beat.longest_ms(),
        baseline=baseline,
        max_value=50,
        details={
            "import_seconds": round(took, 2),
            "result": report.summary_line(),
            "gaps_over_50ms": sum(1 for g in beat.gaps_ms() if g > 50),
            "queue_rows_after": rows,
        },
    )
    check(fig)


def test_freeze_while_summarising(working_floor: Floor, qt_app: Any, results: Results) -> None:
    matplotlib_loaded = "matplotlib" in sys.modules
    with main_window(working_floor.url) as window:
        run_for(1.0)
        baseline = idle_baseline(IDLE_S)
        beat = Heartbeat()
        beat.start()
        began = time.perf_counter()
        view = window.show_summary_view()
        run_until(lambda: view.summary is not None and not view.filling, 300, what="the summary")
        took = time.perf_counter() - began
        run_for(SETTLE_S)
        beat.stop()
        summary = view.summary
        view.close()
    assert summary is not None
    fig = results.record(
        "2.4b",
        "longest GUI stall while summarising 1M",
        unit="ms",
        value=beat.longest_ms(),
        baseline=baseline,
        max_value=50,
        details={
            "summary_seconds": round(took, 2),
            "received": summary.received,
            "handover_rows": len(summary.handover),
            "gaps_over_50ms": sum(1 for g in beat.gaps_ms() if g > 50),
            "matplotlib_already_imported": matplotlib_loaded,
        },
    )
    check(fig)
