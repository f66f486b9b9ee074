"""Typed SQLAlchemy 2.x models. Every schema change goes through an Alembic migration in db/migrations."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from db.types import Money, UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY; BigInteger elsewhere.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base carrying the naming convention, so constraints have stable names for migrations."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class User(Base):
    """A person who signs in: a supervisor or a manager."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_failed_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The largest goodwill gesture this person may approve; None takes the floor's default for supervisors.
    # Set by a manager; managers may approve up to the floor's ceiling.
    approval_limit: Mapped[Decimal | None] = mapped_column(Money())

    __table_args__ = (CheckConstraint("role IN ('supervisor', 'manager')", name="role"),)


class Team(Base):
    """A team of associates."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)


class Associate(Base):
    """Frontline staff who handle simple complaints and escalate the rest."""

    __tablename__ = "associates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    team: Mapped[Team | None] = relationship()


class Customer(Base):
    """A customer, with what a supervisor needs to weigh a concession."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_ref: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    tier: Mapped[str] = mapped_column(String(16), default="standard", server_default="standard")
    lifetime_value: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"), server_default="0")
    churn_risk: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    contact_consent: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    churned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        CheckConstraint("churn_risk >= 0 AND churn_risk <= 1", name="churn_risk_range"),
        CheckConstraint("lifetime_value >= 0", name="lifetime_value_nonnegative"),
    )


class Escalation(Base):
    """A complaint an associate could not resolve, handed to a supervisor."""

    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_ref: Mapped[str | None] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(32), default="console", server_default="console")
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    associate_id: Mapped[int | None] = mapped_column(ForeignKey("associates.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(32))
    product: Mapped[str | None] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(String(500))
    details: Mapped[str] = mapped_column(Text, default="", server_default="")
    status: Mapped[str] = mapped_column(String(16), default="open", server_default="open")
    outcome: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    escalated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # When it (re-)entered the queue: SLA clocks run from here, so a reopened case gets fresh targets.
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    held_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hold_reason: Mapped[str | None] = mapped_column(String(200))
    held_seconds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reopen_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The resolution workflow's current step (listen, gather, apologize, propose, follow_up); None before it starts.
    workflow_step: Mapped[str | None] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    customer: Mapped[Customer] = relationship()
    associate: Mapped[Associate | None] = relationship()
    claimed_by: Mapped[User | None] = relationship()

    __table_args__ = (
        CheckConstraint("status IN ('open', 'claimed', 'reopened', 'resolved', 'closed')", name="status"),
        CheckConstraint("severity IN ('critical', 'high', 'normal', 'low')", name="severity"),
        CheckConstraint("held_seconds >= 0", name="held_seconds_nonnegative"),
        Index("ix_escalations_status_escalated_at", "status", "escalated_at"),
    )


class HoldPeriod(Base):
    """A span during which an escalation waited on the customer or a third party; SLA clocks pause."""

    __tablename__ = "hold_periods"

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(200))
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class CaseNote(Base):
    """A note on an escalation: a reassignment hand-off, a hold reason, a supervisor's remark."""

    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Interaction(Base):
    """One contact with a customer on any channel, for the customer's history."""

    __tablename__ = "interactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    escalation_id: Mapped[int | None] = mapped_column(ForeignKey("escalations.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(8), default="inbound", server_default="inbound")
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    handled_by: Mapped[str | None] = mapped_column(String(128))
    summary: Mapped[str] = mapped_column(Text)

    __table_args__ = (CheckConstraint("direction IN ('inbound', 'outbound')", name="direction"),)


class SlaPolicy(Base):
    """Targets per severity for time to claim and time to resolve, editable by a manager."""

    __tablename__ = "sla_policies"

    severity: Mapped[str] = mapped_column(String(16), primary_key=True)
    claim_minutes: Mapped[int] = mapped_column(Integer)
    resolve_minutes: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (CheckConstraint("claim_minutes > 0 AND resolve_minutes > 0", name="targets_positive"),)


class Setting(Base):
    """A floor-wide setting shared by every console (e.g. the pre-breach alert threshold)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(500))


class AuditEvent(Base):
    """Who did what to which record, when, with a short before/after. Written, never updated or deleted."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_audit_events_entity", "entity", "entity_id"),)


class Change(Base):
    """The change log the live feed reads: one row per changed record, written in the changing transaction.

    Rows are pruned after a day; the audit log, not this table, is the record of history.
    """

    __tablename__ = "changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class WorkflowStep(Base):
    """One of the five steps of handling an escalation: when it started and ended, and what was captured.

    ``revision`` increases with every save; a save based on an older revision is refused, so two supervisors
    never silently overwrite each other.
    """

    __tablename__ = "workflow_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id"), index=True)
    step: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (
        UniqueConstraint("escalation_id", "step", name="uq_workflow_steps_escalation_step"),
        CheckConstraint("step IN ('listen', 'gather', 'apologize', 'propose', 'follow_up')", name="step"),
    )


class FollowUp(Base):
    """A promised contact after the remedy: scheduled, done (with the customer's scores) or not needed."""

    __tablename__ = "follow_ups"

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    channel: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(500))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    csat: Mapped[int | None] = mapped_column(Integer)
    nps: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    solved: Mapped[bool | None] = mapped_column(Boolean)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        CheckConstraint("status IN ('scheduled', 'done', 'not_needed')", name="status"),
        CheckConstraint("csat IS NULL OR (csat >= 1 AND csat <= 5)", name="csat_range"),
        CheckConstraint("nps IS NULL OR (nps >= 0 AND nps <= 10)", name="nps_range"),
        # The Follow-ups tab reads the scheduled ones due soon: a range in this index, not a scan of the history.
        Index("ix_follow_ups_status_due_at", "status", "due_at"),
    )


class Story(Base):
    """An escalation marked for the shift huddle: a win or a woe, in one line."""

    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(String(300))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    __table_args__ = (CheckConstraint("kind IN ('win', 'woe')", name="kind"),)


class GoodwillBudget(Base):
    """A goodwill allowance: the floor's default, a team's default, or one associate's own (the most specific wins).

    ``scope_key`` is ``floor``, ``team:<id>`` or ``associate:<id>``, so each scope has at most one budget.
    """

    __tablename__ = "goodwill_budgets"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope_key: Mapped[str] = mapped_column(String(40), unique=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    associate_id: Mapped[int | None] = mapped_column(ForeignKey("associates.id"))
    period: Mapped[str] = mapped_column(String(8))
    allowance: Mapped[Decimal] = mapped_column(Money())
    cap: Mapped[Decimal] = mapped_column(Money())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (
        CheckConstraint("period IN ('shift', 'week', 'month')", name="period"),
        CheckConstraint("allowance >= 0", name="allowance_nonnegative"),
        CheckConstraint("cap > 0", name="cap_positive"),
        CheckConstraint("team_id IS NULL OR associate_id IS NULL", name="one_scope"),
    )


class GoodwillRequest(Base):
    """A gesture over the associate's cap or remaining budget, waiting for (or given) a supervisor's decision."""

    __tablename__ = "goodwill_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    associate_id: Mapped[int] = mapped_column(ForeignKey("associates.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    escalation_id: Mapped[int | None] = mapped_column(ForeignKey("escalations.id"), index=True)
    gesture_type: Mapped[str] = mapped_column(String(24))
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3))
    reason_code: Mapped[str] = mapped_column(String(24))
    reason_text: Mapped[str | None] = mapped_column(String(500))
    # Why it needs a decision, in words: "over the 25.00 cap per gesture", "8.00 left this week".
    needs_approval_because: Mapped[str] = mapped_column(String(200))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status: Mapped[str] = mapped_column(String(12), default="pending", server_default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_reason: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'declined')", name="status"),
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_goodwill_requests_status_requested_at", "status", "requested_at"),
    )


class GoodwillEntry(Base):
    """One line of the goodwill ledger: a gesture, a reversal of one, or a manager's budget adjustment.

    Append-only: the database refuses UPDATE and DELETE (triggers in migration 0003). A correction is a reversal
    entry pointing at the original, with the opposite amount, counted in the original's period.
    """

    __tablename__ = "goodwill_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(12))
    associate_id: Mapped[int] = mapped_column(ForeignKey("associates.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    escalation_id: Mapped[int | None] = mapped_column(ForeignKey("escalations.id"), index=True)
    gesture_type: Mapped[str | None] = mapped_column(String(24))
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3))
    reason_code: Mapped[str] = mapped_column(String(24))
    reason_text: Mapped[str | None] = mapped_column(String(500))
    # The moment it counts at: a gesture when given (or requested, if approved later), a reversal its original's.
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("goodwill_requests.id"), unique=True)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("goodwill_entries.id"), unique=True)

    __table_args__ = (
        CheckConstraint("kind IN ('gesture', 'reversal', 'adjustment')", name="kind"),
        CheckConstraint(
            "(kind = 'gesture' AND amount > 0 AND reverses_id IS NULL)"
            " OR (kind = 'reversal' AND amount < 0 AND reverses_id IS NOT NULL)"
            " OR (kind = 'adjustment' AND amount <> 0 AND reverses_id IS NULL)",
            name="amount_sign",
        ),
        Index("ix_goodwill_entries_associate_effective_at", "associate_id", "effective_at"),
    )


# The summary's claim measures select on the first claim's time; the benchmark floor has a million escalations.
Index("ix_escalations_first_claimed_at", Escalation.first_claimed_at)


class Shift(Base):
    """A supervisor's shift: from sign-in (or "Start shift") to "End shift", with the handover left for the next.

    ``summary`` is the end-of-shift summary as saved at the end (``ShiftSummary.as_dict()``: the JSON measures),
    so a past shift shows the numbers its supervisor handed over even if later work changes them.
    """

    __tablename__ = "shifts"

    id: Mapped[int] = mapped_column(primary_key=True)
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    handover_note: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    supervisor: Mapped[User] = relationship()

    __table_args__ = (CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ends_after_start"),)


class ShiftAcknowledgement(Base):
    """A supervisor has read a shift's handover (so it is not shown to them first again)."""

    __tablename__ = "shift_acknowledgements"

    id: Mapped[int] = mapped_column(primary_key=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("shifts.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    acknowledged_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("shift_id", "user_id", name="uq_shift_acknowledgements_shift_user"),)
