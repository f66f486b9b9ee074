"""Figure 2.7: peak resident memory of the console with 10,000 open escalations and the shift summary open.

A separate process runs the real start-up path (tests/benchmarks/app_driver.py), signs in, loads the queue, opens
the summary view on the last shift and reads its own VmHWM once the charts are painted, and that of the child
process that drew them; the figure is the sum of the two peaks. The baseline process imports
PySide6 and SQLAlchemy and shows an empty QMainWindow, then reads its VmHWM the same way.
"""

from __future__ import annotations

from pathlib import Path

from tests.benchmarks.conftest import PYTHON, Floor, Results, check, python_env
from tests.benchmarks.floorgen import BENCH_PASSWORD, BENCH_USERNAME
from tests.benchmarks.procs import run_to_mark


def test_peak_memory(working_floor: Floor, results: Results, tmp_path: Path) -> None:
    out = tmp_path / "memory.json"
    env = python_env(SUPERVISOR_CONSOLE_AUTOLOGIN=f"{BENCH_USERNAME}:{BENCH_PASSWORD}")
    product = run_to_mark(
        [PYTHON, "-m", "tests.benchmarks.app_driver", str(out), "--db", working_floor.url], env, out, timeout=300
    )
    baseline = run_to_mark(
        [PYTHON, "-m", "tests.benchmarks.baseline_window", str(out), "--hold", "2"], python_env(), out
    )
    fig = results.record(
        "2.7",
        "peak RSS, 10k open + summary open",
        unit="MB",
        # Both processes of the console: the window's and the one that draws the charts (console/summary_charts.py).
        value=(product["vm_hwm_kb"] + product["chart_process_vm_hwm_kb"]) / 1024,
        baseline=baseline["vm_hwm_kb"] / 1024,
        max_value=300,
        details={
            "window_process_peak_mb": round(product["vm_hwm_kb"] / 1024, 1),
            "chart_process_peak_mb": round(product["chart_process_vm_hwm_kb"] / 1024, 1),
            "rss_after_queue_load_mb": round(product["rss_queue_loaded_kb"] / 1024, 1),
            "peak_after_queue_load_mb": round(product["hwm_queue_loaded_kb"] / 1024, 1),
            "rss_at_end_mb": round(product["vm_rss_kb"] / 1024, 1),
            "open_rows": product["open_rows"],
            "summary_handover_rows": product["summary_handover_rows"],
        },
    )
    check(fig)
