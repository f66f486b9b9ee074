"""Intake: escalations arriving from associates' tools, the command line, imports and the demo simulator."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from console import audit
from console.actor import Actor
from console.changes import record_change
from console.domain import Category, Channel, Severity, Status
from console.errors import ValidationError
from db.engine import Database
from db.models import Associate, Customer, Escalation, Interaction
from db.types import utcnow

MAX_SUMMARY = 500


@dataclass(frozen=True)
class NewEscalation:
    """What an associate hands over when escalating."""

    customer_name: str
    channel: Channel
    category: Category
    severity: Severity
    associate_name: str
    summary: str
    details: str = ""
    customer_ref: str | None = None
    external_ref: str | None = None
    product: str | None = None
    escalated_at: datetime | None = None
    source: str = "console"


def validate(new: NewEscalation) -> None:
    """Refuse what cannot be an escalation, naming the field."""
    if not new.customer_name.strip():
        raise ValidationError("The customer's name is empty.", field="customer")
    if not new.associate_name.strip():
        raise ValidationError("The escalating associate's name is empty.", field="by")
    if not new.summary.strip():
        raise ValidationError("The summary is empty; say in one line what the complaint is.", field="summary")
    if len(new.summary) > MAX_SUMMARY:
        raise ValidationError(
            f"The summary is over {MAX_SUMMARY} characters; put the rest in details.", field="summary"
        )
    # The columns' lengths: PostgreSQL refuses longer values with a driver error (SQLite would keep them), so
    # say which field is too long instead.
    for text, limit, field, what in (
        (new.customer_name.strip(), 200, "customer", "The customer's name"),
        (new.customer_ref or "", 64, "customer_ref", "The customer reference"),
        (new.associate_name.strip(), 128, "by", "The associate's name"),
        (new.external_ref or "", 64, "ref", "The escalation reference"),
        (new.product or "", 200, "product", "The product"),
    ):
        if len(text) > limit:
            raise ValidationError(f"{what} is over {limit} characters.", field=field)
    if new.escalated_at is not None and new.escalated_at.tzinfo is None:
        raise ValidationError("The escalation time needs a time zone.", field="escalated_at")


def find_or_create_customer(session: Session, name: str, ref: str | None) -> Customer:
    """The customer with this reference (or, without one, this exact name), created if new."""
    name = name.strip()
    if ref:
        customer = session.scalar(select(Customer).where(Customer.external_ref == ref))
    else:
        customer = session.scalar(
            select(Customer).where(Customer.name == name, Customer.external_ref.is_(None)).limit(1)
        )
    if customer is None:
        customer = Customer(name=name, external_ref=ref or None, created_at=utcnow())
        session.add(customer)
        session.flush()
    return customer


def find_or_create_associate(session: Session, name: str) -> Associate:
    """The associate with this name, created (without a team) if new."""
    name = name.strip()
    associate = session.scalar(select(Associate).where(Associate.name == name))
    if associate is None:
        associate = Associate(name=name, created_at=utcnow())
        session.add(associate)
        session.flush()
    return associate


def add_escalation(session: Session, actor: Actor | None, new: NewEscalation) -> Escalation:
    """Create one escalation in the caller's transaction (audited, announced to the live feed)."""
    validate(new)
    if new.external_ref and session.scalar(select(Escalation.id).where(Escalation.external_ref == new.external_ref)):
        raise ValidationError(f"An escalation with reference {new.external_ref!r} already exists.", field="ref")
    customer = find_or_create_customer(session, new.customer_name, new.customer_ref)
    associate = find_or_create_associate(session, new.associate_name)
    at = new.escalated_at or utcnow()
    escalation = Escalation(
        external_ref=new.external_ref or None,
        source=new.source,
        customer_id=customer.id,
        associate_id=associate.id,
        channel=new.channel.value,
        category=new.category.value,
        product=new.product,
        severity=new.severity.value,
        summary=new.summary.strip(),
        details=new.details,
        status=Status.OPEN.value,
        created_at=at,
        escalated_at=at,
        queued_at=at,
        updated_at=utcnow(),
    )
    session.add(escalation)
    session.flush()
    session.add(
        Interaction(
            customer_id=customer.id,
            escalation_id=escalation.id,
            channel=new.channel.value,
            direction="inbound",
            occurred_at=at,
            handled_by=associate.name,
            summary=f"Escalated by {associate.name}: {escalation.summary}",
        )
    )
    audit.record(
        session,
        actor,
        "escalation.create",
        "escalation",
        escalation.id,
        after={
            "severity": new.severity,
            "channel": new.channel,
            "category": new.category,
            "customer_id": customer.id,
            "associate": associate.name,
            "source": new.source,
        },
    )
    record_change(session, "escalation", escalation.id)
    return escalation


class IntakeService:
    """Creates escalations, one transaction each."""

    def __init__(self, database: Database) -> None:
        self.db = database

    def escalate(self, actor: Actor | None, new: NewEscalation) -> int:
        """Create an escalation and return its id."""
        with self.db.transaction() as session:
            return add_escalation(session, actor, new).id
