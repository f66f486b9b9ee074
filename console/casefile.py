"""One escalation's whole record as plain JSON-ready values (``case show --json`` and exports)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.domain import Severity, Status
from console.errors import NotFound
from console.queue import load_policy
from console.sla import ClockInputs, clock
from db.engine import Database
from db.models import Associate, Customer, Escalation, FollowUp, HoldPeriod, Story, User, WorkflowStep
from db.types import utcnow

STEP_ORDER = ("listen", "gather", "apologize", "propose", "follow_up")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def case_record(session: Session, escalation_id: int, now: datetime | None = None) -> dict[str, Any]:
    """The escalation as a dict with stable keys (see README, ``case show``)."""
    esc = session.get(Escalation, escalation_id)
    if esc is None:
        raise NotFound(f"There is no escalation #{escalation_id}.")
    now = now or utcnow()
    customer = session.get(Customer, esc.customer_id)
    assert customer is not None
    associate = session.get(Associate, esc.associate_id) if esc.associate_id else None
    claimer = session.get(User, esc.claimed_by_id) if esc.claimed_by_id else None
    policy = load_policy(session)
    targets = policy.for_severity(Severity(esc.severity))
    status = Status(esc.status)
    paused = timedelta(seconds=esc.held_seconds)
    claim_due = esc.queued_at + targets.claim + paused
    resolve_due = esc.queued_at + targets.resolve + paused
    claimed = esc.claimed_at or esc.first_claimed_at
    sla: dict[str, Any] = {
        "claim_due": _iso(claim_due),
        "resolve_due": _iso(resolve_due),
        "paused": esc.held_since is not None,
        # A case that left the queue breached if it was claimed or resolved after its target.
        "breached": bool((claimed and claimed > claim_due) or (esc.resolved_at and esc.resolved_at > resolve_due)),
    }
    if status.in_queue:
        inputs = ClockInputs(Severity(esc.severity), esc.queued_at, esc.claimed_at, esc.held_since, esc.held_seconds)
        current = clock(inputs, policy, now)
        sla[f"{current.target}_due"] = _iso(current.due_at)
        sla["breached"] = current.breached
        sla["state"] = current.state.value
    steps = {row.step: row for row in session.scalars(select(WorkflowStep).where(WorkflowStep.escalation_id == esc.id))}
    follow_ups = list(session.scalars(select(FollowUp).where(FollowUp.escalation_id == esc.id).order_by(FollowUp.id)))
    done = [f for f in follow_ups if f.status == "done"]
    last_done = done[-1] if done else None
    proposal = steps["propose"].fields if "propose" in steps else None
    holds = session.scalars(select(HoldPeriod).where(HoldPeriod.escalation_id == esc.id).order_by(HoldPeriod.id))
    stories = session.scalars(select(Story).where(Story.escalation_id == esc.id).order_by(Story.id))
    return {
        "id": esc.id,
        "ref": esc.external_ref,
        "status": esc.status,
        "severity": esc.severity,
        "channel": esc.channel,
        "category": esc.category,
        "product": esc.product,
        "summary": esc.summary,
        "details": esc.details,
        "source": esc.source,
        "customer": {
            "id": customer.id,
            "name": customer.name,
            "ref": customer.external_ref,
            "tier": customer.tier,
        },
        "escalated_by": associate.name if associate else None,
        "claimed_by": claimer.username if claimer else None,
        "created_at": _iso(esc.created_at),
        "escalated_at": _iso(esc.escalated_at),
        "queued_at": _iso(esc.queued_at),
        "claimed_at": _iso(esc.claimed_at),
        "resolved_at": _iso(esc.resolved_at),
        "closed_at": _iso(esc.closed_at),
        "on_hold": esc.held_since is not None,
        "hold_reason": esc.hold_reason,
        "reopen_count": esc.reopen_count,
        "outcome": {
            "text": esc.outcome,
            "csat": last_done.csat if last_done else None,
            "nps": last_done.nps if last_done else None,
            "solved": last_done.solved if last_done else None,
        },
        "version": esc.version,
        "sla": sla,
        "workflow_step": esc.workflow_step,
        "steps": [
            {
                "name": name,
                "started_at": _iso(steps[name].started_at),
                "completed_at": _iso(steps[name].completed_at),
                "fields": steps[name].fields,
            }
            for name in STEP_ORDER
            if name in steps
        ],
        "proposal": proposal,
        "follow_ups": [
            {
                "id": f.id,
                "status": f.status,
                "due_at": _iso(f.due_at),
                "channel": f.channel,
                "reason": f.reason,
                "done_at": _iso(f.done_at),
                "csat": f.csat,
                "nps": f.nps,
                "comment": f.comment,
                "solved": f.solved,
            }
            for f in follow_ups
        ],
        "hold_periods": [
            {"started_at": _iso(h.started_at), "ended_at": _iso(h.ended_at), "reason": h.reason} for h in holds
        ],
        "stories": [{"kind": st.kind, "text": st.text, "at": _iso(st.created_at)} for st in stories],
    }


class CaseFileService:
    """Reads whole case records."""

    def __init__(self, database: Database) -> None:
        self.db = database

    def show(self, escalation_id: int) -> dict[str, Any]:
        """The case record of one escalation."""
        with self.db.read() as session:
            return case_record(session, escalation_id)
