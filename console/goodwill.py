"""Goodwill budgets (domain.md section 4): allowances, the append-only ledger, approvals, and what goodwill returns.

Every associate has an allowance per period (shift, week or month, in the floor's time zone) and a cap per single
gesture, from their own budget, else their team's, else the floor's. A gesture within both is recorded at once; one
over the cap or beyond what is left becomes an approval request that a supervisor (within their approval limit) or
a manager decides. The check and the write share one transaction with the associate's row locked (PostgreSQL) or
the database's write lock taken at BEGIN (SQLite), so two gestures at the same moment never overdraw a budget.

The ledger only grows: a correction is a reversal entry linked to its original, counted in the original's period.
Balance = allowance - gestures in the period (net of reversals) + adjustments; pending requests are shown beside it
and do not count as spent until approved.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from console import audit
from console.actor import Actor
from console.changes import record_change
from console.domain import Category, LabelledEnum, Role
from console.errors import Conflict, NotFound, PermissionDenied, ValidationError
from console.money import CENT, MAX_AMOUNT, money, parse_amount
from db.engine import Database
from db.models import (
    Associate,
    Customer,
    Escalation,
    FollowUp,
    GoodwillBudget,
    GoodwillEntry,
    GoodwillRequest,
    Setting,
    Team,
    User,
)
from db.types import utcnow

CHANGE_ENTITY = "goodwill"
WARN_SHARE = Decimal("0.80")  # the panel marks an associate past this share of their allowance
MAX_REASON = 500


class GestureType(LabelledEnum):
    """What an associate may give on the spot."""

    DISCOUNT = "discount"
    CREDIT = "credit"
    FREE_ITEM = "free_item"
    EXPEDITED_SHIPPING = "expedited_shipping"


class Period(LabelledEnum):
    """How often an allowance starts afresh."""

    SHIFT = "shift"
    WEEK = "week"
    MONTH = "month"


# Reason codes are the playbook's failure types (and "other", which needs words).
REASON_CODES: tuple[str, ...] = tuple(c.value for c in Category)

# --- floor-wide settings ----------------------------------------------------------------------------------------
CURRENCY_KEY = "goodwill.currency"
TIMEZONE_KEY = "goodwill.timezone"
CEILING_KEY = "goodwill.ceiling"
SHIFT_STARTS_KEY = "goodwill.shift_starts"
SUPERVISOR_LIMIT_KEY = "goodwill.supervisor_limit"
DEFAULT_CURRENCY = "USD"
DEFAULT_TIMEZONE = "UTC"
DEFAULT_CEILING = Decimal("1000.00")
DEFAULT_SHIFT_STARTS = (time(6), time(14), time(22))
DEFAULT_SUPERVISOR_LIMIT = Decimal("100.00")
# Used until a manager sets the floor's own default.
DEFAULT_PERIOD = Period.WEEK
DEFAULT_ALLOWANCE = Decimal("150.00")
DEFAULT_CAP = Decimal("25.00")


@dataclass(frozen=True)
class FloorGoodwill:
    """The floor's goodwill settings."""

    currency: str = DEFAULT_CURRENCY
    timezone: str = DEFAULT_TIMEZONE
    ceiling: Decimal = DEFAULT_CEILING
    shift_starts: tuple[time, ...] = DEFAULT_SHIFT_STARTS
    supervisor_limit: Decimal = DEFAULT_SUPERVISOR_LIMIT

    @property
    def zone(self) -> ZoneInfo:
        """The floor's time zone."""
        return ZoneInfo(self.timezone)

    def as_dict(self) -> dict[str, str]:
        """Plain values, for the command line and the audit."""
        return {
            "currency": self.currency,
            "timezone": self.timezone,
            "ceiling": money(self.ceiling),
            "shift_starts": format_shift_starts(self.shift_starts),
            "supervisor_limit": money(self.supervisor_limit),
        }


def format_shift_starts(starts: Sequence[time]) -> str:
    """``06:00,14:00,22:00``."""
    return ",".join(t.strftime("%H:%M") for t in starts)


def parse_shift_starts(text: str) -> tuple[time, ...]:
    """Shift start times of day, ``HH:MM`` separated by commas; at least one, no repeats."""
    starts: list[time] = []
    for part in text.split(","):
        piece = part.strip()
        try:
            hours, minutes = piece.split(":")
            starts.append(time(int(hours), int(minutes)))
        except ValueError:
            raise ValidationError(
                f"{piece!r} is not a time of day; write shift starts like 06:00,14:00,22:00.", field="shift_starts"
            ) from None
    if len(set(starts)) != len(starts) or not starts:
        raise ValidationError("Shift starts must be distinct times of day.", field="shift_starts")
    return tuple(sorted(starts))


def parse_timezone(text: str) -> str:
    """An IANA time zone name (``Europe/Berlin``)."""
    name = text.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"{name!r} is not a time zone; use a name like Europe/London or America/New_York.", field="timezone"
        ) from None
    return name


def parse_currency(text: str) -> str:
    """A three-letter ISO 4217 code (``USD``)."""
    code = text.strip().upper()
    if len(code) != 3 or not code.isalpha() or not code.isascii():
        raise ValidationError(f"{text!r} is not a currency code; use three letters like USD or EUR.", field="currency")
    return code


def _floor(session: Session) -> FloorGoodwill:
    keys = (CURRENCY_KEY, TIMEZONE_KEY, CEILING_KEY, SHIFT_STARTS_KEY, SUPERVISOR_LIMIT_KEY)
    raw = dict(session.execute(select(Setting.key, Setting.value).where(Setting.key.in_(keys))).all())
    return FloorGoodwill(
        currency=raw.get(CURRENCY_KEY, DEFAULT_CURRENCY),
        timezone=raw.get(TIMEZONE_KEY, DEFAULT_TIMEZONE),
        ceiling=Decimal(raw[CEILING_KEY]) if CEILING_KEY in raw else DEFAULT_CEILING,
        shift_starts=parse_shift_starts(raw[SHIFT_STARTS_KEY]) if SHIFT_STARTS_KEY in raw else DEFAULT_SHIFT_STARTS,
        supervisor_limit=Decimal(raw[SUPERVISOR_LIMIT_KEY])
        if SUPERVISOR_LIMIT_KEY in raw
        else DEFAULT_SUPERVISOR_LIMIT,
    )


# --- periods ----------------------------------------------------------------------------------------------------
def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def period_bounds(period: Period, at: datetime, floor: FloorGoodwill) -> tuple[datetime, datetime]:
    """The [start, end) of the period holding ``at``, computed in the floor's time zone, returned in UTC."""
    zone = floor.zone
    local = at.astimezone(zone)
    if period is Period.WEEK:
        monday = local.date() - timedelta(days=local.weekday())
        start, end = _local_midnight(monday, zone), _local_midnight(monday + timedelta(days=7), zone)
    elif period is Period.MONTH:
        first = local.date().replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        start, end = _local_midnight(first, zone), _local_midnight(following, zone)
    else:
        # Candidate starts from yesterday to tomorrow; the latest one not after ``at`` opens the shift.
        candidates = sorted(
            datetime.combine(local.date() + timedelta(days=offset), t, tzinfo=zone)
            for offset in (-1, 0, 1)
            for t in floor.shift_starts
        )
        index = max(i for i, c in enumerate(candidates) if c.astimezone(UTC) <= at.astimezone(UTC))
        start, end = candidates[index], candidates[index + 1]
    return start.astimezone(UTC), end.astimezone(UTC)


# --- plain values ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BudgetRule:
    """The budget that applies to an associate, and where it comes from (``floor``, ``team`` or ``associate``)."""

    period: Period
    allowance: Decimal
    cap: Decimal
    source: str


@dataclass(frozen=True)
class BudgetStatus:
    """One associate's budget in the current period."""

    associate_id: int
    associate: str
    team: str | None
    rule: BudgetRule
    period_start: datetime
    period_end: datetime
    adjustments: Decimal
    spent: Decimal
    pending: Decimal
    pending_count: int
    currency: str

    @property
    def period(self) -> Period:
        """Shift, week or month."""
        return self.rule.period

    @property
    def allowance(self) -> Decimal:
        """The allowance the budget sets (before adjustments)."""
        return self.rule.allowance

    @property
    def cap(self) -> Decimal:
        """The largest single gesture without approval."""
        return self.rule.cap

    @property
    def available(self) -> Decimal:
        """Allowance plus this period's adjustments."""
        return self.rule.allowance + self.adjustments

    @property
    def remaining(self) -> Decimal:
        """Allowance - spent + adjustments (negative when approvals went beyond it)."""
        return self.available - self.spent

    @property
    def share_used(self) -> Decimal:
        """Spent as a share of what was available (1 or more when nothing was available and something was spent)."""
        if self.available <= 0:
            return Decimal(1) if self.spent > 0 else Decimal(0)
        return self.spent / self.available

    @property
    def near_limit(self) -> bool:
        """Past 80 % of the allowance."""
        return self.share_used > WARN_SHARE

    def as_dict(self) -> dict[str, Any]:
        """The command line's JSON: amounts as strings with two decimals."""
        return {
            "associate": self.associate,
            "team": self.team,
            "period": self.period.value,
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "allowance": money(self.allowance),
            "adjustments": money(self.adjustments),
            "cap": money(self.cap),
            "spent": money(self.spent),
            "pending": money(self.pending),
            "remaining": money(self.remaining),
            "currency": self.currency,
            "budget_from": self.rule.source,
        }


@dataclass(frozen=True)
class LedgerLine:
    """One ledger entry as plain values."""

    id: int
    kind: str
    associate: str
    customer_id: int | None
    customer: str | None
    escalation_id: int | None
    gesture_type: GestureType | None
    amount: Decimal
    currency: str
    reason_code: str
    reason_text: str | None
    effective_at: datetime
    recorded_at: datetime
    recorded_by: str
    request_id: int | None
    reverses_id: int | None
    reversed_by_id: int | None

    @property
    def reversible(self) -> bool:
        """A gesture not yet reversed."""
        return self.kind == "gesture" and self.reversed_by_id is None


@dataclass(frozen=True)
class ApprovalRequest:
    """A gesture waiting for a decision, or decided."""

    id: int
    associate_id: int
    associate: str
    customer_id: int
    customer: str
    escalation_id: int | None
    gesture_type: GestureType
    amount: Decimal
    currency: str
    reason_code: str
    reason_text: str | None
    because: str
    requested_by: str
    requested_by_id: int
    requested_at: datetime
    status: str
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None
    entry_id: int | None


@dataclass(frozen=True)
class GrantOutcome:
    """What recording a gesture did: ``granted`` (a ledger entry) or ``pending`` (an approval request)."""

    status: str
    id: int
    amount: Decimal
    because: str | None = None

    @property
    def granted(self) -> bool:
        """Recorded in the ledger at once."""
        return self.status == "granted"


@dataclass(frozen=True)
class Suggestion:
    """The Propose step's suggested gesture for one escalation, with a one-line reason."""

    escalation_id: int
    associate_id: int | None
    associate: str | None
    customer_id: int
    gesture_type: GestureType
    reason_code: str
    amount: Decimal
    needs_approval: bool
    explanation: str
    currency: str


@dataclass(frozen=True)
class ReturnRow:
    """Return on goodwill for one associate or one gesture type."""

    key: str
    gestures: int
    amount: Decimal
    customers: int
    csat_share: float | None  # share of 4-5 answers in follow-ups after the gesture; None without answers
    csat_n: int
    retained_share: float | None  # share of these customers with no churn flag since their first gesture
    currency: str


@dataclass(frozen=True)
class GoodwillReturns:
    """Return on goodwill per associate and per gesture type."""

    by_associate: list[ReturnRow] = field(default_factory=list)
    by_type: list[ReturnRow] = field(default_factory=list)


# --- the playbook's suggestions -----------------------------------------------------------------------------------
PLAYBOOK_GESTURES: dict[Category, tuple[GestureType, Decimal, str]] = {
    Category.PRODUCT_MALFUNCTION: (GestureType.FREE_ITEM, Decimal("15.00"), "an unexpected small extra"),
    Category.LONG_WAIT: (GestureType.DISCOUNT, Decimal("10.00"), "a discount on the next purchase"),
    Category.BILLING_ERROR: (GestureType.CREDIT, Decimal("10.00"), "a small goodwill credit"),
    Category.UNMET_EXPECTATION: (GestureType.EXPEDITED_SHIPPING, Decimal("12.00"), "expedited at no cost"),
    Category.OTHER: (GestureType.CREDIT, Decimal("5.00"), "a small goodwill credit"),
}
VALUE_SCALE_AT = Decimal("10000")  # lifetime value at which the value factor reaches its maximum of 1.5


def value_factor(lifetime_value: Decimal) -> Decimal:
    """1.0 for a new customer up to 1.5 for a lifetime value of 10,000 or more."""
    return 1 + min(max(lifetime_value, Decimal(0)), VALUE_SCALE_AT) / (2 * VALUE_SCALE_AT)


def churn_factor(churn_risk: float) -> Decimal:
    """1.0 for no churn risk up to 2.0 for certain churn: saving an at-risk customer is worth more."""
    return 1 + Decimal(str(round(min(max(churn_risk, 0.0), 1.0), 2)))


# --- input ------------------------------------------------------------------------------------------------------
def parse_gesture_amount(text: Any, ceiling: Decimal, name: str = "amount") -> Decimal:
    """A gesture's amount: more than zero, two decimals at most, not above the floor's ceiling."""
    amount = parse_amount(text, name, ceiling=MAX_AMOUNT)
    if amount == 0:
        raise ValidationError("A gesture must be worth more than 0.00.", field=name)
    if amount > ceiling:
        raise ValidationError(
            f"{money(amount)} is above the floor's ceiling of {money(ceiling)} for one gesture; check the amount.",
            field=name,
        )
    return amount


def parse_reason(code: str, text: str | None) -> tuple[str, str | None]:
    """A reason code from the playbook (``other`` needs words); returns (code, text)."""
    key = (code or "").strip().lower().replace("-", "_").replace(" ", "_")
    if key not in REASON_CODES:
        raise ValidationError(f"Unknown reason code {code!r}; valid: {', '.join(REASON_CODES)}.", field="reason_code")
    words = (text or "").strip() or None
    if key == Category.OTHER.value and words is None:
        raise ValidationError("Reason 'other' needs a few words saying why.", field="reason_text")
    if words is not None and len(words) > MAX_REASON:
        raise ValidationError(f"The reason is longer than {MAX_REASON} characters.", field="reason_text")
    return key, words


def parse_gesture_type(text: str | GestureType) -> GestureType:
    """A gesture type by value or label."""
    if isinstance(text, GestureType):
        return text
    try:
        return GestureType(GestureType.parse(text))
    except ValueError:
        valid = ", ".join(g.value for g in GestureType)
        raise ValidationError(f"Unknown gesture type {text!r}; valid: {valid}.", field="gesture_type") from None


def _required_text(text: str | None, what: str, name: str) -> str:
    words = (text or "").strip()
    if not words:
        raise ValidationError(f"{what} needs a reason.", field=name)
    if len(words) > MAX_REASON:
        raise ValidationError(f"The reason is longer than {MAX_REASON} characters.", field=name)
    return words


class ApprovalRefused(PermissionDenied):
    """An approval the rules forbid (one's own request, beyond one's limit); refused and audited."""


def _lock_for_update(session: Session) -> bool:
    """Row locks on PostgreSQL; SQLite's writers already hold the database's write lock from BEGIN IMMEDIATE."""
    return session.get_bind().dialect.name == "postgresql"


def _associate(session: Session, name_or_id: str | int, *, lock: bool = False) -> Associate:
    """An active associate by id or exact name (case-insensitive); an unknown one names the valid ones."""
    if isinstance(name_or_id, int):
        found = session.get(Associate, name_or_id, with_for_update=lock and _lock_for_update(session))
    else:
        query = select(Associate).where(func.lower(Associate.name) == name_or_id.strip().lower())
        if lock and _lock_for_update(session):
            query = query.with_for_update()
        found = session.scalar(query)
    if found is None or not found.active:
        names = list(session.scalars(select(Associate.name).where(Associate.active.is_(True)).order_by(Associate.name)))
        shown = ", ".join(names[:30]) + (f" … ({len(names)} in all)" if len(names) > 30 else "")
        raise ValidationError(f"Unknown associate {name_or_id!r}; valid: {shown or 'none yet'}.", field="associate")
    return found


def _rules(session: Session) -> tuple[BudgetRule, dict[int, BudgetRule], dict[int, BudgetRule]]:
    """The floor's rule, and rules per team and per associate."""
    floor = BudgetRule(DEFAULT_PERIOD, DEFAULT_ALLOWANCE, DEFAULT_CAP, "floor")
    teams: dict[int, BudgetRule] = {}
    associates: dict[int, BudgetRule] = {}
    rows = session.execute(
        select(
            GoodwillBudget.associate_id,
            GoodwillBudget.team_id,
            GoodwillBudget.period,
            GoodwillBudget.allowance,
            GoodwillBudget.cap,
        )
    )
    for associate_id, team_id, period, allowance, cap in rows:
        if associate_id is not None:
            associates[associate_id] = BudgetRule(Period(period), allowance, cap, "associate")
        elif team_id is not None:
            teams[team_id] = BudgetRule(Period(period), allowance, cap, "team")
        else:
            floor = BudgetRule(Period(period), allowance, cap, "floor")
    return floor, teams, associates


def _rule_for(session: Session, associate: Associate) -> BudgetRule:
    floor, teams, associates = _rules(session)
    return associates.get(associate.id) or (teams.get(associate.team_id) if associate.team_id else None) or floor


# Beyond this many associates, the period's figures are read for every associate and those asked for are kept: an IN
# list of hundreds of parameters costs more to bind than the rows it leaves out (and stays below every engine's
# parameter limit however large the floor).
_FEW = 50


def _spent_and_adjusted(
    session: Session, associate_ids: Sequence[int], start: datetime, end: datetime
) -> dict[int, tuple[Decimal, Decimal]]:
    """(spent net of reversals, adjustments) per associate with entries counting in [start, end)."""
    if not associate_ids:
        return {}
    wanted = set(associate_ids)
    # Either way each associate's entries are found through the (associate_id, effective_at) index, a range each:
    # a range on effective_at alone would read the whole ledger's index.
    among = select(Associate.id) if len(wanted) > _FEW else sorted(wanted)
    is_adjustment = GoodwillEntry.kind == "adjustment"
    rows = session.execute(
        select(GoodwillEntry.associate_id, is_adjustment, func.sum(GoodwillEntry.amount))
        .where(
            GoodwillEntry.associate_id.in_(among),
            GoodwillEntry.effective_at >= start,
            GoodwillEntry.effective_at < end,
        )
        .group_by(GoodwillEntry.associate_id, is_adjustment)
    )
    totals: dict[int, tuple[Decimal, Decimal]] = {}
    for associate_id, adjustment, total in rows:
        if associate_id not in wanted:
            continue
        spent, adjusted = totals.get(associate_id, (Decimal(0), Decimal(0)))
        amount = Decimal(str(total)).quantize(CENT)
        totals[associate_id] = (spent, adjusted + amount) if adjustment else (spent + amount, adjusted)
    return totals


def _pending(session: Session, associate_ids: Sequence[int]) -> dict[int, tuple[Decimal, int]]:
    if not associate_ids:
        return {}
    wanted = set(associate_ids)
    query = select(GoodwillRequest.associate_id, func.sum(GoodwillRequest.amount), func.count()).where(
        GoodwillRequest.status == "pending"
    )
    if len(wanted) <= _FEW:  # else every pending request (found by the status index) and keep those asked for
        query = query.where(GoodwillRequest.associate_id.in_(sorted(wanted)))
    rows = session.execute(query.group_by(GoodwillRequest.associate_id))
    return {a: (Decimal(str(total)).quantize(CENT), int(n)) for a, total, n in rows if a in wanted}


class _Person(NamedTuple):
    """The three columns of an associate a budget needs (read as a tuple, not an ORM object: 500 at a time)."""

    id: int
    name: str
    team_id: int | None


def _person(associate: Associate) -> _Person:
    return _Person(associate.id, associate.name, associate.team_id)


def _active_people(session: Session, *, also: Collection[int] = ()) -> list[_Person]:
    active = Associate.active.is_(True)
    where = or_(active, Associate.id.in_(sorted(also))) if also else active
    rows = session.execute(select(Associate.id, Associate.name, Associate.team_id).where(where))
    return [_Person(*row) for row in rows]


def budget_statuses(
    session: Session, at: datetime, *, also: Collection[int] = ()
) -> tuple[FloorGoodwill, list[BudgetStatus]]:
    """The floor's goodwill settings and every active associate's budget at ``at`` (unsorted), read in the caller's
    session: GoodwillService.budgets for a report that reads everything in one transaction (the shift summary).
    ``also`` adds associates by id whether active or not (one who has left but gave something in the range)."""
    floor_settings = _floor(session)
    return floor_settings, _statuses(session, _active_people(session, also=also), at, floor_settings)


def _statuses(
    session: Session, associates: Sequence[_Person], at: datetime, floor_settings: FloorGoodwill | None = None
) -> list[BudgetStatus]:
    floor_settings = floor_settings or _floor(session)
    floor, teams, own = _rules(session)
    team_names: dict[int, str] = dict(session.execute(select(Team.id, Team.name)).all())
    rule_of = {a.id: own.get(a.id) or (teams.get(a.team_id) if a.team_id else None) or floor for a in associates}
    by_period: dict[Period, list[int]] = defaultdict(list)
    for a in associates:
        by_period[rule_of[a.id].period].append(a.id)
    bounds: dict[Period, tuple[datetime, datetime]] = {}
    totals: dict[int, tuple[Decimal, Decimal]] = {}
    for period, ids in by_period.items():
        bounds[period] = period_bounds(period, at, floor_settings)
        totals.update(_spent_and_adjusted(session, ids, *bounds[period]))
    pending = _pending(session, [a.id for a in associates])
    statuses = []
    for a in associates:
        rule = rule_of[a.id]
        spent, adjusted = totals.get(a.id, (Decimal(0), Decimal(0)))
        pending_amount, pending_n = pending.get(a.id, (Decimal("0.00"), 0))
        start, end = bounds[rule.period]
        statuses.append(
            BudgetStatus(
                associate_id=a.id,
                associate=a.name,
                team=team_names.get(a.team_id) if a.team_id else None,
                rule=rule,
                period_start=start,
                period_end=end,
                adjustments=adjusted.quantize(CENT),
                spent=spent.quantize(CENT),
                pending=pending_amount,
                pending_count=pending_n,
                currency=floor_settings.currency,
            )
        )
    return statuses


def _period_words(period: Period) -> str:
    return {Period.SHIFT: "this shift", Period.WEEK: "this week", Period.MONTH: "this month"}[period]


def _user_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    # dict(result) would read the Result as a mapping of its column keys: take the rows first.
    return dict(session.execute(select(User.id, User.username).where(User.id.in_(wanted))).all())


def _approval_limit(session: Session, actor: Actor, floor: FloorGoodwill) -> Decimal:
    if actor.is_manager:
        return floor.ceiling
    user = session.get(User, actor.user_id)
    if user is not None and user.approval_limit is not None:
        return user.approval_limit
    return floor.supervisor_limit


class GoodwillService:
    """Budgets, gestures, approvals, reversals and reports; every call is one transaction."""

    def __init__(self, database: Database) -> None:
        self.db = database

    # -- settings ------------------------------------------------------------------------------------------------
    def floor_settings(self) -> FloorGoodwill:
        """The floor's currency, time zone, ceiling, shift starts and default approval limit."""
        with self.db.read() as session:
            return _floor(session)

    def set_floor_settings(
        self,
        actor: Actor,
        *,
        reason: str,
        currency: str | None = None,
        timezone: str | None = None,
        ceiling: str | Decimal | None = None,
        shift_starts: str | None = None,
        supervisor_limit: str | Decimal | None = None,
    ) -> FloorGoodwill:
        """A manager changes the floor's goodwill settings; audited with the reason."""
        actor.require(Role.MANAGER, "change the floor's goodwill settings")
        why = _required_text(reason, "A change of goodwill settings", "reason")
        values: dict[str, str] = {}
        if currency is not None:
            values[CURRENCY_KEY] = parse_currency(currency)
        if timezone is not None:
            values[TIMEZONE_KEY] = parse_timezone(timezone)
        if ceiling is not None:
            values[CEILING_KEY] = money(parse_gesture_amount(ceiling, MAX_AMOUNT, "ceiling"))
        if shift_starts is not None:
            values[SHIFT_STARTS_KEY] = format_shift_starts(parse_shift_starts(shift_starts))
        if supervisor_limit is not None:
            values[SUPERVISOR_LIMIT_KEY] = money(parse_gesture_amount(supervisor_limit, MAX_AMOUNT, "supervisor_limit"))
        if not values:
            raise ValidationError("Nothing to change: give at least one setting.")
        with self.db.transaction() as session:
            before = _floor(session)
            if CURRENCY_KEY in values and values[CURRENCY_KEY] != before.currency:
                other = session.scalar(
                    select(GoodwillEntry.currency).where(GoodwillEntry.currency != values[CURRENCY_KEY]).limit(1)
                )
                if other is not None:
                    raise ValidationError(
                        f"The ledger already holds amounts in {other}; the currency cannot change under them.",
                        field="currency",
                    )
                # Approving a waiting request writes its own currency into the ledger.
                waiting = session.scalar(
                    select(GoodwillRequest.currency)
                    .where(GoodwillRequest.status == "pending", GoodwillRequest.currency != values[CURRENCY_KEY])
                    .limit(1)
                )
                if waiting is not None:
                    raise ValidationError(
                        f"Approval requests in {waiting} are waiting; decide them before changing the currency.",
                        field="currency",
                    )
            for key, value in values.items():
                row = session.get(Setting, key)
                if row is None:
                    session.add(Setting(key=key, value=value))
                else:
                    row.value = value
            session.flush()
            after = _floor(session)
            audit.record(
                session,
                actor,
                "goodwill.settings",
                "goodwill_settings",
                "floor",
                before=before.as_dict(),
                after=after.as_dict(),
                note=why,
            )
            record_change(session, CHANGE_ENTITY, 0)
            return after

    # -- budgets -------------------------------------------------------------------------------------------------
    def budgets(self, *, associate: str | int | None = None, at: datetime | None = None) -> list[BudgetStatus]:
        """Every active associate's budget now (or at ``at``), most used first; or just the one named."""
        when = at or utcnow()
        with self.db.read() as session:
            one = None if associate is None else _associate(session, associate)
            people = _active_people(session) if one is None else [_person(one)]
            statuses = _statuses(session, people, when)
        return sorted(statuses, key=lambda s: (-s.share_used, -s.spent, s.associate.lower()))

    def set_budget(
        self,
        actor: Actor,
        *,
        reason: str,
        associate: str | int | None = None,
        team: str | None = None,
        allowance: str | Decimal | None = None,
        cap: str | Decimal | None = None,
        period: str | Period | None = None,
    ) -> BudgetRule:
        """A manager sets an associate's budget (or a team's default, or the floor's with neither); audited."""
        actor.require(Role.MANAGER, "change goodwill budgets")
        why = _required_text(reason, "A budget change", "reason")
        if associate is not None and team is not None:
            raise ValidationError("Set a budget for an associate or for a team, not both at once.")
        new_allowance = None if allowance is None else parse_amount(allowance, "allowance")
        new_cap = None if cap is None else parse_gesture_amount(cap, MAX_AMOUNT, "cap")
        new_period = None if period is None else _parse_period(period)
        if new_allowance is None and new_cap is None and new_period is None:
            raise ValidationError("Nothing to change: give an allowance, a cap or a period.")
        with self.db.transaction() as session:
            floor_settings = _floor(session)
            if new_cap is not None and new_cap > floor_settings.ceiling:
                raise ValidationError(
                    f"A cap of {money(new_cap)} is above the floor's ceiling of {money(floor_settings.ceiling)} "
                    "for one gesture.",
                    field="cap",
                )
            floor_rule, team_rules, own = _rules(session)
            if associate is not None:
                person = _associate(session, associate)
                scope_key, label = f"associate:{person.id}", person.name
                team_id, associate_id = None, person.id
                inherited = own.get(person.id) or (team_rules.get(person.team_id) if person.team_id else None)
            elif team is not None:
                found = session.scalar(select(Team).where(func.lower(Team.name) == team.strip().lower()))
                if found is None:
                    names = ", ".join(session.scalars(select(Team.name).order_by(Team.name)))
                    raise ValidationError(f"Unknown team {team!r}; valid: {names or 'none yet'}.", field="team")
                scope_key, label = f"team:{found.id}", found.name
                team_id, associate_id = found.id, None
                inherited = team_rules.get(found.id)
            else:
                scope_key, label, team_id, associate_id, inherited = "floor", "the floor", None, None, None
            before = inherited or floor_rule
            after = BudgetRule(
                new_period or before.period,
                before.allowance if new_allowance is None else new_allowance,
                before.cap if new_cap is None else new_cap,
                scope_key.split(":")[0],
            )
            row = session.scalar(select(GoodwillBudget).where(GoodwillBudget.scope_key == scope_key))
            if row is None:
                row = GoodwillBudget(scope_key=scope_key, team_id=team_id, associate_id=associate_id)
                session.add(row)
            row.period, row.allowance, row.cap = after.period.value, after.allowance, after.cap
            row.updated_at, row.updated_by_id = utcnow(), actor.user_id
            session.flush()
            audit.record(
                session,
                actor,
                "goodwill.budget_set",
                "goodwill_budget",
                scope_key,
                before={
                    "scope": label,
                    "period": before.period,
                    "allowance": before.allowance,
                    "cap": before.cap,
                    "from": before.source,
                },
                after={"scope": label, "period": after.period, "allowance": after.allowance, "cap": after.cap},
                note=why,
            )
            record_change(session, CHANGE_ENTITY, associate_id or 0)
            return after

    def set_approval_limit(self, actor: Actor, username: str, limit: str | Decimal | None, *, reason: str) -> None:
        """A manager sets the largest gesture a supervisor may approve (None: the floor's default)."""
        actor.require(Role.MANAGER, "set approval limits")
        why = _required_text(reason, "A change of approval limit", "reason")
        new_limit = None if limit is None else parse_gesture_amount(limit, MAX_AMOUNT, "limit")
        with self.db.transaction() as session:
            user = session.scalar(select(User).where(User.username == username.strip().lower()))
            if user is None:
                raise ValidationError(f"There is no account {username!r}.", field="username")
            before = user.approval_limit
            user.approval_limit = new_limit
            audit.record(
                session,
                actor,
                "goodwill.approval_limit",
                "user",
                user.id,
                before={"username": user.username, "approval_limit": before},
                after={"username": user.username, "approval_limit": new_limit},
                note=why,
            )
            record_change(session, CHANGE_ENTITY, 0)  # open panels show who may approve what

    def approval_limit(self, actor: Actor) -> Decimal:
        """The largest gesture this person may approve."""
        with self.db.read() as session:
            return _approval_limit(session, actor, _floor(session))

    def budget_history(self, associate: str | int) -> list[audit.AuditEntry]:
        """Every change to this associate's own budget, oldest first, with who made it and why."""
        with self.db.read() as session:
            person = _associate(session, associate)
            return audit.events_for(session, "goodwill_budget", f"associate:{person.id}")

    # -- gestures ------------------------------------------------------------------------------------------------
    def grant(
        self,
        actor: Actor,
        *,
        associate: str | int,
        amount: str | Decimal,
        gesture_type: str | GestureType,
        reason_code: str,
        reason_text: str | None = None,
        escalation_id: int | None = None,
        customer_ref: str | None = None,
        customer_id: int | None = None,
        at: datetime | None = None,
    ) -> GrantOutcome:
        """Record a gesture: within the cap and what is left, at once; otherwise as an approval request."""
        kind = parse_gesture_type(gesture_type)
        code, words = parse_reason(reason_code, reason_text)
        now = at or utcnow()
        with self.db.transaction() as session:
            floor_settings = _floor(session)
            value = parse_gesture_amount(amount, floor_settings.ceiling)
            person = _associate(session, associate, lock=True)  # serialises gestures for one associate
            customer, case = _customer_and_case(session, escalation_id, customer_ref, customer_id)
            status = _statuses(session, [_person(person)], now)[0]
            problems = []
            if value > status.cap:
                problems.append(f"over the {money(status.cap)} cap per gesture")
            if value > status.remaining:
                left = max(status.remaining, Decimal(0))
                problems.append(f"only {money(left)} left {_period_words(status.period)}")
            detail = {
                "associate": person.name,
                "customer_id": customer,
                "escalation_id": case,
                "type": kind,
                "amount": value,
                "currency": floor_settings.currency,
                "reason_code": code,
                "reason_text": words,
            }
            if problems:
                because = "; ".join(problems)
                request = GoodwillRequest(
                    associate_id=person.id,
                    customer_id=customer,
                    escalation_id=case,
                    gesture_type=kind.value,
                    amount=value,
                    currency=floor_settings.currency,
                    reason_code=code,
                    reason_text=words,
                    needs_approval_because=because,
                    requested_by_id=actor.user_id,
                    requested_at=now,
                )
                session.add(request)
                session.flush()
                audit.record(
                    session, actor, "goodwill.requested", "goodwill_request", request.id, after=detail, note=because
                )
                record_change(session, CHANGE_ENTITY, person.id)
                return GrantOutcome("pending", request.id, value, because)
            entry = GoodwillEntry(
                kind="gesture",
                associate_id=person.id,
                customer_id=customer,
                escalation_id=case,
                gesture_type=kind.value,
                amount=value,
                currency=floor_settings.currency,
                reason_code=code,
                reason_text=words,
                effective_at=now,
                recorded_at=now,
                recorded_by_id=actor.user_id,
            )
            session.add(entry)
            session.flush()
            audit.record(session, actor, "goodwill.granted", "goodwill_entry", entry.id, after=detail)
            record_change(session, CHANGE_ENTITY, person.id)
            return GrantOutcome("granted", entry.id, value)

    def approve(self, actor: Actor, request_id: int, *, at: datetime | None = None) -> int:
        """Approve a pending request; returns the ledger entry. One's own, or beyond one's limit, is refused."""
        now = at or utcnow()
        try:
            with self.db.transaction() as session:
                request = _pending_request(session, request_id)
                floor_settings = _floor(session)
                if request.requested_by_id == actor.user_id:
                    raise ApprovalRefused(
                        f"You asked for request #{request_id} yourself; another supervisor or a manager must "
                        "approve it."
                    )
                limit = _approval_limit(session, actor, floor_settings)
                if request.amount > limit:
                    raise ApprovalRefused(
                        f"{money(request.amount)} is above your approval limit of {money(limit)}; "
                        "a manager must approve it."
                    )
                _decide(session, request, actor, "approved", now, None)
                entry = GoodwillEntry(
                    kind="gesture",
                    associate_id=request.associate_id,
                    customer_id=request.customer_id,
                    escalation_id=request.escalation_id,
                    gesture_type=request.gesture_type,
                    amount=request.amount,
                    currency=request.currency,
                    reason_code=request.reason_code,
                    reason_text=request.reason_text,
                    effective_at=request.requested_at,
                    recorded_at=now,
                    recorded_by_id=request.requested_by_id,
                    request_id=request.id,
                )
                session.add(entry)
                session.flush()
                audit.record(
                    session,
                    actor,
                    "goodwill.approved",
                    "goodwill_request",
                    request.id,
                    before={"status": "pending"},
                    after={"status": "approved", "entry_id": entry.id, "amount": request.amount},
                )
                record_change(session, CHANGE_ENTITY, request.associate_id)
                return entry.id
        except ApprovalRefused as refused:
            self._audit_refusal(actor, request_id, str(refused))
            raise

    def decline(self, actor: Actor, request_id: int, reason: str, *, at: datetime | None = None) -> None:
        """Decline a pending request; a decline needs a reason."""
        why = _required_text(reason, "A decline", "reason")
        now = at or utcnow()
        with self.db.transaction() as session:
            request = _pending_request(session, request_id)
            _decide(session, request, actor, "declined", now, why)
            audit.record(
                session,
                actor,
                "goodwill.declined",
                "goodwill_request",
                request.id,
                before={"status": "pending"},
                after={"status": "declined", "amount": request.amount},
                note=why,
            )
            record_change(session, CHANGE_ENTITY, request.associate_id)

    def _audit_refusal(self, actor: Actor, request_id: int, message: str) -> None:
        # In a transaction of its own: the refused one rolled back, the record of the attempt must stay.
        with self.db.transaction() as session:
            audit.record(session, actor, "goodwill.approval_refused", "goodwill_request", request_id, note=message)

    def reverse(self, actor: Actor, entry_id: int, reason: str, *, at: datetime | None = None) -> int:
        """Correct a gesture with a reversal entry (the original stays); returns the reversal's id."""
        why = _required_text(reason, "A reversal", "reason")
        now = at or utcnow()
        try:
            with self.db.transaction() as session:
                original = session.get(GoodwillEntry, entry_id)
                if original is None:
                    raise NotFound(f"There is no goodwill entry #{entry_id}.")
                if original.kind != "gesture":
                    raise ValidationError(f"Entry #{entry_id} is a {original.kind}; only gestures are reversed.")
                already = session.scalar(select(GoodwillEntry.id).where(GoodwillEntry.reverses_id == entry_id))
                if already is not None:
                    raise Conflict(f"Gesture #{entry_id} was already reversed by entry #{already}.")
                reversal = GoodwillEntry(
                    kind="reversal",
                    associate_id=original.associate_id,
                    customer_id=original.customer_id,
                    escalation_id=original.escalation_id,
                    gesture_type=original.gesture_type,
                    amount=-original.amount,
                    currency=original.currency,
                    reason_code=original.reason_code,
                    reason_text=why,
                    effective_at=original.effective_at,
                    recorded_at=now,
                    recorded_by_id=actor.user_id,
                    reverses_id=original.id,
                )
                session.add(reversal)
                session.flush()
                audit.record(
                    session,
                    actor,
                    "goodwill.reversed",
                    "goodwill_entry",
                    original.id,
                    after={"reversal_id": reversal.id, "amount": reversal.amount},
                    note=why,
                )
                record_change(session, CHANGE_ENTITY, original.associate_id)
                return reversal.id
        except IntegrityError as exc:  # two reversals at the same moment: the unique reverses_id decides
            raise Conflict(f"Gesture #{entry_id} was reversed by someone else just now.") from exc

    def adjust(
        self, actor: Actor, associate: str | int, amount: str | Decimal, reason: str, *, at: datetime | None = None
    ) -> int:
        """A manager adds to (or, negative, takes from) an associate's budget for the current period."""
        actor.require(Role.MANAGER, "adjust goodwill budgets")
        why = _required_text(reason, "An adjustment", "reason")
        text = str(amount).strip()
        negative = text.startswith("-")
        # One sign at most: lstrip would read "--5" as -5 and "+-5" as +5 instead of refusing them.
        value = parse_amount(text[1:] if text.startswith(("-", "+")) else text, "amount")
        if value == 0:
            raise ValidationError("An adjustment must be more or less than 0.00.", field="amount")
        signed = -value if negative else value
        now = at or utcnow()
        with self.db.transaction() as session:
            floor_settings = _floor(session)
            person = _associate(session, associate, lock=True)
            entry = GoodwillEntry(
                kind="adjustment",
                associate_id=person.id,
                amount=signed,
                currency=floor_settings.currency,
                reason_code="adjustment",
                reason_text=why,
                effective_at=now,
                recorded_at=now,
                recorded_by_id=actor.user_id,
            )
            session.add(entry)
            session.flush()
            audit.record(
                session,
                actor,
                "goodwill.adjusted",
                "goodwill_entry",
                entry.id,
                after={"associate": person.name, "amount": signed},
                note=why,
            )
            record_change(session, CHANGE_ENTITY, person.id)
            return entry.id

    # -- reading -------------------------------------------------------------------------------------------------
    def ledger(
        self,
        *,
        associate: str | int | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        escalation_id: int | None = None,
        limit: int = 1000,
    ) -> list[LedgerLine]:
        """Ledger entries counting in [start, end), newest first; optionally one associate's or one case's."""
        with self.db.read() as session:
            reversal = aliased(GoodwillEntry)
            query = (
                select(GoodwillEntry, Associate.name, Customer.name, reversal.id)
                .join(Associate, Associate.id == GoodwillEntry.associate_id)
                .outerjoin(Customer, Customer.id == GoodwillEntry.customer_id)
                .outerjoin(reversal, reversal.reverses_id == GoodwillEntry.id)
                .order_by(GoodwillEntry.effective_at.desc(), GoodwillEntry.id.desc())
                .limit(limit)
            )
            if associate is not None:
                query = query.where(GoodwillEntry.associate_id == _associate(session, associate).id)
            if start is not None:
                query = query.where(GoodwillEntry.effective_at >= start)
            if end is not None:
                query = query.where(GoodwillEntry.effective_at < end)
            if escalation_id is not None:
                query = query.where(GoodwillEntry.escalation_id == escalation_id)
            rows = session.execute(query).all()
            users = _user_names(session, (r[0].recorded_by_id for r in rows))
            return [
                LedgerLine(
                    id=e.id,
                    kind=e.kind,
                    associate=assoc_name,
                    customer_id=e.customer_id,
                    customer=customer_name,
                    escalation_id=e.escalation_id,
                    gesture_type=GestureType(e.gesture_type) if e.gesture_type else None,
                    amount=e.amount,
                    currency=e.currency,
                    reason_code=e.reason_code,
                    reason_text=e.reason_text,
                    effective_at=e.effective_at,
                    recorded_at=e.recorded_at,
                    recorded_by=users.get(e.recorded_by_id, "?"),
                    request_id=e.request_id,
                    reverses_id=e.reverses_id,
                    reversed_by_id=reversed_by,
                )
                for e, assoc_name, customer_name, reversed_by in rows
            ]

    def requests(
        self, *, status: str | None = "pending", escalation_id: int | None = None, limit: int = 500
    ) -> list[ApprovalRequest]:
        """Approval requests, oldest first when pending (they wait longest), newest first otherwise; optionally
        one case's."""
        with self.db.read() as session:
            query = (
                select(GoodwillRequest, Associate.name, Customer.name)
                .join(Associate, Associate.id == GoodwillRequest.associate_id)
                .join(Customer, Customer.id == GoodwillRequest.customer_id)
                .limit(limit)
            )
            if status is not None:
                query = query.where(GoodwillRequest.status == status)
            if escalation_id is not None:
                query = query.where(GoodwillRequest.escalation_id == escalation_id)
            order = GoodwillRequest.requested_at.asc() if status == "pending" else GoodwillRequest.requested_at.desc()
            rows = session.execute(query.order_by(order, GoodwillRequest.id)).all()
            requests = [r[0] for r in rows]
            users = _user_names(session, [*(r.requested_by_id for r in requests), *(r.decided_by_id for r in requests)])
            entries = dict(
                session.execute(
                    select(GoodwillEntry.request_id, GoodwillEntry.id).where(
                        GoodwillEntry.request_id.in_([r.id for r in requests])
                    )
                ).all()
            )
            return [
                ApprovalRequest(
                    id=r.id,
                    associate_id=r.associate_id,
                    associate=assoc_name,
                    customer_id=r.customer_id,
                    customer=customer_name,
                    escalation_id=r.escalation_id,
                    gesture_type=GestureType(r.gesture_type),
                    amount=r.amount,
                    currency=r.currency,
                    reason_code=r.reason_code,
                    reason_text=r.reason_text,
                    because=r.needs_approval_because,
                    requested_by=users.get(r.requested_by_id, "?"),
                    requested_by_id=r.requested_by_id,
                    requested_at=r.requested_at,
                    status=r.status,
                    decided_by=users.get(r.decided_by_id) if r.decided_by_id else None,
                    decided_at=r.decided_at,
                    decision_reason=r.decision_reason,
                    entry_id=entries.get(r.id),
                )
                for r, assoc_name, customer_name in rows
            ]

    def pending_count(self) -> int:
        """How many requests wait for a decision (the panel's badge)."""
        with self.db.read() as session:
            return int(
                session.scalar(
                    select(func.count()).select_from(GoodwillRequest).where(GoodwillRequest.status == "pending")
                )
                or 0
            )

    def suggest(self, escalation_id: int, *, at: datetime | None = None) -> Suggestion:
        """The playbook's gesture for the case, scaled by the customer's value and churn risk, capped by what the
        escalating associate has left; with a one-line explanation of the amount."""
        now = at or utcnow()
        with self.db.read() as session:
            row = session.execute(
                select(Escalation, Customer)
                .join(Customer, Customer.id == Escalation.customer_id)
                .where(Escalation.id == escalation_id)
            ).first()
            if row is None:
                raise NotFound(f"There is no escalation #{escalation_id}.")
            esc, customer = row
            floor_settings = _floor(session)
            category = Category(esc.category)
            kind, base, what = PLAYBOOK_GESTURES[category]
            vf = value_factor(customer.lifetime_value)
            cf = churn_factor(customer.churn_risk)
            scaled = (base * vf * cf).quantize(Decimal("1"), rounding=ROUND_HALF_UP).quantize(CENT)
            scaled = min(scaled, floor_settings.ceiling)
            parts = [f"{category.label}: {what}, {money(base)}"]
            if vf != 1:
                parts.append(f"× {vf:.2f} for lifetime value {customer.lifetime_value:,.2f}")
            if cf != 1:
                parts.append(f"× {cf:.2f} for churn risk {customer.churn_risk:.2f}")
            explanation = " ".join(parts) + (f" = {money(scaled)}" if len(parts) > 1 else "")
            amount, needs_approval = scaled, False
            person = session.get(Associate, esc.associate_id) if esc.associate_id else None
            if person is None:
                explanation += "; no escalating associate, so no budget applies"
                needs_approval = True
            else:
                status = _statuses(session, [_person(person)], now)[0]
                left = max(status.remaining, Decimal(0))
                limit = min(status.cap, left)
                if limit <= 0:
                    needs_approval = True
                    explanation += (
                        f"; {person.name} has nothing left {_period_words(status.period)}, so it needs approval"
                    )
                elif scaled > limit:
                    amount = limit
                    explanation += f"; capped at {money(limit)}, " + (
                        f"{person.name}'s cap per gesture"
                        if status.cap <= left
                        else f"what {person.name} has left {_period_words(status.period)}"
                    )
            return Suggestion(
                escalation_id=esc.id,
                associate_id=person.id if person else None,
                associate=person.name if person else None,
                customer_id=customer.id,
                gesture_type=kind,
                reason_code=category.value,
                amount=amount,
                needs_approval=needs_approval,
                explanation=explanation + ".",
                currency=floor_settings.currency,
            )

    def returns(self, *, start: datetime | None = None, end: datetime | None = None) -> GoodwillReturns:
        """Return on goodwill: per associate and per gesture type, how many gestures (not reversed), how much, and
        for the customers who got them, the satisfaction in follow-ups since and whether they stayed."""
        with self.db.read() as session:
            currency = _floor(session).currency
            reversal = aliased(GoodwillEntry)
            query = (
                select(
                    Associate.name,
                    GoodwillEntry.gesture_type,
                    GoodwillEntry.amount,
                    GoodwillEntry.customer_id,
                    GoodwillEntry.effective_at,
                )
                .join(Associate, Associate.id == GoodwillEntry.associate_id)
                .outerjoin(reversal, reversal.reverses_id == GoodwillEntry.id)
                .where(GoodwillEntry.kind == "gesture", reversal.id.is_(None))
            )
            if start is not None:
                query = query.where(GoodwillEntry.effective_at >= start)
            if end is not None:
                query = query.where(GoodwillEntry.effective_at < end)
            gestures = session.execute(query).all()
            customer_ids = {g.customer_id for g in gestures if g.customer_id is not None}
            churned: dict[int, datetime | None] = {}
            answers: dict[int, list[tuple[int, datetime, int]]] = defaultdict(list)  # customer -> (id, done, csat)
            ids = sorted(customer_ids)
            for offset in range(0, len(ids), 500):
                chunk = ids[offset : offset + 500]
                churned.update(
                    (customer_id, churned_at)
                    for customer_id, churned_at in session.execute(
                        select(Customer.id, Customer.churned_at).where(Customer.id.in_(chunk))
                    )
                )
                for fid, cust, done, csat in session.execute(
                    select(FollowUp.id, Escalation.customer_id, FollowUp.done_at, FollowUp.csat)
                    .join(Escalation, Escalation.id == FollowUp.escalation_id)
                    .where(Escalation.customer_id.in_(chunk), FollowUp.csat.is_not(None), FollowUp.done_at.is_not(None))
                ):
                    if done is not None and csat is not None:
                        answers[cust].append((fid, done, csat))

        def rows(key_of: Any) -> list[ReturnRow]:
            groups: dict[str, list[Any]] = defaultdict(list)
            for g in gestures:
                groups[key_of(g)].append(g)
            out = []
            for key, items in groups.items():
                first_at: dict[int, datetime] = {}
                for g in items:
                    if g.customer_id is not None:
                        first_at[g.customer_id] = min(first_at.get(g.customer_id, g.effective_at), g.effective_at)
                seen: dict[int, int] = {}
                for cust, since in first_at.items():
                    for fid, done, csat in answers.get(cust, []):
                        if done >= since:
                            seen[fid] = csat
                stayed = [
                    c
                    for c, since in first_at.items()
                    if churned.get(c) is None or churned[c] < since  # type: ignore[operator]
                ]
                out.append(
                    ReturnRow(
                        key=key,
                        gestures=len(items),
                        amount=sum((g.amount for g in items), Decimal(0)).quantize(CENT),
                        customers=len(first_at),
                        csat_share=(sum(1 for v in seen.values() if v >= 4) / len(seen)) if seen else None,
                        csat_n=len(seen),
                        retained_share=(len(stayed) / len(first_at)) if first_at else None,
                        currency=currency,
                    )
                )
            return sorted(out, key=lambda r: (-r.amount, r.key))

        return GoodwillReturns(
            by_associate=rows(lambda g: g.name), by_type=rows(lambda g: GestureType(g.gesture_type).value)
        )


def _parse_period(value: str | Period) -> Period:
    if isinstance(value, Period):
        return value
    try:
        return Period(Period.parse(value))
    except ValueError:
        raise ValidationError(
            f"Unknown period {value!r}; valid: {', '.join(p.value for p in Period)}.", field="period"
        ) from None


def _customer_and_case(
    session: Session, escalation_id: int | None, customer_ref: str | None, customer_id: int | None
) -> tuple[int, int | None]:
    """The customer a gesture goes to (from the case, or named), and the case if any."""
    if escalation_id is not None:
        found = session.scalar(select(Escalation.customer_id).where(Escalation.id == escalation_id))
        if found is None:
            raise ValidationError(f"There is no escalation #{escalation_id}.", field="escalation")
        named = _find_customer(session, customer_ref, customer_id) if (customer_ref or customer_id) else found
        if named != found:
            raise ValidationError(
                f"Escalation #{escalation_id} belongs to another customer; leave the customer out or fix it.",
                field="customer",
            )
        return found, escalation_id
    if customer_ref is None and customer_id is None:
        raise ValidationError("Name the customer (their reference) or the case the gesture is for.", field="customer")
    return _find_customer(session, customer_ref, customer_id), None


def _find_customer(session: Session, ref: str | None, customer_id: int | None) -> int:
    if customer_id is not None:
        if session.get(Customer, customer_id) is None:
            raise ValidationError(f"There is no customer #{customer_id}.", field="customer")
        return customer_id
    assert ref is not None
    found = session.scalar(select(Customer.id).where(Customer.external_ref == ref.strip()))
    if found is None:
        raise ValidationError(f"There is no customer with reference {ref!r}.", field="customer")
    return int(found)


def _pending_request(session: Session, request_id: int) -> GoodwillRequest:
    request = session.get(GoodwillRequest, request_id, with_for_update=_lock_for_update(session))
    if request is None:
        raise NotFound(f"There is no goodwill request #{request_id}.")
    if request.status != "pending":
        who = session.scalar(select(User.username).where(User.id == request.decided_by_id)) or "someone"
        raise Conflict(f"Request #{request_id} was already {request.status} by {who}.")
    return request


def _decide(
    session: Session, request: GoodwillRequest, actor: Actor, status: str, now: datetime, reason: str | None
) -> None:
    # Conditional on still pending: of two supervisors deciding at once, exactly one wins.
    result = session.execute(
        update(GoodwillRequest)
        .where(GoodwillRequest.id == request.id, GoodwillRequest.status == "pending")
        .values(status=status, decided_by_id=actor.user_id, decided_at=now, decision_reason=reason)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"Request #{request.id} was decided by someone else just now.")
