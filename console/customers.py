"""The customer beside the workflow: profile and whole history across channels, so nobody asks them twice.

One read-only session per call and a fixed handful of SELECTs per timeline whatever the history holds (no query
per escalation). The timeline merges the customer's contacts on every channel with the life of each escalation
(escalated, reopened, resolved with its remedies, closed), the follow-ups (done with the customer's scores, and
those still due) and the huddle stories. Money given in a remedy is its own ``remedy`` entry; a goodwill ledger
will add ``goodwill`` entries in the same shape (see :meth:`CustomerService._goodwill_entries`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session, aliased

from console.domain import QUEUE_STATUSES, Category, Channel, Severity, Tier
from console.errors import NotFound
from console.queue import CHURN_RISK_THRESHOLD, HIGH_VALUE_THRESHOLD
from console.workflow import Remedy, Response, Step
from db.engine import Database
from db.models import Associate, AuditEvent, Customer, Escalation, FollowUp, Interaction, Story, User, WorkflowStep
from db.types import utcnow

# Month names in English whatever the process locale, as the rest of the console writes them.
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MEDIUM_CHURN_RISK = 0.3
RESOLVE_ACTION = "escalation.resolve"  # the workflow's audit action; each one holds that resolution's remedies

# Text markers, so that an entry reads the same to a screen reader, in a screenshot and to a colour-blind eye.
INBOUND_MARKER = "←"
OUTBOUND_MARKER = "→"
ESCALATED_MARKER = "⚠"
REOPENED_MARKER = "↻"
RESOLVED_MARKER = "✔"
CLOSED_MARKER = "☑"
REMEDY_MARKER = "◆"
FOLLOW_UP_DONE_MARKER = "☎"
FOLLOW_UP_DUE_MARKER = "◷"
WIN_MARKER = "★"
WOE_MARKER = "☹"
CHURN_MARKER = "⚠"


class EntryKind(StrEnum):
    """What a timeline entry records. A plain string too, so ``entry.kind == "remedy"`` reads naturally."""

    CONTACT = "contact"
    ESCALATED = "escalated"
    REOPENED = "reopened"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REMEDY = "remedy"
    GOODWILL = "goodwill"  # a gesture from the goodwill ledger, once there is one
    FOLLOW_UP = "follow_up"
    STORY = "story"

    @property
    def label(self) -> str:
        """The kind as a supervisor would say it."""
        return "Follow-up" if self is EntryKind.FOLLOW_UP else self.value.capitalize()


# When two entries share a moment, the one that comes first in a case's life counts as the older.
_KIND_ORDER: dict[EntryKind, int] = {
    EntryKind.CONTACT: 0,
    EntryKind.ESCALATED: 1,
    EntryKind.RESOLVED: 2,
    EntryKind.REMEDY: 3,
    EntryKind.GOODWILL: 4,
    # A follow-up's verdict reopens or closes the case in the same moment: the verdict comes first.
    EntryKind.FOLLOW_UP: 5,
    EntryKind.REOPENED: 6,
    EntryKind.CLOSED: 7,
    EntryKind.STORY: 8,
}


@dataclass(frozen=True)
class CustomerProfile:
    """Who the customer is and what they are worth to us, with a count of their escalations."""

    id: int
    ref: str | None
    name: str
    email: str | None
    phone: str | None
    tier: Tier
    lifetime_value: Decimal
    churn_risk: float
    contact_consent: bool
    churned_at: datetime | None
    customer_since: datetime
    open_escalations: int
    total_escalations: int
    last_contact: datetime | None

    @property
    def churn_level(self) -> str:
        """``high`` (flagged as likely to leave, as the queue flags it), ``medium`` or ``low``."""
        if self.churn_risk >= CHURN_RISK_THRESHOLD:
            return "high"
        return "medium" if self.churn_risk >= MEDIUM_CHURN_RISK else "low"

    @property
    def churn_flagged(self) -> bool:
        """Likely to leave: worth a larger concession."""
        return self.churn_risk >= CHURN_RISK_THRESHOLD

    @property
    def high_value(self) -> bool:
        """A lifetime value that makes a concession cheap next to losing them."""
        return self.lifetime_value >= HIGH_VALUE_THRESHOLD


@dataclass(frozen=True)
class TimelineEntry:
    """One thing in the customer's history. ``at`` is aware UTC; ``amount`` is set on remedy/goodwill entries."""

    at: datetime
    kind: EntryKind
    channel: Channel | None
    title: str
    detail: str
    escalation_id: int | None
    marker: str
    by: str | None = None
    amount: Decimal | None = None


# -- formatting ---------------------------------------------------------------------------------------------------
def local_time(at: datetime, zone: tzinfo | None = None) -> datetime:
    """``at`` in ``zone``, or in the computer's own time zone when ``zone`` is None."""
    return at.astimezone(zone) if zone is not None else at.astimezone()


def format_moment(at: datetime, zone: tzinfo | None = None) -> str:
    """A date and time in local time, e.g. ``12 May 2025 14:02``."""
    local = local_time(at, zone)
    return f"{local.day} {MONTHS[local.month - 1]} {local.year} {local:%H:%M}"


def format_day(at: datetime, zone: tzinfo | None = None, now: datetime | None = None) -> str:
    """A day in local time, e.g. ``12 May``; with the year when it is not this year's."""
    local = local_time(at, zone)
    this_year = local_time(now or utcnow(), zone).year
    day = f"{local.day} {MONTHS[local.month - 1]}"
    return day if local.year == this_year else f"{day} {local.year}"


def format_money(amount: Decimal) -> str:
    """An amount with thousands separators and two decimals, e.g. ``12,345.60``."""
    return f"{amount:,.2f}"


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _promised(value: Any) -> str:
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _channel(value: str | None) -> Channel | None:
    try:
        return Channel(value) if value else None
    except ValueError:
        return None


def _label(kind: type[Severity] | type[Category], value: str) -> str:
    try:
        return kind(value).label
    except ValueError:
        return value


def _amount(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return None


def _remedy_label(remedy: Mapping[str, Any]) -> str:
    try:
        return Remedy(str(remedy.get("type"))).value.capitalize()
    except ValueError:
        return str(remedy.get("type") or "Remedy").capitalize()


def describe_remedies(remedies: Sequence[Mapping[str, Any]]) -> str:
    """Remedies in a few words, e.g. ``refund 25.00, explanation``."""
    parts = []
    for remedy in remedies:
        amount = _amount(remedy.get("amount"))
        words = _remedy_label(remedy).lower()
        parts.append(f"{words} {format_money(amount)}" if amount is not None else words)
    return ", ".join(parts)


# -- the service --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Case:
    """The parts of an escalation the timeline needs (read once, used by several entries)."""

    id: int
    channel: Channel | None
    severity: str
    category: str
    product: str | None
    summary: str
    outcome: str | None
    escalated_at: datetime
    queued_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    reopen_count: int
    associate: str | None
    resolver: str | None

    def intake_record(self, contact: Interaction) -> bool:
        """Whether a contact is this escalation's own intake record (shown as the escalation, not twice)."""
        return (
            contact.escalation_id == self.id
            and contact.occurred_at == self.escalated_at
            and _channel(contact.channel) == self.channel
        )


@dataclass(frozen=True)
class _Resolution:
    at: datetime
    remedies: list[dict[str, Any]]
    by: str | None
    response: str | None


class CustomerService:
    """Read-only views of a customer for the customer panel and the workflow's Gather step."""

    def __init__(self, database: Database, *, zone: tzinfo | None = None) -> None:
        """``zone`` is the time zone dates are written in for people (None: the computer's own)."""
        self.db = database
        self.zone = zone

    # -- profile ------------------------------------------------------------------------------------------------
    def profile(self, customer_id: int) -> CustomerProfile:
        """The customer's details and escalation counts. NotFound for an unknown id."""
        owned = Escalation.customer_id == customer_id
        open_count = select(func.count(Escalation.id)).where(owned, Escalation.status.in_(QUEUE_STATUSES))
        total = select(func.count(Escalation.id)).where(owned)
        last_interaction = select(func.max(Interaction.occurred_at)).where(Interaction.customer_id == customer_id)
        last_escalated = select(func.max(Escalation.escalated_at)).where(owned)
        last_follow_up = (
            select(func.max(FollowUp.done_at)).join(Escalation, Escalation.id == FollowUp.escalation_id).where(owned)
        )
        with self.db.read() as session:
            row = session.execute(
                select(
                    Customer,
                    open_count.scalar_subquery(),
                    total.scalar_subquery(),
                    last_interaction.scalar_subquery(),
                    last_escalated.scalar_subquery(),
                    last_follow_up.scalar_subquery(),
                ).where(Customer.id == customer_id)
            ).one_or_none()
        if row is None:
            raise NotFound(f"There is no customer #{customer_id}.")
        customer: Customer = row[0]
        contacts = [moment for moment in row[3:] if moment is not None]
        return CustomerProfile(
            id=customer.id,
            ref=customer.external_ref,
            name=customer.name,
            email=customer.email,
            phone=customer.phone,
            tier=Tier(customer.tier),
            lifetime_value=customer.lifetime_value,
            churn_risk=float(customer.churn_risk),
            contact_consent=bool(customer.contact_consent),
            churned_at=customer.churned_at,
            customer_since=customer.created_at,
            open_escalations=int(row[1] or 0),
            total_escalations=int(row[2] or 0),
            last_contact=max(contacts) if contacts else None,
        )

    def for_escalation(self, escalation_id: int) -> int:
        """The customer an escalation is about. NotFound for an unknown escalation."""
        with self.db.read() as session:
            customer_id = session.scalar(select(Escalation.customer_id).where(Escalation.id == escalation_id))
        if customer_id is None:
            raise NotFound(f"There is no escalation #{escalation_id}.")
        return customer_id

    # -- timeline -----------------------------------------------------------------------------------------------
    def timeline(self, customer_id: int, limit: int = 200) -> list[TimelineEntry]:
        """The customer's history on every channel, newest first, at most ``limit`` entries."""
        if limit <= 0:
            return []
        with self.db.read() as session:
            self._require_customer(session, customer_id)
            cases = self._cases(session, customer_id)
            # Each case folds at most one contact (its intake record) into itself: fetch that many more, so the
            # newest ``limit`` entries are complete.
            contacts = self._contacts(session, customer_id, limit + len(cases))
            entries = self._contact_entries(contacts, cases)
            if cases:
                proposals = self._proposals(session, customer_id)
                resolutions = self._resolutions(session, customer_id)
                follow_ups = list(
                    session.scalars(
                        select(FollowUp)
                        .join(Escalation, Escalation.id == FollowUp.escalation_id)
                        .where(Escalation.customer_id == customer_id)
                        .order_by(FollowUp.id)
                    )
                )
                stories = session.execute(
                    select(Story, User.display_name)
                    .join(Escalation, Escalation.id == Story.escalation_id)
                    .outerjoin(User, User.id == Story.author_id)
                    .where(Escalation.customer_id == customer_id)
                ).all()
                follow_ups_by_case: dict[int, list[FollowUp]] = {}
                for follow_up in follow_ups:
                    follow_ups_by_case.setdefault(follow_up.escalation_id, []).append(follow_up)
                for case in cases.values():
                    entries.extend(
                        self._case_entries(
                            case,
                            proposals.get(case.id, {}),
                            resolutions.get(case.id, []),
                            follow_ups_by_case.get(case.id, []),
                        )
                    )
                entries.extend(self._follow_up_entries(follow_ups))
                entries.extend(self._story_entries(stories))
            entries.extend(self._goodwill_entries(session, customer_id))
        entries.sort(key=lambda e: (e.at, _KIND_ORDER[e.kind], e.escalation_id or 0, e.title), reverse=True)
        return entries[:limit]

    def history_hint(self, customer_id: int, limit: int = 6) -> str:
        """Earlier contacts in one line for the Gather step's "what was already tried and by whom", oldest first.

        E.g. ``12 May, phone: asked about the invoice (Grace Mwale); 14 May, chat: promised a call-back (Ama
        Boateng)``. Escalations' own intake records are left out (the escalation says that already). An empty
        string when there were no earlier contacts.
        """
        if limit <= 0:
            return ""
        with self.db.read() as session:
            self._require_customer(session, customer_id)
            cases = self._cases(session, customer_id)
            contacts = self._contacts(session, customer_id, limit + len(cases))
        chosen = [c for c in contacts if not self._is_intake(c, cases)][:limit]
        now = utcnow()
        parts = []
        for contact in reversed(chosen):
            channel = _channel(contact.channel)
            where = channel.label.lower() if channel is not None else contact.channel
            if contact.direction == "outbound":
                where += ", outbound"
            text = (
                f"{format_day(contact.occurred_at, self.zone, now)}, {where}: {_one_line(contact.summary).rstrip('.')}"
            )
            if contact.handled_by:
                text += f" ({contact.handled_by})"
            parts.append(text)
        return "; ".join(parts)

    # -- queries --------------------------------------------------------------------------------------------------
    @staticmethod
    def _require_customer(session: Session, customer_id: int) -> None:
        if session.scalar(select(Customer.id).where(Customer.id == customer_id)) is None:
            raise NotFound(f"There is no customer #{customer_id}.")

    @staticmethod
    def _cases(session: Session, customer_id: int) -> dict[int, _Case]:
        resolver = aliased(User)
        rows = session.execute(
            select(Escalation, Associate.name, resolver.display_name)
            .outerjoin(Associate, Associate.id == Escalation.associate_id)
            .outerjoin(resolver, resolver.id == Escalation.claimed_by_id)
            .where(Escalation.customer_id == customer_id)
            .order_by(Escalation.id)
        ).all()
        cases: dict[int, _Case] = {}
        for esc, associate, claimer in rows:
            cases[esc.id] = _Case(
                id=esc.id,
                channel=_channel(esc.channel),
                severity=esc.severity,
                category=esc.category,
                product=esc.product,
                summary=esc.summary,
                outcome=esc.outcome,
                escalated_at=esc.escalated_at,
                queued_at=esc.queued_at,
                resolved_at=esc.resolved_at,
                closed_at=esc.closed_at,
                reopen_count=esc.reopen_count,
                associate=associate,
                resolver=claimer,
            )
        return cases

    @staticmethod
    def _contacts(session: Session, customer_id: int, limit: int) -> list[Interaction]:
        return list(
            session.scalars(
                select(Interaction)
                .where(Interaction.customer_id == customer_id)
                .order_by(Interaction.occurred_at.desc(), Interaction.id.desc())
                .limit(limit)
            )
        )

    @staticmethod
    def _proposals(session: Session, customer_id: int) -> dict[int, dict[str, Any]]:
        rows = session.execute(
            select(WorkflowStep.escalation_id, WorkflowStep.fields)
            .join(Escalation, Escalation.id == WorkflowStep.escalation_id)
            .where(Escalation.customer_id == customer_id, WorkflowStep.step == Step.PROPOSE.value)
        ).all()
        return {escalation_id: dict(fields or {}) for escalation_id, fields in rows}

    @staticmethod
    def _resolutions(session: Session, customer_id: int) -> dict[int, list[_Resolution]]:
        """Every resolution the workflow recorded, with the remedies of that moment (a reopened case's earlier
        proposal is overwritten in its step, but not in the audit log)."""
        ids = select(cast(Escalation.id, String)).where(Escalation.customer_id == customer_id)
        rows = session.execute(
            select(AuditEvent.entity_id, AuditEvent.at, AuditEvent.after, User.display_name)
            .outerjoin(User, User.id == AuditEvent.actor_id)
            .where(
                AuditEvent.entity == "escalation",
                AuditEvent.action == RESOLVE_ACTION,
                AuditEvent.entity_id.in_(ids),
            )
            .order_by(AuditEvent.at)
        ).all()
        found: dict[int, list[_Resolution]] = {}
        for entity_id, at, after, by in rows:
            raw = (after or {}).get("remedies") or []
            remedies = [dict(r) for r in raw if isinstance(r, Mapping)]
            found.setdefault(int(entity_id), []).append(_Resolution(at, remedies, by, None))
        return found

    def _goodwill_entries(self, session: Session, customer_id: int) -> Iterable[TimelineEntry]:
        """Goodwill gestures the customer received outside a proposal. There is no goodwill ledger yet; when there
        is, its grants become ``EntryKind.GOODWILL`` entries here (marker ``REMEDY_MARKER``, ``amount`` set,
        ``by`` the associate who gave it), read in one more SELECT."""
        del session, customer_id
        return ()

    # -- entries --------------------------------------------------------------------------------------------------
    @staticmethod
    def _is_intake(contact: Interaction, cases: Mapping[int, _Case]) -> bool:
        case = cases.get(contact.escalation_id) if contact.escalation_id is not None else None
        return case is not None and case.intake_record(contact)

    def _contact_entries(self, contacts: Sequence[Interaction], cases: Mapping[int, _Case]) -> list[TimelineEntry]:
        entries = []
        for contact in contacts:
            if self._is_intake(contact, cases):
                continue
            inbound = contact.direction != "outbound"
            parts = ["The customer contacted us" if inbound else "We contacted the customer"]
            if contact.handled_by:
                parts.append(f"handled by {contact.handled_by}")
            if contact.escalation_id is not None:
                parts.append(f"about #{contact.escalation_id}")
            entries.append(
                TimelineEntry(
                    at=contact.occurred_at,
                    kind=EntryKind.CONTACT,
                    channel=_channel(contact.channel),
                    title=_one_line(contact.summary),
                    detail=" · ".join(parts),
                    escalation_id=contact.escalation_id,
                    marker=INBOUND_MARKER if inbound else OUTBOUND_MARKER,
                    by=contact.handled_by,
                )
            )
        return entries

    def _case_entries(
        self,
        case: _Case,
        proposal: Mapping[str, Any],
        audited: Sequence[_Resolution],
        follow_ups: Sequence[FollowUp],
    ) -> list[TimelineEntry]:
        about = [f"{_label(Severity, case.severity)} severity", _label(Category, case.category)]
        if case.product:
            about.append(case.product)
        if case.associate:
            about.append(f"escalated by {case.associate}")
        entries = [
            TimelineEntry(
                at=case.escalated_at,
                kind=EntryKind.ESCALATED,
                channel=case.channel,
                title=f"Escalated #{case.id}: {_one_line(case.summary)}",
                detail=" · ".join(about),
                escalation_id=case.id,
                marker=ESCALATED_MARKER,
                by=case.associate,
            )
        ]
        entries.extend(self._reopen_entries(case, follow_ups))
        response = str(proposal.get("response") or "") or None
        resolutions = list(audited)
        if resolutions:
            # The latest resolution is the one the proposal step still holds: it knows the customer's response.
            latest = resolutions[-1]
            resolutions[-1] = _Resolution(latest.at, latest.remedies, latest.by, response)
        elif case.resolved_at is not None:  # resolved outside the workflow (the demo floor, an import)
            remedies = [dict(r) for r in proposal.get("remedies") or [] if isinstance(r, Mapping)]
            resolutions = [_Resolution(case.resolved_at, remedies, case.resolver, response)]
        for resolution in resolutions:
            entries.extend(self._resolution_entries(case, resolution, proposal))
        if case.closed_at is not None:
            entries.append(self._closed_entry(case, follow_ups))
        return entries

    @staticmethod
    def _reopen_entries(case: _Case, follow_ups: Sequence[FollowUp]) -> list[TimelineEntry]:
        entries = []
        for follow_up in follow_ups:
            if follow_up.status == "done" and follow_up.solved is False and follow_up.done_at is not None:
                comment = _one_line(follow_up.comment)
                entries.append(
                    TimelineEntry(
                        at=follow_up.done_at,
                        kind=EntryKind.REOPENED,
                        channel=_channel(follow_up.channel),
                        title=f"Reopened #{case.id}" + (f": {comment}" if comment else ""),
                        detail="The follow-up found the problem not solved; the case went back to the queue.",
                        escalation_id=case.id,
                        marker=REOPENED_MARKER,
                    )
                )
        # Reopened outside the workflow (the demo floor, an import): its last return to the queue is all we know.
        if case.reopen_count > len(entries) and case.queued_at > case.escalated_at:
            entries.append(
                TimelineEntry(
                    at=case.queued_at,
                    kind=EntryKind.REOPENED,
                    channel=None,
                    title=f"Reopened #{case.id}",
                    detail=f"Back in the queue after its resolution (reopened {case.reopen_count}×).",
                    escalation_id=case.id,
                    marker=REOPENED_MARKER,
                )
            )
        return entries

    @staticmethod
    def _resolution_entries(case: _Case, resolution: _Resolution, proposal: Mapping[str, Any]) -> list[TimelineEntry]:
        remedies = resolution.remedies
        what = _one_line(case.outcome) if case.outcome and not remedies else describe_remedies(remedies)
        lines = []
        for remedy in remedies:
            amount = _amount(remedy.get("amount"))
            line = _remedy_label(remedy) + (f" {format_money(amount)}" if amount is not None else "")
            note = _one_line(str(remedy.get("note") or ""))
            lines.append(f"{line}: {note}" if note else line)
        if resolution.response:
            lines.append(f"customer {resolution.response}")
        if resolution.response and proposal.get("promised_date"):
            lines.append(f"promised by {_promised(proposal['promised_date'])}")
        if case.outcome and remedies:
            lines.append(f"Outcome: {_one_line(case.outcome)}")
        if resolution.by:
            lines.append(f"resolved by {resolution.by}")
        entries = [
            TimelineEntry(
                at=resolution.at,
                kind=EntryKind.RESOLVED,
                channel=case.channel,
                title=f"Resolved #{case.id}" + (f": {what}" if what else ""),
                detail=_capitalised(" · ".join(lines)),
                escalation_id=case.id,
                marker=RESOLVED_MARKER,
                by=resolution.by,
            )
        ]
        if resolution.response == Response.DECLINED.value:
            return entries  # nothing was given
        for remedy in remedies:
            amount = _amount(remedy.get("amount"))
            if amount is None:
                continue  # a remedy without money (a replacement, an explanation) is told in the resolution
            note = _one_line(str(remedy.get("note") or ""))
            detail = f"Given in resolving #{case.id}" + (
                f"; customer {resolution.response}" if resolution.response else ""
            )
            entries.append(
                TimelineEntry(
                    at=resolution.at,
                    kind=EntryKind.REMEDY,
                    channel=None,
                    title=f"{_remedy_label(remedy)} {format_money(amount)}" + (f": {note}" if note else ""),
                    detail=detail + ".",
                    escalation_id=case.id,
                    marker=REMEDY_MARKER,
                    by=resolution.by,
                    amount=amount,
                )
            )
        return entries

    @staticmethod
    def _closed_entry(case: _Case, follow_ups: Sequence[FollowUp]) -> TimelineEntry:
        assert case.closed_at is not None
        detail = "Closed."
        not_needed = [f for f in follow_ups if f.status == "not_needed" and f.reason]
        solved = [f for f in follow_ups if f.status == "done" and f.solved]
        if solved:
            detail = "Closed after a follow-up confirmed the problem solved."
        elif not_needed:
            detail = f"Closed without a follow-up: {_one_line(not_needed[-1].reason)}"
        elif case.outcome:
            detail = f"Closed. Outcome: {_one_line(case.outcome)}"
        return TimelineEntry(
            at=case.closed_at,
            kind=EntryKind.CLOSED,
            channel=None,
            title=f"Closed #{case.id}",
            detail=detail,
            escalation_id=case.id,
            marker=CLOSED_MARKER,
        )

    @staticmethod
    def _follow_up_entries(follow_ups: Sequence[FollowUp]) -> list[TimelineEntry]:
        entries = []
        for follow_up in follow_ups:
            channel = _channel(follow_up.channel)
            if follow_up.status == "done" and follow_up.done_at is not None:
                scores = []
                if follow_up.csat is not None:
                    scores.append(f"CSAT {follow_up.csat}/5")
                if follow_up.nps is not None:
                    scores.append(f"NPS {follow_up.nps}/10")
                verdict = "solved" if follow_up.solved else "not solved"
                comment = _one_line(follow_up.comment)
                entries.append(
                    TimelineEntry(
                        at=follow_up.done_at,
                        kind=EntryKind.FOLLOW_UP,
                        channel=channel,
                        title=" · ".join([f"Follow-up on #{follow_up.escalation_id}: {verdict}", *scores]),
                        detail=f"The customer said: “{comment}”" if comment else "No comment from the customer.",
                        escalation_id=follow_up.escalation_id,
                        marker=FOLLOW_UP_DONE_MARKER,
                    )
                )
            elif follow_up.status == "scheduled" and follow_up.due_at is not None:
                how = f" by {channel.label.lower()}" if channel is not None else ""
                entries.append(
                    TimelineEntry(
                        at=follow_up.due_at,
                        kind=EntryKind.FOLLOW_UP,
                        channel=channel,
                        title=f"Follow-up due{how} on #{follow_up.escalation_id}",
                        detail="Promised to the customer: check back that the remedy worked.",
                        escalation_id=follow_up.escalation_id,
                        marker=FOLLOW_UP_DUE_MARKER,
                    )
                )
        return entries

    @staticmethod
    def _story_entries(stories: Iterable[Any]) -> list[TimelineEntry]:
        entries = []
        for story, author in stories:
            win = story.kind == "win"
            entries.append(
                TimelineEntry(
                    at=story.created_at,
                    kind=EntryKind.STORY,
                    channel=None,
                    title=f"{'Win' if win else 'Woe'}: {_one_line(story.text)}",
                    detail=f"Shared at the shift huddle about #{story.escalation_id}"
                    + (f" by {author}." if author else "."),
                    escalation_id=story.escalation_id,
                    marker=WIN_MARKER if win else WOE_MARKER,
                    by=author,
                )
            )
        return entries
