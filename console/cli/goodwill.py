"""``budget`` and ``goodwill``: associates' goodwill budgets, gestures, approvals and the ledger from the shell.

Amounts stay text until the goodwill service parses them (never float); type, period and reason codes go to the
service as typed too, so a wrong one is one ``error:`` line naming the valid values, exit 2, and nothing written.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

from console.domain import Category
from console.errors import ValidationError
from console.money import money

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from console.actor import Actor
    from console.goodwill import ApprovalRequest, BudgetStatus, FloorGoodwill, GoodwillService, LedgerLine
    from db.engine import Database

WARNING_MARK = "⚠ past 80 %"
# console.goodwill's GestureType, Period and REASON_CODES as plain values, so that parsing the command line does not
# load the goodwill service (tests/test_cli_goodwill.py checks them against it).
GESTURE_TYPE_VALUES = ("discount", "credit", "free_item", "expedited_shipping")
PERIOD_VALUES = ("shift", "week", "month")
REASON_CODES: tuple[str, ...] = tuple(c.value for c in Category)
GESTURE_TYPES = ", ".join(GESTURE_TYPE_VALUES)
PERIODS = ", ".join(PERIOD_VALUES)


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``budget`` and ``goodwill`` command groups."""
    _register_budget(commands, common)
    _register_goodwill(commands, common)


def _as_option(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    parser.add_argument("--as", dest="as_user", required=required, metavar="USERNAME", help="who is doing this")


def _register_budget(commands: Any, common: argparse.ArgumentParser) -> None:
    budget = commands.add_parser("budget", parents=[common], help="associates' goodwill budgets and the floor's rules")
    actions = budget.add_subparsers(dest="budget_command", metavar="ACTION", required=True)

    show = actions.add_parser("show", parents=[common], help="every associate's budget this period, most used first")
    show.add_argument("--associate", metavar="NAME", help="only this associate")
    show.add_argument("--json", action="store_true", help="print JSON (amounts as strings with two decimals)")
    show.set_defaults(handler=show_budgets)

    set_ = actions.add_parser(
        "set", parents=[common], help="set an associate's, a team's or the floor's budget (managers)"
    )
    scope = set_.add_mutually_exclusive_group(required=True)
    scope.add_argument("--associate", metavar="NAME", help="this associate's own budget")
    scope.add_argument("--team", metavar="NAME", help="the default for this team's associates")
    scope.add_argument("--floor", action="store_true", help="the floor's default")
    set_.add_argument("--allowance", metavar="AMOUNT", help="what may be given per period, e.g. 150.00")
    set_.add_argument("--cap", metavar="AMOUNT", help="the largest single gesture without approval, e.g. 25.00")
    set_.add_argument("--period", metavar="PERIOD", help=f"how often the allowance starts afresh: {PERIODS}")
    _as_option(set_)
    set_.add_argument("--reason", required=True, metavar="TEXT", help="why (kept in the audit log)")
    set_.set_defaults(handler=set_budget)

    limit = actions.add_parser(
        "limit", parents=[common], help="set the largest gesture a supervisor may approve (managers)"
    )
    limit.add_argument("--supervisor", required=True, metavar="USERNAME")
    which = limit.add_mutually_exclusive_group(required=True)
    which.add_argument("--amount", metavar="AMOUNT", help="their own approval limit, e.g. 250.00")
    which.add_argument("--default", action="store_true", help="back to the floor's default limit")
    _as_option(limit)
    limit.add_argument("--reason", required=True, metavar="TEXT", help="why (kept in the audit log)")
    limit.set_defaults(handler=set_limit)

    settings = actions.add_parser(
        "settings",
        parents=[common],
        help="show the floor's goodwill settings, or change them (managers, with --as and --reason)",
    )
    settings.add_argument("--currency", metavar="CUR", help="three-letter ISO 4217 code, e.g. USD")
    settings.add_argument("--timezone", metavar="TZ", help="the floor's time zone, e.g. Europe/London")
    settings.add_argument("--ceiling", metavar="AMOUNT", help="the largest single gesture anyone may record")
    settings.add_argument("--shift-starts", metavar="HH:MM,...", help="shift start times, e.g. 06:00,14:00,22:00")
    settings.add_argument("--supervisor-limit", metavar="AMOUNT", help="supervisors' default approval limit")
    settings.add_argument("--json", action="store_true", help="print JSON")
    _as_option(settings, required=False)
    settings.add_argument("--reason", metavar="TEXT", help="why (kept in the audit log); needed for a change")
    settings.set_defaults(handler=floor_settings)


def _register_goodwill(commands: Any, common: argparse.ArgumentParser) -> None:
    goodwill = commands.add_parser("goodwill", parents=[common], help="record and decide goodwill gestures")
    actions = goodwill.add_subparsers(dest="goodwill_command", metavar="ACTION", required=True)

    grant = actions.add_parser(
        "grant",
        parents=[common],
        help="record a gesture; prints 'granted ID' (ledger entry) or 'pending ID' (approval request)",
    )
    grant.add_argument("--associate", required=True, metavar="NAME", help="whose budget it comes from")
    grant.add_argument("--amount", required=True, metavar="AMOUNT", help="e.g. 25.00")
    grant.add_argument("--type", dest="gesture_type", required=True, metavar="TYPE", help=f"one of: {GESTURE_TYPES}")
    grant.add_argument(
        "--reason", dest="reason_code", required=True, metavar="CODE", help=f"one of: {', '.join(REASON_CODES)}"
    )
    grant.add_argument("--reason-text", metavar="TEXT", help="a few words why (needed with reason 'other')")
    grant.add_argument("--case", dest="case_id", type=int, metavar="ID", help="the escalation it is for")
    grant.add_argument("--customer", dest="customer_ref", metavar="REF", help="the customer's reference")
    _as_option(grant)
    grant.set_defaults(handler=grant_gesture)

    approve = actions.add_parser("approve", parents=[common], help="approve a pending request (not your own)")
    approve.add_argument("id", type=int, metavar="ID", help="the request")
    _as_option(approve)
    approve.set_defaults(handler=approve_request)

    decline = actions.add_parser("decline", parents=[common], help="decline a pending request, with a reason")
    decline.add_argument("id", type=int, metavar="ID", help="the request")
    _as_option(decline)
    decline.add_argument("--reason", required=True, metavar="TEXT", help="why (the associate sees it)")
    decline.set_defaults(handler=decline_request)

    reverse = actions.add_parser("reverse", parents=[common], help="correct a gesture with a reversal entry")
    reverse.add_argument("entry_id", type=int, metavar="ENTRY_ID", help="the gesture's ledger entry")
    _as_option(reverse)
    reverse.add_argument("--reason", required=True, metavar="TEXT", help="why (kept with the reversal)")
    reverse.set_defaults(handler=reverse_entry)

    adjust = actions.add_parser(
        "adjust", parents=[common], help="add to (or, negative, take from) an associate's budget (managers)"
    )
    adjust.add_argument("--associate", required=True, metavar="NAME")
    adjust.add_argument("--amount", required=True, metavar="[-]AMOUNT", help="e.g. 20.00 or -20.00")
    _as_option(adjust)
    adjust.add_argument("--reason", required=True, metavar="TEXT", help="why (kept with the adjustment)")
    adjust.set_defaults(handler=adjust_budget)

    requests = actions.add_parser("requests", parents=[common], help="approval requests (pending ones by default)")
    requests.add_argument("--all", action="store_true", help="decided ones too, newest first")
    requests.add_argument("--json", action="store_true", help="print JSON")
    requests.set_defaults(handler=list_requests)

    ledger = actions.add_parser("ledger", parents=[common], help="ledger entries, newest first")
    ledger.add_argument("--associate", metavar="NAME", help="only this associate's")
    ledger.add_argument("--case", dest="case_id", type=int, metavar="ID", help="only this escalation's")
    ledger.add_argument("--json", action="store_true", help="print JSON")
    ledger.set_defaults(handler=show_ledger)


# --- output helpers -----------------------------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    """JSON-ready: amounts as two-decimal strings, times as ISO 8601, enums as their values."""
    if isinstance(value, Decimal):
        return money(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _print_json(value: Any) -> None:
    print(json.dumps(_plain(value), indent=2, ensure_ascii=False))


def _print_table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> None:
    """Columns as wide as their widest cell; amounts (``right``) aligned on the right."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        parts = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
        return "  ".join(parts).rstrip()

    print(line(headers))
    print(line(["-" * w for w in widths]))
    for row in rows:
        print(line(row))


def _local(at: datetime | None, zone: ZoneInfo) -> str:
    return "" if at is None else at.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _period_text(status: BudgetStatus, zone: ZoneInfo) -> str:
    from console.goodwill import Period

    start, end = status.period_start.astimezone(zone), status.period_end.astimezone(zone)
    if status.period is Period.SHIFT:
        return f"shift {start:%Y-%m-%d %H:%M}–{end:%H:%M}"
    last_day = (end - timedelta(days=1)).date()
    return f"{status.period.value} {start:%Y-%m-%d}–{last_day:%Y-%m-%d}"


def _actor(database: Database, username: str) -> Actor:
    from console.accounts import AccountService

    return AccountService(database).actor_for(username)


def _goodwill(database: Database) -> GoodwillService:
    from console.goodwill import GoodwillService

    return GoodwillService(database)


# --- budget -------------------------------------------------------------------------------------------------------
def show_budgets(args: argparse.Namespace, database: Database) -> int:
    """Print each associate's budget this period: JSON, or an aligned table with a mark past 80 %."""
    service = _goodwill(database)
    statuses = service.budgets(associate=args.associate)
    if args.json:
        _print_json([s.as_dict() for s in statuses])
        return 0
    if not statuses:
        print("No associates yet.")
        return 0
    zone = service.floor_settings().zone
    adjusted = any(s.adjustments for s in statuses)  # the column only when a manager adjusted someone
    rows = []
    for s in statuses:
        amounts = [money(s.allowance), *([f"{s.adjustments:+.2f}"] if adjusted else []), money(s.spent)]
        rows.append(
            [
                s.associate,
                _period_text(s, zone),
                *amounts,
                money(s.pending),
                money(s.remaining),
                f"{s.share_used * 100:.0f} %",
                WARNING_MARK if s.near_limit else "",
            ]
        )
    headers = ["Associate", "Period", "Allowance", *(["Adjusted"] if adjusted else []), "Spent", "Pending"]
    headers += ["Remaining", "Used", ""]
    _print_table(headers, rows, right=set(range(2, len(headers) - 1)))
    print(f"Amounts in {statuses[0].currency}.")
    return 0


def set_budget(args: argparse.Namespace, database: Database) -> int:
    """Set the rule for one scope and print it."""
    actor = _actor(database, args.as_user)
    service = _goodwill(database)
    rule = service.set_budget(
        actor,
        reason=args.reason,
        associate=args.associate,
        team=args.team,
        allowance=args.allowance,
        cap=args.cap,
        period=args.period,
    )
    if args.associate is not None:
        scope = f"associate {service.budgets(associate=args.associate)[0].associate}"
    elif args.team is not None:
        scope = f"team {args.team.strip()}"
    else:
        scope = "the floor"
    print(f"budget for {scope}: {rule.period.value}, allowance {money(rule.allowance)}, cap {money(rule.cap)}")
    return 0


def set_limit(args: argparse.Namespace, database: Database) -> int:
    """Set (or clear) a supervisor's approval limit and print the limit now in force."""
    actor = _actor(database, args.as_user)
    service = _goodwill(database)
    service.set_approval_limit(actor, args.supervisor, None if args.default else args.amount, reason=args.reason)
    supervisor = _actor(database, args.supervisor)
    limit = money(service.approval_limit(supervisor))
    print(f"approval limit for {supervisor.username}: {limit}" + (" (the floor's default)" if args.default else ""))
    return 0


def floor_settings(args: argparse.Namespace, database: Database) -> int:
    """Print the floor's goodwill settings, changing them first when any change is given."""
    service = _goodwill(database)
    changes = {
        "currency": args.currency,
        "timezone": args.timezone,
        "ceiling": args.ceiling,
        "shift_starts": args.shift_starts,
        "supervisor_limit": args.supervisor_limit,
    }
    settings: FloorGoodwill
    if any(v is not None for v in changes.values()):
        if not args.as_user:
            raise ValidationError("Changing goodwill settings needs --as USERNAME (a manager) and --reason TEXT.")
        settings = service.set_floor_settings(_actor(database, args.as_user), reason=args.reason or "", **changes)
    else:
        settings = service.floor_settings()
    values = settings.as_dict()
    if args.json:
        _print_json(values)
    else:
        width = max(len(k) for k in values)
        for key, value in values.items():
            print(f"{key.ljust(width)}  {value}")
    return 0


# --- goodwill -----------------------------------------------------------------------------------------------------
def grant_gesture(args: argparse.Namespace, database: Database) -> int:
    """Record a gesture; print ``granted ID`` or ``pending ID``."""
    actor = _actor(database, args.as_user)
    outcome = _goodwill(database).grant(
        actor,
        associate=args.associate,
        amount=args.amount,
        gesture_type=args.gesture_type,
        reason_code=args.reason_code,
        reason_text=args.reason_text,
        escalation_id=args.case_id,
        customer_ref=args.customer_ref,
    )
    print(f"{outcome.status} {outcome.id}")
    return 0


def approve_request(args: argparse.Namespace, database: Database) -> int:
    """Approve a request; print the ledger entry it became."""
    entry = _goodwill(database).approve(_actor(database, args.as_user), args.id)
    print(f"approved {args.id} -> entry {entry}")
    return 0


def decline_request(args: argparse.Namespace, database: Database) -> int:
    """Decline a request with a reason."""
    _goodwill(database).decline(_actor(database, args.as_user), args.id, args.reason)
    print(f"declined {args.id}")
    return 0


def reverse_entry(args: argparse.Namespace, database: Database) -> int:
    """Reverse a gesture; print the reversal's entry."""
    reversal = _goodwill(database).reverse(_actor(database, args.as_user), args.entry_id, args.reason)
    print(f"reversed {args.entry_id} by entry {reversal}")
    return 0


def adjust_budget(args: argparse.Namespace, database: Database) -> int:
    """Add to or take from an associate's budget; print the adjustment's entry and amount."""
    service = _goodwill(database)
    entry = service.adjust(_actor(database, args.as_user), args.associate, args.amount, args.reason)
    line = next(e for e in service.ledger(associate=args.associate, limit=20) if e.id == entry)
    print(f"adjusted {line.associate} by {line.amount:+.2f} -> entry {entry}")
    return 0


def _request_dict(r: ApprovalRequest) -> dict[str, Any]:
    return asdict(r) | {"gesture_type": r.gesture_type.value}


def list_requests(args: argparse.Namespace, database: Database) -> int:
    """Print approval requests: pending ones, or all with ``--all``."""
    service = _goodwill(database)
    requests = service.requests(status=None if args.all else "pending")
    if args.json:
        _print_json([_request_dict(r) for r in requests])
        return 0
    if not requests:
        print("No pending requests." if not args.all else "No requests yet.")
        return 0
    zone = service.floor_settings().zone
    rows = [
        [
            str(r.id),
            _local(r.requested_at, zone),
            r.associate,
            r.customer,
            r.gesture_type.value,
            money(r.amount),
            r.reason_code,
            r.requested_by,
            r.status if r.status != "pending" else f"pending: {r.because}",
        ]
        for r in requests
    ]
    headers = ["ID", "Requested", "Associate", "Customer", "Type", "Amount", "Reason", "By", "Status"]
    _print_table(headers, rows, right={0, 5})
    return 0


def _ledger_dict(e: LedgerLine) -> dict[str, Any]:
    return asdict(e) | {"gesture_type": e.gesture_type.value if e.gesture_type else None}


def show_ledger(args: argparse.Namespace, database: Database) -> int:
    """Print ledger entries, newest first."""
    service = _goodwill(database)
    lines = service.ledger(associate=args.associate, escalation_id=args.case_id)
    if args.json:
        _print_json([_ledger_dict(e) for e in lines])
        return 0
    if not lines:
        print("No ledger entries.")
        return 0
    zone = service.floor_settings().zone
    rows = [
        [
            str(e.id),
            _local(e.effective_at, zone),
            e.kind + (f" of {e.reverses_id}" if e.reverses_id else "") + (" (reversed)" if e.reversed_by_id else ""),
            e.associate,
            e.customer or "",
            e.gesture_type.value if e.gesture_type else "",
            money(e.amount),
            e.reason_code,
            e.recorded_by,
        ]
        for e in lines
    ]
    headers = ["ID", "Effective", "Kind", "Associate", "Customer", "Type", "Amount", "Reason", "By"]
    _print_table(headers, rows, right={0, 6})
    return 0
