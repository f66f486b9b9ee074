"""Accounts on both engines: creating people, signing in, throttling failures, roles, and their audit trail."""

from __future__ import annotations

import io
import subprocess
import threading
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from console import audit, cli
from console.accounts import AccountService, lockout_for, validate_new_account
from console.actor import Actor
from console.domain import Role
from console.errors import AuthenticationFailed, NotFound, PermissionDenied, ValidationError
from db.engine import Database
from db.models import AuditEvent, User
from tests.conftest import MAIN, PASSWORD, PYTHON, run_main_env

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WRONG = "not the password"


def _audit_count(database: Database) -> int:
    with database.read() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def _user_count(database: Database) -> int:
    with database.read() as session:
        return int(session.scalar(select(func.count()).select_from(User)) or 0)


def _user(database: Database, username: str) -> User:
    with database.read() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        return user


def _events(database: Database, user_id: int) -> list[tuple[str, str, dict[str, object] | None]]:
    with database.read() as session:
        return [(e.action, e.actor, e.after) for e in audit.events_for(session, "user", user_id)]


def _refused(accounts: AccountService, username: str, password: str, at: datetime) -> AuthenticationFailed:
    with pytest.raises(AuthenticationFailed) as caught:
        accounts.authenticate(username, password, now=at)
    return caught.value


def test_a_manager_creates_an_account_that_can_sign_in(database: Database, manager: Actor) -> None:
    accounts = AccountService(database)
    info = accounts.create_user(manager, " Alex.Kim ", "Alex Kim", "s3cure-pass", Role.SUPERVISOR)
    assert (info.username, info.display_name, info.role, info.active) == ("alex.kim", "Alex Kim", Role.SUPERVISOR, True)

    actor = accounts.authenticate("ALEX.KIM", "s3cure-pass", now=T0)

    assert actor == Actor(info.user_id, "alex.kim", "Alex Kim", Role.SUPERVISOR)
    stored = _user(database, "alex.kim")
    assert stored.last_login_at == T0
    assert stored.failed_logins == 0
    assert _events(database, info.user_id) == [
        ("user.create", "mia", {"username": "alex.kim", "role": "supervisor"}),
        ("user.sign_in", "alex.kim", None),
    ]


def test_the_password_is_kept_only_as_an_argon2id_hash(database: Database, supervisor: Actor) -> None:
    stored = _user(database, "sam").password_hash
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert PasswordHasher().verify(stored, PASSWORD)


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(database: Database, supervisor: Actor) -> None:
    accounts = AccountService(database)
    audits = _audit_count(database)

    wrong = _refused(accounts, "sam", WRONG, T0)
    assert _audit_count(database) == audits + 1  # the failure is on record (and counted)
    unknown = _refused(accounts, "nobody-here", PASSWORD, T0)

    assert str(wrong) == str(unknown) == "Wrong username or password."
    assert wrong.retry_after == unknown.retry_after == 0
    assert _audit_count(database) == audits + 1  # nothing to record about an account that does not exist
    assert _events(database, supervisor.user_id)[-1] == ("user.sign_in_failed", "system", {"failed_logins": 1})


def test_after_three_failures_even_the_right_password_must_wait(database: Database, supervisor: Actor) -> None:
    accounts = AccountService(database)
    failures = [_refused(accounts, "sam", WRONG, T0) for _ in range(3)]
    # The README: after three failed attempts each further attempt must wait, starting at 2 s.
    assert [f.retry_after for f in failures] == [0, 0, 2]

    # A new service (a restarted console) still knows: the count is in the database.
    later = AccountService(database)
    early = _refused(later, "sam", PASSWORD, T0 + timedelta(seconds=1))
    assert "Too many failed attempts" in str(early)
    assert early.retry_after == pytest.approx(1.0)
    still = _refused(later, "sam", PASSWORD, T0 + timedelta(seconds=1.9))
    assert still.retry_after == pytest.approx(0.1)
    assert _user(database, "sam").failed_logins == 3  # refusals while waiting do not count as tries

    actor = later.authenticate("sam", PASSWORD, now=T0 + timedelta(seconds=2))
    assert actor.user_id == supervisor.user_id
    stored = _user(database, "sam")
    assert (stored.failed_logins, stored.last_failed_login_at) == (0, None)
    # The counter starts again from nothing.
    assert _refused(later, "sam", WRONG, T0 + timedelta(seconds=3)).retry_after == 0


def test_the_wait_doubles_with_each_further_failure_up_to_five_minutes(database: Database, supervisor: Actor) -> None:
    assert [lockout_for(n) for n in range(3)] == [timedelta(0)] * 3
    assert [lockout_for(n).total_seconds() for n in (3, 4, 5, 10, 11, 40)] == [2, 4, 8, 256, 300, 300]

    accounts = AccountService(database)
    for _ in range(3):
        _refused(accounts, "sam", WRONG, T0)
    fourth = _refused(accounts, "sam", WRONG, T0 + timedelta(seconds=2))
    assert (str(fourth), fourth.retry_after) == ("Wrong username or password.", 4)
    fifth = _refused(accounts, "sam", WRONG, T0 + timedelta(seconds=6))
    assert fifth.retry_after == 8
    assert _user(database, "sam").failed_logins == 5


def test_parallel_wrong_passwords_cannot_skip_the_wait(database: Database, supervisor: Actor) -> None:
    """Six attempts at the same moment: three are tried and counted, the other three must wait."""
    accounts = AccountService(database)
    start = threading.Barrier(6)
    answers: list[str] = []

    def attempt() -> None:
        start.wait(timeout=30)
        try:
            accounts.authenticate("sam", WRONG, now=T0)
        except AuthenticationFailed as exc:
            answers.append(str(exc))

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert (
        sorted(a.split(";")[0] for a in answers)
        == ["Too many failed attempts"] * 3 + ["Wrong username or password."] * 3
    )
    assert _user(database, "sam").failed_logins == 3


def test_only_a_manager_may_add_accounts(database: Database, manager: Actor, supervisor: Actor) -> None:
    accounts = AccountService(database)
    users, audits = _user_count(database), _audit_count(database)

    with pytest.raises(PermissionDenied, match="Only a manager may add accounts"):
        accounts.create_user(supervisor, "eve", "Eve", PASSWORD, Role.SUPERVISOR)
    assert (_user_count(database), _audit_count(database)) == (users, audits)

    by_manager = accounts.create_user(manager, "eve", "Eve", PASSWORD, Role.MANAGER)
    at_console = accounts.create_user(None, "kai", "Kai", PASSWORD, Role.SUPERVISOR)
    assert by_manager.role is Role.MANAGER
    assert _events(database, by_manager.user_id)[0][:2] == ("user.create", "mia")
    assert _events(database, at_console.user_id)[0][:2] == ("user.create", "system")
    assert [u.username for u in accounts.list_users(Role.MANAGER)] == ["eve", "mia"]


def test_the_first_manager_can_only_be_created_on_an_empty_database(database: Database) -> None:
    accounts = AccountService(database)
    assert accounts.has_users() is False

    first = accounts.create_first_manager("boss", "The Boss", PASSWORD)

    assert (first.username, first.display_name, first.role) == ("boss", "The Boss", Role.MANAGER)
    assert accounts.has_users() is True
    assert accounts.authenticate("boss", PASSWORD, now=T0) == first
    with pytest.raises(ValidationError, match="already exists"):
        accounts.create_first_manager("boss2", "Another Boss", PASSWORD)
    assert _user_count(database) == 1


@pytest.mark.parametrize("username", ["a", "Bad Name", "-lead", "x" * 65, "bob!", "", "élise"])
def test_bad_usernames_are_refused(username: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_new_account(username, PASSWORD)
    assert caught.value.field == "username"


def test_usernames_are_normalised_and_passwords_need_eight_characters() -> None:
    assert validate_new_account("  Alex_K-2.b ", PASSWORD) == "alex_k-2.b"
    assert validate_new_account("ab", "12345678") == "ab"
    assert validate_new_account("x" * 64, PASSWORD) == "x" * 64
    with pytest.raises(ValidationError) as caught:
        validate_new_account("alex", "1234567")
    assert caught.value.field == "password"


def test_a_refused_account_leaves_no_user_and_no_audit_event(database: Database, supervisor: Actor) -> None:
    accounts = AccountService(database)
    users, audits = _user_count(database), _audit_count(database)
    refusals = [
        ("SAM", "Sam Again", PASSWORD, "username"),  # taken, whatever the case
        ("a", "A", PASSWORD, "username"),
        ("alex", "Alex", "short", "password"),
        ("alex", "A" * 129, PASSWORD, "display_name"),  # longer than the column
    ]
    for username, display_name, password, field in refusals:
        with pytest.raises(ValidationError) as caught:
            accounts.create_user(None, username, display_name, password, Role.SUPERVISOR)
        assert caught.value.field == field
    assert (_user_count(database), _audit_count(database)) == (users, audits)
    assert accounts.create_user(None, "alex", "A" * 128, PASSWORD, Role.SUPERVISOR).display_name == "A" * 128


def test_an_audit_event_rolls_back_with_its_transaction(database: Database, manager: Actor) -> None:
    audits = _audit_count(database)

    def change_that_fails() -> None:
        with database.transaction() as session:
            audit.record(session, manager, "user.create", "user", 42, after={"username": "ghost"})
            session.flush()
            raise RuntimeError("the change failed after the event was written")

    with pytest.raises(RuntimeError):
        change_that_fails()
    assert _audit_count(database) == audits


def test_actor_for_names_only_active_accounts(database: Database, supervisor: Actor) -> None:
    accounts = AccountService(database)
    assert accounts.actor_for(" Sam ") == supervisor
    with pytest.raises(NotFound, match="No active account named 'ghost'"):
        accounts.actor_for("ghost")


def test_user_add_reads_the_password_from_stdin(database: Database) -> None:
    password = "n3w-passw0rd with spaces"
    argv = [PYTHON, MAIN, "user", "add", "alex", "--role", "supervisor", "--display-name", "Alex Kim"]
    out = subprocess.run(
        argv,
        input=password + "\n",
        env=run_main_env(database.url.render_as_string(hide_password=False)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == "alex\n"
    assert password not in " ".join(argv) + out.stdout + out.stderr

    actor = AccountService(database).authenticate("alex", password, now=T0)
    assert (actor.display_name, actor.role) == ("Alex Kim", Role.SUPERVISOR)
    assert _events(database, actor.user_id)[0] == ("user.create", "system", {"username": "alex", "role": "supervisor"})


def test_user_add_with_a_short_password_creates_nothing(
    database: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = database.url.render_as_string(hide_password=False)
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    code = cli.run(cli.parse(["user", "add", "alex", "--db", url]))
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err == "error: A password needs at least 8 characters.\n"
    assert captured.out == ""
    assert _user_count(database) == 0
