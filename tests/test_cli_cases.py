"""``escalate``, ``case show`` and ``case claim`` from the command line, on both engines.

Subprocesses (about a second each) check what only a real process shows: stdout, stderr and the exit code. The
rest goes through the same parser and handlers in this process.
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from console import cli
from console.actor import Actor
from console.casefile import CaseFileService
from console.domain import Category, Channel, LabelledEnum, Severity
from console.intake import IntakeService, NewEscalation
from console.queue import QueueService
from console.sla import SlaTargets
from db.engine import Database
from db.models import Associate, AuditEvent, Customer, Escalation
from tests.conftest import MAIN, PYTHON, make_actor, run_main_env

ESCALATE = ["escalate", "--channel", "phone", "--category", "billing_error", "--severity", "high", "--summary", "Hi"]


def _url(database: Database) -> str:
    return database.url.render_as_string(hide_password=False)


def _run_main(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, MAIN, *args], env=run_main_env(), capture_output=True, text=True, timeout=60, check=False
    )


def _one_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def _escalate_in_process(database: Database, capsys: pytest.CaptureFixture[str], *args: str) -> int:
    """Run ``escalate`` through the real parser and handler; return the printed id."""
    code = cli.run(cli.parse([*ESCALATE, "--db", _url(database), *args]))
    captured = capsys.readouterr()
    assert (code, captured.err) == (0, "")
    return int(captured.out)


def _new_case(database: Database, customer_ref: str | None = "CRM-9") -> int:
    new = NewEscalation(
        "Ann Lee",
        Channel.CHAT,
        Category.LONG_WAIT,
        Severity.HIGH,
        "Bo Diaz",
        "No reply for a week",
        customer_ref=customer_ref,
    )
    return IntakeService(database).escalate(None, new)


def _count(database: Database, model: type[object]) -> int:
    with database.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


# -- escalate ----------------------------------------------------------------------------------------------------


def test_escalate_prints_the_new_id_alone(database: Database) -> None:
    out = _run_main(
        "escalate",
        "--customer",
        "Zoe Park",
        "--customer-ref",
        "CRM-77",
        "--channel",
        "Web form",  # a label works as well as a value
        "--category",
        "Billing error",
        "--severity",
        "CRITICAL",
        "--by",
        "Ravi Shah",
        "--summary",
        "Charged twice for one order",
        "--details",
        "Card ending 4242",
        "--ref",
        "TCK-1001",
        "--db",
        _url(database),
    )

    assert (out.returncode, out.stderr) == (0, "")
    with database.read() as session:
        esc = session.scalars(select(Escalation)).one()
        customer = session.get(Customer, esc.customer_id)
        associate = session.get(Associate, esc.associate_id)
        events = [(e.action, e.actor) for e in session.scalars(select(AuditEvent))]
    assert out.stdout == f"{esc.id}\n"
    assert (esc.channel, esc.category, esc.severity, esc.status, esc.source) == (
        "web_form",
        "billing_error",
        "critical",
        "open",
        "cli",
    )
    assert (esc.summary, esc.details, esc.external_ref) == (
        "Charged twice for one order",
        "Card ending 4242",
        "TCK-1001",
    )
    assert customer is not None
    assert (customer.name, customer.external_ref) == ("Zoe Park", "CRM-77")
    assert associate is not None
    assert associate.name == "Ravi Shah"
    assert events == [("escalation.create", "system")]


def test_an_invalid_channel_exits_2_naming_the_allowed_values(tmp_path: Path) -> None:
    target = tmp_path / "never.sqlite3"
    out = _run_main(
        *ESCALATE[:2], "fax", *ESCALATE[3:], "--customer", "Zoe", "--by", "Ravi", "--db", f"sqlite:///{target}"
    )

    assert out.returncode == 2
    assert out.stdout == ""
    assert "Traceback" not in out.stderr
    naming = [line for line in out.stderr.splitlines() if "allowed:" in line]
    assert len(naming) == 1
    assert "'fax'" in naming[0]
    assert all(channel.value in naming[0] for channel in Channel)
    assert not target.exists()  # refused before any database was opened


@pytest.mark.parametrize(("flag", "vocabulary"), [("--category", Category), ("--severity", Severity)])
def test_an_invalid_category_or_severity_exits_2_naming_the_allowed_values(
    flag: str, vocabulary: type[LabelledEnum], capsys: pytest.CaptureFixture[str]
) -> None:
    args = [*ESCALATE, "--customer", "Zoe", "--by", "Ravi"]
    args[args.index(flag) + 1] = "urgent-ish"
    with pytest.raises(SystemExit) as caught:
        cli.parse(args)
    assert caught.value.code == 2
    naming = [line for line in capsys.readouterr().err.splitlines() if "allowed:" in line]
    assert len(naming) == 1
    assert "'urgent-ish'" in naming[0]
    assert all(member.value in naming[0] for member in vocabulary)


def test_customers_and_associates_are_found_or_created(database: Database, capsys: pytest.CaptureFixture[str]) -> None:
    first = _escalate_in_process(database, capsys, "--customer", "Ann Lee", "--customer-ref", "CRM-1", "--by", "Bo")
    # The CRM reference identifies the customer, even if the associate types the name differently.
    same_ref = _escalate_in_process(
        database, capsys, "--customer", "Ann Lee-Smith", "--customer-ref", "CRM-1", "--by", "Bo"
    )
    other_ref = _escalate_in_process(database, capsys, "--customer", "Ann Lee", "--customer-ref", "CRM-2", "--by", "Cy")
    # Without a reference the exact name is the match.
    walk_in = _escalate_in_process(database, capsys, "--customer", "Walk In", "--by", "  Bo ")
    walk_in_again = _escalate_in_process(database, capsys, "--customer", "Walk In", "--by", "Cy")

    with database.read() as session:
        rows = dict(
            session.execute(
                select(Escalation.id, Customer.external_ref).join(Customer, Customer.id == Escalation.customer_id)
            ).all()
        )
        customer_of = dict(session.execute(select(Escalation.id, Escalation.customer_id)).all())
        associates = sorted(session.scalars(select(Associate.name)))
        crm1_name = session.scalar(select(Customer.name).where(Customer.external_ref == "CRM-1"))
    assert customer_of[first] == customer_of[same_ref]
    assert customer_of[other_ref] != customer_of[first]
    assert customer_of[walk_in] == customer_of[walk_in_again]
    assert (rows[first], rows[other_ref], rows[walk_in]) == ("CRM-1", "CRM-2", None)
    assert crm1_name == "Ann Lee"  # the first name on record stays
    assert _count(database, Customer) == 3
    assert associates == ["Bo", "Cy"]


def test_a_refused_escalation_is_one_line_exit_2_and_creates_nothing(
    database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    _escalate_in_process(database, capsys, "--customer", "Ann Lee", "--by", "Bo", "--ref", "TCK-1")
    refusals = [
        (["--customer", "Raj", "--by", "Bo", "--ref", "TCK-1"], "already exists"),
        (["--customer", "R" * 201, "--by", "Bo"], "over 200 characters"),  # longer than the column
        (["--customer", "Raj", "--by", "B" * 129], "over 128 characters"),
        (["--customer", "Raj", "--customer-ref", "C" * 65, "--by", "Bo"], "over 64 characters"),
        (["--customer", "   ", "--by", "Bo"], "name is empty"),
    ]
    for args, message in refusals:
        code = cli.run(cli.parse([*ESCALATE, "--db", _url(database), *args]))
        captured = capsys.readouterr()
        assert code == 2
        assert message in _one_error_line(captured.err)
        assert captured.out == ""
    assert (_count(database, Escalation), _count(database, Customer), _count(database, Associate)) == (1, 1, 1)


# -- case show ---------------------------------------------------------------------------------------------------


def test_case_show_json_has_the_documented_keys_and_values(
    database: Database, manager: Actor, supervisor: Actor
) -> None:
    QueueService(database).set_policy(
        manager, {Severity.HIGH: SlaTargets(timedelta(minutes=20), timedelta(minutes=300))}, 0.8
    )
    case = _new_case(database)
    with database.transaction() as session:
        session.execute(update(Customer).values(tier="gold"))
    QueueService(database).claim(supervisor, case)
    with database.read() as session:
        esc = session.get(Escalation, case)
        assert esc is not None

    out = _run_main("case", "show", str(case), "--json", "--db", _url(database))

    assert (out.returncode, out.stderr) == (0, "")
    record = json.loads(out.stdout)
    expected_keys = {"id", "ref", "status", "severity", "channel", "category", "customer", "escalated_by"}
    expected_keys |= {"claimed_by", "escalated_at", "claimed_at", "resolved_at", "sla"}
    assert expected_keys <= set(record)
    assert (record["id"], record["ref"], record["status"], record["severity"]) == (case, None, "claimed", "high")
    assert (record["channel"], record["category"]) == ("chat", "long_wait")
    assert record["customer"] == {"id": esc.customer_id, "name": "Ann Lee", "ref": "CRM-9", "tier": "gold"}
    assert (record["escalated_by"], record["claimed_by"], record["resolved_at"]) == ("Bo Diaz", "sam", None)
    assert datetime.fromisoformat(record["escalated_at"]) == esc.escalated_at
    assert datetime.fromisoformat(record["claimed_at"]) == esc.claimed_at
    sla = record["sla"]
    assert {"claim_due", "resolve_due", "breached"} <= set(sla)
    assert datetime.fromisoformat(sla["claim_due"]) == esc.queued_at + timedelta(minutes=20)
    assert datetime.fromisoformat(sla["resolve_due"]) == esc.queued_at + timedelta(minutes=300)
    assert sla["breached"] is False


def test_case_show_of_an_unknown_id_is_one_clear_line(sqlite_url: str) -> None:
    out = _run_main("case", "show", "4242", "--json", "--db", sqlite_url)
    assert out.returncode == 1
    assert out.stdout == ""
    line = _one_error_line(out.stderr)
    assert line.startswith("error: ")
    assert "#4242" in line


# -- case claim --------------------------------------------------------------------------------------------------


def test_case_claim_of_a_case_someone_else_has_exits_1_naming_them(database: Database, supervisor: Actor) -> None:
    make_actor(database, "lee")
    case = _new_case(database)
    QueueService(database).claim(supervisor, case)

    out = _run_main("case", "claim", str(case), "--as", "lee", "--db", _url(database))

    assert out.returncode == 1
    assert out.stdout == ""
    line = _one_error_line(out.stderr)
    assert "Sam" in line
    assert f"#{case}" in line
    with database.read() as session:
        assert session.scalar(select(Escalation.claimed_by_id).where(Escalation.id == case)) == supervisor.user_id


def test_case_claim_claims_for_the_named_user(database: Database, capsys: pytest.CaptureFixture[str]) -> None:
    lee = make_actor(database, "lee")
    case = _new_case(database)

    code = cli.run(cli.parse(["case", "claim", str(case), "--as", "LEE", "--db", _url(database)]))

    assert (code, capsys.readouterr().out) == (0, f"claimed #{case} for lee\n")
    item = QueueService(database).item(case)
    assert (item.claimed_by_id, item.claimed_by_name) == (lee.user_id, "Lee")
    # An unknown user is a clear line, not a traceback.
    code = cli.run(cli.parse(["case", "claim", str(case), "--as", "ghost", "--db", _url(database)]))
    captured = capsys.readouterr()
    assert code == 1
    assert "No active account named 'ghost'" in _one_error_line(captured.err)


def test_case_show_says_whether_a_finished_case_missed_its_targets(database: Database) -> None:
    """A resolved case reports breached when it was claimed or resolved after its (pause-adjusted) target."""
    new = NewEscalation("Ann Lee", Channel.PHONE, Category.BILLING_ERROR, Severity.CRITICAL, "Bo", "Charged twice")
    late, on_time, paused = (IntakeService(database).escalate(None, new) for _ in range(3))
    with database.transaction() as session:
        at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        common = {"status": "resolved", "queued_at": at, "escalated_at": at}
        # Critical: claim within 5 min, resolve within 4 h.
        session.execute(
            update(Escalation)
            .where(Escalation.id == late)
            .values(**common, claimed_at=at + timedelta(minutes=6), resolved_at=at + timedelta(hours=1))
        )
        session.execute(
            update(Escalation)
            .where(Escalation.id == on_time)
            .values(**common, claimed_at=at + timedelta(minutes=4), resolved_at=at + timedelta(hours=3))
        )
        session.execute(
            update(Escalation)
            .where(Escalation.id == paused)
            .values(
                **common, claimed_at=at + timedelta(minutes=4), resolved_at=at + timedelta(hours=5), held_seconds=7200
            )
        )
    cases = CaseFileService(database)
    assert cases.show(late)["sla"]["breached"] is True
    assert cases.show(on_time)["sla"]["breached"] is False
    assert cases.show(paused)["sla"]["breached"] is False  # 5 h elapsed, 2 h of it on hold
    assert cases.show(paused)["sla"]["resolve_due"] == "2026-01-05T15:00:00+00:00"
