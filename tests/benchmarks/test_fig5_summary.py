"""Figure 2.5: the summary of an 8-hour shift in the 1M floor, SummaryService.build vs the same aggregates as raw SQL.

The shift is the floor's last (ended at generation time, eight hours of its busiest recent history). Product and
baseline run alternately, after one warm-up each (page cache), and read the same file; the medians are compared.
Both must agree on the counts, or the baseline would not be the same work.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime

from console.summary import SummaryService
from db.engine import Database
from tests.benchmarks.conftest import Floor, Results, check
from tests.benchmarks.gui import percentile
from tests.benchmarks.rawsummary import raw_summary

RUNS = 5


def test_shift_summary(working_floor: Floor, results: Results) -> None:
    start = datetime.fromisoformat(working_floor.stats.last_shift_start)
    end = datetime.fromisoformat(working_floor.stats.last_shift_end)
    database = Database(working_floor.url)
    service = SummaryService(database)
    conn = sqlite3.connect(working_floor.path)
    product: list[float] = []
    baseline: list[float] = []
    try:
        for run in range(RUNS + 1):
            began = time.perf_counter()
            summary = service.build(start, end)
            took = time.perf_counter() - began
            began = time.perf_counter()
            raw = raw_summary(conn, start, end)
            raw_took = time.perf_counter() - began
            if run:
                product.append(took * 1000)
                baseline.append(raw_took * 1000)
    finally:
        conn.close()
        database.dispose()
    mine = {
        "received": summary.received,
        "claimed": summary.claimed,
        "resolved": summary.resolved,
        "open_carried_over": summary.open_carried_over,
        "csat_n": summary.csat_n,
        "nps_n": summary.nps_n,
        "reopened": summary.reopened,
        "handover": len(summary.handover),
        "stories": len(summary.stories),
        "follow_ups_due": len(summary.follow_ups_due),
    }
    theirs = {key: raw[key] for key in mine}
    fig = results.record(
        "2.5",
        "8-hour shift summary, 1M floor",
        unit="ms",
        value=percentile(product, 0.5),
        baseline=percentile(baseline, 0.5),
        max_value=500,
        max_ratio=1.5,
        details={
            "runs": RUNS,
            "product_ms": [round(x, 1) for x in product],
            "baseline_ms": [round(x, 1) for x in baseline],
            "range": [start.isoformat(), end.isoformat()],
            "counts": mine,
            "baseline_counts_agree": mine == theirs,
        },
    )
    assert mine == theirs, f"the raw SQL baseline does not compute the same summary: {mine} vs {theirs}"
    check(fig)
