"""The audit trail: every state-changing service call writes one event in the same transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.actor import Actor
from db.models import AuditEvent
from db.types import utcnow


def _plain(value: Any) -> Any:
    """JSON-safe rendering of the values we audit (money as strings, times as ISO)."""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def record(
    session: Session,
    actor: Actor | None,
    action: str,
    entity: str,
    entity_id: object | None,
    *,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    note: str | None = None,
) -> None:
    """Add an audit event to the session's transaction (it commits or rolls back with the change)."""
    session.add(
        AuditEvent(
            at=utcnow(),
            actor_id=actor.user_id if actor else None,
            actor=actor.username if actor else "system",
            action=action,
            entity=entity,
            entity_id=None if entity_id is None else str(entity_id),
            before=_plain(before) if before is not None else None,
            after=_plain(after) if after is not None else None,
            note=note,
        )
    )


@dataclass(frozen=True)
class AuditEntry:
    """An audit event as plain values."""

    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    note: str | None


def events_for(session: Session, entity: str, entity_id: object) -> list[AuditEntry]:
    """Every audit event about one record, oldest first."""
    rows = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.entity == entity, AuditEvent.entity_id == str(entity_id))
        .order_by(AuditEvent.id)
    )
    return [AuditEntry(r.at, r.actor, r.action, r.entity, r.entity_id, r.before, r.after, r.note) for r in rows]
