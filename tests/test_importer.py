"""The complaint importer on real files: the CFPB sample, its variants, broken files, mapping files, crashes.

Expected counts are worked out here from the files with the csv module and the rules as the README documents
them, never by calling the importer's own mapping code.
"""

from __future__ import annotations

import csv
import io
import json
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from console.actor import Actor
from console.domain import Status
from console.errors import ValidationError
from console.importer import DEFAULT_BATCH_SIZE, load_mapping, mapping_from_dict, preset, read_import, run_import
from console.queue import QueueService
from db.engine import Database
from db.models import AuditEvent, Change, Customer, Escalation, Interaction
from tests.conftest import CFPB_SAMPLE, MAIN, PYTHON, run_main_env

# -- the documented CFPB rules, written out independently ----------------------------------------------------------
CHANNEL_RULES = {"Web": "web_form", "Phone": "phone", "Email": "email", "Postal mail": "post"}
CATEGORY_RULES = [
    (
        "billing_error",
        "fee|charg|billing|payment|interest|overdraft|debt not owed|debt is not yours|funds|your statement"
        "|transaction|payoff",
    ),
    (
        "long_wait",
        "communication|contact|delay|took too long|response|investigation|customer service|didn't receive"
        "|notification|not available when promised",
    ),
    (
        "product_malfunction",
        "incorrect information|trouble using|unable to get|damaged|fraud alert|security freeze|monitoring"
        "|not working|error",
    ),
    (
        "unmet_expectation",
        "advertising|marketing|promis|expect|terms|applying|getting a|opening|closing|managing|false statement"
        "|representation",
    ),
]


def expected_category(issue: str, sub_issue: str) -> str:
    for text in (issue.lower(), sub_issue.lower()):
        for category, words in CATEGORY_RULES:
            for word in words.split("|"):
                if word in text:
                    return category
    return "other"


def expected_status(row: dict[str, str]) -> str:
    response = row.get("Company response to consumer", "")
    return "open" if response in ("", "In progress") else "closed"


def expected_severity(row: dict[str, str]) -> str:
    tags = row.get("Tags", "")
    if "Older American" in tags or "Servicemember" in tags or row.get("Timely response?") == "No":
        return "high"
    return "normal"


def expected_counts(path: Path) -> dict[str, Counter[str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    return {
        "status": Counter(expected_status(r) for r in rows),
        "channel": Counter(CHANNEL_RULES.get(r["Submitted via"], "other") for r in rows),
        "category": Counter(expected_category(r["Issue"], r["Sub-issue"]) for r in rows),
        "severity": Counter(expected_severity(r) for r in rows),
    }


# -- helpers ------------------------------------------------------------------------------------------------------
def sample() -> tuple[list[str], list[list[str]]]:
    with CFPB_SAMPLE.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def write_csv(
    path: Path,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    bom: bool = False,
    crlf: bool = False,
    encoding: str = "utf-8",
) -> list[int]:
    """Write a CSV; return the physical line on which each data row starts (header = line 1)."""
    terminator = "\r\n" if crlf else "\n"

    def render(row: Sequence[str]) -> str:
        one = io.StringIO()
        csv.writer(one, lineterminator=terminator).writerow(row)
        return one.getvalue()

    parts = [render(header)]
    line = 1 + parts[0].count("\n")
    starts = []
    for row in rows:
        starts.append(line)
        parts.append(render(row))
        line += parts[-1].count("\n")
    data = "".join(parts).encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return starts


def db_counts(database: Database, column: Any) -> Counter[str]:
    with database.read() as session:
        rows = session.execute(select(column, func.count()).group_by(column)).all()
        return Counter(dict(rows))


def count(database: Database, model: type) -> int:
    with database.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def escalation(database: Database, ref: str) -> Escalation:
    with database.read() as session:
        found = session.scalar(select(Escalation).where(Escalation.external_ref == ref))
        assert found is not None, ref
        return found


def assert_consistent(database: Database) -> None:
    """Every escalation has its customer, its interaction and its change-log row."""
    with database.read() as session:
        escalations = session.scalar(select(func.count()).select_from(Escalation))
        with_customer = session.scalar(
            select(func.count()).select_from(Escalation).join(Customer, Customer.id == Escalation.customer_id)
        )
        with_interaction = session.scalar(
            select(func.count(func.distinct(Interaction.escalation_id))).where(Interaction.escalation_id.isnot(None))
        )
        interactions = session.scalar(select(func.count()).select_from(Interaction))
        announced = session.scalar(
            select(func.count(func.distinct(Change.entity_id))).where(Change.entity == "escalation")
        )
    assert escalations == with_customer == with_interaction == interactions == announced


CFPB = preset("cfpb")


# -- the real sample ---------------------------------------------------------------------------------------------
def test_cfpb_sample_imports_with_independently_derived_counts(database: Database, supervisor: Actor) -> None:
    expected = expected_counts(CFPB_SAMPLE)
    total = sum(expected["status"].values())
    assert total == 6623  # PROVENANCE.md

    report = run_import(database, supervisor, CFPB_SAMPLE, CFPB)

    assert (report.imported, report.updated, report.unchanged, report.rejected) == (total, 0, 0, 0)
    assert count(database, Escalation) == total
    assert db_counts(database, Escalation.status) == expected["status"]
    assert db_counts(database, Escalation.channel) == expected["channel"]
    assert db_counts(database, Escalation.category) == expected["category"]
    assert db_counts(database, Escalation.severity) == expected["severity"]
    # Open ones wait in the live queue; closed ones are history.
    assert len(QueueService(database).open_items()) == expected["status"]["open"]
    assert_consistent(database)
    with database.read() as session:
        batches = session.scalars(select(AuditEvent).where(AuditEvent.action == "import.batch")).all()
    assert len(batches) == -(-total // DEFAULT_BATCH_SIZE)
    assert all(b.actor == supervisor.username and "cfpb_complaints_2019_sample.csv" in (b.note or "") for b in batches)
    assert sum(b.after["imported"] for b in batches if b.after) == total

    # A row with a multi-line narrative (Complaint ID 3384392, on the file's third physical line).
    case = escalation(database, "cfpb-3384392")
    assert case.status == "closed"
    assert case.outcome == "Closed with explanation"
    assert case.escalated_at == datetime(2019, 9, 24, 12, tzinfo=UTC)
    assert case.closed_at == case.resolved_at == datetime(2019, 9, 24, 12, tzinfo=UTC)
    assert "transworld systems inc. \nis trying to collect a debt" in case.details
    assert case.summary == "Attempts to collect debt not owed — Debt is not yours"
    with database.read() as session:
        customer = session.get(Customer, case.customer_id)
        assert customer is not None
        assert (customer.name, customer.external_ref) == ("CFPB consumer #3384392", "cfpb-consumer-3384392")
        assert customer.contact_consent is True  # "Consent provided"

    # Importing the same file again changes nothing and duplicates nothing.
    changes_before = count(database, Change)
    again = run_import(database, supervisor, CFPB_SAMPLE, CFPB)
    assert (again.imported, again.updated, again.unchanged, again.rejected) == (0, 0, total, 0)
    assert count(database, Escalation) == total
    assert count(database, Customer) == total
    assert count(database, Interaction) == total
    assert count(database, Change) == changes_before


def test_dry_run_reports_the_same_counts_and_writes_nothing(database: Database, tmp_path: Path) -> None:
    header, rows = sample()
    data = [list(r) for r in rows[:300]]
    data[50][0] = "not a date"
    path = tmp_path / "export.csv"
    write_csv(path, header, data)
    dry = run_import(database, None, path, CFPB, dry_run=True, batch_size=128)
    assert count(database, Escalation) == 0
    assert count(database, Change) == 0
    assert count(database, AuditEvent) == 0
    real = run_import(database, None, path, CFPB, batch_size=128)
    assert (dry.imported, dry.updated, dry.unchanged, dry.rejected) == (299, 0, 0, 1)
    assert (real.imported, real.updated, real.unchanged, real.rejected) == (299, 0, 0, 1)
    again = run_import(database, None, path, CFPB, dry_run=True, batch_size=128)
    assert (again.imported, again.unchanged) == (0, 299)


def test_reimport_updates_what_changed_in_the_source(database: Database, supervisor: Actor, tmp_path: Path) -> None:
    header, rows = sample()
    col = {name: i for i, name in enumerate(header)}
    first = [list(r) for r in rows[:60]]
    for r in first[:3]:
        r[col["Company response to consumer"]] = "In progress"
    path = tmp_path / "export.csv"
    write_csv(path, header, first)
    assert run_import(database, None, path, CFPB).imported == 60
    open_refs = ["cfpb-" + r[col["Complaint ID"]] for r in first[:3]]
    assert {escalation(database, ref).status for ref in open_refs} == {"open"}
    # A supervisor takes the third one before the next export arrives.
    claimed = escalation(database, open_refs[2])
    QueueService(database).claim(supervisor, claimed.id)

    # The next export: all three closed by the company, and one issue re-worded.
    for r in first[:3]:
        r[col["Company response to consumer"]] = "Closed with monetary relief"
    first[10][col["Sub-issue"]] = "Reworded sub-issue"
    write_csv(path, header, first)
    report = run_import(database, None, path, CFPB)

    # Two cases finished by the source; the reworded one; the claimed one is left to its supervisor.
    assert (report.imported, report.updated, report.unchanged) == (0, 3, 57)
    for ref in open_refs[:2]:
        case = escalation(database, ref)
        assert case.status == Status.CLOSED.value
        assert case.outcome == "Closed with monetary relief"
        assert case.version == 2
    assert escalation(database, open_refs[2]).status == Status.CLAIMED.value
    reworded = escalation(database, "cfpb-" + first[10][col["Complaint ID"]])
    assert reworded.summary.endswith("— Reworded sub-issue")
    assert count(database, Escalation) == 60


def test_cancel_between_batches_keeps_whole_batches_and_rerun_completes(database: Database, tmp_path: Path) -> None:
    header, rows = sample()
    path = tmp_path / "export.csv"
    write_csv(path, header, rows[:1000])
    cancel = threading.Event()
    calls: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        calls.append((done, total))
        cancel.set()

    report = run_import(database, None, path, CFPB, batch_size=200, progress=progress, cancel=cancel)
    assert report.cancelled
    assert report.imported == 200
    assert len(calls) == 1
    assert 0 < calls[0][0] < calls[0][1] == path.stat().st_size
    assert count(database, Escalation) == 200
    assert_consistent(database)
    rest = run_import(database, None, path, CFPB, batch_size=200)
    assert (rest.imported, rest.unchanged) == (800, 200)
    assert count(database, Escalation) == 1000
    assert_consistent(database)


# -- variants of the CFPB export ---------------------------------------------------------------------------------
def test_bom_and_crlf_variant_reads_like_the_original(sqlite_url: str, tmp_path: Path) -> None:
    database = Database(sqlite_url)
    header, rows = sample()
    plain, windows = tmp_path / "plain.csv", tmp_path / "windows.csv"
    starts = write_csv(plain, header, rows[:200])
    windows_starts = write_csv(windows, header, rows[:200], bom=True, crlf=True)
    assert windows.read_bytes().startswith(b"\xef\xbb\xbfDate received,")
    assert starts == windows_starts

    plan = read_import(windows, CFPB)
    assert plan.columns[0] == "Date received"  # the BOM is not part of the first column's name
    assert [row.line for row in plan.preview] == starts[:20]
    report = run_import(database, None, windows, CFPB)
    assert report.imported == 200
    assert report.rejected == 0
    expected = expected_counts(plain)
    assert db_counts(database, Escalation.category) == expected["category"]
    # The same complaints without the BOM and with LF endings are the very same rows.
    again = run_import(database, None, plain, CFPB)
    assert (again.imported, again.updated, again.unchanged) == (0, 0, 200)
    database.dispose()


def test_older_export_without_narrative_tags_or_consent(database: Database, tmp_path: Path) -> None:
    header, rows = sample()
    dropped = {"Consumer complaint narrative", "Tags", "Consumer consent provided?"}
    keep = [i for i, name in enumerate(header) if name not in dropped]
    date_cols = [header.index("Date received"), header.index("Date sent to company")]
    old_rows = []
    for original in rows[:150]:
        r = list(original)
        for i in date_cols:  # older exports wrote MM/DD/YYYY
            year, month, day = r[i].split("-")
            r[i] = f"{month}/{day}/{year}"
        old_rows.append([r[i] for i in keep])
    old_header = [header[i] for i in keep]
    path = tmp_path / "old.csv"
    write_csv(path, old_header, old_rows)

    report = run_import(database, None, path, CFPB)
    assert (report.imported, report.rejected) == (150, 0)
    assert any("'Tags'" in w for w in report.warnings)
    with path.open(encoding="utf-8", newline="") as f:
        old = list(csv.DictReader(f))
    assert db_counts(database, Escalation.severity) == Counter(expected_severity(r) for r in old)
    with database.read() as session:
        assert session.scalar(select(func.count()).where(Customer.contact_consent.is_(True))) == 0
    first = old[0]
    month, day, year = first["Date received"].split("/")
    case = escalation(database, "cfpb-" + first["Complaint ID"])
    assert case.escalated_at == datetime(int(year), int(month), int(day), 12, tzinfo=UTC)


def test_json_lines_with_the_cfpb_api_field_names(database: Database, tmp_path: Path) -> None:
    header, rows = sample()
    api = {
        "Date received": "date_received",
        "Product": "product",
        "Sub-product": "sub_product",
        "Issue": "issue",
        "Sub-issue": "sub_issue",
        "Consumer complaint narrative": "complaint_what_happened",
        "Company": "company",
        "Submitted via": "submitted_via",
        "Date sent to company": "date_sent_to_company",
        "Company response to consumer": "company_response",
        "Timely response?": "timely",
        "Tags": "tags",
        "Complaint ID": "complaint_id",
    }
    lines = []
    for r in rows[:40]:
        record: dict[str, Any] = {api[name]: value for name, value in zip(header, r, strict=True) if name in api}
        record["complaint_id"] = int(record["complaint_id"])  # the API gives numbers
        record["tags"] = record["tags"] or None
        lines.append(json.dumps(record))
    lines.insert(5, "")  # a blank line is skipped but still counted
    lines.insert(9, '{"complaint_id": 1, "date_received": ')  # a broken line
    path = tmp_path / "complaints.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    report = run_import(database, None, path, CFPB)
    assert (report.imported, report.rejected) == (40, 1)
    assert report.rejects[0].line == 10
    assert report.rejects[0].reason.startswith("not valid JSON")
    expected = Counter(CHANNEL_RULES.get(r[header.index("Submitted via")], "other") for r in rows[:40])
    assert db_counts(database, Escalation.channel) == expected


# -- broken files ------------------------------------------------------------------------------------------------
def test_missing_required_column_fails_clearly_and_writes_nothing(database: Database, tmp_path: Path) -> None:
    header, rows = sample()
    keep = [i for i, name in enumerate(header) if name != "Complaint ID"]
    path = tmp_path / "no-id.csv"
    write_csv(path, [header[i] for i in keep], [[r[i] for i in keep] for r in rows[:5]])
    with pytest.raises(ValidationError, match=r"no-id\.csv: missing required column 'Complaint ID'"):
        run_import(database, None, path, CFPB)
    assert count(database, Escalation) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty: nothing to import"),
        (b"\xef\xbb\xbf\r\n", "is empty: nothing to import"),
        (b"Date received,Issue,Complaint ID\r\n", "has no rows: nothing to import"),
        (b"PK\x03\x04\x14\x00\x00\x00", "spreadsheet"),
        (b"\xff\xfeD\x00a\x00", "UTF-16"),
    ],
)
def test_files_that_cannot_be_read_at_all(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(content)
    with pytest.raises(ValidationError, match=message):
        read_import(path, CFPB)


def test_rejects_name_the_physical_line_and_the_reason(database: Database, tmp_path: Path) -> None:
    header, rows = sample()
    col = {name: i for i, name in enumerate(header)}
    narrative = col["Consumer complaint narrative"]
    data = [list(r) for r in rows[:40]]
    assert any("\n" in r[narrative] for r in data[:10])  # multi-line records come before the bad ones
    data[12][col["Date received"]] = "31/02/2019"
    data[15][col["Complaint ID"]] = ""
    data[20][col["Complaint ID"]] = data[3][col["Complaint ID"]]  # a duplicate of an earlier row
    data[25] = data[25][:7]  # truncated row
    data[30][col["Date sent to company"]] = "2019-13-45"
    data[33][col["Issue"]] = "x" * 700  # too long: truncated, not rejected
    path = tmp_path / "export.csv"
    starts = write_csv(path, header, data)
    rejects_path = tmp_path / "rejects.csv"

    report = run_import(database, None, path, CFPB, rejects_path=rejects_path)

    assert (report.imported, report.rejected) == (35, 5)
    expected_lines = [starts[12], starts[15], starts[20], starts[25], starts[30]]
    assert [r.line for r in report.rejects] == expected_lines
    reasons = [r.reason for r in report.rejects]
    assert "31/02/2019" in reasons[0]
    assert "'Date received'" in reasons[0]
    assert "MM/DD/YYYY" in reasons[0]
    assert reasons[1] == "missing required value in column 'Complaint ID'"
    assert f"already on line {starts[3]}" in reasons[2]
    assert reasons[3] == f"row has 7 fields, header has {len(header)}"
    assert "'Date sent to company'" in reasons[4]
    long_case = escalation(database, "cfpb-" + data[33][col["Complaint ID"]])
    assert len(long_case.summary) == 500

    with rejects_path.open(encoding="utf-8-sig", newline="") as f:
        written = list(csv.reader(f))
    assert written[0] == ["line", "reason", *header]
    assert [int(r[0]) for r in written[1:]] == expected_lines
    assert written[1][2 + col["Date received"]] == "31/02/2019"
    assert written[4][2:] == data[25]


def test_unbalanced_quote_at_the_end_of_a_cut_off_file(sqlite_url: str, tmp_path: Path) -> None:
    header, rows = sample()
    path = tmp_path / "cut.csv"
    write_csv(path, header, rows[:10])
    text = path.read_text(encoding="utf-8")
    path.write_text(text + '2019-09-24,Debt collection,,"Attempts to collect\nstill going', encoding="utf-8")
    database = Database(sqlite_url)
    report = run_import(database, None, path, CFPB)
    database.dispose()
    assert report.imported == 10
    assert report.rejected == 1
    reject = report.rejects[0]
    assert reject.line == text.count("\n") + 1
    assert "header has 18" in reject.reason
    assert "unbalanced quote" in reject.reason


def test_latin1_file_is_read_with_a_warning(database: Database, tmp_path: Path) -> None:
    header, rows = sample()
    data = [list(r) for r in rows[:20]]
    company = header.index("Company")
    data[4][company] = "Crédit Agricole Façade"
    path = tmp_path / "latin1.csv"
    starts = write_csv(path, header, data, encoding="latin-1")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")

    report = run_import(database, None, path, CFPB)
    assert (report.imported, report.rejected) == (20, 0)
    [warning] = [w for w in report.warnings if "UTF-8" in w]
    assert f"line {starts[4]}" in warning
    assert "Windows-1252" in warning
    case = escalation(database, "cfpb-" + data[4][header.index("Complaint ID")])
    assert "Company: Crédit Agricole Façade" in case.details


# -- mapping files -----------------------------------------------------------------------------------------------
HELPDESK_MAPPING = {
    "name": "Helpdesk export",
    "ref_prefix": "hd-",
    "fields": {
        "external_ref": "Ticket",
        "customer_name": "Customer",
        "customer_ref": "Customer ID",
        "channel": "Source",
        "category": "Type",
        "severity": "Priority",
        "summary": "Subject",
        "details": ["Body", "Notes"],
        "escalated_at": "Created",
        "closed_at": "Solved at",
        "status": "State",
        "associate": "Agent",
    },
    "values": {
        "channel": {"Phone call": "phone", "Live chat": "chat", "Mail": "email"},
        "category": {"Invoice": "billing_error", "Broken": "product_malfunction", "*": "other"},
        "severity": {"P1": "critical", "P2": "high", "P3": "normal"},
        "status": {"Solved": "closed", "New": "open", "Pending": "open"},
    },
    "date_formats": ["%d/%m/%Y %H:%M", "%d/%m/%Y"],
    "timezone": "Europe/Berlin",
    "defaults": {"severity": "low", "associate": "Helpdesk"},
}


def test_mapping_file_for_a_made_up_export(database: Database, tmp_path: Path) -> None:
    mapping_path = tmp_path / "helpdesk.json"
    mapping_path.write_text(json.dumps(HELPDESK_MAPPING), encoding="utf-8")
    header = ["Priority", "Ticket", "Created", "Customer", "Customer ID", "Source", "Type", "Subject", "Body",
              "Notes", "State", "Solved at", "Agent"]  # fmt: skip
    rows = [
        [
            "P1",
            "T-1",
            "03/02/2019 09:30",
            "Ann Lee",
            "C-1",
            "Phone call",
            "Invoice",
            "Charged twice",
            "Line one\nline two",
            "VIP",
            "Solved",
            "04/02/2019 10:00",
            "Bo",
        ],
        ["P3", "T-2", "05/02/2019", "Ann Lee", "C-1", "live chat", "Broken", "Kettle dead", "", "", "New", "", ""],
        ["", "T-3", "06/02/2019 08:00", "Cy Ng", "", "Email", "Shipping", "Late parcel", "", "", "Pending", "", "Di"],
        ["P2", "T-4", "31/02/2019", "Di Ho", "C-4", "Phone call", "Invoice", "Bad date", "", "", "New", "", ""],
        ["P2", "T-5", "07/02/2019", "Ed Wu", "C-5", "Carrier pigeon", "Invoice", "Odd channel", "", "", "New", "", ""],
        ["P2", "T-1", "08/02/2019", "Ann Lee", "C-1", "Mail", "Invoice", "Same ticket", "", "", "New", "", ""],
        ["P2", "T-6", "09/02/2019", "Fay", "C-6", "Mail", "Invoice", "Unknown state", "", "", "Escalated", "", ""],
    ]
    path = tmp_path / "helpdesk.csv"
    starts = write_csv(path, header, rows)

    plan = read_import(path, load_mapping(mapping_path))
    assert [p.reject is not None for p in plan.preview] == [False, False, False, True, True, True, True]
    report = run_import(database, None, path, load_mapping(mapping_path))

    assert (report.imported, report.rejected) == (3, 4)
    reasons = {r.line: r.reason for r in report.rejects}
    assert "bad date '31/02/2019' in column 'Created' (tried %d/%m/%Y %H:%M, %d/%m/%Y" in reasons[starts[3]]
    assert "unknown channel 'Carrier pigeon' in column 'Source' with no mapping" in reasons[starts[4]]
    assert reasons[starts[5]] == f"duplicate Ticket 'hd-T-1': already on line {starts[0]}"
    assert "unknown status 'Escalated'" in reasons[starts[6]]

    t1 = escalation(database, "hd-T-1")
    assert (t1.channel, t1.category, t1.severity, t1.status) == ("phone", "billing_error", "critical", "closed")
    assert t1.escalated_at == datetime(2019, 2, 3, 8, 30, tzinfo=UTC)  # 09:30 in Berlin (CET) is 08:30 UTC
    assert t1.closed_at == datetime(2019, 2, 4, 9, 0, tzinfo=UTC)
    assert t1.outcome == "Solved"
    assert t1.details == "Line one\nline two\n\nVIP"
    t2 = escalation(database, "hd-T-2")
    assert (t2.channel, t2.category, t2.status) == ("chat", "product_malfunction", "open")
    assert t2.escalated_at == datetime(2019, 2, 5, 11, tzinfo=UTC)  # a date alone is noon local time
    assert t2.customer_id == t1.customer_id  # the same customer reference is one customer
    t3 = escalation(database, "hd-T-3")
    assert (t3.channel, t3.category, t3.severity) == ("email", "other", "low")  # our own word, '*', the default
    with database.read() as session:
        customer = session.get(Customer, t3.customer_id)
        assert customer is not None
        assert customer.name == "Cy Ng"
        assert customer.external_ref is None


def test_customers_without_a_reference_are_one_per_name_within_and_across_batches(
    database: Database, tmp_path: Path
) -> None:
    with database.transaction() as session:
        session.add(Customer(name="Ann Lee", external_ref="crm-7"))  # same name, but another system's customer
    mapping = mapping_from_dict(
        {"fields": {"external_ref": "Ticket", "customer_name": "Customer", "summary": "Subject", "escalated_at": "At"}}
    )
    names = ["Ann Lee", "Bo Chan", "Ann Lee", "Ann Lee", "Bo Chan", "Cy Ng"]
    path = tmp_path / "tickets.csv"
    write_csv(
        path,
        ["Ticket", "Customer", "Subject", "At"],
        [[f"T-{i}", n, "Late", "2019-02-03"] for i, n in enumerate(names)],
    )

    report = run_import(database, None, path, mapping, batch_size=2)  # batches: Ann Bo | Ann Ann | Bo Cy

    assert (report.imported, report.batches) == (6, 3)
    assert count(database, Customer) == 1 + 3
    by_ticket = {f"T-{i}": escalation(database, f"T-{i}").customer_id for i in range(len(names))}
    assert by_ticket["T-0"] == by_ticket["T-2"] == by_ticket["T-3"]
    assert by_ticket["T-1"] == by_ticket["T-4"] != by_ticket["T-0"]
    with database.read() as session:
        ann = session.get(Customer, by_ticket["T-0"])
        assert ann is not None
        assert (ann.name, ann.external_ref) == ("Ann Lee", None)
    assert_consistent(database)


def test_consent_change_alone_updates_the_customer_and_announces_the_case(database: Database, tmp_path: Path) -> None:
    header, rows = sample()
    col = {name: i for i, name in enumerate(header)}
    data = [list(r) for r in rows[:5]]
    for r in data:
        r[col["Consumer consent provided?"]] = "Consent not provided"
    path = tmp_path / "export.csv"
    write_csv(path, header, data)
    assert run_import(database, None, path, CFPB).imported == 5
    changes_before = count(database, Change)
    data[1][col["Consumer consent provided?"]] = "Consent provided"
    write_csv(path, header, data)

    report = run_import(database, None, path, CFPB)

    assert (report.imported, report.updated, report.unchanged) == (0, 1, 4)
    case = escalation(database, "cfpb-" + data[1][col["Complaint ID"]])
    assert case.version == 1  # the case itself did not change
    with database.read() as session:
        customer = session.get(Customer, case.customer_id)
        assert customer is not None
        assert customer.contact_consent is True
        announced = session.scalars(select(Change.entity_id).where(Change.id > changes_before)).all()
    assert announced == [case.id]


def test_sqlite_connections_get_their_own_settings_back_after_an_import(sqlite_url: str, tmp_path: Path) -> None:
    header, rows = sample()
    path = tmp_path / "export.csv"
    write_csv(path, header, rows[:300])
    database = Database(sqlite_url)
    try:
        with database.engine.connect() as conn:
            own = [conn.exec_driver_sql(f"PRAGMA {p}").scalar() for p in ("wal_autocheckpoint", "cache_size")]
        assert run_import(database, None, path, CFPB, batch_size=100).imported == 300
        # The pooled connection the import used (the only one): its larger page cache and checkpoint interval
        # are gone.
        with database.engine.connect() as conn:
            assert [conn.exec_driver_sql(f"PRAGMA {p}").scalar() for p in ("wal_autocheckpoint", "cache_size")] == own
    finally:
        database.dispose()


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        (
            {"fields": {"external_ref": "Id", "summary": "S", "escalated_at": "D", "titel": "T"}},
            "unknown field 'titel'",
        ),
        ({"fields": {"external_ref": "Id", "customer_name": "C", "escalated_at": "D"}}, "required field 'summary'"),
        (
            {**HELPDESK_MAPPING, "values": {"channel": {"Phone call": "telephone"}}},
            "unknown channel 'telephone'; allowed: phone, chat, email",
        ),
        ({**HELPDESK_MAPPING, "values": {"status": {"Done": "claimed"}}}, "allowed: open, resolved, closed"),
        ({**HELPDESK_MAPPING, "timezone": "Mars/Olympus"}, "not a time zone"),
        ({**HELPDESK_MAPPING, "colour": "red"}, "unknown key 'colour'"),
    ],
)
def test_mapping_file_problems_are_named(mapping: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        mapping_from_dict(mapping, origin="bad.json")


def test_mapping_names_a_column_the_file_lacks(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("Ticket,Customer,Subject\n1,Ann,Hi\n", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"x\.csv: missing required column 'Created' \(for escalated_at\)"):
        read_import(path, mapping_from_dict(HELPDESK_MAPPING))


# -- the command line (subprocesses: few, they are slow) -------------------------------------------------------
def run_cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, MAIN, "import", *args],
        check=False,
        env=run_main_env(database_url),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_prints_counts_and_reasons_and_exits_2_only_when_nothing_was_read(sqlite_url: str, tmp_path: Path) -> None:
    header, rows = sample()
    data = [list(r) for r in rows[:30]]
    data[7][0] = "yesterday"
    path = tmp_path / "export.csv"
    starts = write_csv(path, header, data)
    rejects = tmp_path / "rejects.csv"

    done = run_cli(sqlite_url, str(path), "--rejects", str(rejects))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "imported 29, updated 0, unchanged 0, rejected 1"
    assert "rejected 1 row:" in done.stderr
    assert f"line {starts[7]}: bad date 'yesterday' in column 'Date received'" in done.stderr
    assert rejects.exists()

    dry = run_cli(sqlite_url, str(path), "--dry-run")
    assert dry.returncode == 0
    assert dry.stdout.strip() == "imported 0, updated 0, unchanged 29, rejected 1"

    missing = run_cli(sqlite_url, str(tmp_path / "nope.csv"))
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [f"error: {tmp_path / 'nope.csv'}: no such file; nothing to import."]
    assert missing.stdout == ""


@pytest.mark.slow
def test_killed_mid_import_leaves_whole_batches_and_rerun_completes(database: Database, tmp_path: Path) -> None:
    header, rows = sample()
    col = {name: i for i, name in enumerate(header)}
    total, batch = 20_000, 500
    big = []
    for n in range(total):
        r = list(rows[n % len(rows)])
        r[col["Complaint ID"]] = str(90_000_000 + n)
        big.append(r)
    path = tmp_path / "big.csv"
    write_csv(path, header, big)
    url = database.url.render_as_string(hide_password=False)
    proc = subprocess.Popen(
        [PYTHON, MAIN, "import", str(path), "--batch-size", str(batch)],
        env=run_main_env(url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while count(database, Escalation) == 0:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL

    written = count(database, Escalation)
    assert 0 < written < total
    assert written % batch == 0
    assert_consistent(database)
    with database.read() as session:
        batches = session.scalar(select(func.count()).where(AuditEvent.action == "import.batch"))
    assert batches == written // batch

    report = run_import(database, None, path, CFPB)
    assert (report.imported, report.unchanged, report.rejected) == (total - written, written, 0)
    assert count(database, Escalation) == total
    assert_consistent(database)
