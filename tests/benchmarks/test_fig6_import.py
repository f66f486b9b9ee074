"""Figure 2.6: importing 100,000 CFPB-format rows with the real importer vs a raw sqlite3 executemany of them.

Both write into a fresh database migrated to the current schema (the same indexes), in WAL mode with the app's
pragmas, in transactions of the importer's default batch (``DEFAULT_BATCH_SIZE`` rows). The baseline reads the
same CSV with the csv module, maps each row the plainest way (the preset's rules for channel, status, severity and
category, without checks), and inserts a customer and an escalation per row with executemany; no audit, no change
log, no updates.
"""

from __future__ import annotations

import csv
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

from console.importer import DEFAULT_BATCH_SIZE, cfpb_category, preset, run_import
from db.engine import Database
from db.migrate import upgrade_database
from tests.benchmarks.conftest import Results, check

BATCH = DEFAULT_BATCH_SIZE  # the same transactions as the product's
VIA = {"Web": "web_form", "Phone": "phone", "Email": "email", "Postal mail": "post"}


def fresh_database(path: Path) -> Database:
    database = Database(f"sqlite:///{path}")
    upgrade_database(database)
    return database


def raw_executemany(path: Path, csv_path: Path, batch: int = BATCH) -> int:
    """The baseline: the same rows into customers and escalations, plain executemany; returns the rows written."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    (associate,) = conn.execute(
        "INSERT INTO associates (name, active, created_at) VALUES ('CFPB intake', 1, ?) RETURNING id", (now,)
    ).fetchone()
    next_customer = 1 + (conn.execute("SELECT coalesce(max(id), 0) FROM customers").fetchone()[0])
    written = 0
    customers: list[tuple[object, ...]] = []
    escalations: list[tuple[object, ...]] = []

    def flush() -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO customers (id, external_ref, name, tier, lifetime_value, churn_risk, contact_consent, "
            "created_at) VALUES (?, ?, ?, 'standard', 0, 0, ?, ?)",
            customers,
        )
        conn.executemany(
            "INSERT INTO escalations (external_ref, source, customer_id, associate_id, channel, category, product, "
            "severity, summary, details, status, outcome, created_at, escalated_at, queued_at, resolved_at, "
            "closed_at, held_seconds, reopen_count, version, updated_at) "
            "VALUES (?, 'cfpb', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 1, ?)",
            escalations,
        )
        conn.execute("COMMIT")
        customers.clear()
        escalations.clear()

    with csv_path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            cid = row["Complaint ID"]
            received = f"{row['Date received']} 12:00:00.000000"
            response = row["Company response to consumer"]
            closed = response not in ("", "In progress")
            finished = f"{row['Date sent to company']} 12:00:00.000000" if closed else None
            high = "Older American" in row["Tags"] or "Servicemember" in row["Tags"] or row["Timely response?"] == "No"
            details = f"Company: {row['Company']}\nState: {row['State']}\n\n{row['Consumer complaint narrative']}"
            customers.append(
                (
                    next_customer,
                    f"cfpb-consumer-{cid}",
                    f"CFPB consumer #{cid}",
                    int(row["Consumer consent provided?"] == "Consent provided"),
                    now,
                )
            )
            escalations.append(
                (
                    f"cfpb-{cid}",
                    next_customer,
                    associate,
                    VIA.get(row["Submitted via"], "other"),
                    cfpb_category(row["Issue"], row["Sub-issue"]).value,
                    f"{row['Product']} / {row['Sub-product']}"[:200],
                    "high" if high else "normal",
                    f"{row['Issue']} — {row['Sub-issue']}"[:500],
                    details,
                    "closed" if closed else "open",
                    response if closed else None,
                    received,
                    received,
                    received,
                    finished,
                    finished,
                    now,
                )
            )
            next_customer += 1
            written += 1
            if len(escalations) >= batch:
                flush()
    if escalations:
        flush()
    conn.close()
    return written


def test_import_rate(cfpb_csv: Path, tmp_path: Path, results: Results) -> None:
    product_db = fresh_database(tmp_path / "product.sqlite3")
    baseline_path = tmp_path / "baseline.sqlite3"
    fresh_database(baseline_path).dispose()
    began = time.perf_counter()
    report = run_import(product_db, None, cfpb_csv, preset("cfpb"))
    took = time.perf_counter() - began
    product_db.dispose()
    began = time.perf_counter()
    written = raw_executemany(baseline_path, cfpb_csv)
    raw_took = time.perf_counter() - began
    rows = report.imported + report.updated + report.unchanged
    # For the lead: how much of the baseline is the 100 commits (one transaction for the whole file instead).
    single_path = tmp_path / "single.sqlite3"
    fresh_database(single_path).dispose()
    began = time.perf_counter()
    raw_executemany(single_path, cfpb_csv, batch=10**9)
    single_took = time.perf_counter() - began
    fig = results.record(
        "2.6",
        "import 100k CFPB rows",
        unit="s",
        value=took,
        baseline=raw_took,
        max_value=5.0,  # 100,000 rows at 20,000 rows/s
        max_ratio=3.0,
        details={
            "rows_per_s": round(rows / took),
            "baseline_rows_per_s": round(written / raw_took),
            "result": report.summary_line(),
            "target_rows_per_s": 20_000,
            "batch_rows": BATCH,
            "baseline_one_transaction_rows_per_s": round(written / single_took),
        },
    )
    assert report.imported == 100_000, report.summary_line()
    check(fig)
