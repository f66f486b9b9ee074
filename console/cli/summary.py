"""``summary``: the end-of-shift summary on stdout, and its JSON, CSV and PDF exports."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from console.errors import ValidationError

if TYPE_CHECKING:
    from db.engine import Database

DATE_FORMAT_HELP = "ISO 8601, e.g. 2026-12-01 or 2026-12-01T14:00 or 2026-12-01T14:00+01:00 (no offset: UTC)"


def parse_moment(text: str) -> datetime:
    """An ISO 8601 date or date-time; without an offset it is UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; use {DATE_FORMAT_HELP}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


parse_moment.__name__ = "date"  # argparse names the type in its message


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``summary`` command."""
    cmd = commands.add_parser(
        "summary",
        parents=[common],
        help="the end-of-shift summary (default: the last ended shift, else the last 8 hours)",
    )
    cmd.add_argument("--from", dest="start", type=parse_moment, metavar="ISO", help=f"start ({DATE_FORMAT_HELP})")
    cmd.add_argument("--to", dest="end", type=parse_moment, metavar="ISO", help="end, exclusive (default: now)")
    cmd.add_argument("--supervisor", metavar="USER", help="only escalations claimed by this supervisor")
    cmd.add_argument(
        "--pdf",
        metavar="FILE",
        help="write a print-ready PDF (times in the floor's time zone; with a shift's handover note)",
    )
    cmd.add_argument("--paper", choices=("a4", "letter"), default="a4", help="the PDF's paper size (default: a4)")
    cmd.add_argument("--csv", metavar="FILE", help="write one row per escalation of the range")
    cmd.add_argument("--json", metavar="FILE", help="write the measures as JSON")
    cmd.add_argument("--redact", action="store_true", help="customer ids instead of names, in every output")
    cmd.set_defaults(handler=summary)


def _shift_note(database: Database, start: datetime, end: datetime) -> str | None:
    """The handover note of the ended shift that is exactly this range (the default range), if any."""
    from console.shifts import ShiftService

    last = ShiftService(database).last_ended_shift()
    if last is not None and last.started_at == start and last.ended_at == end:
        return last.handover_note
    return None


def summary(args: argparse.Namespace, database: Database) -> int:
    """Print the summary; write the exports asked for."""
    from console.goodwill import GoodwillService
    from console.shifts import default_range
    from console.summary import SummaryService
    from console.summary_export import summary_json, summary_text, write_csv, write_pdf

    start, end = args.start, args.end
    if start is None or end is None:
        default_start, default_end = default_range(database)
        if start is None and end is None:
            start, end = default_start, default_end
        elif start is None:
            start = end - (default_end - default_start)
        else:
            end = default_end if default_end > start else datetime.now(UTC)
    if end <= start:
        raise ValidationError("--to must be after --from.", field="to")
    service = SummaryService(database)
    result = service.build(start, end, supervisor=args.supervisor)
    print(summary_text(result, redact=args.redact))
    try:
        if args.json:
            with open(args.json, "w", encoding="utf-8") as out:
                out.write(summary_json(result, redact=args.redact) + "\n")
        if args.csv:
            write_csv(service.rows(start, end, supervisor=args.supervisor), args.csv, redact=args.redact)
        if args.pdf:
            zone = GoodwillService(database).floor_settings().zone
            write_pdf(
                result,
                args.pdf,
                redact=args.redact,
                paper=args.paper,
                zone=zone,
                note=_shift_note(database, start, end),
            )
    except OSError as exc:
        print(f"error: cannot write {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 1
    return 0
