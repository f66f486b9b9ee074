"""``escalate``, ``case show`` and ``case claim``: intake and screen pops from other systems."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from console.domain import Category, Channel, Severity

if TYPE_CHECKING:
    from db.engine import Database


def _choice(enum: type[Channel] | type[Category] | type[Severity]) -> Any:
    def parse(text: str) -> Any:
        try:
            return enum.parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = enum.kind()
    return parse


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add ``escalate`` and the ``case`` command group."""
    esc = commands.add_parser(
        "escalate", parents=[common], help="create an escalation and print its id (for associates' tools)"
    )
    esc.add_argument("--customer", required=True, metavar="NAME", help="customer's name")
    esc.add_argument("--customer-ref", metavar="REF", help="customer's id in your CRM (matches existing ones)")
    esc.add_argument(
        "--channel",
        required=True,
        type=_choice(Channel),
        help="one of: " + ", ".join(c.value for c in Channel),
    )
    esc.add_argument(
        "--category",
        required=True,
        type=_choice(Category),
        help="one of: " + ", ".join(c.value for c in Category),
    )
    esc.add_argument(
        "--severity",
        required=True,
        type=_choice(Severity),
        help="one of: " + ", ".join(c.value for c in Severity),
    )
    esc.add_argument("--by", required=True, metavar="ASSOCIATE", help="the escalating associate's name")
    esc.add_argument("--summary", required=True, metavar="TEXT", help="one line: what the complaint is")
    esc.add_argument("--details", default="", metavar="TEXT", help="anything else the supervisor should know")
    esc.add_argument("--ref", metavar="EXTERNAL_ID", help="the complaint's id in the source system (unique)")
    esc.set_defaults(handler=escalate)

    case = commands.add_parser("case", parents=[common], help="look at or claim one escalation")
    actions = case.add_subparsers(dest="case_command", metavar="ACTION", required=True)
    show = actions.add_parser("show", parents=[common], help="print one escalation")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true", help="print JSON (the only format for now)")
    show.set_defaults(handler=show_case)
    claim = actions.add_parser(
        "claim", parents=[common], help="claim an escalation for USERNAME (exit 1 naming the holder if taken)"
    )
    claim.add_argument("id", type=int)
    claim.add_argument("--as", dest="as_user", required=True, metavar="USERNAME")
    claim.set_defaults(handler=claim_case)


def escalate(args: argparse.Namespace, database: Database) -> int:
    """Create the escalation; print its id alone."""
    from console.intake import IntakeService, NewEscalation

    new = NewEscalation(
        customer_name=args.customer,
        customer_ref=args.customer_ref,
        channel=args.channel,
        category=args.category,
        severity=args.severity,
        associate_name=args.by,
        summary=args.summary,
        details=args.details,
        external_ref=args.ref,
        source="cli",
    )
    print(IntakeService(database).escalate(None, new))
    return 0


def show_case(args: argparse.Namespace, database: Database) -> int:
    """Print the case record as JSON."""
    from console.casefile import CaseFileService

    print(json.dumps(CaseFileService(database).show(args.id), indent=2, ensure_ascii=False))
    return 0


def claim_case(args: argparse.Namespace, database: Database) -> int:
    """Claim for the named user; a case someone else holds is exit 1 with the holder's name."""
    from console.accounts import AccountService
    from console.queue import QueueService

    actor = AccountService(database).actor_for(args.as_user)
    item = QueueService(database).claim(actor, args.id)  # Conflict -> exit 1 naming the holder
    print(f"claimed #{item.id} for {actor.username}")
    return 0
