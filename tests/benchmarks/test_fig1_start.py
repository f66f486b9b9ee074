"""Figure 2.1: from ``python main.py --db <floor>`` to the first painted queue of 10,000 open escalations."""

from __future__ import annotations

from pathlib import Path

from tests.benchmarks.conftest import PYTHON, Floor, Results, check, python_env
from tests.benchmarks.procs import MAIN, console_env, median, timed_start

RUNS = 5  # after one warm-up each; product and baseline alternate, so noise hits both alike


def test_start_to_first_painted_queue(working_floor: Floor, results: Results, tmp_path: Path) -> None:
    mark = tmp_path / "mark.json"
    product_argv = [PYTHON, MAIN, "--db", working_floor.url]
    baseline_argv = [PYTHON, "-m", "tests.benchmarks.baseline_window", str(mark)]
    product: list[float] = []
    baseline: list[float] = []
    rows = []
    for run in range(RUNS + 1):
        b = timed_start(baseline_argv, python_env(), mark)
        p = timed_start(product_argv, console_env(mark), mark)
        if run:  # the first pair warms the page cache and the bytecode caches
            baseline.append(b["seconds"])
            product.append(p["seconds"])
            rows.append(p["rows"])
    value, base = median(product), median(baseline)
    fig = results.record(
        "2.1",
        "start to first painted queue",
        unit="s",
        value=value,
        baseline=base,
        max_value=1.5,
        max_ratio=2.0,
        details={
            "runs": RUNS,
            "product_s": [round(x, 3) for x in product],
            "baseline_s": [round(x, 3) for x in baseline],
            "open_rows_painted": rows,
            "how": "launch to the first paint of the loaded queue (SUPERVISOR_CONSOLE_BENCH_MARK), signed in with "
            "SUPERVISOR_CONSOLE_AUTOLOGIN; baseline: imports PySide6 + SQLAlchemy, shows an empty QMainWindow",
        },
    )
    assert all(n == 10_000 for n in rows), f"the queue painted {rows} rows, not 10,000"
    check(fig)
