"""``import FILE``: bring complaints in from a CFPB export or any CSV / JSON Lines export with a mapping file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from console.importer import ImportMapping
    from db.engine import Database

REJECT_REASONS_SHOWN = 5
# The importer's presets and batch size, as plain values: the command line is parsed without loading the importer
# (tests/test_cli_cases.py checks them against console.importer).
PRESET_NAMES = ("cfpb",)
DEFAULT_BATCH_SIZE = 5000


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``import`` command."""
    imp = commands.add_parser(
        "import",
        parents=[common],
        help="import complaints from a CSV or JSON Lines export (re-running it adds no duplicates)",
        description=(
            "Import complaints as escalations. Columns are matched by name. Open complaints join the queue; "
            "closed ones go to history. Prints 'imported N, updated N, unchanged N, rejected N'; exits 2 only "
            "when the file cannot be read at all."
        ),
    )
    imp.add_argument("file", type=Path, metavar="FILE", help="the export: .csv, or .jsonl / .ndjson (JSON Lines)")
    which = imp.add_mutually_exclusive_group()
    which.add_argument(
        "--preset",
        choices=sorted(PRESET_NAMES),
        help="a built-in mapping (default: cfpb, the US CFPB complaint database export)",
    )
    which.add_argument("--map", dest="mapping", type=Path, metavar="MAPPING", help="a mapping file (JSON)")
    imp.add_argument(
        "--dry-run", action="store_true", help="read and check everything, report the counts, write nothing"
    )
    imp.add_argument(
        "--rejects", type=Path, metavar="PATH", help="write every rejected row (line, reason, fields) to this CSV"
    )
    imp.add_argument("--as", dest="as_user", metavar="USERNAME", help="record the import in the audit log as this user")
    imp.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        metavar="N",
        help=f"rows per transaction (default {DEFAULT_BATCH_SIZE}); an interrupted import keeps whole batches",
    )
    imp.set_defaults(handler=import_complaints)


def _progress(err: TextIO) -> Any:
    def show(done: int, total: int) -> None:
        percent = 100 * done // total if total else 100
        print(f"\r{percent:3d}% read", end="", file=err, flush=True)

    return show


def import_complaints(args: argparse.Namespace, database: Database) -> int:
    """Run the import; counts on stdout, warnings and rejects on stderr."""
    from console.accounts import AccountService
    from console.importer import load_mapping, preset, run_import

    err = sys.stderr
    mapping: ImportMapping = load_mapping(args.mapping) if args.mapping else preset(args.preset or "cfpb")
    actor = AccountService(database).actor_for(args.as_user) if args.as_user else None
    interactive = err.isatty()
    try:
        report = run_import(
            database,
            actor,
            args.file,
            mapping,
            dry_run=args.dry_run,
            rejects_path=args.rejects,
            progress=_progress(err) if interactive else None,
            batch_size=args.batch_size,
        )
    except KeyboardInterrupt:
        print(
            "\ninterrupted: the batches already written stay; run the same command again to finish.",
            file=err,
        )
        return 130
    if interactive:
        print("\r", end="", file=err)
    for warning in report.warnings:
        print(f"warning: {warning}", file=err)
    if report.rejects:
        print(f"rejected {report.rejected} row{'s' if report.rejected != 1 else ''}:", file=err)
        for reject in report.rejects[:REJECT_REASONS_SHOWN]:
            print(f"  line {reject.line}: {reject.reason}", file=err)
        if report.rejected > REJECT_REASONS_SHOWN:
            print(f"  ... and {report.rejected - REJECT_REASONS_SHOWN} more", file=err)
        if report.rejects_path is None:
            print("  (use --rejects PATH to save them all)", file=err)
    if report.rejects_path is not None:
        print(f"rejected rows written to {report.rejects_path}", file=err)
    if report.dry_run:
        print("dry run: nothing was written to the database", file=err)
    print(report.summary_line())
    return 0
