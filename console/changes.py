"""Writes to the change log the live feed reads, in the changing transaction.

On PostgreSQL the same transaction also issues ``pg_notify`` so that listening consoles wake up the moment it
commits (NOTIFY is delivered on commit, never for a rolled-back transaction).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from db.engine import Database
from db.models import Change
from db.types import utcnow

NOTIFY_CHANNEL = "supervisor_console_changes"


def record_change(session: Session, entity: str, entity_id: int) -> None:
    """Note that one record changed, for every console's live feed."""
    session.add(Change(entity=entity, entity_id=entity_id, at=utcnow()))
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_notify(:channel, :payload)"),
            {"channel": NOTIFY_CHANNEL, "payload": f"{entity}:{entity_id}"},
        )


def latest_change_id(session: Session) -> int:
    """The newest change-log id (0 when empty); a feed starts reading after it."""
    return int(session.scalar(select(func.coalesce(func.max(Change.id), 0))) or 0)


CHANGE_LOG_RETENTION = timedelta(days=1)


def prune_changes(database: Database, older_than: timedelta = CHANGE_LOG_RETENTION) -> int:
    """Delete change-log rows older than ``older_than`` (the newest row always stays, so ids never repeat)."""
    cutoff = utcnow() - older_than
    with database.transaction() as session:
        newest = latest_change_id(session)
        result = session.execute(delete(Change).where(Change.at < cutoff, Change.id < newest))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
