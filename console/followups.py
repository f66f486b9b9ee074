"""Follow-ups the floor owes its customers: what is due, soon or already late."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import aliased

from console.domain import Channel
from db.engine import Database
from db.models import Customer, Escalation, FollowUp, User
from db.types import utcnow

# A follow-up is due at its time and overdue once this much later (the customer was promised a contact then).
OVERDUE_AFTER = timedelta(hours=1)
DEFAULT_HORIZON = timedelta(hours=12)
_CHUNK = 500  # ids per IN list (well under every engine's limit on bound parameters)


@dataclass(frozen=True)
class DueFollowUp:
    """A scheduled follow-up, as the Follow-ups list shows it."""

    follow_up_id: int
    escalation_id: int
    customer_name: str
    channel: Channel
    due_at: datetime
    summary: str
    owner: str | None
    owner_id: int | None

    def state(self, now: datetime) -> str:
        """``upcoming``, ``due`` or ``overdue`` at ``now``."""
        if now >= self.due_at + OVERDUE_AFTER:
            return "overdue"
        if now >= self.due_at:
            return "due"
        return "upcoming"


class FollowUpService:
    """Reads the scheduled follow-ups."""

    def __init__(self, database: Database) -> None:
        self.db = database

    def scheduled(self, *, horizon: timedelta = DEFAULT_HORIZON, now: datetime | None = None) -> list[DueFollowUp]:
        """Scheduled follow-ups due before ``now + horizon`` (late ones included), soonest first.

        A range of the (status, due_at) index: only the scheduled ones are read, never the history of done ones.
        """
        until = (now or utcnow()) + horizon
        owner = aliased(User)
        query = (
            select(
                FollowUp.id,
                FollowUp.escalation_id,
                FollowUp.channel,
                FollowUp.due_at,
                Escalation.summary,
                Customer.name,
                owner.display_name,
                owner.id,
            )
            .join(Escalation, Escalation.id == FollowUp.escalation_id)
            .join(Customer, Customer.id == Escalation.customer_id)
            .outerjoin(owner, owner.id == Escalation.claimed_by_id)
            .where(FollowUp.status == "scheduled", FollowUp.due_at <= until)
            .order_by(FollowUp.due_at, FollowUp.id)
        )
        with self.db.read() as session:
            return [
                DueFollowUp(fid, esc_id, name, Channel(channel or "other"), due_at, summary, who, who_id)
                for fid, esc_id, channel, due_at, summary, name, who, who_id in session.execute(query)
                if due_at is not None
            ]

    def any_scheduled(self, escalation_ids: Iterable[int]) -> bool:
        """Whether any of these escalations has a scheduled follow-up (what decides if a change can touch the tab)."""
        ids = sorted(set(escalation_ids))
        with self.db.read() as session:
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                found = session.scalar(
                    select(FollowUp.id)
                    .where(FollowUp.escalation_id.in_(chunk), FollowUp.status == "scheduled")
                    .limit(1)
                )
                if found is not None:
                    return True
        return False
