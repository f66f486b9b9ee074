"""The end-of-shift summary: the measures a supervisor is judged by (domain.md section 5) over a time range.

Everything is computed in the database with range predicates on indexed columns (``escalated_at``,
``first_claimed_at``, ``resolved_at``, ``follow_ups.done_at``, ...) and COUNT / SUM / AVG / GROUP BY; only the
claim and resolution durations of the range's rows are fetched, for the median and 90th percentile. The same SQL
runs on SQLite and PostgreSQL.

A range is half-open, ``[start, end)``, in UTC. Each measure says below exactly what it counts; a measure with
nothing to measure (no claims, no answers) is ``None`` (JSON ``null``, "n/a" on screen), never 0.

Rows are read as they are now: a case that was open at ``end`` and has been resolved since is counted as
carried over (its ``resolved_at`` is after ``end``), but a case resolved before ``end`` and reopened since has lost
that resolution (the workflow clears ``resolved_at`` on a reopen), so summaries of the past are exact only until a
case of theirs is reopened. ``ShiftService.end_shift`` saves the summary as it stood at the end of the shift.

With ``supervisor=USERNAME`` every escalation measure counts only escalations whose holder is that supervisor
(``claimed_by``: it stays set after resolving and closing, and is cleared when a case is released or reopened).
So ``received`` means "received in the range and taken by this supervisor"; unclaimed arrivals belong to the
floor, not to anyone. Follow-up answers and reopens count those the supervisor scheduled; goodwill counts the
gestures they recorded and the approvals they decided; stories those they marked.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Float,
    Integer,
    bindparam,
    case,
    cast,
    extract,
    false,
    func,
    or_,
    select,
    type_coerce,
    union,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, aliased

from console import startup
from console.domain import QUEUE_STATUSES, Severity, Status
from console.errors import NotFound, ValidationError
from console.goodwill import BudgetStatus, budget_statuses
from console.money import CENT, money
from console.queue import load_policy
from console.sla import SlaPolicy
from db.engine import Database
from db.models import (
    Associate,
    Customer,
    Escalation,
    FollowUp,
    GoodwillEntry,
    GoodwillRequest,
    HoldPeriod,
    Story,
    User,
)
from db.types import UTCDateTime, utcnow

Progress = Callable[[float, str], None]

DEFAULT_SHIFT_LENGTH = timedelta(hours=8)
THEMES_PER_KIND = 5
# SQLite keeps times to the microsecond but computes with them to the millisecond: SLA judgements allow that much.
_SQL_TIME_RESOLUTION_S = 0.0005


# -- plain values ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AssociateGoodwill:
    """One associate's goodwill: what they gave in the range, and their budget in the period holding its last moment."""

    associate_id: int
    associate: str
    spent_in_range: Decimal  # gestures net of reversals with effective_at in the range
    period: str  # shift, week or month: the period of the budget in force at the end of the range
    period_spent: Decimal  # spent in that period (the one holding the range's last moment)
    allowance: Decimal  # the budget's allowance plus the period's adjustments
    remaining: Decimal


@dataclass(frozen=True)
class Theme:
    """A category or product that rose against the previous range of the same length."""

    kind: str  # "category" or "product"
    name: str
    count: int
    previous: int

    @property
    def rise(self) -> int:
        """How many more escalations than in the previous range."""
        return self.count - self.previous


@dataclass(frozen=True)
class StoryItem:
    """A case marked as a win or a woe in the range."""

    escalation_id: int
    kind: str
    text: str
    at: datetime
    author: str | None
    customer_id: int
    customer_name: str


@dataclass(frozen=True)
class FollowUpDue:
    """A scheduled follow-up falling due in the next shift."""

    follow_up_id: int
    escalation_id: int
    due_at: datetime
    channel: str | None
    customer_id: int
    customer_name: str
    claimed_by: str | None


@dataclass(frozen=True)
class HandoverItem:
    """An escalation open at the end of the range, as the next shift inherits it (its state as it is now)."""

    escalation_id: int
    ref: str | None
    customer_id: int
    customer_name: str
    severity: str
    status: str
    summary: str
    claimed_by: str | None
    on_hold: bool
    hold_reason: str | None
    workflow_step: str | None
    next_action: str
    due_target: str | None  # "claim" or "resolve": the SLA target the case is heading for; None once it left
    due_at: datetime | None
    overdue: bool  # that target was already missed at ``end``


# HandoverItem's 10,000 rows are made without running its __init__ (one object.__setattr__ per field): an instance
# with its __dict__ set whole, three times faster. Only for a plain dataclass without __post_init__, defaults or
# slots; tests/test_summary.py checks the keys match its fields.
_new = object.__new__


@dataclass(frozen=True)
class FlowBucket:
    """Arrivals (received) and resolutions in one slice of the range, for the arrivals-vs-resolutions chart."""

    start: datetime
    arrivals: int
    resolutions: int


@dataclass(frozen=True)
class ShiftSummary:
    """The end-of-shift summary over ``[start, end)``: plain values, safe to hand to any thread.

    Counts (each over ``[start, end)``):

    - ``received``: escalations with ``escalated_at`` in the range;
    - ``claimed``: escalations first claimed in the range (``first_claimed_at``; a re-claim after a release or a
      reopen is not a new claim);
    - ``resolved``: escalations with ``resolved_at`` in the range (a reopened case that was resolved again counts
      at its latest resolution);
    - ``reopened``: reopens in the range: follow-ups done in the range that recorded "not solved" (that is the one
      moment the workflow reopens a case);
    - ``open_carried_over``: escalations received before ``end`` and open at ``end``: still in the queue (open,
      claimed or reopened), or resolved only at or after ``end``.

    Times, in seconds:

    - time to claim = first claim - escalation, minus time on hold in between, for those first claimed in the
      range: ``time_to_claim_median_s`` and ``time_to_claim_p90_s`` (90th percentile, linear interpolation
      between the closest ranks, as numpy's default);
    - resolution time = resolution - escalation (wall-clock: the customer waited through holds too), for those
      resolved in the range: ``resolution_time_median_s`` and ``resolution_time_mean_s``.

    Ratios, 0..1, ``None`` when there is nothing to divide by:

    - ``sla_claim_compliance``: share of those first claimed in the range whose time to claim was within the claim
      target of their severity (the floor's SLA policy, console/sla.py);
    - ``sla_resolve_compliance``: share of those resolved in the range resolved within the resolve target,
      counted as the queue's clock does: from when it last entered the queue (a reopened case has fresh targets),
      paused while on hold (``resolved_at - queued_at - held_seconds <= target``; case show's ``breached``);
    - ``fcr``: first-contact resolution, share of those resolved in the range that were never reopened;
    - ``csat``: share of 4s and 5s among the CSAT answers (1-5) of follow-ups done in the range; ``csat_n`` is
      the number of answers;
    - ``nps``: % promoters (9-10) minus % detractors (0-6) among the NPS answers (0-10) of follow-ups done in the
      range, from -100 to 100; ``nps_n`` the number of answers.

    Goodwill: ``goodwill_spent`` is the ledger's gestures net of reversals with ``effective_at`` in the range
    (adjustments are budget changes, not spending). ``approvals_granted`` / ``approvals_declined`` count approval
    requests decided in the range.

    Breakdowns ``by_channel`` / ``by_category`` count the received escalations (most first); ``themes`` are the
    categories and products with the largest rise in received escalations against the previous range of the same
    length (``[start - (end - start), start)``), only those that rose, at most five of each.
    """

    start: datetime
    end: datetime
    supervisor: str | None
    generated_at: datetime
    received: int
    claimed: int
    resolved: int
    reopened: int
    open_carried_over: int
    time_to_claim_median_s: float | None
    time_to_claim_p90_s: float | None
    resolution_time_median_s: float | None
    resolution_time_mean_s: float | None
    sla_claim_compliance: float | None
    sla_resolve_compliance: float | None
    fcr: float | None
    csat: float | None
    csat_n: int
    nps: float | None
    nps_n: int
    goodwill_spent: Decimal
    currency: str
    by_channel: dict[str, int]
    by_category: dict[str, int]
    csat_distribution: dict[int, int]  # answers per score 1..5 (every score present, 0 when none)
    approvals_granted: int
    approvals_declined: int
    goodwill_by_associate: tuple[AssociateGoodwill, ...] = ()
    themes: tuple[Theme, ...] = ()
    stories: tuple[StoryItem, ...] = ()
    follow_ups_due: tuple[FollowUpDue, ...] = ()
    next_shift_end: datetime | None = None  # follow-ups_due covers [end, next_shift_end)
    handover: tuple[HandoverItem, ...] = ()
    flow: tuple[FlowBucket, ...] = ()
    flow_bucket_seconds: int = 3600
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def measures(self) -> dict[str, Any]:
        """The JSON measures (issue #6 keys) without the lists: what the CLI prints and a KPI table shows."""
        return {key: value for key, value in self.as_dict().items() if key in MEASURE_KEYS}

    def as_dict(self, *, redact: bool = False) -> dict[str, Any]:
        """Everything as JSON-ready values: ISO 8601 UTC times, money as two-decimal strings, ratios 0..1, null
        for missing. ``redact`` replaces customer names with ``customer #<id>`` (also inside story texts)."""
        data: dict[str, Any] = {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "supervisor": self.supervisor,
            "generated_at": self.generated_at.isoformat(),
        }
        for name in MEASURE_KEYS[2:]:
            value = getattr(self, name)
            data[name] = money(value) if isinstance(value, Decimal) else value
        data["by_channel"] = dict(self.by_channel)
        data["by_category"] = dict(self.by_category)
        data["currency"] = self.currency
        data["csat_distribution"] = {str(k): v for k, v in self.csat_distribution.items()}
        data["approvals_granted"] = self.approvals_granted
        data["approvals_declined"] = self.approvals_declined
        data["goodwill_by_associate"] = [_plain(asdict(g)) for g in self.goodwill_by_associate]
        data["themes"] = [{**_plain(asdict(t)), "rise": t.rise} for t in self.themes]
        data["stories"] = [_redacted(_plain(asdict(s)), redact) for s in self.stories]
        data["follow_ups_due"] = [_redacted(_plain(asdict(f)), redact) for f in self.follow_ups_due]
        data["next_shift_end"] = self.next_shift_end.isoformat() if self.next_shift_end else None
        data["handover"] = [_redacted(_plain(asdict(h)), redact) for h in self.handover]
        data["flow_bucket_seconds"] = self.flow_bucket_seconds
        data["flow"] = [_plain(asdict(b)) for b in self.flow]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ShiftSummary:
        """A summary back from ``as_dict()`` (a shift's saved summary)."""

        def when(value: Any) -> datetime:
            return datetime.fromisoformat(str(value))

        def maybe(value: Any) -> datetime | None:
            return None if value is None else when(value)

        def build(kind: type[Any], raw: Mapping[str, Any]) -> Any:
            values: dict[str, Any] = {}
            for f in fields(kind):
                value = raw.get(f.name)
                if f.type in ("datetime", "datetime | None"):
                    value = maybe(value)
                elif f.type == "Decimal":
                    value = Decimal(str(value))
                values[f.name] = value
            return kind(**values)

        return cls(
            start=when(data["from"]),
            end=when(data["to"]),
            supervisor=data.get("supervisor"),
            generated_at=when(data["generated_at"]),
            received=data["received"],
            claimed=data["claimed"],
            resolved=data["resolved"],
            reopened=data["reopened"],
            open_carried_over=data["open_carried_over"],
            time_to_claim_median_s=data["time_to_claim_median_s"],
            time_to_claim_p90_s=data["time_to_claim_p90_s"],
            resolution_time_median_s=data["resolution_time_median_s"],
            resolution_time_mean_s=data["resolution_time_mean_s"],
            sla_claim_compliance=data["sla_claim_compliance"],
            sla_resolve_compliance=data["sla_resolve_compliance"],
            fcr=data["fcr"],
            csat=data["csat"],
            csat_n=data["csat_n"],
            nps=data["nps"],
            nps_n=data["nps_n"],
            goodwill_spent=Decimal(str(data["goodwill_spent"])),
            currency=data.get("currency", ""),
            by_channel=dict(data["by_channel"]),
            by_category=dict(data["by_category"]),
            csat_distribution={int(k): int(v) for k, v in data.get("csat_distribution", {}).items()},
            approvals_granted=data.get("approvals_granted", 0),
            approvals_declined=data.get("approvals_declined", 0),
            goodwill_by_associate=tuple(build(AssociateGoodwill, g) for g in data.get("goodwill_by_associate", [])),
            themes=tuple(Theme(t["kind"], t["name"], t["count"], t["previous"]) for t in data.get("themes", [])),
            stories=tuple(build(StoryItem, s) for s in data.get("stories", [])),
            follow_ups_due=tuple(build(FollowUpDue, f) for f in data.get("follow_ups_due", [])),
            next_shift_end=maybe(data.get("next_shift_end")),
            handover=tuple(build(HandoverItem, h) for h in data.get("handover", [])),
            flow=tuple(build(FlowBucket, b) for b in data.get("flow", [])),
            flow_bucket_seconds=data.get("flow_bucket_seconds", 3600),
        )


MEASURE_KEYS: tuple[str, ...] = (
    "from",
    "to",
    "received",
    "claimed",
    "resolved",
    "reopened",
    "open_carried_over",
    "time_to_claim_median_s",
    "time_to_claim_p90_s",
    "resolution_time_median_s",
    "resolution_time_mean_s",
    "sla_claim_compliance",
    "sla_resolve_compliance",
    "fcr",
    "csat",
    "csat_n",
    "nps",
    "nps_n",
    "goodwill_spent",
    "by_channel",
    "by_category",
)


@dataclass(frozen=True)
class EscalationRow:
    """One escalation of the range with its own measures (the CSV export; the escalations behind a chart's bar).

    ``time_to_claim_s``, ``resolution_time_s`` and the two SLA flags are defined as in ShiftSummary; ``csat`` and
    ``nps`` are the latest answers of a follow-up done in the range (None when none).
    """

    id: int
    ref: str | None
    customer_id: int
    customer_name: str
    channel: str
    category: str
    product: str | None
    severity: str
    status: str
    escalated_at: datetime
    first_claimed_at: datetime | None
    resolved_at: datetime | None
    claimed_by: str | None
    time_to_claim_s: float | None
    resolution_time_s: float | None
    claim_within_sla: bool | None
    resolve_within_sla: bool | None
    reopen_count: int
    csat: int | None
    nps: int | None


def redacted_name(customer_id: int) -> str:
    """What a redacted export shows instead of a customer's name."""
    return f"customer #{customer_id}"


def _plain(value: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, datetime):
            out[key] = item.isoformat()
        elif isinstance(item, Decimal):
            out[key] = money(item)
        else:
            out[key] = item
    return out


def _redacted(record: dict[str, Any], redact: bool) -> dict[str, Any]:
    if not redact or "customer_name" not in record:
        return record
    name, token = record["customer_name"], redacted_name(record["customer_id"])
    out = {**record, "customer_name": token}
    for key in ("text", "summary"):
        if isinstance(out.get(key), str) and name:
            out[key] = out[key].replace(name, token)
    return out


def percentile(values: Sequence[float], share: float) -> float | None:
    """The ``share`` (0..1) percentile by linear interpolation between closest ranks; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = share * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# Follow-ups done in a range: found by ``done_at`` (ix_follow_ups_done_at). The status is compared as an
# expression (``status || ''``) so that no index on status can be used for it: SQLite would otherwise take the
# equality on ix_follow_ups_status_due_at (status, due_at) and read every done follow-up of the floor's history
# (about 0.8 s a query on the 1M floor) instead of the range's few hundred.
_DONE: ColumnElement[bool] = (FollowUp.status + "") == "done"


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 3)


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None:
        raise ValidationError(f"The {name} time needs a time zone.", field=name)
    return moment.astimezone(UTC)


def flow_bucket_seconds(span: timedelta) -> int:
    """Hours for a shift (up to two days), days up to about three months, weeks beyond."""
    if span <= timedelta(hours=48):
        return 3600
    if span <= timedelta(days=92):
        return 86_400
    return 7 * 86_400


def next_action(status: str, on_hold: bool, hold_reason: str | None, step: str | None) -> str:
    """What the next shift should do with an escalation that is still open, in a few words."""
    if status == Status.REOPENED.value:
        return "Claim it: reopened, the customer says it is not solved"
    if status == Status.OPEN.value:
        return "Claim it"
    if status in (Status.RESOLVED.value, Status.CLOSED.value):
        return f"Nothing: {status} since"
    if on_hold:
        return f"Waiting on: {hold_reason or 'the customer or a third party'}"
    return {
        None: "Start the workflow: listen",
        "listen": "Listen: let the customer tell it",
        "gather": "Gather the facts",
        "apologize": "Apologize",
        "propose": "Propose a remedy, then resolve",
        "follow_up": "Resolve, then schedule the follow-up",
    }.get(step, "Continue the workflow")


# -- the build's SQL ----------------------------------------------------------------------------------------------
# Dialect-aware building blocks, identical results on both engines.
def _seconds(dialect: str, later: Any, earlier: Any) -> ColumnElement[float]:
    """``later - earlier`` in seconds (to the millisecond on SQLite)."""
    if dialect == "sqlite":
        # julianday() is a float of days: round away its binary noise (7 h must be 25200.0, not 25199.9999).
        return func.round((func.julianday(later) - func.julianday(earlier)) * 86_400.0, 3)
    return cast(extract("epoch", later - earlier), Float)


def _floor_div(dialect: str, seconds: ColumnElement[float], size: Any) -> ColumnElement[int]:
    if dialect == "sqlite":
        return cast(seconds / size, Integer)  # non-negative here: truncation is the floor
    return cast(func.floor(seconds / size), Integer)


def _time_to_claim(dialect: str) -> ColumnElement[float]:
    """First claim - escalation, minus time on hold between the two."""
    hold = aliased(HoldPeriod)
    first = Escalation.first_claimed_at
    hold_end = case((or_(hold.ended_at.is_(None), hold.ended_at > first), first), else_=hold.ended_at)
    held = (
        select(func.coalesce(func.sum(_seconds(dialect, hold_end, hold.started_at)), 0.0))
        .where(hold.escalation_id == Escalation.id, hold.started_at < first)
        .correlate(Escalation)
        .scalar_subquery()
    )
    return _seconds(dialect, first, Escalation.escalated_at) - held


# The SLA targets of a policy, in seconds per severity: (severity, claim, resolve) for each.
_Targets = tuple[tuple[str, float, float], ...]


def _policy_targets(policy: SlaPolicy) -> _Targets:
    return tuple(
        (sev.value, policy.for_severity(sev).claim.total_seconds(), policy.for_severity(sev).resolve.total_seconds())
        for sev in Severity
    )


def _target(targets: _Targets, which: int) -> ColumnElement[float]:
    return case({t[0]: float(t[which]) for t in targets}, value=Escalation.severity, else_=0.0)


def _claim_within(dialect: str, targets: _Targets) -> ColumnElement[bool]:
    return _time_to_claim(dialect) <= _target(targets, 1) + _SQL_TIME_RESOLUTION_S


def _resolve_within(dialect: str, targets: _Targets) -> ColumnElement[bool]:
    elapsed = _seconds(dialect, Escalation.resolved_at, Escalation.queued_at) - Escalation.held_seconds
    return elapsed <= _target(targets, 2) + _SQL_TIME_RESOLUTION_S


def _one_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


@dataclass(frozen=True)
class _Statements:
    """Every statement of a build, made once per engine, SLA policy and filter (by supervisor or not) and run with
    the range as parameters (``start``, ``end``, ``before``, ``next_end``, ``size``, ``sup``). Making and keying a
    statement costs SQLAlchemy about half a millisecond each time; a made one is run in a fifth of that.

    Each reads its range once: what several measures count over the same rows is one statement (the received
    escalations' channels, categories and products; the claims' times and SLA judgements; ...)."""

    received: Any  # (channel, category, product, count) received in [start, end)
    previous: Any  # (category, product, count) received in [before, start)
    claims: Any  # (time to claim, within target 0/1) for each first claimed in the range
    resolutions: Any  # (resolution time, within target 0/1, never reopened 0/1) for each resolved in the range
    answers: Any  # per CSAT score: (csat, count, nps answers, promoters, detractors, not solved) done in the range
    spent: Any  # (associate, gestures net of reversals) effective in the range
    approvals: Any  # (status, count) decided in the range
    stories: Any
    due: Any  # follow-ups scheduled in [end, next_end)
    open_now: Any  # the handover: in the queue now, received before end
    open_then: Any  # the handover: resolved or closed at or after end, received before end
    arrivals: Any  # (bucket, count)
    resolved_per_bucket: Any  # (bucket, count)


@lru_cache(maxsize=32)
def _statements(dialect: str, targets: _Targets, supervised: bool) -> _Statements:
    start = bindparam("start", type_=UTCDateTime())
    end = bindparam("end", type_=UTCDateTime())
    before = bindparam("before", type_=UTCDateTime())
    next_end = bindparam("next_end", type_=UTCDateTime())
    size = bindparam("size", type_=Integer())
    sup = bindparam("sup", type_=Integer())

    def by(column: Any) -> list[ColumnElement[bool]]:
        return [column == sup] if supervised else []

    mine = by(Escalation.claimed_by_id)
    received = (
        select(Escalation.channel, Escalation.category, Escalation.product, func.count())
        .where(Escalation.escalated_at >= start, Escalation.escalated_at < end, *mine)
        .group_by(Escalation.channel, Escalation.category, Escalation.product)
    )
    previous = (
        select(Escalation.category, Escalation.product, func.count())
        .where(Escalation.escalated_at >= before, Escalation.escalated_at < start, *mine)
        .group_by(Escalation.category, Escalation.product)
    )
    claims = select(_time_to_claim(dialect), _one_if(_claim_within(dialect, targets))).where(
        Escalation.first_claimed_at >= start, Escalation.first_claimed_at < end, *mine
    )
    resolutions = select(
        _seconds(dialect, Escalation.resolved_at, Escalation.escalated_at),
        _one_if(_resolve_within(dialect, targets)),
        _one_if(Escalation.reopen_count == 0),
    ).where(Escalation.resolved_at >= start, Escalation.resolved_at < end, *mine)
    answers = (
        select(
            FollowUp.csat,
            func.count(),
            func.count(FollowUp.nps),
            func.coalesce(func.sum(_one_if(FollowUp.nps >= 9)), 0),
            func.coalesce(func.sum(_one_if(FollowUp.nps <= 6)), 0),
            # a follow-up done with "not solved" is the one moment the workflow reopens a case
            func.coalesce(func.sum(_one_if(FollowUp.solved == false())), 0),
        )
        .where(_DONE, FollowUp.done_at >= start, FollowUp.done_at < end, *by(FollowUp.created_by_id))
        .group_by(FollowUp.csat)
    )
    # Every associate's entries are found through the (associate_id, effective_at) index, one range each: a range
    # on effective_at alone would read the whole ledger's index.
    spent = (
        select(GoodwillEntry.associate_id, func.sum(GoodwillEntry.amount))
        .where(
            GoodwillEntry.associate_id.in_(select(Associate.id)),
            GoodwillEntry.kind.in_(("gesture", "reversal")),
            GoodwillEntry.effective_at >= start,
            GoodwillEntry.effective_at < end,
            *by(GoodwillEntry.recorded_by_id),
        )
        .group_by(GoodwillEntry.associate_id)
    )
    approvals = (
        select(GoodwillRequest.status, func.count())
        .where(
            GoodwillRequest.decided_at >= start, GoodwillRequest.decided_at < end, *by(GoodwillRequest.decided_by_id)
        )
        .group_by(GoodwillRequest.status)
    )
    author = aliased(User)
    stories = (
        select(
            Story.escalation_id, Story.kind, Story.text, Story.created_at, author.username, Customer.id, Customer.name
        )
        .join(Escalation, Escalation.id == Story.escalation_id)
        .join(Customer, Customer.id == Escalation.customer_id)
        .outerjoin(author, author.id == Story.author_id)
        .where(Story.created_at >= start, Story.created_at < end, *by(Story.author_id))
        .order_by(Story.created_at, Story.id)
    )
    claimer = aliased(User)
    due = (
        select(
            FollowUp.id,
            FollowUp.escalation_id,
            FollowUp.due_at,
            FollowUp.channel,
            Customer.id,
            Customer.name,
            claimer.username,
        )
        .join(Escalation, Escalation.id == FollowUp.escalation_id)
        .join(Customer, Customer.id == Escalation.customer_id)
        .outerjoin(claimer, claimer.id == Escalation.claimed_by_id)
        .where(
            FollowUp.status == "scheduled",
            FollowUp.due_at >= end,
            FollowUp.due_at < next_end,
            *by(FollowUp.created_by_id),
        )
        .order_by(FollowUp.due_at, FollowUp.id)
    )
    # The handover: only the columns it shows, and the inputs of the SLA clock for those still in the queue. Their
    # times are read as the engine's own datetimes (naive UTC on SQLite, aware on PostgreSQL), without UTCDateTime's
    # conversion of each value (see _handover).
    shown = (
        Escalation.id,
        Escalation.external_ref,
        Escalation.customer_id,
        Customer.name,
        Escalation.severity,
        Escalation.status,
        Escalation.summary,
        claimer.username,
        Escalation.hold_reason,
        Escalation.workflow_step,
    )
    # The queue's ids first (from the (status, escalated_at) index alone), then their rows in id order: the table is
    # read front to back instead of jumping about it in the index's order (a quarter faster on the 1M floor).
    queue_ids = select(Escalation.id).where(Escalation.status.in_(QUEUE_STATUSES), Escalation.escalated_at < end, *mine)
    open_now = (
        select(
            *shown,
            type_coerce(Escalation.held_since, DateTime()),
            type_coerce(Escalation.queued_at, DateTime()),
            Escalation.claimed_at.is_(None),
            Escalation.held_seconds,
        )
        .join(Customer, Customer.id == Escalation.customer_id)
        .outerjoin(claimer, claimer.id == Escalation.claimed_by_id)
        .where(Escalation.id.in_(queue_ids))
    )
    # Resolved or closed since: no SLA clock, so none of its inputs need reading.
    open_then = (
        select(*shown, Escalation.held_since.is_not(None))
        .join(Customer, Customer.id == Escalation.customer_id)
        .outerjoin(claimer, claimer.id == Escalation.claimed_by_id)
        .where(
            Escalation.resolved_at >= end,
            Escalation.status.not_in(QUEUE_STATUSES),
            Escalation.escalated_at < end,
            *mine,
        )
    )

    def per_bucket(column: Any) -> Any:
        bucket = _floor_div(dialect, _seconds(dialect, column, start), size).label("bucket")
        return select(bucket, func.count()).where(column >= start, column < end, *mine).group_by(bucket)

    return _Statements(
        received=received,
        previous=previous,
        claims=claims,
        resolutions=resolutions,
        answers=answers,
        spent=spent,
        approvals=approvals,
        stories=stories,
        due=due,
        open_now=open_now,
        open_then=open_then,
        arrivals=per_bucket(Escalation.escalated_at),
        resolved_per_bucket=per_bucket(Escalation.resolved_at),
    )


def _counted(counts: Mapping[str | None, int]) -> dict[str, int]:
    """Counts by name without the unnamed, most first (then by name)."""
    return dict(sorted(((str(k), n) for k, n in counts.items() if k is not None), key=lambda kv: (-kv[1], kv[0])))


def _risen(kind: str, current: Mapping[str, int], previous: Mapping[str, int]) -> list[Theme]:
    risen = [Theme(kind, name, n, previous.get(name, 0)) for name, n in current.items()]
    risen = [t for t in risen if t.rise > 0]
    risen.sort(key=lambda t: (-t.rise, -t.count, t.name))
    return risen[:THEMES_PER_KIND]


# -- the service ----------------------------------------------------------------------------------------------------
class SummaryService:
    """Builds end-of-shift summaries and the rows behind them. Read-only; safe to run off the GUI thread."""

    def __init__(self, database: Database) -> None:
        self.db = database

    # -- SQL building blocks (for rows(); build() runs _statements) ------------------------------------------------
    def _seconds(self, later: Any, earlier: Any) -> ColumnElement[float]:
        return _seconds(self.db.dialect, later, earlier)

    def _time_to_claim(self) -> ColumnElement[float]:
        return _time_to_claim(self.db.dialect)

    def _claim_within(self, policy: SlaPolicy) -> ColumnElement[bool]:
        return _claim_within(self.db.dialect, _policy_targets(policy))

    def _resolve_within(self, policy: SlaPolicy) -> ColumnElement[bool]:
        return _resolve_within(self.db.dialect, _policy_targets(policy))

    # -- public API ----------------------------------------------------------------------------------------------
    def build(
        self,
        start: datetime,
        end: datetime,
        *,
        supervisor: str | None = None,
        progress: Progress | None = None,
        next_shift: timedelta = DEFAULT_SHIFT_LENGTH,
        now: datetime | None = None,
    ) -> ShiftSummary:
        """The summary of ``[start, end)`` for the floor, or for one supervisor (username).

        ``progress(fraction, text)`` is called as each part is done (from the calling thread). Follow-ups due are
        those scheduled in ``[end, end + next_shift)``. Raises ValidationError for naive times or ``end <= start``,
        NotFound for an unknown supervisor.

        Everything is read in one transaction, so the parts agree with each other (one snapshot of the floor).
        """
        start, end = _aware(start, "from"), _aware(end, "to")
        if end <= start:
            raise ValidationError("The range must end after it starts.", field="to")

        def step(fraction: float, text: str) -> None:
            if progress is not None:
                progress(fraction, text)

        step(0.0, "Reading the floor's SLA targets")
        bucket = flow_bucket_seconds(end - start)
        next_end = end + next_shift
        with startup.no_collections(), self.db.read() as session:
            policy = load_policy(session)
            sup_id = self._supervisor_id(session, supervisor)
            q = _statements(self.db.dialect, _policy_targets(policy), sup_id is not None)
            params = {
                "start": start,
                "end": end,
                "before": start - (end - start),
                "next_end": next_end,
                "size": bucket,
                "sup": sup_id,
            }
            connection = session.connection()  # Core rows: none of the ORM's per-row bookkeeping

            def run(statement: Any) -> Sequence[Any]:
                return connection.execute(statement, params).all()

            step(0.1, "Counting arrivals")
            channels: dict[str | None, int] = defaultdict(int)
            categories: dict[str | None, int] = defaultdict(int)
            products: dict[str | None, int] = defaultdict(int)
            received = 0
            for channel, category, product, n in run(q.received):
                received += n
                channels[channel] += n
                categories[category] += n
                products[product] += n
            by_channel, by_category = _counted(channels), _counted(categories)
            step(0.2, "Measuring claims")
            claims = run(q.claims)
            claimed, claim_ok = len(claims), sum(ok for _t, ok in claims)
            claim_times = [float(t) for t, _ok in claims if t is not None]
            step(0.35, "Measuring resolutions")
            resolutions = run(q.resolutions)
            resolved = len(resolutions)
            resolve_ok = sum(ok for _t, ok, _first in resolutions)
            first_contact = sum(first for _t, _ok, first in resolutions)
            resolution_times = [float(t) for t, _ok, _first in resolutions]
            step(0.5, "Reading follow-up answers")
            csat_n = csat_good = nps_n = promoters = detractors = reopened = 0
            distribution = dict.fromkeys(range(1, 6), 0)
            for score, n, nps, good, bad, unsolved in run(q.answers):
                nps_n, promoters, detractors = nps_n + nps, promoters + good, detractors + bad
                reopened += unsolved
                if score is not None:
                    distribution[int(score)] = n
                    csat_n += n
                    csat_good += n if score >= 4 else 0
            step(0.7, "Adding up goodwill")
            spent_by = {int(a): Decimal(str(total)).quantize(CENT) for a, total in run(q.spent)}
            spent = sum(spent_by.values(), Decimal("0.00")).quantize(CENT)
            decided = dict(run(q.approvals))
            step(0.75, "Finding recurring themes")
            before_categories: dict[str | None, int] = defaultdict(int)
            before_products: dict[str | None, int] = defaultdict(int)
            for category, product, n in run(q.previous):
                before_categories[category] += n
                before_products[product] += n
            themes = (
                *_risen("category", by_category, _counted(before_categories)),
                *_risen("product", _counted(products), _counted(before_products)),
            )
            stories = tuple(StoryItem(*row) for row in run(q.stories))
            due = tuple(FollowUpDue(*row) for row in run(q.due))
            step(0.8, "Listing what is still open")
            # The handover is every case received before ``end`` and open at ``end``: what is carried over.
            handover = self._handover(connection, q, params, end, policy)
            step(0.85, "Counting arrivals and resolutions per hour")
            flow = self._flow(run(q.arrivals), run(q.resolved_per_bucket), start, end, bucket)
            step(0.9, "Reading goodwill budgets")
            # The range is [from, to): its budget period is the one holding its last moment, so a shift ending at
            # 22:00 is judged against the 14:00-22:00 period, not the one starting as it ends.
            floor_goodwill, statuses = budget_statuses(session, end - timedelta(microseconds=1), also=set(spent_by))
            by_associate = self._by_associate(statuses, spent_by)
        mean_resolution = _round(sum(resolution_times) / len(resolution_times)) if resolution_times else None
        summary = ShiftSummary(
            start=start,
            end=end,
            supervisor=supervisor,
            generated_at=now or utcnow(),
            received=received,
            claimed=claimed,
            resolved=resolved,
            reopened=reopened,
            open_carried_over=len(handover),
            time_to_claim_median_s=_round(percentile(claim_times, 0.5)),
            time_to_claim_p90_s=_round(percentile(claim_times, 0.9)),
            resolution_time_median_s=_round(percentile(resolution_times, 0.5)),
            resolution_time_mean_s=mean_resolution,
            sla_claim_compliance=_ratio(claim_ok, claimed),
            sla_resolve_compliance=_ratio(resolve_ok, resolved),
            fcr=_ratio(first_contact, resolved),
            csat=_ratio(csat_good, csat_n),
            csat_n=csat_n,
            nps=100.0 * (promoters - detractors) / nps_n if nps_n else None,
            nps_n=nps_n,
            goodwill_spent=spent,
            currency=floor_goodwill.currency,
            by_channel=by_channel,
            by_category=by_category,
            csat_distribution=distribution,
            approvals_granted=int(decided.get("approved", 0)),
            approvals_declined=int(decided.get("declined", 0)),
            goodwill_by_associate=by_associate,
            themes=themes,
            stories=stories,
            follow_ups_due=due,
            next_shift_end=next_end,
            handover=handover,
            flow=flow,
            flow_bucket_seconds=bucket,
        )
        step(1.0, "Done")
        return summary

    def rows(self, start: datetime, end: datetime, *, supervisor: str | None = None) -> list[EscalationRow]:
        """Every escalation of the range: received, first claimed, resolved or followed up (done) in it; by id."""
        start, end = _aware(start, "from"), _aware(end, "to")
        with self.db.read() as session:
            policy = load_policy(session)
            sup_id = self._supervisor_id(session, supervisor)
            ids = union(
                select(Escalation.id).where(Escalation.escalated_at >= start, Escalation.escalated_at < end),
                select(Escalation.id).where(Escalation.first_claimed_at >= start, Escalation.first_claimed_at < end),
                select(Escalation.id).where(Escalation.resolved_at >= start, Escalation.resolved_at < end),
                select(FollowUp.escalation_id).where(FollowUp.done_at >= start, FollowUp.done_at < end),
            ).subquery()

            def latest(column: Any) -> Any:
                return (
                    select(column)
                    .where(
                        FollowUp.escalation_id == Escalation.id,
                        FollowUp.status == "done",
                        FollowUp.done_at >= start,
                        FollowUp.done_at < end,
                        column.is_not(None),
                    )
                    .order_by(FollowUp.done_at.desc(), FollowUp.id.desc())
                    .limit(1)
                    .correlate(Escalation)
                    .scalar_subquery()
                )

            claimer = aliased(User)
            query = (
                select(
                    Escalation,
                    Customer.name,
                    claimer.username,
                    case((Escalation.first_claimed_at.is_not(None), self._time_to_claim())),
                    case(
                        (
                            Escalation.resolved_at.is_not(None),
                            self._seconds(Escalation.resolved_at, Escalation.escalated_at),
                        )
                    ),
                    case((Escalation.first_claimed_at.is_(None), None), else_=self._claim_within(policy)),
                    case((Escalation.resolved_at.is_(None), None), else_=self._resolve_within(policy)),
                    latest(FollowUp.csat),
                    latest(FollowUp.nps),
                )
                .join(Customer, Customer.id == Escalation.customer_id)
                .outerjoin(claimer, claimer.id == Escalation.claimed_by_id)
                .where(Escalation.id.in_(select(ids.c[0])))
                .order_by(Escalation.id)
            )
            if sup_id is not None:
                query = query.where(Escalation.claimed_by_id == sup_id)
            out = []
            for esc, name, holder, ttc, rt, claim_ok, resolve_ok, csat, nps in session.execute(query):
                out.append(
                    EscalationRow(
                        id=esc.id,
                        ref=esc.external_ref,
                        customer_id=esc.customer_id,
                        customer_name=name,
                        channel=esc.channel,
                        category=esc.category,
                        product=esc.product,
                        severity=esc.severity,
                        status=esc.status,
                        escalated_at=esc.escalated_at,
                        first_claimed_at=esc.first_claimed_at,
                        resolved_at=esc.resolved_at,
                        claimed_by=holder,
                        time_to_claim_s=_round(ttc),
                        resolution_time_s=_round(rt),
                        claim_within_sla=None if claim_ok is None else bool(claim_ok),
                        resolve_within_sla=None if resolve_ok is None else bool(resolve_ok),
                        reopen_count=esc.reopen_count,
                        csat=csat,
                        nps=nps,
                    )
                )
            return out

    # -- parts -----------------------------------------------------------------------------------------------------
    @staticmethod
    def _supervisor_id(session: Session, username: str | None) -> int | None:
        if username is None:
            return None
        user_id = session.scalar(select(User.id).where(User.username == username.strip().lower()))
        if user_id is None:
            raise NotFound(f"There is no supervisor {username!r}.")
        return int(user_id)

    @staticmethod
    def _by_associate(statuses: Sequence[BudgetStatus], spent: Mapping[int, Decimal]) -> tuple[AssociateGoodwill, ...]:
        out = []
        for status in statuses:
            in_range = spent.get(status.associate_id, Decimal("0.00"))
            if in_range == 0 and status.spent == 0:
                continue  # nothing to show for someone who gave nothing this period
            out.append(
                AssociateGoodwill(
                    associate_id=status.associate_id,
                    associate=status.associate,
                    spent_in_range=in_range,
                    period=status.period.value,
                    period_spent=status.spent,
                    allowance=status.available,
                    remaining=status.remaining,
                )
            )
        return tuple(sorted(out, key=lambda g: (-g.spent_in_range, -g.period_spent, g.associate.lower())))

    @staticmethod
    def _handover(
        connection: Connection, q: _Statements, params: Mapping[str, Any], end: datetime, policy: SlaPolicy
    ) -> tuple[HandoverItem, ...]:
        # The SLA clock of each case worked out as console.sla.clock does, with the targets looked up once per
        # severity, in the engine's own datetimes (naive UTC on SQLite); the due time kept is ``end`` plus its
        # distance from ``end``: exact, aware UTC on both engines, five times cheaper than replace(tzinfo=UTC).
        local_end = end.replace(tzinfo=None) if connection.dialect.name == "sqlite" else end
        targets = {sev.value: policy.for_severity(sev) for sev in Severity}
        claim_in = {sev: t.claim for sev, t in targets.items()}
        resolve_in = {sev: t.resolve for sev, t in targets.items()}
        ranks = {sev.value: sev.rank for sev in Severity}
        actions: dict[tuple[str, bool, str | None, str | None], str] = {}
        new, set_attr, seconds = _new, object.__setattr__, timedelta
        keyed: list[tuple[datetime, int, int, HandoverItem]] = []
        append = keyed.append
        for (
            eid, ref, cid, cname, sev, status, text, holder, reason, step, since, queued, unclaimed, held,
        ) in connection.execute(q.open_now, params).all():  # fmt: skip
            # console.sla.clock: claim while unclaimed, then resolve; time on hold (a running hold up to ``end``)
            # pushes the due time back; overdue when it fell due before ``end``.
            due = queued + (claim_in[sev] if unclaimed else resolve_in[sev])
            if held:
                due += seconds(seconds=held)
            on_hold = since is not None
            if on_hold and local_end > since:
                due += local_end - since
            key = (status, on_hold, reason, step)
            act = actions.get(key)
            if act is None:
                act = actions[key] = next_action(status, on_hold, reason, step)
            item = new(HandoverItem)
            set_attr(item, "__dict__", {
                "escalation_id": eid, "ref": ref, "customer_id": cid, "customer_name": cname, "severity": sev,
                "status": status, "summary": text, "claimed_by": holder, "on_hold": on_hold, "hold_reason": reason,
                "workflow_step": step, "next_action": act, "due_target": "claim" if unclaimed else "resolve",
                "due_at": end + (due - local_end), "overdue": due < local_end,
            })  # fmt: skip
            append((due, ranks[sev], eid, item))
        keyed.sort()
        done: list[tuple[int, int, HandoverItem]] = []
        for eid, ref, cid, cname, sev, status, text, holder, reason, step, paused in connection.execute(
            q.open_then, params
        ):
            on_hold = bool(paused)
            item = new(HandoverItem)
            set_attr(item, "__dict__", {
                "escalation_id": eid, "ref": ref, "customer_id": cid, "customer_name": cname, "severity": sev,
                "status": status, "summary": text, "claimed_by": holder, "on_hold": on_hold, "hold_reason": reason,
                "workflow_step": step, "next_action": next_action(status, on_hold, reason, step), "due_target": None,
                "due_at": None, "overdue": False,
            })  # fmt: skip
            done.append((ranks[sev], eid, item))
        done.sort()
        # Heading for a target first, soonest due first; then those resolved or closed since; by severity, then id.
        return tuple([row[3] for row in keyed] + [row[2] for row in done])

    @staticmethod
    def _flow(
        arrived: Sequence[Any], resolved: Sequence[Any], start: datetime, end: datetime, size: int
    ) -> tuple[FlowBucket, ...]:
        count = max(1, math.ceil((end - start).total_seconds() / size))
        arrivals = [0] * count
        resolutions = [0] * count
        for rows, target in ((arrived, arrivals), (resolved, resolutions)):
            for index, n in rows:
                target[min(max(int(index), 0), count - 1)] += int(n)
        return tuple(FlowBucket(start + timedelta(seconds=i * size), arrivals[i], resolutions[i]) for i in range(count))


def describe(summary: ShiftSummary) -> str:
    """The summary as readable text (the CLI's output): "n/a" where there is nothing to measure."""

    def na(value: object, fmt: Callable[[Any], str] = str) -> str:
        return "n/a" if value is None else fmt(value)

    def pct(value: float) -> str:
        return f"{value * 100:.1f} %"

    def dur(seconds: float) -> str:
        from console.sla import format_duration

        return format_duration(timedelta(seconds=seconds))

    who = f" for {summary.supervisor}" if summary.supervisor else " (whole floor)"
    lines = [
        f"Summary {summary.start.isoformat()} to {summary.end.isoformat()}{who}",
        "",
        f"Received        {summary.received}",
        f"Claimed         {summary.claimed}",
        f"Resolved        {summary.resolved}",
        f"Reopened        {summary.reopened}",
        f"Carried over    {summary.open_carried_over} still open",
        "",
        f"Time to claim   median {na(summary.time_to_claim_median_s, dur)}, 90th percentile "
        f"{na(summary.time_to_claim_p90_s, dur)}",
        f"Resolution time median {na(summary.resolution_time_median_s, dur)}, mean "
        f"{na(summary.resolution_time_mean_s, dur)}",
        f"SLA compliance  claim {na(summary.sla_claim_compliance, pct)}, resolve "
        f"{na(summary.sla_resolve_compliance, pct)}",
        f"First-contact resolution {na(summary.fcr, pct)}",
        f"CSAT            {na(summary.csat, pct)} ({summary.csat_n} answers)",
        f"NPS             {na(summary.nps, lambda v: f'{v:+.0f}')} ({summary.nps_n} answers)",
        f"Goodwill spent  {money(summary.goodwill_spent)} {summary.currency}; approvals granted "
        f"{summary.approvals_granted}, declined {summary.approvals_declined}",
    ]
    if summary.by_channel:
        lines.append("By channel      " + ", ".join(f"{k} {v}" for k, v in summary.by_channel.items()))
    if summary.by_category:
        lines.append("By category     " + ", ".join(f"{k} {v}" for k, v in summary.by_category.items()))
    if summary.themes:
        lines.append(
            "Rising themes   " + ", ".join(f"{t.name} ({t.kind}) {t.count} vs {t.previous}" for t in summary.themes)
        )
    if summary.goodwill_by_associate:
        lines += ["", "Goodwill per associate (in range; this period of allowance)"]
        lines += [
            f"  {g.associate}: {money(g.spent_in_range)}; "
            f"{money(g.period_spent)} of {money(g.allowance)} this {g.period}"
            for g in summary.goodwill_by_associate
        ]
    if summary.stories:
        lines += ["", "Stories"]
        lines += [f"  {'★ win' if s.kind == 'win' else '☹ woe'} #{s.escalation_id}: {s.text}" for s in summary.stories]
    if summary.follow_ups_due:
        lines += ["", f"Follow-ups due before {summary.next_shift_end.isoformat() if summary.next_shift_end else ''}"]
        lines += [
            f"  #{f.escalation_id} {f.customer_name}: {f.due_at.isoformat()} by {f.channel or '?'}"
            for f in summary.follow_ups_due
        ]
    lines += ["", f"Handover: {len(summary.handover)} open"]
    for h in summary.handover:
        due = f"{h.due_target} due {h.due_at.isoformat()}{' (overdue)' if h.overdue else ''}" if h.due_at else ""
        holder = h.claimed_by or "unclaimed"
        lines.append(
            f"  #{h.escalation_id} [{h.severity}] {h.customer_name} ({holder}, {h.status}): {h.next_action}; {due}"
        )
    return "\n".join(lines)
