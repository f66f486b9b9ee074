"""``budget`` and ``goodwill`` from the command line, on both engines.

A handful of subprocesses (about a second each) check what only a real process shows: stdout, stderr, the exit code
and the table as a terminal gets it. The many refusals go through the same parser and handlers in this process.
"""

from __future__ import annotations

import io
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from console import audit, cli
from console.actor import Actor
from console.domain import Category, Channel, Role, Severity
from console.goodwill import REASON_CODES, GestureType, GoodwillService, Period
from console.intake import IntakeService, NewEscalation
from db.engine import Database
from db.models import AuditEvent, User
from tests.conftest import MAIN, PYTHON, make_actor, run_main_env

BUDGET_KEYS = {"associate", "period_start", "period_end", "allowance", "cap", "spent", "pending", "remaining"}


@dataclass(frozen=True)
class Floor:
    """A small floor: a manager, two supervisors, two associates each with a case for their own customer."""

    database: Database
    url: str
    mia: Actor
    sam: Actor
    lee: Actor
    ravi_case: int
    kim_case: int

    @property
    def goodwill(self) -> GoodwillService:
        """The service, for setting up and for checking what the command line did."""
        return GoodwillService(self.database)


def _make_floor(database: Database) -> Floor:
    """Ravi Shah (customer CRM-1) and Kim (CRM-2) on the floor's default budget: 150.00 a week, 25.00 a gesture."""
    mia = make_actor(database, "mia", Role.MANAGER)
    sam, lee = make_actor(database, "sam"), make_actor(database, "lee")
    intake = IntakeService(database)
    ravi_case = intake.escalate(
        None,
        NewEscalation(
            "Ann Lee",
            Channel.PHONE,
            Category.BILLING_ERROR,
            Severity.HIGH,
            "Ravi Shah",
            "Charged twice",
            customer_ref="CRM-1",
        ),
    )
    kim_case = intake.escalate(
        None,
        NewEscalation(
            "Bo Diaz", Channel.CHAT, Category.LONG_WAIT, Severity.NORMAL, "Kim", "No reply", customer_ref="CRM-2"
        ),
    )
    url = database.url.render_as_string(hide_password=False)
    return Floor(database, url, mia, sam, lee, ravi_case, kim_case)


@pytest.fixture
def floor(database: Database) -> Floor:
    """The small floor, on each engine in turn."""
    return _make_floor(database)


@pytest.fixture
def sqlite_floor(sqlite_url: str) -> Iterator[Floor]:
    """The small floor on SQLite only, for what does not depend on the engine."""
    database = Database(sqlite_url)
    yield _make_floor(database)
    database.dispose()


def _run_main(floor: Floor, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, MAIN, *args, "--db", floor.url],
        env=run_main_env(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )


def _run_here(floor: Floor, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The real parser and handler in this process: (exit code, stdout, stderr)."""
    err = io.StringIO()
    code = cli.run(cli.parse([*args, "--db", floor.url]), stderr=err)
    return code, capsys.readouterr().out, err.getvalue()


def _one_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def _grant_args(associate: str = "Ravi Shah", amount: str = "20.00", *more: str) -> list[str]:
    base = ["goodwill", "grant", "--associate", associate, "--amount", amount, "--type", "discount"]
    return [*base, "--reason", "billing_error", "--customer", "CRM-1" if associate == "Ravi Shah" else "CRM-2", *more]


def _grant_kim(gesture_type: str, reason: str, *more: str) -> list[str]:
    base = ["goodwill", "grant", "--associate", "Kim", "--amount", "5", "--type", gesture_type, "--reason", reason]
    return [*base, *more, "--as", "sam"]


def _state(floor: Floor) -> tuple[Any, ...]:
    """Everything a goodwill command could write, as plain values."""
    service = floor.goodwill
    with floor.database.read() as session:
        events = int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)
        limits = sorted(tuple(r) for r in session.execute(select(User.username, User.approval_limit)))
    return (
        service.ledger(),
        service.requests(status=None),
        [s.as_dict() for s in service.budgets()],
        service.floor_settings(),
        limits,
        events,
    )


def _right_cell(header: str, row: str, name: str) -> str:
    """The right-aligned cell under ``name``: it ends exactly where the header does, with a space before it."""
    end = header.index(name) + len(name)
    assert row[end : end + 1] in ("", " "), (name, row)
    return row[:end].rsplit(maxsplit=1)[-1]


def _period_of(floor: Floor, associate: str) -> str:
    """The period as the table shows it: ``week 2026-01-05–2026-01-11`` (local dates, last day included)."""
    status = floor.goodwill.budgets(associate=associate)[0]
    return f"week {status.period_start:%Y-%m-%d}–{status.period_end - timedelta(days=1):%Y-%m-%d}"


def _budget(records: list[dict[str, Any]], associate: str) -> dict[str, Any]:
    [record] = [r for r in records if r["associate"] == associate]
    return record


# -- real processes ------------------------------------------------------------------------------------------------


def test_grant_approve_and_show_as_real_processes(floor: Floor) -> None:
    granted = _run_main(floor, *_grant_args("Ravi Shah", "20.00", "--as", "sam"))
    assert (granted.returncode, granted.stderr) == (0, "")
    [entry] = floor.goodwill.ledger(associate="Ravi Shah")
    assert granted.stdout == f"granted {entry.id}\n"
    assert (entry.amount, entry.gesture_type, entry.reason_code, entry.recorded_by) == (
        Decimal("20.00"),
        GestureType.DISCOUNT,
        "billing_error",
        "sam",
    )

    # Over the 25.00 cap: a request, still exit 0.
    over_cap = _run_main(
        floor,
        "goodwill",
        "grant",
        "--associate",
        "ravi shah",
        "--amount",
        "60.00",
        "--type",
        "credit",
        "--reason",
        "other",
        "--reason-text",
        "Third call this week",
        "--case",
        str(floor.ravi_case),
        "--as",
        "sam",
    )
    assert (over_cap.returncode, over_cap.stderr) == (0, "")
    [request] = floor.goodwill.requests()
    assert over_cap.stdout == f"pending {request.id}\n"
    assert (request.amount, request.escalation_id, request.reason_text) == (
        Decimal("60.00"),
        floor.ravi_case,
        "Third call this week",
    )

    # Approving one's own request: exit 1, nothing approved, the attempt audited.
    own = _run_main(floor, "goodwill", "approve", str(request.id), "--as", "sam")
    assert own.returncode == 1
    assert own.stdout == ""
    assert "yourself" in _one_error_line(own.stderr)
    assert [r.status for r in floor.goodwill.requests(status=None)] == ["pending"]
    assert floor.goodwill.ledger() == [entry]

    approved = _run_main(floor, "goodwill", "approve", str(request.id), "--as", "lee")
    assert (approved.returncode, approved.stderr) == (0, "")
    [decided] = floor.goodwill.requests(status=None)
    assert (decided.status, decided.decided_by) == ("approved", "lee")
    assert approved.stdout == f"approved {request.id} -> entry {decided.entry_id}\n"
    with floor.database.read() as session:
        events = audit.events_for(session, "goodwill_request", request.id)
    assert [(e.action, e.actor) for e in events] == [
        ("goodwill.requested", "sam"),
        ("goodwill.approval_refused", "sam"),
        ("goodwill.approved", "lee"),
    ]
    assert "yourself" in (events[1].note or "")

    shown = _run_main(floor, "budget", "show", "--json")
    assert (shown.returncode, shown.stderr) == (0, "")
    records = json.loads(shown.stdout)
    assert [r["associate"] for r in records] == ["Ravi Shah", "Kim"]  # most used first
    assert all(set(r) >= BUDGET_KEYS for r in records)
    ravi = _budget(records, "Ravi Shah")
    assert {k: ravi[k] for k in ("allowance", "cap", "spent", "pending", "remaining")} == {
        "allowance": "150.00",
        "cap": "25.00",
        "spent": "80.00",
        "pending": "0.00",
        "remaining": "70.00",
    }
    assert (ravi["period"], ravi["currency"], ravi["budget_from"]) == ("week", "USD", "floor")
    start, end = datetime.fromisoformat(ravi["period_start"]), datetime.fromisoformat(ravi["period_end"])
    assert (end - start).days == 7
    assert start <= entry.effective_at < end
    kim = _budget(records, "Kim")
    assert (kim["spent"], kim["remaining"]) == ("0.00", "150.00")


def test_budget_table_is_aligned_and_marks_associates_past_80_percent(sqlite_floor: Floor) -> None:
    floor = sqlite_floor
    before = _state(floor)
    refused = _run_main(floor, *_grant_args("Ravi Shah", "12.345", "--as", "sam"))
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert "two decimals" in _one_error_line(refused.stderr)
    assert _state(floor) == before

    for _ in range(5):  # 125.00 of 150.00: 83 %
        floor.goodwill.grant(
            floor.sam, associate="Ravi Shah", amount="25.00", gesture_type="credit", reason_code="billing_error",
            customer_ref="CRM-1",
        )  # fmt: skip
    floor.goodwill.grant(
        floor.sam, associate="Kim", amount="90.00", gesture_type="credit", reason_code="long_wait", customer_ref="CRM-2"
    )  # over the cap: pending, not spent

    out = _run_main(floor, "budget", "show")

    assert (out.returncode, out.stderr) == (0, "")
    header, rule, ravi, kim, footer = out.stdout.rstrip("\n").splitlines()
    assert header.split() == ["Associate", "Period", "Allowance", "Spent", "Pending", "Remaining", "Used"]
    assert set(rule.replace(" ", "")) == {"-"}
    week = _period_of(floor, "Ravi Shah")

    def cells(row: str) -> dict[str, str]:
        """Each column read at its header: names and periods from the left, amounts right-aligned."""
        found = {name: _right_cell(header, row, name) for name in ("Allowance", "Spent", "Pending", "Remaining")}
        found["Associate"] = row[: header.index("Period")].strip()
        found["Period"] = row[header.index("Period") : header.index("Period") + len(week)]
        found["Used"] = row[: header.index("Used") + len("Used")].rsplit("  ", 1)[-1].strip()
        found["mark"] = row[header.index("Used") + len("Used") :].strip()
        return found

    assert cells(ravi) == {
        "Associate": "Ravi Shah",
        "Period": week,
        "Allowance": "150.00",
        "Spent": "125.00",
        "Pending": "0.00",
        "Remaining": "25.00",
        "Used": "83 %",
        "mark": "⚠ past 80 %",
    }
    assert cells(kim) == {
        "Associate": "Kim",
        "Period": week,
        "Allowance": "150.00",
        "Spent": "0.00",
        "Pending": "90.00",
        "Remaining": "150.00",
        "Used": "0 %",
        "mark": "",
    }
    assert footer == "Amounts in USD."


# -- in-process: refusals ------------------------------------------------------------------------------------------


def test_bad_input_exits_2_with_one_line_and_writes_nothing(floor: Floor, capsys: pytest.CaptureFixture[str]) -> None:
    floor.goodwill.grant(
        floor.sam, associate="Kim", amount="90.00", gesture_type="credit", reason_code="long_wait", customer_ref="CRM-2"
    )
    [pending] = floor.goodwill.requests()
    grant = ["--as", "sam"]
    manager = ["--as", "mia", "--reason", "testing"]
    refusals: list[tuple[list[str], list[str]]] = [
        (_grant_args("Ravi Shah", "0", *grant), ["more than 0.00"]),
        (_grant_args("Ravi Shah", "0.00", *grant), ["more than 0.00"]),
        (_grant_args("Ravi Shah", "-5.00", *grant), ["negative"]),
        (_grant_args("Ravi Shah", "NaN", *grant), ["finite"]),
        (_grant_args("Ravi Shah", "Infinity", *grant), ["finite"]),
        (_grant_args("Ravi Shah", "12.345", *grant), ["two decimals"]),
        (_grant_args("Ravi Shah", "ten", *grant), ["'ten' is not an amount"]),
        (_grant_args("Ravi Shah", "1_000", *grant), ["not an amount"]),
        (_grant_args("Ravi Shah", "1e1", *grant), ["not an amount"]),
        (_grant_args("Ravi Shah", "", *grant), ["not an amount"]),
        (_grant_args("Ravi Shah", "1000.01", *grant), ["ceiling of 1000.00"]),
        (_grant_args("Nobody", "5.00", *grant), ["Unknown associate 'Nobody'", "Kim, Ravi Shah"]),
        (
            _grant_kim("voucher", "long_wait", "--customer", "CRM-2"),
            ["'voucher'", *(g.value for g in GestureType)],
        ),
        (
            _grant_kim("credit", "rude", "--customer", "CRM-2"),
            ["'rude'", *REASON_CODES],
        ),
        (
            _grant_kim("credit", "other", "--customer", "CRM-2"),
            ["'other' needs a few words"],
        ),
        (
            _grant_kim("credit", "long_wait"),
            ["Name the customer"],
        ),
        (_grant_args("Ravi Shah", "5.00", "--case", "9999", *grant), ["no escalation #9999"]),
        (_grant_args("Kim", "5.00", "--case", str(floor.ravi_case), *grant), ["another customer"]),
        (_grant_args("Kim", "5.00", "--customer", "CRM-404", *grant), ["no customer with reference 'CRM-404'"]),
        (["goodwill", "decline", str(pending.id), "--as", "lee", "--reason", "   "], ["needs a reason"]),
        (["goodwill", "adjust", "--associate", "Kim", "--amount", "0", *manager], ["more or less than 0.00"]),
        (["goodwill", "adjust", "--associate", "Kim", "--amount", "-1.001", *manager], ["two decimals"]),
        (["goodwill", "adjust", "--associate", "Kim", "--amount", "lots", *manager], ["not an amount"]),
        (["goodwill", "adjust", "--associate", "Kim", "--amount", "+-5", *manager], ["negative"]),  # one sign at most
        (["goodwill", "adjust", "--associate", "Nobody", "--amount", "5", *manager], ["Unknown associate"]),
        (["budget", "set", "--associate", "Kim", "--cap", "2000.00", *manager], ["above the floor's ceiling"]),
        (["budget", "set", "--associate", "Kim", "--allowance", "-1", *manager], ["negative"]),
        (
            ["budget", "set", "--floor", "--period", "fortnight", *manager],
            ["'fortnight'", *(p.value for p in Period)],
        ),
        (["budget", "set", "--team", "Night", "--cap", "5", *manager], ["Unknown team 'Night'"]),
        (["budget", "set", "--floor", *manager], ["Nothing to change"]),
        (["budget", "limit", "--supervisor", "lee", "--amount", "-1", *manager], ["negative"]),
        (["budget", "limit", "--supervisor", "ghost", "--amount", "50", *manager], ["no account 'ghost'"]),
        (["budget", "settings", "--currency", "EURO", *manager], ["not a currency code"]),
        (["budget", "settings", "--timezone", "Mars/Olympus", *manager], ["not a time zone"]),
        (["budget", "settings", "--shift-starts", "6am", *manager], ["not a time of day"]),
        (["budget", "settings", "--ceiling", "0", *manager], ["more than 0.00"]),
        (["budget", "settings", "--ceiling", "500.00"], ["--as"]),  # a change needs someone to make it
        (["budget", "settings", "--ceiling", "500.00", "--as", "mia"], ["needs a reason"]),
        (["budget", "show", "--associate", "Nobody"], ["Unknown associate"]),
        (["goodwill", "ledger", "--associate", "Nobody"], ["Unknown associate"]),
    ]
    before = _state(floor)
    for args, words in refusals:
        code, out, err = _run_here(floor, capsys, *args)
        assert (code, out) == (2, ""), (args, out, err)
        line = _one_error_line(err)
        assert all(w in line for w in words), (args, line)
    assert _state(floor) == before


def test_refused_permissions_and_approvals_exit_1(floor: Floor, capsys: pytest.CaptureFixture[str]) -> None:
    """Beyond one's role or approval limit, deciding twice, unknown records and users: exit 1, nothing changed."""
    outcome = floor.goodwill.grant(
        floor.sam,
        associate="Kim",
        amount="150.00",
        gesture_type="credit",
        reason_code="long_wait",
        customer_ref="CRM-2",
    )
    assert outcome.status == "pending"
    supervisor = ["--as", "lee", "--reason", "testing"]
    refusals: list[tuple[list[str], str]] = [
        (["goodwill", "approve", str(outcome.id), "--as", "lee"], "above your approval limit of 100.00"),
        (["goodwill", "approve", "9999", "--as", "lee"], "no goodwill request #9999"),
        (["goodwill", "reverse", "9999", "--as", "lee", "--reason", "typo"], "no goodwill entry #9999"),
        (["budget", "set", "--associate", "Kim", "--allowance", "500", *supervisor], "Only a manager"),
        (["budget", "limit", "--supervisor", "lee", "--amount", "900", *supervisor], "Only a manager"),
        (["budget", "settings", "--ceiling", "5000", *supervisor], "Only a manager"),
        (["goodwill", "adjust", "--associate", "Kim", "--amount", "500", *supervisor], "Only a manager"),
        (_grant_args("Kim", "5.00", "--as", "ghost"), "No active account named 'ghost'"),
    ]
    before = _state(floor)
    for args, words in refusals:
        code, out, err = _run_here(floor, capsys, *args)
        assert (code, out) == (1, ""), (args, out, err)
        assert words in _one_error_line(err), args
    after = _state(floor)
    assert after[:-1] == before[:-1]  # only the audit grew: the refused approval is on record
    with floor.database.read() as session:
        events = audit.events_for(session, "goodwill_request", outcome.id)
    assert [(e.action, e.actor) for e in events][-1] == ("goodwill.approval_refused", "lee")
    assert after[-1] == before[-1] + 1

    # A manager may approve it; approving it again is a conflict naming who decided.
    assert _run_here(floor, capsys, "goodwill", "approve", str(outcome.id), "--as", "mia")[0] == 0
    code, out, err = _run_here(floor, capsys, "goodwill", "approve", str(outcome.id), "--as", "mia")
    assert (code, out) == (1, "")
    assert "already approved by mia" in _one_error_line(err)


# -- in-process: the other commands --------------------------------------------------------------------------------


def test_decline_reverse_adjust_and_the_listings(floor: Floor, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run_here(floor, capsys, *_grant_args("Ravi Shah", "25.00", "--as", "sam"))
    assert (code, err) == (0, "")
    gesture = int(out.removeprefix("granted "))
    code, out, _ = _run_here(floor, capsys, *_grant_args("Kim", "40", "--as", "sam"))
    assert code == 0
    request = int(out.removeprefix("pending "))

    code, out, err = _run_here(floor, capsys, "goodwill", "requests", "--json")
    assert (code, err) == (0, "")
    [shown] = json.loads(out)
    assert {k: shown[k] for k in ("id", "associate", "amount", "status", "gesture_type", "reason_code")} == {
        "id": request,
        "associate": "Kim",
        "amount": "40.00",
        "status": "pending",
        "gesture_type": "discount",
        "reason_code": "billing_error",
    }
    assert shown["because"] == "over the 25.00 cap per gesture"
    assert (shown["requested_by"], shown["decided_by"], shown["entry_id"]) == ("sam", None, None)
    code, out, _ = _run_here(floor, capsys, "goodwill", "requests")
    assert code == 0
    assert "Kim" in out
    assert "pending: over the 25.00 cap per gesture" in out

    assert _run_here(floor, capsys, "goodwill", "decline", str(request), "--as", "lee", "--reason", "Too much")[:2] == (
        0,
        f"declined {request}\n",
    )
    assert json.loads(_run_here(floor, capsys, "goodwill", "requests", "--json")[1]) == []
    assert _run_here(floor, capsys, "goodwill", "requests")[1] == "No pending requests.\n"
    [decided] = json.loads(_run_here(floor, capsys, "goodwill", "requests", "--all", "--json")[1])
    assert (decided["status"], decided["decided_by"], decided["decision_reason"]) == ("declined", "lee", "Too much")

    code, out, _ = _run_here(floor, capsys, "goodwill", "reverse", str(gesture), "--as", "lee", "--reason", "Typo")
    [reversal] = [e for e in floor.goodwill.ledger() if e.kind == "reversal"]
    assert (code, out) == (0, f"reversed {gesture} by entry {reversal.id}\n")
    code, out, err = _run_here(floor, capsys, "goodwill", "reverse", str(gesture), "--as", "lee", "--reason", "Again")
    assert code == 1
    assert f"already reversed by entry #{reversal.id}" in _one_error_line(err)

    code, out, _ = _run_here(floor, capsys, "goodwill", "adjust", "--associate", "kim", "--amount", "-20.00",
                             "--as", "mia", "--reason", "Overspent last week")  # fmt: skip
    [adjustment] = [e for e in floor.goodwill.ledger() if e.kind == "adjustment"]
    assert (code, out) == (0, f"adjusted Kim by -20.00 -> entry {adjustment.id}\n")
    assert (adjustment.amount, adjustment.reason_text) == (Decimal("-20.00"), "Overspent last week")

    code, out, _ = _run_here(floor, capsys, "goodwill", "ledger", "--json", "--associate", "Ravi Shah")
    lines = json.loads(out)
    assert [(e["id"], e["kind"], e["amount"]) for e in lines] == [
        (reversal.id, "reversal", "-25.00"),
        (gesture, "gesture", "25.00"),
    ]
    assert (lines[1]["reversed_by_id"], lines[0]["reverses_id"], lines[0]["reason_text"]) == (
        reversal.id,
        gesture,
        "Typo",
    )
    assert datetime.fromisoformat(lines[1]["effective_at"]).utcoffset() is not None
    assert json.loads(_run_here(floor, capsys, "goodwill", "ledger", "--json", "--case", str(floor.ravi_case))[1]) == []
    code, out, _ = _run_here(floor, capsys, "goodwill", "ledger")
    assert code == 0
    assert f"reversal of {gesture}" in out
    assert "gesture (reversed)" in out

    records = json.loads(_run_here(floor, capsys, "budget", "show", "--json")[1])
    assert (_budget(records, "Ravi Shah")["spent"], _budget(records, "Ravi Shah")["remaining"]) == ("0.00", "150.00")
    kim = _budget(records, "Kim")
    assert (kim["adjustments"], kim["remaining"], kim["pending"]) == ("-20.00", "130.00", "0.00")


def test_budget_rules_limits_and_settings(floor: Floor, capsys: pytest.CaptureFixture[str]) -> None:
    manager = ["--as", "mia", "--reason", "New quarter"]
    code, out, err = _run_here(
        floor, capsys, "budget", "set", "--associate", "kim", "--allowance", "300", "--cap", "50.00", *manager
    )
    assert (code, err) == (0, "")
    assert out == "budget for associate Kim: week, allowance 300.00, cap 50.00\n"
    code, out, _ = _run_here(floor, capsys, "budget", "set", "--floor", "--period", "Month", *manager)
    assert out == "budget for the floor: month, allowance 150.00, cap 25.00\n"
    [kim] = json.loads(_run_here(floor, capsys, "budget", "show", "--json", "--associate", "Kim")[1])
    assert (kim["allowance"], kim["cap"], kim["period"], kim["budget_from"]) == ("300.00", "50.00", "week", "associate")
    [ravi] = json.loads(_run_here(floor, capsys, "budget", "show", "--json", "--associate", "ravi shah")[1])
    assert (ravi["period"], ravi["budget_from"]) == ("month", "floor")
    with floor.database.read() as session:
        events = audit.events_for(session, "goodwill_budget", "floor")
    assert [(e.actor, e.note) for e in events] == [("mia", "New quarter")]

    code, out, _ = _run_here(floor, capsys, "budget", "limit", "--supervisor", "lee", "--amount", "250", *manager)
    assert (code, out) == (0, "approval limit for lee: 250.00\n")
    assert floor.goodwill.approval_limit(floor.lee) == Decimal("250.00")
    code, out, _ = _run_here(floor, capsys, "budget", "limit", "--supervisor", "lee", "--default", *manager)
    assert (code, out) == (0, "approval limit for lee: 100.00 (the floor's default)\n")

    code, out, err = _run_here(floor, capsys, "budget", "settings", "--json")
    assert (code, err) == (0, "")
    assert json.loads(out) == {
        "currency": "USD",
        "timezone": "UTC",
        "ceiling": "1000.00",
        "shift_starts": "06:00,14:00,22:00",
        "supervisor_limit": "100.00",
    }
    code, out, err = _run_here(
        floor,
        capsys,
        "budget",
        "settings",
        "--currency",
        "eur",
        "--timezone",
        "Europe/Berlin",
        "--ceiling",
        "500",
        "--shift-starts",
        "22:00,07:00",
        "--supervisor-limit",
        "75.5",
        *manager,
    )
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "currency          EUR",
        "timezone          Europe/Berlin",
        "ceiling           500.00",
        "shift_starts      07:00,22:00",
        "supervisor_limit  75.50",
    ]
    assert floor.goodwill.floor_settings().ceiling == Decimal("500.00")
    code, out, err = _run_here(floor, capsys, *_grant_args("Kim", "500.01", "--as", "sam"))
    assert code == 2
    assert "ceiling of 500.00" in _one_error_line(err)
