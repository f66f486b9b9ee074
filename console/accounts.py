"""Accounts: creating people who sign in, signing in with throttling, and role checks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from console import audit
from console.actor import Actor
from console.domain import Role
from console.errors import AuthenticationFailed, NotFound, ValidationError
from db.engine import Database
from db.models import User
from db.types import utcnow

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD_LENGTH = 8
MAX_DISPLAY_NAME = 128  # users.display_name is String(128); PostgreSQL refuses longer, SQLite would keep it
# Failures allowed before each further attempt must wait; the wait doubles per failure, up to the cap.
FREE_FAILURES = 3
MAX_LOCKOUT = timedelta(minutes=5)

_hasher = PasswordHasher()
# Verifying against this when the username is unknown keeps the timing of both failures alike. It is a hash made
# once with the hasher's parameters, not hashed at every start (an argon2 hash is a tenth of a second or more);
# should the library's default parameters ever change, it is made again so the timing stays alike.
_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$K8axgKsgU4NPa/Qb4YnBUA$tx/SrOY/IdxwNoXTp6bK8uPV6GwN2t3sSRbBG3TkHVE"
if _hasher.check_needs_rehash(_DUMMY_HASH):
    _DUMMY_HASH = _hasher.hash("not-a-real-password")


@dataclass(frozen=True)
class UserInfo:
    """A user account as plain values (never the hash)."""

    user_id: int
    username: str
    display_name: str
    role: Role
    active: bool


def lockout_for(failures: int) -> timedelta:
    """How long one must wait after ``failures`` consecutive failed sign-ins."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(timedelta(seconds=2 ** (failures - FREE_FAILURES + 1)), MAX_LOCKOUT)


def _actor(user: User) -> Actor:
    return Actor(user.id, user.username, user.display_name, Role(user.role))


def _info(user: User) -> UserInfo:
    return UserInfo(user.id, user.username, user.display_name, Role(user.role), user.active)


def validate_new_account(username: str, password: str) -> str:
    """Check a username and password for a new account; return the normalised username."""
    name = username.strip().lower()
    if not USERNAME_RE.match(name):
        raise ValidationError(
            "A username is 2-64 characters: lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or digit.",
            field="username",
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.", field="password")
    return name


class AccountService:
    """Creates accounts and signs people in. Each call is one transaction."""

    def __init__(self, database: Database) -> None:
        self.db = database

    def has_users(self) -> bool:
        """Whether any account exists (the very first start asks for a manager when none does)."""
        with self.db.read() as session:
            return bool(session.scalar(select(func.count()).select_from(User)))

    def create_first_manager(self, username: str, display_name: str, password: str) -> Actor:
        """Create the first account, a manager, on an empty database. Refused once any account exists."""
        with self.db.transaction() as session:
            if session.get_bind().dialect.name == "postgresql":
                # Two first starts at once must not both become the first manager (SQLite's BEGIN
                # IMMEDIATE already serialises writers).
                session.execute(text("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE"))
            if session.scalar(select(func.count()).select_from(User)):
                raise ValidationError("An account already exists; sign in and add others as a manager.")
            user = create_account(session, None, username, display_name, password, Role.MANAGER)
            return _actor(user)

    def create_user(self, actor: Actor | None, username: str, display_name: str, password: str, role: Role) -> UserInfo:
        """Create an account. ``actor`` None means the local administrator at the command line."""
        if actor is not None:
            actor.require(Role.MANAGER, "add accounts")
        with self.db.transaction() as session:
            return _info(create_account(session, actor, username, display_name, password, role))

    def authenticate(self, username: str, password: str, *, now: datetime | None = None) -> Actor:
        """Check a password. Repeated failures make the next attempt wait longer (kept in the database)."""
        now = now or utcnow()
        with self.db.transaction() as session:
            # FOR UPDATE: parallel attempts on one account queue up behind each other on PostgreSQL, so each sees
            # the previous failure count (otherwise they all read the same count and the throttle is bypassed).
            # SQLite's BEGIN IMMEDIATE already serializes writers.
            query = select(User).where(User.username == username.strip().lower()).with_for_update()
            user = session.scalar(query)
            if user is None or not user.active:
                _verify(_DUMMY_HASH, password)
                raise AuthenticationFailed("Wrong username or password.")
            if user.failed_logins and user.last_failed_login_at:
                wait_until = user.last_failed_login_at + lockout_for(user.failed_logins)
                if now < wait_until:
                    retry = (wait_until - now).total_seconds()
                    raise AuthenticationFailed(
                        f"Too many failed attempts; try again in {retry:.0f} s.", retry_after=retry
                    )
            if not _verify(user.password_hash, password):
                # Commit the failure count, then refuse: raising here would roll it back.
                user.failed_logins += 1
                user.last_failed_login_at = now
                audit.record(
                    session,
                    None,
                    "user.sign_in_failed",
                    "user",
                    user.id,
                    after={"failed_logins": user.failed_logins},
                )
                wait = lockout_for(user.failed_logins).total_seconds()
                failure = AuthenticationFailed("Wrong username or password.", retry_after=wait)
            else:
                if _hasher.check_needs_rehash(user.password_hash):
                    user.password_hash = _hasher.hash(password)
                user.failed_logins = 0
                user.last_failed_login_at = None
                user.last_login_at = now
                actor = _actor(user)
                audit.record(session, actor, "user.sign_in", "user", user.id)
                return actor
        raise failure

    def actor_for(self, username: str) -> Actor:
        """The active user with this name, for a command-line ``--as USER`` or the test seam."""
        with self.db.read() as session:
            user = session.scalar(select(User).where(User.username == username.strip().lower()))
            if user is None or not user.active:
                raise NotFound(f"No active account named {username!r}.")
            return _actor(user)

    def list_users(self, role: Role | None = None) -> list[UserInfo]:
        """Active accounts, by name; optionally only one role (a manager counts as a supervisor too)."""
        with self.db.read() as session:
            query = select(User).where(User.active.is_(True)).order_by(User.display_name)
            users = [_info(u) for u in session.scalars(query)]
        if role is Role.MANAGER:
            users = [u for u in users if u.role is Role.MANAGER]
        return users


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def create_account(
    session: Session, actor: Actor | None, username: str, display_name: str, password: str, role: Role
) -> User:
    """Create an account in the caller's transaction: validated, argon2-hashed, audited."""
    name = validate_new_account(username, password)
    shown = display_name.strip() or name
    if len(shown) > MAX_DISPLAY_NAME:
        raise ValidationError(f"A display name is at most {MAX_DISPLAY_NAME} characters.", field="display_name")
    if session.scalar(select(User.id).where(User.username == name)) is not None:
        raise ValidationError(f"The username {name!r} is taken.", field="username")
    user = User(
        username=name,
        display_name=shown,
        role=role.value,
        password_hash=_hasher.hash(password),
        created_at=utcnow(),
    )
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.create", "user", user.id, after={"username": name, "role": role.value})
    return user
