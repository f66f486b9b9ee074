"""Shifts: a supervisor starts one at sign-in (or explicitly), ends it with "End shift", and leaves a handover.

Ending a shift saves its summary (``ShiftSummary.as_dict()``, the JSON measures, for the whole floor over the
shift) and the handover note. The next supervisor to sign in is shown the latest handover by somebody else that
they have not yet acknowledged (``pending_handover_for``), and acknowledges it once read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from console import audit
from console.actor import Actor
from console.changes import record_change
from console.errors import Conflict, NotFound, ValidationError
from db.engine import Database
from db.models import Shift, ShiftAcknowledgement, User
from db.types import utcnow

if TYPE_CHECKING:  # console.summary is imported where a summary is built or read back, not at the console's start
    from console.summary import Progress, ShiftSummary

MAX_HANDOVER_NOTE = 10_000


@dataclass(frozen=True)
class ShiftInfo:
    """A shift as plain values. ``summary`` is the saved summary (None while the shift is open)."""

    id: int
    supervisor_id: int
    supervisor: str  # username
    supervisor_name: str  # display name
    started_at: datetime
    ended_at: datetime | None
    handover_note: str | None
    summary: dict[str, Any] | None

    @property
    def is_open(self) -> bool:
        """Not ended yet."""
        return self.ended_at is None

    def saved_summary(self) -> ShiftSummary | None:
        """The summary as it was saved at the end of the shift."""
        from console.summary import ShiftSummary

        return None if self.summary is None else ShiftSummary.from_dict(self.summary)


def _info(shift: Shift, user: User) -> ShiftInfo:
    return ShiftInfo(
        shift.id,
        shift.supervisor_id,
        user.username,
        user.display_name,
        shift.started_at,
        shift.ended_at,
        shift.handover_note,
        shift.summary,
    )


def _query() -> Any:
    return select(Shift, User).join(User, User.id == Shift.supervisor_id)


class ShiftService:
    """Start, end and look up shifts; each call is one transaction, writes are audited."""

    def __init__(self, database: Database) -> None:
        self.db = database

    def start_shift(self, actor: Actor, *, at: datetime | None = None) -> ShiftInfo:
        """Start the actor's shift; if one is already open, return that one (signing in twice starts nothing)."""
        now = at or utcnow()
        with self.db.transaction() as session:
            # Serialise one supervisor's starts (SQLite: BEGIN IMMEDIATE already does; PostgreSQL: the row lock).
            session.execute(select(User.id).where(User.id == actor.user_id).with_for_update())
            current = self._open(session, actor.user_id)
            if current is not None:
                return current
            shift = Shift(supervisor_id=actor.user_id, started_at=now)
            session.add(shift)
            session.flush()
            audit.record(session, actor, "shift.start", "shift", shift.id, after={"started_at": now})
            record_change(session, "shift", shift.id)
            user = session.get(User, actor.user_id)
            assert user is not None
            return _info(shift, user)

    def current_shift(self, actor: Actor) -> ShiftInfo | None:
        """The actor's open shift, if any."""
        with self.db.read() as session:
            return self._open(session, actor.user_id)

    def end_shift(
        self,
        actor: Actor,
        handover_note: str,
        *,
        at: datetime | None = None,
        progress: Progress | None = None,
        next_shift: timedelta | None = None,
    ) -> ShiftInfo:
        """End the actor's open shift: build the floor's summary of the shift, save it with the handover note.

        Conflict if the actor has no open shift. The summary is computed before the write transaction, so the
        database is not held while it runs; ``progress`` reports on it. ``next_shift`` (the follow-ups-due window)
        defaults to ``console.summary.DEFAULT_SHIFT_LENGTH``.
        """
        from console.summary import DEFAULT_SHIFT_LENGTH, SummaryService

        note = handover_note.strip()
        if len(note) > MAX_HANDOVER_NOTE:
            raise ValidationError(f"Keep the handover note under {MAX_HANDOVER_NOTE} characters.", field="note")
        now = at or utcnow()
        current = self.current_shift(actor)
        if current is None:
            raise Conflict(f"{actor.username} has no shift open to end.")
        end = max(now, current.started_at + timedelta(microseconds=1))
        summary = SummaryService(self.db).build(
            current.started_at,
            end,
            progress=progress,
            next_shift=DEFAULT_SHIFT_LENGTH if next_shift is None else next_shift,
            now=now,
        )
        saved = summary.as_dict()
        with self.db.transaction() as session:
            shift = session.get(Shift, current.id)
            if shift is None or shift.ended_at is not None:
                raise Conflict("That shift was ended a moment ago (on another console).")
            shift.ended_at = end
            shift.handover_note = note or None
            shift.summary = saved
            audit.record(
                session,
                actor,
                "shift.end",
                "shift",
                shift.id,
                after={"ended_at": end, "measures": summary.measures},
                note=note or None,
            )
            record_change(session, "shift", shift.id)
            user = session.get(User, actor.user_id)
            assert user is not None
            return _info(shift, user)

    def shift(self, shift_id: int) -> ShiftInfo:
        """One shift; NotFound if there is none."""
        with self.db.read() as session:
            row = session.execute(_query().where(Shift.id == shift_id)).first()
            if row is None:
                raise NotFound(f"There is no shift #{shift_id}.")
            return _info(row[0], row[1])

    def last_ended_shift(self) -> ShiftInfo | None:
        """The shift that ended last, anyone's."""
        with self.db.read() as session:
            row = session.execute(
                _query().where(Shift.ended_at.is_not(None)).order_by(Shift.ended_at.desc(), Shift.id.desc()).limit(1)
            ).first()
            return None if row is None else _info(row[0], row[1])

    def past_shifts(self, limit: int = 50) -> list[ShiftInfo]:
        """Ended shifts, the latest first."""
        with self.db.read() as session:
            rows = session.execute(
                _query()
                .where(Shift.ended_at.is_not(None))
                .order_by(Shift.ended_at.desc(), Shift.id.desc())
                .limit(max(1, limit))
            )
            return [_info(shift, user) for shift, user in rows]

    def pending_handover_for(self, actor: Actor) -> ShiftInfo | None:
        """The latest ended shift of somebody else, if the actor has not acknowledged it yet (else None).

        Only the latest counts: an older handover the actor never read is superseded by the newer one.
        """
        with self.db.read() as session:
            row = session.execute(
                _query()
                .where(Shift.ended_at.is_not(None), Shift.supervisor_id != actor.user_id)
                .order_by(Shift.ended_at.desc(), Shift.id.desc())
                .limit(1)
            ).first()
            if row is None:
                return None
            seen = session.scalar(
                select(ShiftAcknowledgement.id).where(
                    ShiftAcknowledgement.shift_id == row[0].id, ShiftAcknowledgement.user_id == actor.user_id
                )
            )
            return None if seen is not None else _info(row[0], row[1])

    def acknowledge_handover(self, actor: Actor, shift_id: int, *, at: datetime | None = None) -> None:
        """The actor has read this shift's handover; acknowledging twice is harmless."""
        now = at or utcnow()
        try:
            with self.db.transaction() as session:
                shift = session.get(Shift, shift_id)
                if shift is None:
                    raise NotFound(f"There is no shift #{shift_id}.")
                if shift.ended_at is None:
                    raise Conflict(f"Shift #{shift_id} has not ended; there is no handover yet.")
                exists = session.scalar(
                    select(ShiftAcknowledgement.id).where(
                        ShiftAcknowledgement.shift_id == shift_id, ShiftAcknowledgement.user_id == actor.user_id
                    )
                )
                if exists is not None:
                    return
                session.add(ShiftAcknowledgement(shift_id=shift_id, user_id=actor.user_id, acknowledged_at=now))
                audit.record(session, actor, "shift.handover_read", "shift", shift_id)
        except IntegrityError:
            return  # the same supervisor acknowledged it on another console at the same moment

    @staticmethod
    def _open(session: Session, user_id: int) -> ShiftInfo | None:
        row = session.execute(
            _query()
            .where(Shift.supervisor_id == user_id, Shift.ended_at.is_(None))
            .order_by(Shift.started_at.desc(), Shift.id.desc())
            .limit(1)
        ).first()
        return None if row is None else _info(row[0], row[1])


def default_range(database: Database, *, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The CLI's default summary range: the last ended shift, else the last 8 hours."""
    from console.summary import DEFAULT_SHIFT_LENGTH

    last = ShiftService(database).last_ended_shift()
    if last is not None and last.ended_at is not None:
        return last.started_at, last.ended_at
    end = now or utcnow()
    return end - DEFAULT_SHIFT_LENGTH, end
