"""The live queue: what is open, ranked by urgency, and the claim / release / reassign / hold operations.

Claims are decided in the database by a conditional UPDATE, so two consoles claiming one case at the same
moment cannot both win: the loser is told who has it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Numeric, Select, String, func, select, type_coerce, update
from sqlalchemy.orm import Session, aliased

from console import audit
from console.actor import Actor
from console.changes import record_change
from console.domain import QUEUE_STATUSES, Category, Channel, Role, Severity, Status, Tier
from console.errors import Conflict, NotFound, PermissionDenied, ValidationError
from console.sla import (
    DEFAULT_WARN_RATIO,
    WARN_RATIO_KEY,
    ClockInputs,
    SlaClock,
    SlaPolicy,
    SlaTargets,
    clock,
)
from db.engine import Database
from db.migrate import HEAD_REVISION
from db.models import (
    Associate,
    CaseNote,
    Change,
    Customer,
    Escalation,
    HoldPeriod,
    Setting,
    User,
)
from db.models import (
    SlaPolicy as SlaRow,
)
from db.types import utcnow

if TYPE_CHECKING:
    from console.queue_prefetch import Snapshot

log = logging.getLogger(__name__)
HIGH_VALUE_THRESHOLD = Decimal("5000.00")
CHURN_RISK_THRESHOLD = 0.6
IDS_PER_QUERY = 500


@dataclass(frozen=True)
class QueueItem:
    """One open escalation as the queue shows it (plain values, safe to hand to any thread)."""

    id: int
    ref: str | None
    status: Status
    severity: Severity
    channel: Channel
    category: Category
    product: str | None
    summary: str
    customer_id: int
    customer_name: str
    customer_ref: str | None
    customer_tier: Tier
    customer_ltv: Decimal
    customer_churn_risk: float
    associate_name: str | None
    claimed_by_id: int | None
    claimed_by_name: str | None
    escalated_at: datetime
    queued_at: datetime
    claimed_at: datetime | None
    held_since: datetime | None
    hold_reason: str | None
    held_seconds: int
    version: int

    @property
    def clock_inputs(self) -> ClockInputs:
        """What the SLA clock needs."""
        return ClockInputs(self.severity, self.queued_at, self.claimed_at, self.held_since, self.held_seconds)

    def clock(self, policy: SlaPolicy, now: datetime) -> SlaClock:
        """The SLA clock at ``now``."""
        return clock(self.clock_inputs, policy, now)

    def waiting(self, now: datetime) -> timedelta:
        """How long the customer has waited since the case (re-)entered the queue."""
        return max(now - self.queued_at, timedelta(0))

    @property
    def high_value(self) -> bool:
        """A customer whose lifetime value makes a concession cheap next to losing them."""
        return self.customer_ltv >= HIGH_VALUE_THRESHOLD

    @property
    def churn_risk(self) -> bool:
        """A customer flagged as likely to leave."""
        return self.customer_churn_risk >= CHURN_RISK_THRESHOLD

    @property
    def on_hold(self) -> bool:
        """Waiting on the customer or a third party; clocks paused."""
        return self.held_since is not None

    def urgency_key(self, policy: SlaPolicy, now: datetime) -> tuple[int, float, int, int]:
        """Sort key, most urgent first: running clocks by due time (breached first), then held cases."""
        due = self.clock(policy, now).due_at.timestamp()
        return (1 if self.on_hold else 0, due, self.severity.rank, self.id)


@dataclass(frozen=True)
class SupervisorInfo:
    """Someone a case can be reassigned to."""

    user_id: int
    username: str
    display_name: str


_claimer = aliased(User)

# The timestamps as plain text on SQLite (which stores them as text): parsed straight into aware UTC datetimes in
# _sqlite_item, one C call each, rather than parsed naive by the engine and then given a zone by replace() (which
# costs five times as much, 40,000 times a load). Other engines hand over datetimes whatever the type says.
_RAW_MOMENT = String()
# The amount through Numeric's own (C) processor: what Money returns, two places, without a Python call per row.
_AMOUNT = Numeric(12, 2, asdecimal=True)

# Just the columns a queue item needs (a Core select: rows of plain values, no ORM entities to build and track).
_ITEM_COLUMNS = (
    Escalation.id,
    Escalation.external_ref,
    Escalation.status,
    Escalation.severity,
    Escalation.channel,
    Escalation.category,
    Escalation.product,
    Escalation.summary,
    Customer.id,
    Customer.name,
    Customer.external_ref,
    Customer.tier,
    type_coerce(Customer.lifetime_value, _AMOUNT),
    Customer.churn_risk,
    Associate.name,
    Escalation.claimed_by_id,
    _claimer.display_name,
    type_coerce(Escalation.escalated_at, _RAW_MOMENT),
    type_coerce(Escalation.queued_at, _RAW_MOMENT),
    type_coerce(Escalation.claimed_at, _RAW_MOMENT),
    type_coerce(Escalation.held_since, _RAW_MOMENT),
    Escalation.hold_reason,
    Escalation.held_seconds,
    Escalation.version,
)
_TIMESTAMPS = (17, 18, 19, 20)  # where they are in a row
_AMOUNT_AT = 12

# Value -> member lookups: a dict get is several times cheaper than an Enum call, for every one of 10,000 rows.
_STATUS: dict[str, Status] = {m.value: m for m in Status}
_SEVERITY: dict[str, Severity] = {m.value: m for m in Severity}
_CHANNEL: dict[str, Channel] = {m.value: m for m in Channel}
_CATEGORY: dict[str, Category] = {m.value: m for m in Category}
_TIER: dict[str, Tier] = {m.value: m for m in Tier}


def _item_query() -> Select[*tuple[Any, ...]]:
    return (
        select(*_ITEM_COLUMNS)
        .select_from(Escalation)
        .join(Customer, Customer.id == Escalation.customer_id)
        .outerjoin(Associate, Associate.id == Escalation.associate_id)
        .outerjoin(_claimer, _claimer.id == Escalation.claimed_by_id)
    )


_ITEM_FIELDS = tuple(f.name for f in fields(QueueItem))  # in _ITEM_COLUMNS' order
assert len(_ITEM_FIELDS) == len(_ITEM_COLUMNS)


def _moment(value: datetime | str | None) -> datetime | None:
    """UTCDateTime.process_result_value, for text too: an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _to_item(row: Sequence[Any]) -> QueueItem:
    """A queue item from one row of ``_item_query()`` on any engine: the enums looked up, the timestamps aware."""
    values = list(row)
    values[2] = _STATUS.get(values[2]) or Status(values[2])
    values[3] = _SEVERITY.get(values[3]) or Severity(values[3])
    values[4] = _CHANNEL.get(values[4]) or Channel(values[4])
    values[5] = _CATEGORY.get(values[5]) or Category(values[5])
    values[11] = _TIER.get(values[11]) or Tier(values[11])
    for i in _TIMESTAMPS:
        values[i] = _moment(values[i])
    # The frozen dataclass's __init__ sets its 24 fields one object.__setattr__ at a time; filling the instance
    # dict at once gives the same object (no __post_init__, no slots) in a third of the time, 10,000 times a load.
    item = object.__new__(QueueItem)
    item.__dict__.update(zip(_ITEM_FIELDS, values, strict=True))
    return item


_new = object.__new__
_parse = datetime.fromisoformat
_UTC_SUFFIX = "+00:00"


def _sqlite_item(row: Sequence[Any]) -> QueueItem:
    """``_to_item`` for a row from SQLite, as it stores them (naive UTC text timestamps, known enum values).

    Unrolled: the row unpacked once, the instance dict built as one literal, each timestamp parsed aware in one
    call. Anything unexpected (another timestamp format, an unknown value) raises, and ``_to_item`` takes over.
    """
    (
        id_,
        ref,
        status,
        severity,
        channel,
        category,
        product,
        summary,
        customer_id,
        customer_name,
        customer_ref,
        customer_tier,
        customer_ltv,
        customer_churn_risk,
        associate_name,
        claimed_by_id,
        claimed_by_name,
        escalated_at,
        queued_at,
        claimed_at,
        held_since,
        hold_reason,
        held_seconds,
        version,
    ) = row
    item = _new(QueueItem)
    item.__dict__.update(
        {
            "id": id_,
            "ref": ref,
            "status": _STATUS[status],
            "severity": _SEVERITY[severity],
            "channel": _CHANNEL[channel],
            "category": _CATEGORY[category],
            "product": product,
            "summary": summary,
            "customer_id": customer_id,
            "customer_name": customer_name,
            "customer_ref": customer_ref,
            "customer_tier": _TIER[customer_tier],
            "customer_ltv": customer_ltv,
            "customer_churn_risk": customer_churn_risk,
            "associate_name": associate_name,
            "claimed_by_id": claimed_by_id,
            "claimed_by_name": claimed_by_name,
            "escalated_at": _parse(escalated_at + _UTC_SUFFIX),
            "queued_at": _parse(queued_at + _UTC_SUFFIX),
            "claimed_at": None if claimed_at is None else _parse(claimed_at + _UTC_SUFFIX),
            "held_since": None if held_since is None else _parse(held_since + _UTC_SUFFIX),
            "hold_reason": hold_reason,
            "held_seconds": held_seconds,
            "version": version,
        }
    )
    return item


def _items(session: Session, query: Select[*tuple[Any, ...]]) -> list[QueueItem]:
    # Through the connection: a Core result, without the ORM's row loading on top.
    connection = session.connection()
    return _to_items(connection.execute(query).all(), sqlite=connection.dialect.name == "sqlite")


def _to_items(rows: Sequence[Sequence[Any]], *, sqlite: bool) -> list[QueueItem]:
    """Queue items from rows of the item query: SQLite's rows the fast way (``_sqlite_item``), unless one is not
    as SQLite stores them; then, and on other engines, the general way for every row."""
    if sqlite:
        try:
            return [_sqlite_item(row) for row in rows]
        except (KeyError, TypeError, ValueError):
            pass
    return [_to_item(row) for row in rows]


def _sqlite_amount(value: float | int | None) -> Decimal | None:
    """An amount as SQLite's own driver returns it (a float), as the engine's Numeric(12, 2) makes it: through
    text with two places."""
    return None if value is None else Decimal("%.2f" % value)  # noqa: UP031 (the engine's own format)


def _snapshot_items(rows: Sequence[Sequence[Any]]) -> list[QueueItem]:
    """Queue items from the rows of ``console.queue_prefetch`` (the same query through SQLite's own driver): the
    amount made as the engine makes it, then each row as the engine's rows are."""
    at = _AMOUNT_AT
    return _to_items([(*row[:at], _sqlite_amount(row[at]), *row[at + 1 :]) for row in rows], sqlite=True)


def load_items(session: Session, ids: Iterable[int] | None = None) -> list[QueueItem]:
    """Open escalations (optionally only these ids) as queue items."""
    query = _item_query().where(Escalation.status.in_(QUEUE_STATUSES))
    if ids is None:
        return _items(session, query)
    id_list = list(ids)
    items: list[QueueItem] = []
    for start in range(0, len(id_list), IDS_PER_QUERY):  # a burst of changes: bounded IN lists
        chunk = id_list[start : start + IDS_PER_QUERY]
        items.extend(_items(session, query.where(Escalation.id.in_(chunk))))
    return items


def load_policy(session: Session) -> SlaPolicy:
    """The floor's SLA policy from the database (defaults where a row is missing)."""
    policy = SlaPolicy()
    targets = dict(policy.targets)
    for row in session.scalars(select(SlaRow)):
        targets[Severity(row.severity)] = SlaTargets(
            timedelta(minutes=row.claim_minutes), timedelta(minutes=row.resolve_minutes)
        )
    raw = session.get(Setting, WARN_RATIO_KEY)
    ratio = float(raw.value) if raw is not None else DEFAULT_WARN_RATIO
    return SlaPolicy(targets=targets, warn_ratio=ratio)


class QueueService:
    """Queue reads and the operations on a case's ownership. Each call is one transaction."""

    def __init__(self, database: Database) -> None:
        self.db = database

    # -- reads ---------------------------------------------------------------------------------------------
    def open_items(self, snapshot: Snapshot | None = None) -> list[QueueItem]:
        """Every escalation in the queue; from ``snapshot`` when there is one of this schema (see
        ``open_items_from``), else read now."""
        if snapshot is not None:
            if snapshot.revision == HEAD_REVISION:
                return self.open_items_from(snapshot)
            log.info(
                "the queue's start-up snapshot is of schema %s, not %s: read again", snapshot.revision, HEAD_REVISION
            )
        with self.db.read() as session:
            return load_items(session)

    def open_items_from(self, snapshot: Snapshot) -> list[QueueItem]:
        """Every escalation in the queue, from a snapshot read at the start (``console.queue_prefetch``) and
        brought up to now: the escalations the change log names after the snapshot are read again (dropped if
        they have left the queue). The snapshot must be of this schema (``open_items`` checks)."""
        items = {item.id: item for item in _snapshot_items(snapshot.rows)}
        with self.db.read() as session:
            changed = set(
                session.scalars(
                    select(Change.entity_id).where(Change.id > snapshot.last_change_id, Change.entity == "escalation")
                )
            )
            if changed:
                for escalation_id in changed:
                    items.pop(escalation_id, None)
                items.update((item.id, item) for item in load_items(session, sorted(changed)))
        return list(items.values())

    def items(self, ids: Sequence[int]) -> list[QueueItem]:
        """The given escalations that are still in the queue (the rest have left it)."""
        with self.db.read() as session:
            return load_items(session, ids)

    def item(self, escalation_id: int) -> QueueItem:
        """One escalation in the queue; NotFound if it is not (or no longer) there."""
        found = self.items([escalation_id])
        if not found:
            raise NotFound(f"Escalation #{escalation_id} is not in the queue.")
        return found[0]

    def policy(self) -> SlaPolicy:
        """The SLA policy in force."""
        with self.db.read() as session:
            return load_policy(session)

    def supervisors(self) -> list[SupervisorInfo]:
        """Everyone who can take a case (supervisors and managers), by name."""
        with self.db.read() as session:
            rows = session.scalars(select(User).where(User.active.is_(True)).order_by(User.display_name))
            return [SupervisorInfo(u.id, u.username, u.display_name) for u in rows]

    # -- ownership -----------------------------------------------------------------------------------------
    def claim(self, actor: Actor, escalation_id: int) -> QueueItem:
        """Claim an escalation for ``actor``. Conflict (naming the holder) if someone else got it first."""
        now = utcnow()
        with self.db.transaction() as session:
            result = session.execute(
                update(Escalation)
                .where(
                    Escalation.id == escalation_id,
                    Escalation.claimed_by_id.is_(None),
                    Escalation.status.in_((Status.OPEN.value, Status.REOPENED.value)),
                )
                .values(
                    status=Status.CLAIMED.value,
                    claimed_by_id=actor.user_id,
                    claimed_at=now,
                    first_claimed_at=func.coalesce(Escalation.first_claimed_at, now),
                    version=Escalation.version + 1,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                current = self._current(session, escalation_id)
                if current.claimed_by_id == actor.user_id:
                    return current
                raise Conflict(self._taken_message(current))
            audit.record(
                session,
                actor,
                "escalation.claim",
                "escalation",
                escalation_id,
                after={"claimed_by": actor.username},
            )
            record_change(session, "escalation", escalation_id)
            return self._current(session, escalation_id)

    def release(self, actor: Actor, escalation_id: int) -> QueueItem:
        """Return a claimed escalation to the queue, unclaimed. Only its holder or a manager may."""
        now = utcnow()
        with self.db.transaction() as session:
            current = self._current(session, escalation_id)
            self._require_holder(actor, current, "release")
            status = Status.REOPENED if self._reopened(session, current.id) else Status.OPEN
            # An unclaimed case has nobody to wait for the customer: a hold ends with the claim.
            unhold = {}
            if current.on_hold:
                unhold = self._unhold_values(current, self._end_hold(session, actor, current, now))
            self._conditional(
                session,
                current,
                status=status.value,
                claimed_by_id=None,
                claimed_at=None,
                updated_at=now,
                **unhold,
            )
            audit.record(
                session,
                actor,
                "escalation.release",
                "escalation",
                escalation_id,
                before={"claimed_by": current.claimed_by_name},
            )
            record_change(session, "escalation", escalation_id)
            return self._current(session, escalation_id)

    def reassign(self, actor: Actor, escalation_id: int, to_user_id: int, note: str) -> QueueItem:
        """Hand an escalation to another supervisor with a note (holder or manager; anyone if unclaimed)."""
        if not note.strip():
            raise ValidationError("Say in a note what the next supervisor needs to know.", field="note")
        now = utcnow()
        with self.db.transaction() as session:
            current = self._current(session, escalation_id)
            if not current.status.in_queue:
                # An unclaimed resolved or closed case (an imported one) must not come back as claimed this way.
                raise Conflict(f"#{escalation_id} is {current.status.value}; there is nothing to reassign.")
            if current.claimed_by_id is not None:
                self._require_holder(actor, current, "reassign")
            target = session.get(User, to_user_id)
            if target is None or not target.active:
                raise NotFound("That supervisor's account does not exist or is inactive.")
            if target.id == current.claimed_by_id:
                raise ValidationError(f"{target.display_name} already has #{escalation_id}.", field="to")
            self._conditional(
                session,
                current,
                status=Status.CLAIMED.value,
                claimed_by_id=target.id,
                claimed_at=now,
                first_claimed_at=func.coalesce(Escalation.first_claimed_at, now),
                updated_at=now,
            )
            session.add(
                CaseNote(
                    escalation_id=escalation_id,
                    author_id=actor.user_id,
                    kind="reassign",
                    body=note.strip(),
                    created_at=now,
                )
            )
            audit.record(
                session,
                actor,
                "escalation.reassign",
                "escalation",
                escalation_id,
                before={"claimed_by": current.claimed_by_name},
                after={"claimed_by": target.display_name},
                note=note.strip(),
            )
            record_change(session, "escalation", escalation_id)
            return self._current(session, escalation_id)

    def hold(self, actor: Actor, escalation_id: int, reason: str) -> QueueItem:
        """Put a claimed escalation on hold (waiting on the customer or a third party): its clocks pause."""
        if not reason.strip():
            raise ValidationError("Say what the case is waiting on.", field="reason")
        now = utcnow()
        with self.db.transaction() as session:
            current = self._current(session, escalation_id)
            self._require_holder(actor, current, "put on hold")
            if current.on_hold:
                raise ValidationError(f"#{escalation_id} is already on hold.")
            self._conditional(session, current, held_since=now, hold_reason=reason.strip(), updated_at=now)
            session.add(
                HoldPeriod(
                    escalation_id=escalation_id,
                    started_at=now,
                    reason=reason.strip(),
                    started_by_id=actor.user_id,
                )
            )
            audit.record(
                session,
                actor,
                "escalation.hold",
                "escalation",
                escalation_id,
                after={"reason": reason.strip()},
            )
            record_change(session, "escalation", escalation_id)
            return self._current(session, escalation_id)

    def resume(self, actor: Actor, escalation_id: int) -> QueueItem:
        """Take an escalation off hold; its clocks run again from where they stopped."""
        now = utcnow()
        with self.db.transaction() as session:
            current = self._current(session, escalation_id)
            self._require_holder(actor, current, "take off hold")
            if current.held_since is None:
                raise ValidationError(f"#{escalation_id} is not on hold.")
            paused = self._end_hold(session, actor, current, now)
            self._conditional(session, current, **self._unhold_values(current, paused), updated_at=now)
            audit.record(
                session,
                actor,
                "escalation.resume",
                "escalation",
                escalation_id,
                after={"paused_seconds": paused},
            )
            record_change(session, "escalation", escalation_id)
            return self._current(session, escalation_id)

    # -- SLA policy ----------------------------------------------------------------------------------------
    def set_policy(self, actor: Actor, targets: dict[Severity, SlaTargets], warn_ratio: float) -> SlaPolicy:
        """Change the SLA targets and the pre-breach threshold (managers only)."""
        actor.require(Role.MANAGER, "change SLA targets")
        if not 0.5 <= warn_ratio <= 0.99:
            raise ValidationError("The pre-breach alert fires at 50-99 % of a target.", field="warn_ratio")
        for severity, target in targets.items():
            if target.claim <= timedelta(0) or target.resolve <= timedelta(0):
                raise ValidationError(f"{severity.label} targets must be positive.", field=severity.value)
            # Targets are stored in whole minutes: refuse what would be cut short (or to 0, which the table refuses).
            if target.claim % timedelta(minutes=1) or target.resolve % timedelta(minutes=1):
                raise ValidationError(f"{severity.label} targets are whole minutes.", field=severity.value)
            if target.resolve < target.claim:
                raise ValidationError(
                    f"{severity.label}: resolving cannot be due before claiming.", field=severity.value
                )
        now = utcnow()
        with self.db.transaction() as session:
            before = load_policy(session)
            for severity, target in targets.items():
                row = session.get(SlaRow, severity.value)
                if row is None:
                    row = SlaRow(severity=severity.value)
                    session.add(row)
                row.claim_minutes = int(target.claim.total_seconds() // 60)
                row.resolve_minutes = int(target.resolve.total_seconds() // 60)
                row.updated_at = now
                row.updated_by_id = actor.user_id
            setting = session.get(Setting, WARN_RATIO_KEY)
            if setting is None:
                session.add(Setting(key=WARN_RATIO_KEY, value=str(warn_ratio)))
            else:
                setting.value = str(warn_ratio)
            session.flush()
            after = load_policy(session)
            audit.record(
                session,
                actor,
                "sla.update",
                "sla_policy",
                None,
                before=_policy_dict(before),
                after=_policy_dict(after),
            )
            record_change(session, "sla_policy", 0)
            return after

    # -- helpers -------------------------------------------------------------------------------------------
    def _current(self, session: Session, escalation_id: int) -> QueueItem:
        row = session.connection().execute(_item_query().where(Escalation.id == escalation_id)).first()
        if row is None:
            raise NotFound(f"There is no escalation #{escalation_id}.")
        return _to_item(row)

    @staticmethod
    def _end_hold(session: Session, actor: Actor, item: QueueItem, now: datetime) -> int:
        """Close the open hold period; return how many seconds the clocks were paused."""
        assert item.held_since is not None
        period = session.scalar(
            select(HoldPeriod).where(HoldPeriod.escalation_id == item.id, HoldPeriod.ended_at.is_(None))
        )
        if period is not None:
            period.ended_at = now
            period.ended_by_id = actor.user_id
        return max(int((now - item.held_since).total_seconds()), 0)

    @staticmethod
    def _unhold_values(item: QueueItem, paused: int) -> dict[str, object]:
        return {"held_since": None, "hold_reason": None, "held_seconds": item.held_seconds + paused}

    @staticmethod
    def _reopened(session: Session, escalation_id: int) -> bool:
        return bool(session.scalar(select(Escalation.reopen_count).where(Escalation.id == escalation_id)))

    @staticmethod
    def _taken_message(item: QueueItem) -> str:
        if item.claimed_by_name:
            return f"{item.claimed_by_name} has already claimed #{item.id}."
        return f"#{item.id} is {item.status.value} and no longer waiting to be claimed."

    @staticmethod
    def _require_holder(actor: Actor, item: QueueItem, doing: str) -> None:
        if not item.status.in_queue:
            raise Conflict(f"#{item.id} is {item.status.value}; there is nothing to {doing}.")
        if item.claimed_by_id is None:
            raise Conflict(f"#{item.id} is not claimed; claim it first.")
        if item.claimed_by_id != actor.user_id and not actor.is_manager:
            raise PermissionDenied(f"{item.claimed_by_name} has #{item.id}; only they or a manager may {doing} it.")

    @staticmethod
    def _conditional(session: Session, item: QueueItem, **values: object) -> None:
        """Update only if nobody changed the row since we read it (version check), else Conflict."""
        result = session.execute(
            update(Escalation)
            .where(Escalation.id == item.id, Escalation.version == item.version)
            .values(version=Escalation.version + 1, **values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(f"#{item.id} was changed by someone else a moment ago; look again and retry.")


def _policy_dict(policy: SlaPolicy) -> dict[str, object]:
    return {
        "warn_ratio": policy.warn_ratio,
        **{
            sev.value: [int(t.claim.total_seconds() // 60), int(t.resolve.total_seconds() // 60)]
            for sev, t in policy.targets.items()
        },
    }
