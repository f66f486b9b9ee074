"""Importing complaints from other systems' exports (CSV or JSON Lines) as escalations.

The pipeline, in file order: read records (``ComplaintSource``), map each one onto our fields (a preset such as
``cfpb`` or a mapping file, see ``ImportMapping``), reject what cannot be imported (with its physical line number),
and write the rest in batches (5,000 rows by default), each batch one transaction: a crash or a cancel leaves whole
batches behind, and running the same import again completes it, because rows are keyed on the source's id
(``Escalation.external_ref``) and rows already there are only updated where the source changed.

Nothing here touches Qt; the GUI and the ``import`` command both call :func:`read_import` and :func:`run_import`.
"""

from __future__ import annotations

import codecs
import csv
import json
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple, TextIO, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Table, bindparam, event, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from console import audit
from console.actor import Actor
from console.changes import NOTIFY_CHANNEL
from console.domain import Category, Channel, LabelledEnum, Severity, Status, Tier
from console.errors import ConsoleError, ValidationError
from console.intake import MAX_SUMMARY
from db.engine import Database
from db.models import Associate, Change, Customer, Escalation, Interaction
from db.types import UTCDateTime, utcnow

# Rows per transaction. Each commit costs a WAL write and, now and then, a checkpoint with its fsyncs: at 1,000 rows
# those were a third of a big import's time on an ordinary disk; 5,000 rows keep a batch (the write lock other
# consoles wait for, and how far past Cancel an import goes) under a second on a slow machine.
DEFAULT_BATCH_SIZE = 5000
ZERO = Decimal("0.00")
PREVIEW_ROWS = 20
MAX_REF = 64  # Escalation.external_ref and Customer.external_ref
MAX_NAME = 200  # Customer.name
MAX_ASSOCIATE = 128  # Associate.name
MAX_PRODUCT = 200  # Escalation.product
MAX_OUTCOME = 200  # Escalation.outcome
MAX_SOURCE = 32  # Escalation.source
NOON = time(12, 0)
IMPORT_ACTION = "import.batch"
BATCH_NOTIFY_PAYLOAD = "escalation:batch"
# Statuses an import may give a row: waiting in the queue, or already finished (history).
IMPORTABLE_STATUSES = (Status.OPEN, Status.RESOLVED, Status.CLOSED)
FINISHED = (Status.RESOLVED, Status.CLOSED)
# A supervisor may be working on these; the importer never closes a case under them (see ``_changes_for``).
UNCLAIMED_QUEUE = (Status.OPEN.value, Status.REOPENED.value)

ProgressCallback = Callable[[int, int], None]
_ESCALATIONS = cast(Table, Escalation.__table__)
_CUSTOMERS = cast(Table, Customer.__table__)
_ASSOCIATES = cast(Table, Associate.__table__)
_INTERACTIONS = cast(Table, Interaction.__table__)
_CHANGES = cast(Table, Change.__table__)


# ---------------------------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reject:
    """A record that could not be imported: where it starts in the file, why, and its raw fields."""

    line: int
    reason: str
    raw: tuple[str, ...]


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do)."""

    file: Path
    dry_run: bool = False
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejects: list[Reject] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    reject_columns: tuple[str, ...] = ()
    rejects_path: Path | None = None
    batches: int = 0
    cancelled: bool = False

    @property
    def rejected(self) -> int:
        """How many records were rejected."""
        return len(self.rejects)

    def summary_line(self) -> str:
        """The one-line result the command prints and the dialog shows."""
        return f"imported {self.imported}, updated {self.updated}, unchanged {self.unchanged}, rejected {self.rejected}"


# ---------------------------------------------------------------------------------------------------------------
# Reading the file
# ---------------------------------------------------------------------------------------------------------------
class SourceRecord(NamedTuple):
    """One record as read: the line it starts on, its values by column name, its raw fields, any problem.

    A CSV row's values are its fields by position (``values`` is None; ``RowMapper.map_record`` reads them by the
    columns it was bound to), so that reading a row builds no dictionary; a JSON Lines record has its values.
    """

    line: int
    values: dict[str, str] | None
    raw: Sequence[str]
    problem: str | None = None


def _legacy_decode(raw: bytes) -> str:
    # Windows-1252 is what a "CSV" saved by older Excel or Windows tools usually is; the five bytes it leaves
    # undefined fall back to Latin-1 so that a line is never lost to decoding.
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _norm(name: str) -> str:
    """Column names match case-insensitively, ignoring surrounding spaces."""
    return name.strip().casefold()


def _json_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return ", ".join(_json_text(v) for v in value)
    return json.dumps(value, ensure_ascii=False)


class ComplaintSource:
    """An export file opened for reading: its format, its columns and its records in file order.

    Lines are decoded one at a time as UTF-8 (a byte-order mark is skipped); a line that is not valid UTF-8 is
    read as Windows-1252 and reported in :meth:`encoding_warnings`, so one stray byte does not cost the file.
    """

    def __init__(self, path: Path, *, delimiter: str | None = None) -> None:
        self.path = path
        try:
            self._stream = path.open("rb")
        except FileNotFoundError:
            raise ValidationError(f"{path}: no such file; nothing to import.") from None
        except IsADirectoryError:
            raise ValidationError(f"{path} is a folder, not an export file.") from None
        except OSError as exc:
            raise ValidationError(f"Cannot read {path}: {exc.strerror}.") from None
        try:
            self.size = path.stat().st_size
            self._bytes_read = 0  # once closed; while open, the stream's own position
            self._lines_read = 0
            self._fallback_lines: list[tuple[int, int, int]] = []  # (line, byte offset, byte)
            self.warnings: list[str] = []
            head = self._stream.read(65536)
            self._check_head(head)
            self.format = self._detect_format(head)
            self._stream.seek(0)
            if self.format == "csv":
                self._open_csv(delimiter)
            else:
                self._open_jsonl()
        except BaseException:
            self._stream.close()
            raise

    # -- set-up ----------------------------------------------------------------------------------------------
    def _check_head(self, head: bytes) -> None:
        name = self.path.name
        if not head.strip(b" \t\r\n" + codecs.BOM_UTF8):
            raise ValidationError(f"{name} is empty: nothing to import.")
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise ValidationError(f"{name} is UTF-16 text; save it as CSV UTF-8 (or JSON Lines) and import that.")
        if head.startswith(b"PK\x03\x04"):
            raise ValidationError(f"{name} is a zip file or a spreadsheet; export it as CSV (UTF-8) and import that.")
        nul = head.find(b"\x00")
        if nul >= 0:
            raise ValidationError(f"{name} is not a text file (a NUL byte at offset {nul}); export it as CSV.")

    def _detect_format(self, head: bytes) -> str:
        suffix = self.path.suffix.lower()
        if suffix in (".jsonl", ".ndjson"):
            return "jsonl"
        first = head.lstrip(codecs.BOM_UTF8).lstrip()[:1]
        if suffix != ".csv" and first == b"[":
            raise ValidationError(
                f"{self.path.name} is a JSON array; the importer reads JSON Lines (one object per line) or CSV."
            )
        if suffix != ".csv" and first == b"{":
            return "jsonl"
        return "csv"

    def _decoded_lines(self) -> Iterator[str]:
        """Physical lines, decoded; counts them and remembers lines that were not UTF-8.

        Nothing else reads the stream while a line is being decoded, so its position is the end of that line.
        """
        stream = self._stream
        for number, raw in enumerate(stream, start=1):
            self._lines_read = number
            line = raw[len(codecs.BOM_UTF8) :] if number == 1 and raw.startswith(codecs.BOM_UTF8) else raw
            try:
                yield line.decode("utf-8")
            except UnicodeDecodeError as exc:
                offset = stream.tell() - len(line)
                self._fallback_lines.append((number, offset + exc.start, line[exc.start]))
                yield _legacy_decode(line)

    def _open_csv(self, delimiter: str | None) -> None:
        self._lines = self._decoded_lines()
        header_text = ""
        for candidate in self._lines:
            if candidate.strip():
                header_text = candidate
                break
        self._header_line = self._lines_read
        if delimiter is None:
            # Comma unless the header clearly uses something else (European Excel writes semicolons).
            delimiter = ","
            if "," not in header_text:
                for other in (";", "\t", "|"):
                    if other in header_text:
                        delimiter = other
                        break
        self.delimiter = delimiter
        header = next(csv.reader([header_text], delimiter=delimiter), [])
        self.columns = tuple(c.strip() for c in header)
        seen: set[str] = set()
        self._duplicate_columns = False
        for column in self.columns:
            if _norm(column) in seen:
                self._duplicate_columns = True
                self.warnings.append(f"column {column!r} appears more than once; the first one is used.")
            seen.add(_norm(column))

    def _open_jsonl(self) -> None:
        self._lines = self._decoded_lines()
        columns: list[str] = []
        for line in self._lines:
            if not line.strip():
                continue
            try:
                first = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(first, dict):
                columns = [str(k) for k in first]
                break
        # Start again from the top; the first record is read again by ``records``.
        self._stream.seek(0)
        self._fallback_lines.clear()
        self._lines = self._decoded_lines()
        self.columns = tuple(columns)
        self.delimiter = ""

    # -- reading ---------------------------------------------------------------------------------------------
    @property
    def bytes_read(self) -> int:
        """How far into the file reading has got, in bytes (for progress)."""
        return self._bytes_read if self._stream.closed else self._stream.tell()

    def records(self) -> Iterator[SourceRecord]:
        """Every data record, in file order, blank lines skipped."""
        if self.format == "csv":
            yield from self._csv_records()
        else:
            yield from self._jsonl_records()

    def _csv_records(self) -> Iterator[SourceRecord]:
        # The reader pulls lines one at a time, so the decoder's line count is where the last record ended.
        reader = csv.reader(self._lines, delimiter=self.delimiter)
        width = len(self.columns)
        end = self._header_line
        while True:
            start = end + 1
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                end = self._lines_read
                yield SourceRecord(start, {}, (), f"unreadable CSV ({exc})")
                continue
            end = self._lines_read
            if not fields or not (fields[0].strip() or "".join(fields).strip()):
                continue  # a blank line, or a row of empty cells a spreadsheet left behind
            if len(fields) != width:
                problem = f"row has {len(fields)} fields, header has {width}"
                if end > start:
                    problem += f" (it runs over lines {start}-{end}: an unbalanced quote?)"
                yield SourceRecord(start, {}, tuple(fields), problem)
                continue
            yield SourceRecord(start, None, fields)

    def _jsonl_records(self) -> Iterator[SourceRecord]:
        for number, line in enumerate(self._lines, start=1):
            if not line.strip():
                continue
            raw = (line.rstrip("\r\n"),)
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield SourceRecord(number, {}, raw, f"not valid JSON ({exc.msg} at column {exc.colno})")
                continue
            if not isinstance(obj, dict):
                yield SourceRecord(number, {}, raw, "not a JSON object")
                continue
            yield SourceRecord(number, {str(k): _json_text(v) for k, v in obj.items()}, raw)

    def encoding_warnings(self) -> list[str]:
        """A warning about lines that were not UTF-8 (read as Windows-1252), once reading is done."""
        if not self._fallback_lines:
            return []
        line, offset, byte = self._fallback_lines[0]
        count = len(self._fallback_lines)
        lines = "1 line was" if count == 1 else f"{count} lines were"
        return [
            f"{lines} not valid UTF-8 (first: line {line}, byte 0x{byte:02X} at offset {offset}); "
            "read as Windows-1252 — check accented letters in those rows."
        ]

    def close(self) -> None:
        """Close the file."""
        if not self._stream.closed:
            self._bytes_read = self._stream.tell()
            self._stream.close()

    def __enter__(self) -> ComplaintSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------------------------------------------------------
# Mapping records onto escalations
# ---------------------------------------------------------------------------------------------------------------
class RowRejected(Exception):
    """A record that breaks a rule; the message is the reject reason."""


@dataclass(slots=True)
class MappedComplaint:
    """One record as our fields, ready to write."""

    external_ref: str
    customer_name: str
    customer_ref: str | None
    contact_consent: bool | None
    associate: str
    channel: Channel
    category: Category
    severity: Severity
    product: str | None
    summary: str
    details: str
    escalated_at: datetime
    status: Status
    outcome: str | None
    closed_at: datetime | None

    def preview(self) -> dict[str, str]:
        """The mapped values as text, for the preview table."""
        return {
            "external_ref": self.external_ref,
            "customer_name": self.customer_name,
            "channel": self.channel.value,
            "category": self.category.value,
            "severity": self.severity.value,
            "status": self.status.value,
            "escalated_at": self.escalated_at.date().isoformat(),
            "product": self.product or "",
            "summary": self.summary,
            "outcome": self.outcome or "",
        }


PREVIEW_FIELDS = (
    "external_ref",
    "customer_name",
    "channel",
    "category",
    "severity",
    "status",
    "escalated_at",
    "product",
    "summary",
    "outcome",
)


@dataclass(frozen=True)
class FieldBinding:
    """Which file column(s) feed one of our fields, and by what rule (for the preview and the docs)."""

    field: str
    columns: tuple[str, ...]
    rule: str


class RowMapper(ABC):
    """A mapping bound to one file's columns."""

    bindings: tuple[FieldBinding, ...] = ()
    warnings: tuple[str, ...] = ()
    source_name: str = "import"
    columns: tuple[str, ...] = ()  # the file's columns, in order (a CSV row's fields are read by position)

    @abstractmethod
    def map(self, values: Mapping[str, str]) -> MappedComplaint:
        """Map one record; raise RowRejected with the reason when it cannot be imported."""

    def map_record(self, record: SourceRecord) -> MappedComplaint:
        """Map a record as read: a JSON Lines record by its values, a CSV row by its fields' columns."""
        if record.values is not None:
            return self.map(record.values)
        # The first of several columns with the same name wins: zipped backwards, it is written last.
        return self.map(dict(zip(reversed(self.columns), reversed(record.raw), strict=True)))


class ImportMapping(ABC):
    """How an export's columns become our fields: a preset (``cfpb``) or a mapping file."""

    name: str

    @abstractmethod
    def bind(self, columns: Sequence[str]) -> RowMapper:
        """Match the mapping's columns to the file's by name; ValidationError when a required one is missing."""


def _find_column(columns: Sequence[str], names: Sequence[str]) -> str | None:
    wanted = [_norm(n) for n in names]
    by_norm: dict[str, str] = {}
    for column in columns:
        by_norm.setdefault(_norm(column), column)
    for name in wanted:
        if name in by_norm:
            return by_norm[name]
    return None


def _at_noon(day: date, zone: tzinfo = UTC) -> datetime:
    # A date without a time is placed at noon so that it shows on the same calendar day in any time zone.
    return datetime.combine(day, NOON, tzinfo=zone).astimezone(UTC)


def _truncate(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def _require_ref(value: str, what: str, column: str) -> str:
    if len(value) > MAX_REF:
        raise RowRejected(f"{what} in column {column!r} is longer than {MAX_REF} characters")
    return value


# -- the CFPB preset ----------------------------------------------------------------------------------------------
# Column names as in the CFPB's CSV export, then the field names of its JSON API (so JSON Lines exports work too).
CFPB_COLUMNS: dict[str, tuple[str, ...]] = {
    "complaint_id": ("Complaint ID", "complaint_id"),
    "date_received": ("Date received", "date_received"),
    "product": ("Product", "product"),
    "sub_product": ("Sub-product", "sub_product"),
    "issue": ("Issue", "issue"),
    "sub_issue": ("Sub-issue", "sub_issue"),
    "narrative": ("Consumer complaint narrative", "complaint_what_happened"),
    "public_response": ("Company public response", "company_public_response"),
    "company": ("Company", "company"),
    "state": ("State", "state"),
    "zip": ("ZIP code", "zip_code"),
    "tags": ("Tags", "tags"),
    "consent": ("Consumer consent provided?", "consumer_consent_provided"),
    "submitted_via": ("Submitted via", "submitted_via"),
    "date_sent": ("Date sent to company", "date_sent_to_company"),
    "response": ("Company response to consumer", "company_response"),
    "timely": ("Timely response?", "timely"),
    "disputed": ("Consumer disputed?", "consumer_disputed"),
}
CFPB_REQUIRED = ("complaint_id", "date_received", "issue")
CFPB_ASSOCIATE = "CFPB intake"
CFPB_CHANNELS: dict[str, Channel] = {
    "web": Channel.WEB_FORM,
    "phone": Channel.PHONE,
    "email": Channel.EMAIL,
    "postal mail": Channel.POST,
    "fax": Channel.OTHER,
    "referral": Channel.OTHER,
}
# Ordered: the first category with a keyword found (case-insensitive, as a substring) in the Issue wins; when
# none matches the Issue, the same rules are tried on the Sub-issue; when none matches either, ``other``.
CFPB_CATEGORY_RULES: tuple[tuple[Category, tuple[str, ...]], ...] = (
    (
        Category.BILLING_ERROR,
        (
            "fee",
            "charg",
            "billing",
            "payment",
            "interest",
            "overdraft",
            "debt not owed",
            "debt is not yours",
            "funds",
            "your statement",
            "transaction",
            "payoff",
        ),
    ),
    (
        Category.LONG_WAIT,
        (
            "communication",
            "contact",
            "delay",
            "took too long",
            "response",
            "investigation",
            "customer service",
            "didn't receive",
            "notification",
            "not available when promised",
        ),
    ),
    (
        Category.PRODUCT_MALFUNCTION,
        (
            "incorrect information",
            "trouble using",
            "unable to get",
            "damaged",
            "fraud alert",
            "security freeze",
            "monitoring",
            "not working",
            "error",
        ),
    ),
    (
        Category.UNMET_EXPECTATION,
        (
            "advertising",
            "marketing",
            "promis",
            "expect",
            "terms",
            "applying",
            "getting a",
            "opening",
            "closing",
            "managing",
            "false statement",
            "representation",
        ),
    ),
)
CFPB_HIGH_TAGS = ("older american", "servicemember")
CFPB_DATE_FORMATS = ("YYYY-MM-DD", "MM/DD/YYYY")


@lru_cache(maxsize=4096)
def cfpb_category(issue: str, sub_issue: str) -> Category:
    """The playbook category for a CFPB Issue / Sub-issue (rules: ``CFPB_CATEGORY_RULES``)."""
    for text_ in (issue, sub_issue):
        low = text_.casefold().replace("’", "'")
        for category, keywords in CFPB_CATEGORY_RULES:
            if any(k in low for k in keywords):
                return category
    return Category.OTHER


@lru_cache(maxsize=4096)
def _cfpb_day(text_: str) -> date | None:
    """A CFPB date (cached: an export has a few hundred distinct days), or None when it is not one."""
    try:
        if len(text_) >= 10 and text_[4] == "-":
            # ISO, and the API's "2019-09-24T12:00:00-05:00": the CFPB's calendar date is the first ten.
            return date.fromisoformat(text_[:10])
        month, day, year = text_.split("/")
        if len(year) != 4:
            return None
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def _noon_utc(day: date) -> datetime:
    return _at_noon(day)


def _cfpb_date(text_: str, column: str) -> date:
    day = _cfpb_day(text_)
    if day is None:
        raise RowRejected(f"bad date {text_!r} in column {column!r} (tried {' and '.join(CFPB_DATE_FORMATS)})")
    return day


_ABSENT = "\x00absent"  # looked up for a column the file lacks; no real column has this name


class _CfpbMapper(RowMapper):
    def __init__(self, columns: Sequence[str]) -> None:
        self.col: dict[str, str | None] = {key: _find_column(columns, names) for key, names in CFPB_COLUMNS.items()}
        missing = [CFPB_COLUMNS[key][0] for key in CFPB_REQUIRED if self.col[key] is None]
        if missing:
            raise ValidationError(
                f"missing required column{'s' if len(missing) > 1 else ''} "
                + ", ".join(repr(m) for m in missing)
                + " for the CFPB preset (for another export, use a mapping file: --map FILE)"
            )
        self.source_name = "cfpb"
        self.columns = tuple(columns)
        self._order = [self.col[key] or _ABSENT for key in CFPB_COLUMNS]
        # A CSV row's fields in CFPB_COLUMNS order, by position (the first column of a name, as ``map`` reads it);
        # a column the file lacks reads as the empty field put after the row's own.
        first: dict[str, int] = {}
        for position, column in enumerate(self.columns):
            first.setdefault(column, position)
        positions = [first.get(column, len(self.columns)) for column in self._order]
        pick = itemgetter(*positions)
        self._pick: Callable[[Sequence[str]], Sequence[str]] = (
            pick if all(p < len(self.columns) for p in positions) else lambda fields: pick([*fields, ""])
        )
        absent = [CFPB_COLUMNS[k][0] for k in ("narrative", "tags", "consent", "response") if self.col[k] is None]
        self.warnings = tuple(f"no {name!r} column; treated as empty" for name in absent)
        c = self.col

        def cols(*keys: str) -> tuple[str, ...]:
            return tuple(c[k] or f"({CFPB_COLUMNS[k][0]}: absent)" for k in keys)

        self.bindings = (
            FieldBinding("external_ref", cols("complaint_id"), '"cfpb-" + Complaint ID'),
            FieldBinding("customer_name", cols("complaint_id"), '"CFPB consumer #" + Complaint ID'),
            FieldBinding("customer_ref", cols("complaint_id"), '"cfpb-consumer-" + Complaint ID'),
            FieldBinding("contact_consent", cols("consent"), '"Consent provided" -> yes, else no'),
            FieldBinding("escalated_at", cols("date_received"), "the date, at noon UTC"),
            FieldBinding("channel", cols("submitted_via"), "Web, Phone, Email, Postal mail; else other"),
            FieldBinding("category", cols("issue", "sub_issue"), "keyword rules"),
            FieldBinding("severity", cols("tags", "timely"), "Older American/Servicemember or untimely -> high"),
            FieldBinding("status", cols("response"), '"In progress" or empty -> open; else closed'),
            FieldBinding("outcome", cols("response"), "the company's response"),
            FieldBinding("closed_at", cols("date_sent", "date_received"), "date sent to company, else received"),
            FieldBinding("product", cols("product", "sub_product"), "Product / Sub-product"),
            FieldBinding("summary", cols("issue", "sub_issue"), "Issue — Sub-issue"),
            FieldBinding("details", cols("company", "state", "zip", "tags", "narrative"), "header lines + narrative"),
            FieldBinding("associate", (), f'"{CFPB_ASSOCIATE}"'),
        )

    def _missing(self, key: str) -> RowRejected:
        return RowRejected(f"missing required value in column {self.col[key]!r}")

    def map(self, values: Mapping[str, str]) -> MappedComplaint:
        return self._map(*[values.get(column, "").strip() for column in self._order])

    def map_record(self, record: SourceRecord) -> MappedComplaint:
        if record.values is not None:
            return self.map(record.values)
        return self._map(*map(str.strip, self._pick(record.raw)))

    def _map(
        self,
        complaint_id: str,
        received_text: str,
        product: str,
        sub_product: str,
        issue: str,
        sub_issue: str,
        narrative: str,
        public_response: str,
        company: str,
        state: str,
        zip_code: str,
        tags: str,
        consent: str,
        via: str,
        sent_text: str,
        response: str,
        timely: str,
        _disputed: str,
    ) -> MappedComplaint:
        # The stripped values in CFPB_COLUMNS order; this runs once per row, so it avoids per-field calls.
        if not complaint_id:
            raise self._missing("complaint_id")
        if len(complaint_id) > MAX_REF - len("cfpb-consumer-"):
            raise RowRejected(f"the complaint id in column {self.col['complaint_id']!r} is too long")
        if not received_text:
            raise self._missing("date_received")
        received = _cfpb_date(received_text, self.col["date_received"] or "")
        if not issue:
            raise self._missing("issue")
        severity = Severity.NORMAL
        if tags:
            low_tags = tags.casefold()
            if any(t in low_tags for t in CFPB_HIGH_TAGS):
                severity = Severity.HIGH
        if timely.casefold() == "no":
            severity = Severity.HIGH
        status = Status.OPEN
        outcome: str | None = None
        closed_at: datetime | None = None
        if response and response.casefold() != "in progress":
            status, outcome = Status.CLOSED, _truncate(response, MAX_OUTCOME)
            closed_day = received
            if sent_text:
                closed_day = max(_cfpb_date(sent_text, self.col["date_sent"] or ""), received)
            closed_at = _noon_utc(closed_day)
        lines = []
        if company:
            lines.append("Company: " + company)
        if state:
            lines.append("State: " + state)
        if zip_code:
            lines.append("ZIP code: " + zip_code)
        if via:
            lines.append("Submitted via: " + via)
        if tags:
            lines.append("Tags: " + tags)
        if public_response:
            lines.append("Company public response: " + public_response)
        header = "\n".join(lines)
        product_text = f"{product} / {sub_product}" if product and sub_product else product or sub_product
        return MappedComplaint(
            external_ref="cfpb-" + complaint_id,
            customer_name="CFPB consumer #" + complaint_id,
            customer_ref="cfpb-consumer-" + complaint_id,
            contact_consent=consent == "Consent provided",
            associate=CFPB_ASSOCIATE,
            channel=CFPB_CHANNELS.get(via.casefold(), Channel.OTHER),
            category=cfpb_category(issue, sub_issue),
            severity=severity,
            product=_truncate(product_text, MAX_PRODUCT) or None,
            summary=_truncate(f"{issue} — {sub_issue}" if sub_issue else issue, MAX_SUMMARY),
            details=header + "\n\n" + narrative if narrative else header,
            escalated_at=_noon_utc(received),
            status=status,
            outcome=outcome,
            closed_at=closed_at,
        )


class CfpbPreset(ImportMapping):
    """The US CFPB Consumer Complaint Database export (CSV or its API's JSON fields), old and new layouts."""

    name = "cfpb"

    def bind(self, columns: Sequence[str]) -> RowMapper:
        """Match the CFPB columns by name; Complaint ID, Date received and Issue are required."""
        return _CfpbMapper(columns)


# -- mapping files --------------------------------------------------------------------------------------------------
MAPPING_KEYS = ("name", "source", "fields", "values", "date_formats", "timezone", "defaults", "ref_prefix", "delimiter")
MAPPING_FIELDS = (
    "external_ref",
    "customer_name",
    "customer_ref",
    "contact_consent",
    "channel",
    "category",
    "severity",
    "status",
    "summary",
    "details",
    "product",
    "escalated_at",
    "closed_at",
    "outcome",
    "associate",
)
REQUIRED_FIELDS = ("external_ref", "summary", "escalated_at")
MULTI_COLUMN_FIELDS = {"summary": " — ", "details": "\n\n", "product": " / "}
VALUE_KINDS: dict[str, type[LabelledEnum]] = {
    "channel": Channel,
    "category": Category,
    "severity": Severity,
    "status": Status,
}
DEFAULTABLE = ("channel", "category", "severity", "status", "associate")
BUILTIN_DEFAULTS = {
    "channel": Channel.OTHER.value,
    "category": Category.OTHER.value,
    "severity": Severity.NORMAL.value,
    "status": Status.OPEN.value,
    "associate": "Import",
}
DEFAULT_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")
CONSENT_WORDS = {
    "yes": True,
    "y": True,
    "true": True,
    "1": True,
    "consent provided": True,
    "no": False,
    "n": False,
    "false": False,
    "0": False,
}
_TIME_DIRECTIVES = ("%H", "%I", "%M", "%S", "%X", "%c", "%T", "%R")


def _allowed_targets(kind: str) -> tuple[str, ...]:
    if kind == "status":
        return tuple(s.value for s in IMPORTABLE_STATUSES)
    return tuple(m.value for m in VALUE_KINDS[kind])


def _parse_target(kind: str, value: str) -> LabelledEnum:
    enum = VALUE_KINDS[kind]
    member = enum.parse(value)
    if kind == "status" and member not in IMPORTABLE_STATUSES:
        raise ValueError(f"status {value!r} cannot be imported; allowed: {', '.join(_allowed_targets(kind))}")
    return member


@dataclass(frozen=True)
class MappingFile(ImportMapping):
    """A mapping file (JSON) for any other export; see ``load_mapping`` and the README for the format."""

    name: str
    source: str
    fields: dict[str, tuple[str, ...]]
    values: dict[str, dict[str, Any]]
    date_formats: tuple[str, ...]
    timezone: str
    defaults: dict[str, str]
    ref_prefix: str = ""
    delimiter: str | None = None

    def bind(self, columns: Sequence[str]) -> RowMapper:
        """Match the mapped columns by name; ValidationError naming any required one that is missing."""
        return _FileMapper(self, columns)


def load_mapping(path: Path | str) -> MappingFile:
    """Read and check a mapping file; ValidationError listing every problem in it."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ValidationError(f"mapping file {path}: no such file.") from None
    except OSError as exc:
        raise ValidationError(f"cannot read mapping file {path}: {exc.strerror}.") from None
    except UnicodeDecodeError:
        raise ValidationError(f"mapping file {path} is not UTF-8 text.") from None
    except json.JSONDecodeError as exc:
        raise ValidationError(f"mapping file {path} is not valid JSON: {exc.msg} (line {exc.lineno}).") from None
    return mapping_from_dict(data, origin=path.name)


def mapping_from_dict(data: Any, *, origin: str = "mapping") -> MappingFile:
    """Check a mapping given as parsed JSON; ValidationError listing every problem."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise ValidationError(f'{origin}: a mapping is a JSON object with a "fields" object.')
    for key in data:
        if key not in MAPPING_KEYS:
            problems.append(f"unknown key {key!r}; allowed: {', '.join(MAPPING_KEYS)}")

    fields: dict[str, tuple[str, ...]] = {}
    malformed: set[str] = set()
    raw_fields = data.get("fields")
    if not isinstance(raw_fields, dict):
        problems.append('"fields" must be an object of field -> column name')
        raw_fields = {}
    for name, column in raw_fields.items():
        if name not in MAPPING_FIELDS:
            problems.append(f'unknown field {name!r} in "fields"; allowed: {", ".join(MAPPING_FIELDS)}')
        elif isinstance(column, str) and column.strip():
            fields[name] = (column,)
        elif (
            isinstance(column, list)
            and column
            and all(isinstance(c, str) and c.strip() for c in column)
            and (len(column) == 1 or name in MULTI_COLUMN_FIELDS)
        ):
            fields[name] = tuple(column)
        else:
            several = " (or a list of names)" if name in MULTI_COLUMN_FIELDS else ""
            malformed.add(name)
            problems.append(f"field {name!r} must name a column{several}")
    for name in REQUIRED_FIELDS:
        if name not in fields and name not in malformed:
            problems.append(f"required field {name!r} is not mapped to a column")
    if "customer_name" not in fields and "customer_ref" not in fields:
        problems.append('map "customer_name" or "customer_ref" (or both) to a column')

    values: dict[str, dict[str, Any]] = {}
    raw_values = data.get("values", {})
    if not isinstance(raw_values, dict):
        problems.append('"values" must be an object')
        raw_values = {}
    value_kinds = (*VALUE_KINDS, "contact_consent")
    for kind, table in raw_values.items():
        if kind not in value_kinds:
            problems.append(f'unknown value map {kind!r} in "values"; allowed: {", ".join(value_kinds)}')
            continue
        if not isinstance(table, dict):
            problems.append(f"values.{kind} must be an object of source value -> our value")
            continue
        checked: dict[str, Any] = {}
        for source_value, target in table.items():
            if kind == "contact_consent":
                if not isinstance(target, bool):
                    problems.append(f"values.contact_consent[{source_value!r}] must be true or false")
                    continue
                checked[_norm(source_value)] = target
                continue
            try:
                if not isinstance(target, str):
                    raise ValueError(target)
                checked[_norm(source_value)] = _parse_target(kind, target)
            except ValueError:
                problems.append(
                    f"values.{kind}[{source_value!r}]: unknown {kind} {target!r}; "
                    f"allowed: {', '.join(_allowed_targets(kind))}"
                )
        values[kind] = checked

    formats = data.get("date_formats", list(DEFAULT_DATE_FORMATS))
    if not isinstance(formats, list) or not formats or not all(isinstance(f, str) and "%" in f for f in formats):
        problems.append('"date_formats" must be a list of strptime formats such as "%d/%m/%Y %H:%M"')
        formats = list(DEFAULT_DATE_FORMATS)

    zone = data.get("timezone", "UTC")
    try:
        if not isinstance(zone, str):
            raise ValueError(zone)
        ZoneInfo(zone)
    except (ValueError, ZoneInfoNotFoundError):
        problems.append(f'"timezone" {zone!r} is not a time zone name such as "UTC" or "Europe/Berlin"')
        zone = "UTC"

    defaults: dict[str, str] = {}
    raw_defaults = data.get("defaults", {})
    if not isinstance(raw_defaults, dict):
        problems.append('"defaults" must be an object')
        raw_defaults = {}
    for name, value in raw_defaults.items():
        if name not in DEFAULTABLE:
            problems.append(f"unknown default {name!r}; allowed: {', '.join(DEFAULTABLE)}")
        elif not isinstance(value, str) or not value.strip():
            problems.append(f"defaults.{name} must be a non-empty string")
        elif name == "associate":
            defaults[name] = value.strip()
        else:
            try:
                defaults[name] = _parse_target(name, value).value
            except ValueError:
                problems.append(
                    f"defaults.{name}: unknown {name} {value!r}; allowed: {', '.join(_allowed_targets(name))}"
                )

    prefix = data.get("ref_prefix", "")
    if not isinstance(prefix, str) or len(prefix) > 32:
        problems.append('"ref_prefix" must be a string of at most 32 characters')
        prefix = ""
    source = data.get("source", "import")
    if not isinstance(source, str) or not source.strip() or len(source) > MAX_SOURCE:
        problems.append(f'"source" must be a non-empty string of at most {MAX_SOURCE} characters')
        source = "import"
    delimiter = data.get("delimiter")
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1):
        problems.append('"delimiter" must be one character, such as ";"')
        delimiter = None
    name = data.get("name", origin)
    if problems:
        raise ValidationError(f"{origin}: " + "; ".join(problems))
    return MappingFile(
        name=str(name),
        source=source.strip(),
        fields=fields,
        values=values,
        date_formats=tuple(formats),
        timezone=zone,
        defaults=defaults,
        ref_prefix=prefix,
        delimiter=delimiter,
    )


class _FileMapper(RowMapper):
    def __init__(self, mapping: MappingFile, columns: Sequence[str]) -> None:
        self.mapping = mapping
        self.source_name = mapping.source
        self.columns = tuple(columns)
        self.zone = ZoneInfo(mapping.timezone)
        self.cols: dict[str, tuple[str, ...]] = {}
        missing_required: list[str] = []
        warnings: list[str] = []
        for name, wanted in mapping.fields.items():
            found = tuple(c for c in (_find_column(columns, [w]) for w in wanted) if c is not None)
            if len(found) < len(wanted):
                absent = [w for w in wanted if _find_column(columns, [w]) is None]
                if name in REQUIRED_FIELDS or (name == "customer_name" and "customer_ref" not in mapping.fields):
                    missing_required.extend(f"{a!r} (for {name})" for a in absent)
                    continue
                warnings.extend(f"column {a!r} (for {name}) is not in the file; it is left empty" for a in absent)
            if found:
                self.cols[name] = found
        if missing_required:
            raise ValidationError(
                f"missing required column{'s' if len(missing_required) > 1 else ''} " + ", ".join(missing_required)
            )
        self.warnings = tuple(warnings)
        self.bindings = tuple(FieldBinding(name, self.cols.get(name, ()), self._rule(name)) for name in MAPPING_FIELDS)
        formats = ", ".join(mapping.date_formats)
        self._formats_text = f"{formats} and ISO 8601"

    def _rule(self, name: str) -> str:
        if name in self.mapping.values:
            return f"value map ({len(self.mapping.values[name])} entries)"
        if name in ("escalated_at", "closed_at"):
            return f"date ({self.mapping.timezone})"
        if name not in self.cols:
            default = self.mapping.defaults.get(name, BUILTIN_DEFAULTS.get(name))
            return f"default: {default}" if default else "empty"
        return "as is"

    def _get(self, values: Mapping[str, str], name: str) -> str:
        columns = self.cols.get(name)
        if not columns:
            return ""
        if len(columns) == 1:
            return values.get(columns[0], "").strip()
        parts = (values.get(c, "").strip() for c in columns)
        return MULTI_COLUMN_FIELDS[name].join(p for p in parts if p)

    def _column(self, name: str) -> str:
        return ", ".join(self.cols.get(name, ()))

    def _required(self, values: Mapping[str, str], name: str) -> str:
        value = self._get(values, name)
        if not value:
            raise RowRejected(f"missing required value in column {self._column(name)!r}")
        return value

    def _enum(self, values: Mapping[str, str], kind: str) -> LabelledEnum:
        raw = self._get(values, kind)
        table = self.mapping.values.get(kind, {})
        key = _norm(raw)
        if key in table:
            found: LabelledEnum = table[key]
            return found
        if not raw:
            return _parse_target(kind, self.mapping.defaults.get(kind, BUILTIN_DEFAULTS[kind]))
        try:
            return _parse_target(kind, raw)
        except ValueError:
            pass
        if "*" in table:
            wildcard: LabelledEnum = table["*"]
            return wildcard
        raise RowRejected(
            f"unknown {kind} {raw!r} in column {self._column(kind)!r} with no mapping "
            f"(add it under values.{kind}, or use one of: {', '.join(_allowed_targets(kind))})"
        )

    def _date(self, raw: str, name: str) -> datetime:
        for fmt in self.mapping.date_formats:
            try:
                parsed = datetime.strptime(raw, fmt)
            except ValueError:
                continue
            if parsed.tzinfo is not None:
                return parsed.astimezone(UTC)
            if not any(d in fmt for d in _TIME_DIRECTIVES):
                return _at_noon(parsed.date(), self.zone)
            return parsed.replace(tzinfo=self.zone).astimezone(UTC)
        try:
            if len(raw) == 10:
                return _at_noon(date.fromisoformat(raw), self.zone)
            iso = datetime.fromisoformat(raw)
        except ValueError:
            raise RowRejected(
                f"bad date {raw!r} in column {self._column(name)!r} (tried {self._formats_text})"
            ) from None
        return (iso if iso.tzinfo else iso.replace(tzinfo=self.zone)).astimezone(UTC)

    def _consent(self, values: Mapping[str, str]) -> bool | None:
        raw = self._get(values, "contact_consent")
        table = self.mapping.values.get("contact_consent", {})
        key = _norm(raw)
        if key in table:
            return bool(table[key])
        if not raw:
            return None
        if key in CONSENT_WORDS:
            return CONSENT_WORDS[key]
        if "*" in table:
            return bool(table["*"])
        raise RowRejected(
            f"unknown contact consent {raw!r} in column {self._column('contact_consent')!r} "
            "(use yes/no, or map it under values.contact_consent)"
        )

    def map(self, values: Mapping[str, str]) -> MappedComplaint:
        prefix = self.mapping.ref_prefix
        external_ref = _require_ref(
            prefix + self._required(values, "external_ref"), "the id", self._column("external_ref")
        )
        customer_ref_text = self._get(values, "customer_ref")
        customer_ref = (
            _require_ref(prefix + customer_ref_text, "the customer id", self._column("customer_ref"))
            if customer_ref_text
            else None
        )
        customer_name = self._get(values, "customer_name") or customer_ref_text
        if not customer_name:
            column = self._column("customer_name") or self._column("customer_ref")
            raise RowRejected(f"missing required value in column {column!r}")
        if len(customer_name) > MAX_NAME:
            raise RowRejected(f"the customer name is longer than {MAX_NAME} characters")
        summary = self._required(values, "summary")
        escalated_at = self._date(self._required(values, "escalated_at"), "escalated_at")
        status = Status(self._enum(values, "status").value)
        outcome: str | None = None
        closed_at: datetime | None = None
        if status in FINISHED:
            closed_text = self._get(values, "closed_at")
            closed_at = max(self._date(closed_text, "closed_at"), escalated_at) if closed_text else escalated_at
            outcome = self._get(values, "outcome") or self._get(values, "status") or status.label
            outcome = _truncate(outcome, MAX_OUTCOME)
        associate = self._get(values, "associate") or self.mapping.defaults.get(
            "associate", BUILTIN_DEFAULTS["associate"]
        )
        product = self._get(values, "product")
        return MappedComplaint(
            external_ref=external_ref,
            customer_name=customer_name,
            customer_ref=customer_ref,
            contact_consent=self._consent(values),
            associate=_truncate(associate, MAX_ASSOCIATE),
            channel=Channel(self._enum(values, "channel").value),
            category=Category(self._enum(values, "category").value),
            severity=Severity(self._enum(values, "severity").value),
            product=_truncate(product, MAX_PRODUCT) or None,
            summary=_truncate(summary, MAX_SUMMARY),
            details=self._get(values, "details"),
            escalated_at=escalated_at,
            status=status,
            outcome=outcome,
            closed_at=closed_at,
        )


PRESETS: dict[str, Callable[[], ImportMapping]] = {"cfpb": CfpbPreset}


def preset(name: str) -> ImportMapping:
    """A built-in mapping by name (``cfpb``); ValidationError naming the presets for an unknown one."""
    factory = PRESETS.get(name.strip().lower())
    if factory is None:
        raise ValidationError(f"unknown preset {name!r}; presets: {', '.join(PRESETS)}")
    return factory()


def _open_source(path: Path, mapping: ImportMapping) -> ComplaintSource:
    delimiter = mapping.delimiter if isinstance(mapping, MappingFile) else None
    return ComplaintSource(path, delimiter=delimiter)


def _bind(mapping: ImportMapping, source: ComplaintSource) -> RowMapper:
    """Bind the mapping to the file's columns; a missing column's error names the file."""
    try:
        return mapping.bind(source.columns)
    except ValidationError as exc:
        raise ValidationError(f"{source.path.name}: {exc}") from None


def _nothing_to_import(path: Path) -> ValidationError:
    return ValidationError(f"{path.name} has no rows: nothing to import.")


def _map_record(mapper: RowMapper, record: SourceRecord) -> MappedComplaint | str:
    """The mapped record, or the reject reason."""
    if record.problem:
        return record.problem
    try:
        return mapper.map_record(record)
    except RowRejected as exc:
        return str(exc)


# ---------------------------------------------------------------------------------------------------------------
# The preview
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PreviewRow:
    """One of the first records as it would be imported (``values`` by field), or why it would be rejected."""

    line: int
    values: dict[str, str]
    reject: str | None


@dataclass(frozen=True)
class ImportPlan:
    """What the file holds and how it maps: for the import dialog's preview, before anything is written."""

    path: Path
    format: str
    mapping_name: str
    columns: tuple[str, ...]
    bindings: tuple[FieldBinding, ...]
    preview: tuple[PreviewRow, ...]
    warnings: tuple[str, ...]


def read_import(path: Path | str, mapping: ImportMapping, *, rows: int = PREVIEW_ROWS) -> ImportPlan:
    """Open the file, bind the mapping and map the first ``rows`` records; ValidationError for an unusable file."""
    path = Path(path)
    with _open_source(path, mapping) as source:
        mapper = _bind(mapping, source)
        preview: list[PreviewRow] = []
        seen: dict[str, int] = {}
        for record in source.records():
            mapped = _map_record(mapper, record)
            if isinstance(mapped, str):
                preview.append(PreviewRow(record.line, {}, mapped))
            elif mapped.external_ref in seen:
                reason = _duplicate_reason(mapped, seen, mapper)
                preview.append(PreviewRow(record.line, mapped.preview(), reason))
            else:
                seen[mapped.external_ref] = record.line
                preview.append(PreviewRow(record.line, mapped.preview(), None))
            if len(preview) >= rows:
                break
        if not preview:
            raise _nothing_to_import(path)
        warnings = (*source.warnings, *mapper.warnings, *source.encoding_warnings())
        return ImportPlan(path, source.format, mapping.name, source.columns, mapper.bindings, tuple(preview), warnings)


def _duplicate_reason(mapped: MappedComplaint, seen: Mapping[str, int], mapper: RowMapper) -> str:
    column = next((b.columns[0] for b in mapper.bindings if b.field == "external_ref" and b.columns), "id")
    return f"duplicate {column} {mapped.external_ref!r}: already on line {seen[mapped.external_ref]}"


# ---------------------------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _BatchCounts:
    imported: int
    updated: int
    unchanged: int


def _closure(row: MappedComplaint) -> dict[str, Any]:
    """The status columns of a new row: in the queue, or in history with its outcome."""
    if row.status is Status.OPEN:
        return {"status": Status.OPEN.value, "outcome": None, "resolved_at": None, "closed_at": None}
    return {
        "status": row.status.value,
        "outcome": row.outcome,
        "resolved_at": row.closed_at,
        "closed_at": row.closed_at if row.status is Status.CLOSED else None,
    }


DESCRIBED_COLUMNS = ("channel", "category", "product", "severity", "summary", "details", "escalated_at")


def _described(row: MappedComplaint) -> dict[str, Any]:
    """The columns the source owns outright: an import may change them at any time."""
    return {
        "channel": row.channel.value,
        "category": row.category.value,
        "product": row.product,
        "severity": row.severity.value,
        "summary": row.summary,
        "details": row.details,
        "escalated_at": row.escalated_at,
    }


def _changes_for(row: MappedComplaint, current: Any) -> dict[str, Any]:
    """What an update must change in an existing escalation to follow the source.

    The source owns the description (channel, category, severity, summary, details, product, received time). It
    may also finish a case that is still waiting unclaimed in our queue. It never reopens a case, never changes a
    finished case's outcome (a supervisor may have recorded their own), and never closes a case under a supervisor
    who holds it: they finish it in the console.
    """
    changes = {k: v for k, v in _described(row).items() if getattr(current, k) != v}
    if "escalated_at" in changes:
        changes["created_at"] = row.escalated_at
        if current.status == Status.OPEN.value and current.reopen_count == 0:
            changes["queued_at"] = row.escalated_at
    if row.status in FINISHED and current.status in UNCLAIMED_QUEUE:
        changes.update(_closure(row))
    return changes


# Every time column an import writes is a UTCDateTime: one converter serves them all (see ``_Insert``).
_TIME_COLUMNS = ("created_at", "escalated_at", "queued_at", "resolved_at", "closed_at", "updated_at")
assert all(isinstance(_ESCALATIONS.c[c].type, UTCDateTime) for c in _TIME_COLUMNS)
_ESCALATION_COLUMNS = (
    "external_ref",
    "source",
    "customer_id",
    "associate_id",
    "channel",
    "category",
    "product",
    "severity",
    "summary",
    "details",
    "status",
    "outcome",
    "resolved_at",
    "closed_at",
    "escalated_at",
    "created_at",
    "queued_at",
    "held_seconds",
    "reopen_count",
    "version",
    "updated_at",
)
_CUSTOMER_COLUMNS = ("name", "external_ref", "tier", "lifetime_value", "churn_risk", "contact_consent", "created_at")
_INTERACTION_COLUMNS = ("customer_id", "escalation_id", "channel", "direction", "occurred_at", "handled_by", "summary")
# The rows a batch may update, locked on PostgreSQL so that no claim slips in between (SQLite holds the lock).
_EXISTING = (
    select(
        _ESCALATIONS.c.id,
        _ESCALATIONS.c.external_ref,
        _ESCALATIONS.c.status,
        _ESCALATIONS.c.reopen_count,
        _ESCALATIONS.c.customer_id,
        _CUSTOMERS.c.contact_consent,
        *(_ESCALATIONS.c[k] for k in DESCRIBED_COLUMNS),
    )
    .select_from(_ESCALATIONS.join(_CUSTOMERS, _CUSTOMERS.c.id == _ESCALATIONS.c.customer_id))
    .where(_ESCALATIONS.c.external_ref.in_(bindparam("refs", expanding=True)))
)
_EXISTING_LOCKED = _EXISTING.with_for_update(of=_ESCALATIONS)
# SQLite's default page cache (2 MB) is smaller than what one batch changes in the indexes of a large table;
# pages it spills mid-transaction are written to the WAL twice. A batch gets room for its changes, then the
# connection gets its own setting back before the commit (pooled connections keep no trace of an import).
SQLITE_BATCH_CACHE_KIB_PER_ROW = 32
SQLITE_BATCH_CACHE_KIB_MAX = 256 * 1024
SQLITE_IMPORT_CHECKPOINT_PAGES = 10_000


def _same(value: Any) -> Any:
    return value


# Converted values by (dialect, table, column), shared by the batches of an import: dates and words repeat.
_CONVERTED: dict[tuple[str, str, str], dict[Any, Any]] = {}
MAX_CONVERTED = 50_000  # values kept per column


def _memoized(processor: Callable[[Any], Any] | None, cache: dict[Any, Any]) -> Callable[[Any], Any]:
    """A column's bind processor that converts each distinct value once; the identity for a type whose values
    pass as they are."""
    if processor is None:
        return _same
    if len(cache) > MAX_CONVERTED:
        cache.clear()

    def convert(value: Any) -> Any:
        try:
            return cache[value]
        except KeyError:
            converted = cache[value] = processor(value)
            return converted

    return convert


class _Insert:
    """An INSERT of fixed columns run as one DBAPI executemany of tuples, in the session's transaction.

    Values go through each column's own type (UTCDateTime, Money, ...) exactly as an ORM insert would — callers
    convert them with :meth:`converter`, which converts each distinct value once — but without SQLAlchemy's
    per-row statement bookkeeping, which costs more than the database's own work at import sizes. Columns left
    out get NULL or their server default, so callers name every column that has a Python-side default.
    """

    def __init__(self, session: Session, table: Table, columns: Sequence[str]) -> None:
        self._connection = session.connection()
        self._dialect = self._connection.dialect
        self._table = table
        if self._dialect.paramstyle not in ("qmark", "format", "pyformat"):
            raise AssertionError(f"bulk insert needs positional parameters, not {self._dialect.paramstyle}")
        unset = [c.name for c in table.c if c.default is not None and c.name not in columns]
        if unset:  # a model grew a column with a Python-side default: the import must give it
            raise AssertionError(f"bulk insert into {table.name} must give {', '.join(unset)}")
        mark = "?" if self._dialect.paramstyle == "qmark" else "%s"
        quote = self._dialect.identifier_preparer.quote
        self.sql = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(table.c[c].name) for c in columns)}) "
            f"VALUES ({', '.join([mark] * len(columns))})"
        )

    def converter(self, column: str) -> Callable[[Any], Any]:
        """The column's conversion to what the driver takes, memoized for this statement."""
        impl = self._table.c[column].type.dialect_impl(self._dialect)
        cache = _CONVERTED.setdefault((self._dialect.name, self._table.name, column), {})
        return _memoized(impl.bind_processor(self._dialect), cache)

    def run(self, rows: list[tuple[Any, ...]]) -> None:
        """Insert the rows (tuples of converted values, in column order)."""
        if rows:
            self._connection.exec_driver_sql(self.sql, rows)


def _ids_by(session: Session, column: Any, keys: set[str], *extra: Any) -> dict[str, int]:
    """The lowest id with each key (one IN query)."""
    found: dict[str, int] = {}
    if keys:
        table = column.table
        query = (
            select(table.c.id, column).where(column.in_(bindparam("keys", expanding=True)), *extra).order_by(table.c.id)
        )
        for ident, key in session.connection().execute(query, {"keys": list(keys)}).all():
            found.setdefault(key, ident)
    return found


def _top_id(session: Session, table: Table) -> int:
    """The highest id in the table now; rows this transaction inserts next all get higher ones."""
    return int(session.connection().execute(select(func.max(table.c.id))).scalar() or 0)


def _ids_given(session: Session, table: Table, top: int, count: int) -> range | None:
    """On SQLite, the ids of the ``count`` rows just inserted after ``top`` was the highest, in insertion order.

    The batch's transaction holds SQLite's write lock from its start, and a table without AUTOINCREMENT gives each
    new row the highest id so far plus one, so they are the next ``count`` (checked: the highest id must now be
    ``top + count``). None on PostgreSQL, whose sequences other sessions draw from too: read them back there.
    """
    if session.connection().dialect.name != "sqlite" or _top_id(session, table) != top + count:
        return None
    return range(top + 1, top + count + 1)


def _customer_key(row: MappedComplaint) -> tuple[str, str]:
    return ("ref", row.customer_ref) if row.customer_ref else ("name", row.customer_name)


def _customer_ids(session: Session, rows: Sequence[MappedComplaint], now: datetime) -> dict[tuple[str, str], int]:
    """Batch find-or-create of customers (by reference, or by name where there is none), like intake does one."""
    refs = {r.customer_ref for r in rows if r.customer_ref}
    names = {r.customer_name for r in rows if not r.customer_ref}
    ids = {("ref", k): v for k, v in _ids_by(session, _CUSTOMERS.c.external_ref, refs).items()}
    by_name = _ids_by(session, _CUSTOMERS.c.name, names, _CUSTOMERS.c.external_ref.is_(None))
    ids.update({("name", k): v for k, v in by_name.items()})
    missing: dict[tuple[str, str], MappedComplaint] = {}
    for r in rows:
        key = _customer_key(r)
        if key not in ids and key not in missing:
            missing[key] = r  # the first row names the customer
    if not missing:
        return ids
    top = _top_id(session, _CUSTOMERS)
    insert_ = _Insert(session, _CUSTOMERS, _CUSTOMER_COLUMNS)
    consent = insert_.converter("contact_consent")
    tier = Tier.STANDARD.value
    value = insert_.converter("lifetime_value")(ZERO)
    churn = insert_.converter("churn_risk")(0.0)
    created = insert_.converter("created_at")(now)
    insert_.run(
        [
            (
                r.customer_name,
                r.customer_ref,
                tier,
                value,
                churn,
                consent(True if r.contact_consent is None else r.contact_consent),
                created,
            )
            for r in missing.values()
        ]
    )
    given = _ids_given(session, _CUSTOMERS, top, len(missing))
    if given is not None:
        ids.update(zip(missing, given, strict=True))
        return ids
    # The new ids: one range read instead of another IN query (on PostgreSQL, rows other consoles committed
    # meanwhile may show up too; only our keys are taken, the lowest id first as above).
    new = select(_CUSTOMERS.c.id, _CUSTOMERS.c.external_ref, _CUSTOMERS.c.name).where(_CUSTOMERS.c.id > top)
    for ident, ref, name in session.connection().execute(new.order_by(_CUSTOMERS.c.id)).all():
        key = ("ref", ref) if ref is not None else ("name", name)
        if key in missing and key not in ids:
            ids[key] = ident
    return ids


def _associate_ids(session: Session, names: set[str], now: datetime) -> dict[str, int]:
    ids = _ids_by(session, _ASSOCIATES.c.name, names)
    missing = sorted(n for n in names if n not in ids)
    if missing:
        insert_ = _Insert(session, _ASSOCIATES, ("name", "active", "created_at"))
        active = insert_.converter("active")(True)
        created = insert_.converter("created_at")(now)
        insert_.run([(n, active, created) for n in missing])
        ids.update(_ids_by(session, _ASSOCIATES.c.name, set(missing)))
    return ids


def _insert_escalations(
    session: Session, rows: Sequence[MappedComplaint], source_name: str, now: datetime
) -> list[int]:
    """Insert new escalations with their customers and their first interaction; returns their ids."""
    customers = _customer_ids(session, rows, now)
    associates = _associate_ids(session, {r.associate for r in rows}, now)
    top = _top_id(session, _ESCALATIONS)
    insert_ = _Insert(session, _ESCALATIONS, _ESCALATION_COLUMNS)
    when = insert_.converter("escalated_at")  # every time column is a UTCDateTime (_TIME_COLUMNS)
    updated = when(now)
    open_ = Status.OPEN
    escalation_rows = []
    customer_ids = []
    for r in rows:
        customer_id = customers[_customer_key(r)]
        customer_ids.append(customer_id)
        at = when(r.escalated_at)
        if r.status is open_:
            status, outcome, resolved_at, closed_at = open_.value, None, None, None
        else:
            # In history with its outcome (see _closure); str() of our string enums is their value.
            status, outcome, resolved_at = str(r.status), r.outcome, when(r.closed_at)
            closed_at = resolved_at if r.status is Status.CLOSED else None
        escalation_rows.append(
            (
                r.external_ref,
                source_name,
                customer_id,
                associates[r.associate],
                str(r.channel),
                str(r.category),
                r.product,
                str(r.severity),
                r.summary,
                r.details,
                status,
                outcome,
                resolved_at,
                closed_at,
                at,
                at,
                at,
                0,
                0,
                1,
                updated,
            )
        )
    insert_.run(escalation_rows)
    given = _ids_given(session, _ESCALATIONS, top, len(rows))
    if given is not None:
        ids = dict(zip([r.external_ref for r in rows], given, strict=True))
    else:
        wanted = {r.external_ref for r in rows}
        new = select(_ESCALATIONS.c.id, _ESCALATIONS.c.external_ref).where(_ESCALATIONS.c.id > top)
        ids = {ref: ident for ident, ref in session.connection().execute(new).all() if ref in wanted}
    interactions = _Insert(session, _INTERACTIONS, _INTERACTION_COLUMNS)
    occurred = interactions.converter("occurred_at")
    interactions.run(
        [
            (
                customer_id,
                ids[r.external_ref],
                str(r.channel),
                "inbound",
                occurred(r.escalated_at),
                r.associate,
                f"Escalated by {r.associate}: {r.summary}",
            )
            for r, customer_id in zip(rows, customer_ids, strict=True)
        ]
    )
    return list(ids.values())


def _update_escalations(session: Session, updates: Sequence[tuple[int, dict[str, Any]]], now: datetime) -> None:
    """Apply the changes, one executemany per set of changed columns; each row's version goes up by one."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for ident, changes in updates:
        params = {"b_id": ident, **{f"b_{k}": v for k, v in changes.items()}}
        groups.setdefault(tuple(changes), []).append(params)
    connection = session.connection()
    for columns, params_list in groups.items():
        statement = (
            update(_ESCALATIONS)
            .where(_ESCALATIONS.c.id == bindparam("b_id"))
            .values(
                {
                    **{k: bindparam(f"b_{k}", type_=_ESCALATIONS.c[k].type) for k in columns},
                    "version": _ESCALATIONS.c.version + 1,
                    "updated_at": now,
                }
            )
        )
        connection.execute(statement, params_list)


def _update_consent(session: Session, consent_updates: Mapping[int, bool]) -> None:
    if consent_updates:
        statement = (
            update(_CUSTOMERS)
            .where(_CUSTOMERS.c.id == bindparam("b_id"))
            .values(contact_consent=bindparam("b_consent", type_=_CUSTOMERS.c.contact_consent.type))
        )
        session.connection().execute(
            statement, [{"b_id": i, "b_consent": consent} for i, consent in consent_updates.items()]
        )


class _SqliteCheckpoints:
    """While an import writes to SQLite, its connections checkpoint the WAL about every 40 MB, not every 4 MB.

    A batch changes a few thousand index pages, more than SQLite's default checkpoint threshold (1,000 pages),
    so by default every commit copies the whole batch back into the database file and syncs it. With a larger
    threshold for the import's own connections, pages that several batches change are copied once, and most
    commits only append to the WAL (still one transaction per batch, still whole batches after a crash). Each
    connection gets its own threshold back when it returns to the pool, and the import ends with a checkpoint,
    so whoever writes next does not inherit the import's WAL.
    """

    def __init__(self, database: Database, *, dry_run: bool) -> None:
        self._engine = database.engine
        self._active = database.dialect == "sqlite" and not dry_run
        self._raised: dict[Any, int] = {}  # DBAPI connection -> its own threshold

    def __enter__(self) -> _SqliteCheckpoints:
        if self._active:
            event.listen(self._engine, "checkin", self._restore)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if not self._active:
            return
        try:
            if exc_type is None:
                raw = self._engine.raw_connection()
                try:
                    raw.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)")
                finally:
                    raw.close()
        finally:
            event.remove(self._engine, "checkin", self._restore)

    def prepare(self, session: Session) -> None:
        """Give the batch's connection the import's threshold (once per connection)."""
        if not self._active:
            return
        connection = session.connection()
        dbapi_connection = connection.connection.dbapi_connection
        if dbapi_connection is None or dbapi_connection in self._raised:
            return
        own = int(connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() or 0)
        if 0 < own < SQLITE_IMPORT_CHECKPOINT_PAGES:
            connection.exec_driver_sql(f"PRAGMA wal_autocheckpoint = {SQLITE_IMPORT_CHECKPOINT_PAGES}")
            self._raised[dbapi_connection] = own

    def _restore(self, dbapi_connection: Any, _record: Any) -> None:
        own = self._raised.pop(dbapi_connection, None)
        if own is not None:
            with suppress(sqlite3.Error):  # a connection being thrown away
                dbapi_connection.execute(f"PRAGMA wal_autocheckpoint = {own}")


@contextmanager
def _batch_cache(session: Session, rows: int) -> Iterator[None]:
    """On SQLite, a page cache with room for the batch's changes while it is written (see above)."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    wanted = min(SQLITE_BATCH_CACHE_KIB_MAX, SQLITE_BATCH_CACHE_KIB_PER_ROW * rows)
    previous = int(connection.exec_driver_sql("PRAGMA cache_size").scalar() or 0)
    if -previous >= wanted:  # a negative size is in KiB; a positive one, in pages, is replaced for the batch
        yield
        return
    connection.exec_driver_sql(f"PRAGMA cache_size = -{wanted}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {previous}")


def _write_batch(
    session: Session,
    actor: Actor | None,
    batch: Sequence[tuple[int, MappedComplaint]],
    *,
    file_name: str,
    source_name: str,
    rejected: int,
    dry_run: bool,
) -> _BatchCounts:
    """Classify a batch against the database and (unless a dry run) write it: new rows, changed rows, one audit
    event, one change-log row per escalation and, on PostgreSQL, one NOTIFY."""
    if dry_run:
        return _classify(session, batch, dry_run=True)[0]
    with _batch_cache(session, len(batch)):
        counts, new_rows, updates, consent_updates, existing = _classify(session, batch, dry_run=False)
        if not (new_rows or counts.updated):
            return counts
        now = utcnow()
        touched: list[int] = []
        if new_rows:
            touched.extend(_insert_escalations(session, new_rows, source_name, now))
        _update_escalations(session, updates, now)
        touched.extend(ident for ident, _ in updates)
        _update_consent(session, consent_updates)
        # A consent change belongs to the customer, but the case's screen shows it: announce the case too.
        touched.extend(current.id for current in existing.values() if current.customer_id in consent_updates)
        changes = _Insert(session, _CHANGES, ("entity", "entity_id", "at"))
        at = changes.converter("at")(now)
        changes.run([("escalation", i, at) for i in sorted(set(touched))])
    if session.get_bind().dialect.name == "postgresql":
        # One wake-up per batch; the feed reads the change log for the ids (console/feed.py).
        session.execute(
            text("SELECT pg_notify(:channel, :payload)"),
            {"channel": NOTIFY_CHANNEL, "payload": BATCH_NOTIFY_PAYLOAD},
        )
    first_line, last_line = batch[0][0], batch[-1][0]
    audit.record(
        session,
        actor,
        IMPORT_ACTION,
        "import",
        None,
        after={
            "file": file_name,
            "lines": f"{first_line}-{last_line}",
            "imported": counts.imported,
            "updated": counts.updated,
            "unchanged": counts.unchanged,
            "rejected": rejected,
        },
        note=(
            f"{file_name} lines {first_line}-{last_line}: imported {counts.imported}, updated {counts.updated}, "
            f"unchanged {counts.unchanged}, rejected {rejected}"
        ),
    )
    return counts


def _classify(
    session: Session, batch: Sequence[tuple[int, MappedComplaint]], *, dry_run: bool
) -> tuple[_BatchCounts, list[MappedComplaint], list[tuple[int, dict[str, Any]]], dict[int, bool], dict[str, Any]]:
    """Sort a batch into new rows, updates (escalation changes, consent changes) and unchanged rows."""
    rows = [row for _, row in batch]
    query = _EXISTING if dry_run else _EXISTING_LOCKED
    found = session.connection().execute(query, {"refs": [r.external_ref for r in rows]}).all()
    existing = {current.external_ref: current for current in found}
    new_rows: list[MappedComplaint] = []
    updates: list[tuple[int, dict[str, Any]]] = []
    consent_updates: dict[int, bool] = {}
    unchanged = 0
    for row in rows:
        current = existing.get(row.external_ref)
        if current is None:
            new_rows.append(row)
            continue
        changes = _changes_for(row, current)
        consent_changed = row.contact_consent is not None and row.contact_consent != current.contact_consent
        if consent_changed:
            consent_updates[current.customer_id] = bool(row.contact_consent)
        if changes:
            updates.append((current.id, changes))
        elif not consent_changed:
            unchanged += 1
    updated = len(rows) - len(new_rows) - unchanged
    return _BatchCounts(len(new_rows), updated, unchanged), new_rows, updates, consent_updates, existing


def _flush(
    database: Database,
    actor: Actor | None,
    batch: Sequence[tuple[int, MappedComplaint]],
    report: ImportReport,
    *,
    source_name: str,
    rejected: int,
    checkpoints: _SqliteCheckpoints,
) -> None:
    """Write one batch as one transaction (a dry run reads only), retrying once if another import raced us."""
    for attempt in (1, 2):
        try:
            unit = database.read() if report.dry_run else database.transaction()
            with unit as session:
                checkpoints.prepare(session)
                counts = _write_batch(
                    session,
                    actor,
                    batch,
                    file_name=report.file.name,
                    source_name=source_name,
                    rejected=rejected,
                    dry_run=report.dry_run,
                )
            break
        except IntegrityError:
            # Another console imported some of these rows meanwhile: classify the batch again.
            if attempt == 2:
                raise
    report.imported += counts.imported
    report.updated += counts.updated
    report.unchanged += counts.unchanged
    report.batches += 1


def _open_rejects(path: Path) -> TextIO:
    try:
        return path.open("w", encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise ValidationError(f"Cannot write the rejects file {path}: {exc.strerror}; nothing was imported.") from None


def write_rejects(out: TextIO, report: ImportReport) -> None:
    """The rejects as CSV: line, reason, then the record's own fields (or, for JSON Lines, the record)."""
    writer = csv.writer(out)
    writer.writerow(["line", "reason", *report.reject_columns])
    for reject in report.rejects:
        writer.writerow([reject.line, reject.reason, *reject.raw])


def run_import(
    database: Database,
    actor: Actor | None,
    path: Path | str,
    mapping: ImportMapping,
    *,
    dry_run: bool = False,
    rejects_path: Path | str | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> ImportReport:
    """Import the file; returns the counts, the rejects and any warnings.

    ``progress(bytes_read, file_size)`` is called after each batch; ``cancel`` is checked before each batch is
    written, so a cancelled import keeps the batches already committed (running it again completes it).
    ValidationError, before anything is written, when the file cannot be read at all.
    """
    if batch_size < 1:
        raise ValidationError("The batch size must be at least 1.")
    path = Path(path)
    report = ImportReport(file=path, dry_run=dry_run)
    with _open_source(path, mapping) as source:
        mapper = _bind(mapping, source)
        report.warnings.extend((*source.warnings, *mapper.warnings))
        report.reject_columns = source.columns if source.format == "csv" else ("record",)
        rejects_out = _open_rejects(Path(rejects_path)) if rejects_path is not None else None
        try:
            _import_records(database, actor, source, mapper, report, progress, cancel, batch_size)
            report.warnings.extend(source.encoding_warnings())
        finally:
            if rejects_out is not None:
                with rejects_out:
                    write_rejects(rejects_out, report)
                report.rejects_path = Path(rejects_path) if rejects_path is not None else None
    return report


def _import_records(
    database: Database,
    actor: Actor | None,
    source: ComplaintSource,
    mapper: RowMapper,
    report: ImportReport,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
    batch_size: int,
) -> None:
    seen: dict[str, int] = {}
    batch: list[tuple[int, MappedComplaint]] = []
    records = 0
    rejected_in_batch = 0

    def flush() -> bool:
        nonlocal rejected_in_batch
        if cancel is not None and cancel.is_set():
            report.cancelled = True
            return False
        if batch:
            _flush(
                database,
                actor,
                batch,
                report,
                source_name=mapper.source_name,
                rejected=rejected_in_batch,
                checkpoints=checkpoints,
            )
        batch.clear()
        rejected_in_batch = 0
        if progress is not None:
            progress(source.bytes_read, source.size)
        return True

    with _SqliteCheckpoints(database, dry_run=report.dry_run) as checkpoints:
        for record in source.records():
            records += 1
            mapped = _map_record(mapper, record)
            if isinstance(mapped, MappedComplaint) and mapped.external_ref in seen:
                mapped = _duplicate_reason(mapped, seen, mapper)
            if isinstance(mapped, str):
                report.rejects.append(Reject(record.line, mapped, tuple(record.raw)))
                rejected_in_batch += 1
                continue
            seen[mapped.external_ref] = record.line
            batch.append((record.line, mapped))
            if len(batch) >= batch_size and not flush():
                return
        if records == 0:
            raise _nothing_to_import(source.path)
        flush()


def describe_failure(exc: BaseException) -> str:
    """One line for a failed import (user errors as they are; anything else with its type)."""
    if isinstance(exc, ConsoleError):
        return str(exc)
    return f"The import failed: {type(exc).__name__}: {exc}"


__all__ = [
    "DEFAULT_BATCH_SIZE",
    "PRESETS",
    "CfpbPreset",
    "ComplaintSource",
    "FieldBinding",
    "ImportMapping",
    "ImportPlan",
    "ImportReport",
    "MappedComplaint",
    "MappingFile",
    "PreviewRow",
    "Reject",
    "cfpb_category",
    "load_mapping",
    "mapping_from_dict",
    "preset",
    "read_import",
    "run_import",
]
