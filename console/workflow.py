"""The guided resolution workflow: listen, gather, apologize, propose, follow up (domain.md sections 2 and 3).

Text is saved as it is typed (the panel debounces), each save based on the revision it last saw; a save based on
an older revision is refused with the other supervisor's text, so nobody silently overwrites anybody.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from console import audit
from console.actor import Actor
from console.changes import record_change
from console.domain import Category, Channel, Status
from console.errors import Conflict, NotFound, PermissionDenied, ValidationError
from console.money import parse_amount
from db.engine import Database
from db.models import Escalation, FollowUp, Story, User, WorkflowStep
from db.types import utcnow

MAX_TEXT = 10_000


class Step(StrEnum):
    """The five steps, in order."""

    LISTEN = "listen"
    GATHER = "gather"
    APOLOGIZE = "apologize"
    PROPOSE = "propose"
    FOLLOW_UP = "follow_up"

    @property
    def number(self) -> int:
        """1 to 5."""
        return list(Step).index(self) + 1

    @property
    def label(self) -> str:
        """As shown on the stepper."""
        return "Follow up" if self is Step.FOLLOW_UP else self.value.capitalize()

    def next(self) -> Step | None:
        """The step after this one (None after Follow up)."""
        steps = list(Step)
        index = steps.index(self)
        return steps[index + 1] if index + 1 < len(steps) else None


class Remedy(StrEnum):
    """What a supervisor can propose (domain.md section 4)."""

    REFUND = "refund"
    REPLACEMENT = "replacement"
    REPAIR = "repair"
    CREDIT = "credit"
    DISCOUNT = "discount"
    EXPEDITED = "expedited"
    EXPLANATION = "explanation"
    OTHER = "other"

    @property
    def costs_money(self) -> bool:
        """Remedies that carry an amount (a goodwill gesture)."""
        return self in (Remedy.REFUND, Remedy.CREDIT, Remedy.DISCOUNT, Remedy.OTHER)


class Response(StrEnum):
    """What the customer said to the proposal."""

    ACCEPTED = "accepted"
    DECLINED = "declined"
    CHOSE = "chose"  # chose among the options offered


@dataclass(frozen=True)
class StepGuide:
    """What a step is for, how to keep the customer calm during it, and what to capture."""

    purpose: str
    cues: tuple[str, ...]
    captures: tuple[str, ...]


GUIDES: dict[Step, StepGuide] = {
    Step.LISTEN: StepGuide(
        "Let the customer tell it without interrupting; acknowledge the feeling.",
        (
            "Keep a calm, low tone; never mirror shouting.",
            "“I understand how frustrating this is.”",
            "Validate the feeling without arguing the facts.",
            "Summarise back what you heard every so often.",
            "Offer choices: it gives the customer control.",
        ),
        ("account", "upset"),
    ),
    Step.GATHER: StepGuide(
        "Collect the facts so nobody makes the customer repeat themselves.",
        (
            "Ask open questions, then confirm the details.",
            "Check the history first: do not ask what we already know.",
            "Say what you are doing while you look things up.",
        ),
        ("what_happened", "when", "references", "tried", "wants"),
    ),
    Step.APOLOGIZE: StepGuide(
        "A sincere apology: for our fault, or for the experience when it is not ours. No excuses.",
        ("Name what went wrong in the customer's words.", "Apologise once, sincerely; do not blame others."),
        ("given", "skip_reason"),
    ),
    Step.PROPOSE: StepGuide(
        "Offer a concrete remedy with a clear timeline; a choice of remedies calms.",
        (
            "Offer two options where you can and let the customer choose.",
            "Give a date you can keep.",
            "Say exactly what happens next and who does it.",
        ),
        ("remedies", "promised_date", "response"),
    ),
    Step.FOLLOW_UP: StepGuide(
        "Check back once the remedy is done; record how the customer feels about it.",
        ("Use the channel the customer prefers.", "Thank them for their patience."),
        ("due_at", "channel"),
    ),
}

# Suggested apology wording and remedies per failure type (the recovery playbook, domain.md section 3).
APOLOGIES: dict[Category, str] = {
    Category.PRODUCT_MALFUNCTION: "I'm truly sorry your {product} let you down so soon; that is not the quality you "
    "paid for, and I'll make it right today.",
    Category.LONG_WAIT: "I'm sorry you've had to wait and chase us; you deserved clear updates and didn't get them.",
    Category.BILLING_ERROR: "I'm sorry we charged you incorrectly; that's our mistake, and I'll correct it now.",
    Category.UNMET_EXPECTATION: "I'm sorry this didn't arrive when we said it would; I know you were counting on it.",
    Category.OTHER: "I'm sorry for the trouble this has caused you.",
}
PLAYBOOK_REMEDIES: dict[Category, tuple[tuple[Remedy, str], ...]] = {
    Category.PRODUCT_MALFUNCTION: (
        (Remedy.REPLACEMENT, "Fast replacement, no interrogation"),
        (Remedy.OTHER, "An unexpected small extra (e.g. an accessory)"),
    ),
    Category.LONG_WAIT: (
        (Remedy.EXPLANATION, "Proactive status updates and clear expectations"),
        (Remedy.DISCOUNT, "A discount on the next purchase"),
    ),
    Category.BILLING_ERROR: (
        (Remedy.REFUND, "Correct the charge immediately"),
        (Remedy.EXPLANATION, "Explain the error plainly"),
        (Remedy.CREDIT, "A small goodwill credit"),
    ),
    Category.UNMET_EXPECTATION: (
        (Remedy.EXPEDITED, "Expedite at no cost"),
        (Remedy.DISCOUNT, "A small incentive for next time"),
    ),
    Category.OTHER: ((Remedy.EXPLANATION, "Explain what happened and what happens next"),),
}


@dataclass(frozen=True)
class StepState:
    """One step as stored."""

    step: Step
    started_at: datetime | None
    completed_at: datetime | None
    fields: dict[str, Any]
    revision: int
    updated_by: str | None

    @property
    def done(self) -> bool:
        """Completed (it may still be revisited)."""
        return self.completed_at is not None


@dataclass(frozen=True)
class FollowUpState:
    """A follow-up as stored."""

    id: int
    status: str
    due_at: datetime | None
    channel: str | None
    reason: str | None
    done_at: datetime | None
    csat: int | None
    nps: int | None
    comment: str | None
    solved: bool | None


@dataclass(frozen=True)
class WorkflowState:
    """Everything the workflow panel shows for one escalation."""

    escalation_id: int
    status: Status
    category: Category
    product: str | None
    current: Step
    steps: dict[Step, StepState]
    follow_ups: list[FollowUpState] = field(default_factory=list)
    claimed_at: datetime | None = None
    claimed_by_id: int | None = None

    def step(self, step: Step) -> StepState:
        """The state of one step."""
        return self.steps[step]


class EditConflict(Conflict):
    """A save based on an older revision: someone else saved first. Carries their text."""

    def __init__(self, message: str, current: StepState) -> None:
        super().__init__(message)
        self.current = current


# -- validation of captured fields ------------------------------------------------------------------------------
def _int_in(value: Any, low: int, high: int, name: str, label: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValidationError(f"{label} must be a whole number from {low} to {high}.", field=name)
    try:
        number = int(value)
    except ValueError:
        raise ValidationError(f"{label} must be a whole number from {low} to {high}.", field=name) from None
    if not low <= number <= high:
        raise ValidationError(f"{label} must be from {low} to {high}; {number} is outside.", field=name)
    return number


def clean_fields(step: Step, fields: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Check the fields a step may hold; return them normalised. Unknown fields and bad values are refused."""
    allowed = set(GUIDES[step].captures) | {"notes"}
    cleaned: dict[str, Any] = {}
    for name, value in fields.items():
        if name not in allowed:
            raise ValidationError(f"{step.label} has no field {name!r}.", field=name)
        if isinstance(value, str) and len(value) > MAX_TEXT:
            raise ValidationError(f"That is over {MAX_TEXT} characters.", field=name)
        cleaned[name] = value
    if cleaned.get("upset") not in (None, ""):
        cleaned["upset"] = _int_in(cleaned["upset"], 1, 5, "upset", "How upset")
    if step is Step.APOLOGIZE and "given" in cleaned and cleaned["given"] is not None:
        cleaned["given"] = bool(cleaned["given"])
    if step is Step.PROPOSE:
        if cleaned.get("remedies") is not None:
            cleaned["remedies"] = [_clean_remedy(r, i) for i, r in enumerate(cleaned["remedies"])]
        if cleaned.get("promised_date"):
            try:
                promised = date.fromisoformat(str(cleaned["promised_date"]))
            except ValueError:
                raise ValidationError("The promised date must be a date (YYYY-MM-DD).", field="promised_date") from None
            # Refuse only a date that is past everywhere: the supervisor's "today" may be UTC's yesterday.
            if promised < (now - timedelta(hours=12)).date():
                raise ValidationError("The promised date is in the past.", field="promised_date")
            cleaned["promised_date"] = promised.isoformat()
        if cleaned.get("response") not in (None, ""):
            try:
                cleaned["response"] = Response(cleaned["response"]).value
            except ValueError:
                allowed_values = ", ".join(r.value for r in Response)
                raise ValidationError(f"The response is one of: {allowed_values}.", field="response") from None
    if step is Step.FOLLOW_UP:
        if cleaned.get("due_at"):
            due = _aware(cleaned["due_at"], "due_at")
            if due <= now:
                raise ValidationError("A follow-up must be scheduled after now.", field="due_at")
            cleaned["due_at"] = due.isoformat()
        if cleaned.get("channel"):
            try:
                cleaned["channel"] = Channel.parse(str(cleaned["channel"])).value
            except ValueError as exc:
                raise ValidationError(str(exc), field="channel") from None
    return cleaned


def _clean_remedy(raw: Any, index: int) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ValidationError("A remedy needs a type.", field="remedies")
    try:
        kind = Remedy(str(raw.get("type")))
    except ValueError:
        allowed = ", ".join(r.value for r in Remedy)
        raise ValidationError(f"Remedy {index + 1}: the type is one of {allowed}.", field="remedies") from None
    remedy: dict[str, Any] = {"type": kind.value, "note": str(raw.get("note") or "")}
    amount = raw.get("amount")
    if amount not in (None, ""):
        remedy["amount"] = str(parse_amount(amount, "remedies"))
    return remedy


def _aware(value: Any, name: str) -> datetime:
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        raise ValidationError("That is not a date and time.", field=name) from None
    if moment.tzinfo is None:
        raise ValidationError("The time needs a time zone.", field=name)
    return moment


def check_complete(step: Step, fields: dict[str, Any]) -> None:
    """Refuse to complete a step that lacks what it must capture."""
    if step is Step.LISTEN:
        if not str(fields.get("account") or "").strip():
            raise ValidationError("Write down the customer's account in their words.", field="account")
        if fields.get("upset") in (None, ""):
            raise ValidationError("Say how upset the customer is (1-5).", field="upset")
    elif step is Step.GATHER:
        if not str(fields.get("what_happened") or "").strip():
            raise ValidationError("Write down what happened.", field="what_happened")
    elif step is Step.APOLOGIZE:
        if not fields.get("given") and not str(fields.get("skip_reason") or "").strip():
            raise ValidationError("Give the apology, or say why it is skipped.", field="skip_reason")
    elif step is Step.PROPOSE:
        if not fields.get("remedies"):
            raise ValidationError("Propose at least one remedy.", field="remedies")
        if not fields.get("response"):
            raise ValidationError("Record whether the customer accepted, declined or chose.", field="response")


def read_back(state: WorkflowState, customer_name: str) -> str:
    """A short summary of what has been captured, for the supervisor to repeat to the customer."""
    listen = state.step(Step.LISTEN).fields
    gather = state.step(Step.GATHER).fields
    parts: list[str] = []
    first = customer_name.split(maxsplit=1)[0] if customer_name.strip() else "you"
    if listen.get("account"):
        parts.append(f"So, {first}, if I've got this right: {_sentence(listen['account'])}")
    if gather.get("what_happened"):
        parts.append(f"What happened: {_sentence(gather['what_happened'])}")
    if gather.get("when"):
        parts.append(f"That was {_sentence(gather['when'])}")
    if gather.get("tried"):
        parts.append(f"You've already tried: {_sentence(gather['tried'])}")
    if gather.get("wants"):
        parts.append(f"And what you'd like is: {_sentence(gather['wants'])}")
    if not parts:
        return "Nothing captured yet: listen first, then read it back."
    return " ".join(parts) + " Have I got that right?"


def _sentence(text: Any) -> str:
    words = " ".join(str(text).split())
    return words if words.endswith((".", "!", "?")) else words + "."


# -- the service ------------------------------------------------------------------------------------------------
class WorkflowService:
    """The workflow's operations; each is one transaction, audited, announced to the live feed."""

    def __init__(self, database: Database) -> None:
        self.db = database

    def open(self, actor: Actor, escalation_id: int) -> WorkflowState:
        """Start (or resume) the workflow of an escalation the actor holds: at its current step."""
        now = utcnow()
        with self.db.transaction() as session:
            esc = self._held(session, actor, escalation_id)
            if esc.workflow_step is None:
                # A reopened case keeps its earlier steps: start again at Listen, with what was captured.
                esc.workflow_step = Step.LISTEN.value
                if self._row(session, esc.id, Step.LISTEN) is None:
                    self._start(session, esc.id, Step.LISTEN, now, actor)
                audit.record(session, actor, "workflow.start", "escalation", esc.id)
                record_change(session, "escalation", esc.id)
            return _state(session, esc)

    def state(self, escalation_id: int) -> WorkflowState:
        """The workflow as stored (read-only; for the panel after a change elsewhere)."""
        with self.db.read() as session:
            esc = session.get(Escalation, escalation_id)
            if esc is None:
                raise NotFound(f"There is no escalation #{escalation_id}.")
            return _state(session, esc)

    def save(
        self, actor: Actor, escalation_id: int, step: Step, fields: dict[str, Any], base_revision: int
    ) -> StepState:
        """Save what was typed in one step. Refused with the stored text when someone saved since ``base_revision``."""
        now = utcnow()
        cleaned = clean_fields(step, fields, now)
        with self.db.transaction() as session:
            esc = self._held(session, actor, escalation_id)
            row = self._row(session, esc.id, step)
            if row is None:  # the first save into a step nobody has opened yet
                row = self._start(session, esc.id, step, now, actor)
                base_revision = max(base_revision, row.revision)
            merged = {**(row.fields or {}), **cleaned}
            result = session.execute(
                update(WorkflowStep)
                .where(WorkflowStep.id == row.id, WorkflowStep.revision == base_revision)
                .values(fields=merged, revision=WorkflowStep.revision + 1, updated_at=now, updated_by_id=actor.user_id)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                session.expire(row)
                current = _step_state(session, row)
                raise EditConflict(
                    f"{current.updated_by or 'Someone'} changed {step.label} a moment ago; their text is shown. "
                    "Nothing of yours was overwritten; add your part again.",
                    current,
                )
            session.expire(row)
            return _step_state(session, row)

    def complete(self, actor: Actor, escalation_id: int, step: Step) -> WorkflowState:
        """Mark a step complete (if it has what it must capture) and move on to the next."""
        now = utcnow()
        with self.db.transaction() as session:
            esc = self._held(session, actor, escalation_id)
            row = self._row(session, esc.id, step) or self._start(session, esc.id, step, now, actor)
            check_complete(step, row.fields or {})
            if step is Step.FOLLOW_UP and not _has_follow_up_plan(session, esc.id):
                raise ValidationError("Schedule the follow-up, or record why none is needed.", field="due_at")
            if row.completed_at is None:
                row.completed_at = now
            following = step.next()
            if following is not None:
                esc.workflow_step = following.value
                if self._row(session, esc.id, following) is None:
                    self._start(session, esc.id, following, now, actor)
            esc.version += 1
            audit.record(session, actor, "workflow.complete_step", "escalation", esc.id, after={"step": step.value})
            record_change(session, "escalation", esc.id)
            return _state(session, esc)

    def go_to(self, actor: Actor, escalation_id: int, step: Step) -> WorkflowState:
        """Revisit (or jump to) a step; its start time is kept from the first visit."""
        now = utcnow()
        with self.db.transaction() as session:
            esc = self._held(session, actor, escalation_id)
            esc.workflow_step = step.value
            if self._row(session, esc.id, step) is None:
                self._start(session, esc.id, step, now, actor)
            return _state(session, esc)

    def resolve(self, actor: Actor, escalation_id: int) -> WorkflowState:
        """The remedy is agreed: resolve the escalation (it leaves the queue). Needs a completed proposal."""
        now = utcnow()
        with self.db.transaction() as session:
            esc = self._held(session, actor, escalation_id)
            proposal = self._row(session, esc.id, Step.PROPOSE)
            if proposal is None or proposal.completed_at is None or not (proposal.fields or {}).get("remedies"):
                raise ValidationError(
                    "An escalation cannot be resolved without a completed proposal.", field="remedies"
                )
            esc.status = Status.RESOLVED.value
            esc.resolved_at = now
            if _follow_up_settled(session, esc.id):  # recorded before resolving: nothing left to wait for
                esc.status = Status.CLOSED.value
                esc.closed_at = now
            esc.held_since = None
            esc.version += 1
            esc.updated_at = now
            if esc.workflow_step in (None, Step.PROPOSE.value):
                esc.workflow_step = Step.FOLLOW_UP.value
                if self._row(session, esc.id, Step.FOLLOW_UP) is None:
                    self._start(session, esc.id, Step.FOLLOW_UP, now, actor)
            audit.record(
                session,
                actor,
                "escalation.resolve",
                "escalation",
                esc.id,
                after={"remedies": proposal.fields.get("remedies")},
            )
            record_change(session, "escalation", esc.id)
            return _state(session, esc)

    def schedule_follow_up(self, actor: Actor, escalation_id: int, due_at: datetime, channel: Channel) -> WorkflowState:
        """Promise to contact the customer again at ``due_at`` on ``channel``."""
        now = utcnow()
        if due_at.tzinfo is None:
            raise ValidationError("The follow-up time needs a time zone.", field="due_at")
        if due_at <= now:
            raise ValidationError("A follow-up must be scheduled after now.", field="due_at")
        with self.db.transaction() as session:
            esc = self._owned(session, actor, escalation_id)
            session.add(
                FollowUp(
                    escalation_id=esc.id,
                    status="scheduled",
                    due_at=due_at,
                    channel=channel.value,
                    created_by_id=actor.user_id,
                    created_at=now,
                )
            )
            esc.version += 1
            audit.record(
                session,
                actor,
                "follow_up.schedule",
                "escalation",
                esc.id,
                after={"due_at": due_at, "channel": channel.value},
            )
            record_change(session, "escalation", esc.id)
            return _state(session, esc)

    def no_follow_up(self, actor: Actor, escalation_id: int, reason: str) -> WorkflowState:
        """Record that no follow-up is needed, and why; a resolved escalation is then closed."""
        if not reason.strip():
            raise ValidationError("Say why no follow-up is needed.", field="reason")
        now = utcnow()
        with self.db.transaction() as session:
            esc = self._owned(session, actor, escalation_id)
            session.add(
                FollowUp(
                    escalation_id=esc.id,
                    status="not_needed",
                    reason=reason.strip(),
                    created_by_id=actor.user_id,
                    created_at=now,
                )
            )
            if esc.status == Status.RESOLVED.value:
                esc.status = Status.CLOSED.value
                esc.closed_at = now
            esc.version += 1
            audit.record(session, actor, "follow_up.not_needed", "escalation", esc.id, note=reason.strip())
            record_change(session, "escalation", esc.id)
            return _state(session, esc)

    def record_outcome(
        self, actor: Actor, follow_up_id: int, *, csat: int | None, nps: int | None, comment: str, solved: bool
    ) -> WorkflowState:
        """The follow-up happened: scores and whether the problem is solved. Not solved reopens the escalation."""
        csat_value = None if csat is None else _int_in(csat, 1, 5, "csat", "Satisfaction (CSAT)")
        nps_value = None if nps is None else _int_in(nps, 0, 10, "nps", "Likelihood to recommend (NPS)")
        now = utcnow()
        with self.db.transaction() as session:
            follow_up = session.get(FollowUp, follow_up_id)
            if follow_up is None:
                raise NotFound(f"There is no follow-up #{follow_up_id}.")
            if follow_up.status != "scheduled":
                raise Conflict(f"Follow-up #{follow_up_id} is {follow_up.status.replace('_', ' ')} already.")
            esc = self._owned(session, actor, follow_up.escalation_id)
            follow_up.status = "done"
            follow_up.done_at = now
            follow_up.csat = csat_value
            follow_up.nps = nps_value
            follow_up.comment = comment.strip() or None
            follow_up.solved = solved
            if solved:
                if esc.status == Status.RESOLVED.value:
                    esc.status = Status.CLOSED.value
                    esc.closed_at = now
                step = self._row(session, esc.id, Step.FOLLOW_UP)
                if step is not None and step.completed_at is None:
                    step.completed_at = now
            else:
                # Back into the queue with its whole history, unclaimed, with fresh SLA targets.
                esc.status = Status.REOPENED.value
                esc.reopen_count += 1
                esc.claimed_by_id = None
                esc.claimed_at = None
                esc.resolved_at = None
                esc.closed_at = None
                esc.queued_at = now
                esc.held_seconds = 0
                esc.held_since = None
                esc.workflow_step = None
            esc.version += 1
            esc.updated_at = now
            audit.record(
                session,
                actor,
                "follow_up.outcome",
                "escalation",
                esc.id,
                after={"csat": csat_value, "nps": nps_value, "solved": solved},
            )
            record_change(session, "escalation", esc.id)
            return _state(session, esc)

    def mark_story(self, actor: Actor, escalation_id: int, kind: str, text: str) -> None:
        """Mark an escalation as a story for the shift huddle: a ``win`` or a ``woe``, in one line."""
        if kind not in ("win", "woe"):
            raise ValidationError("A story is a win or a woe.", field="kind")
        line = " ".join(text.split())
        if not line:
            raise ValidationError("Say the story in one line.", field="text")
        if len(line) > 300:
            raise ValidationError("Keep the story to one line (300 characters).", field="text")
        with self.db.transaction() as session:
            if session.get(Escalation, escalation_id) is None:
                raise NotFound(f"There is no escalation #{escalation_id}.")
            session.add(
                Story(escalation_id=escalation_id, kind=kind, text=line, author_id=actor.user_id, created_at=utcnow())
            )
            audit.record(session, actor, "story.mark", "escalation", escalation_id, after={"kind": kind, "text": line})
            record_change(session, "escalation", escalation_id)

    def claimed_in_progress(self, actor: Actor) -> int | None:
        """The escalation this supervisor was last working on (to reopen at start), if any."""
        with self.db.read() as session:
            return session.scalar(
                select(Escalation.id)
                .where(
                    Escalation.claimed_by_id == actor.user_id,
                    Escalation.workflow_step.is_not(None),
                    Escalation.status.in_((Status.CLAIMED.value, Status.RESOLVED.value)),
                )
                .order_by(Escalation.updated_at.desc())
                .limit(1)
            )

    # -- helpers ---------------------------------------------------------------------------------------------------
    @staticmethod
    def _held(session: Session, actor: Actor, escalation_id: int) -> Escalation:
        """The escalation, which the actor must hold (claimed) to work on it."""
        esc = session.get(Escalation, escalation_id, with_for_update=session.get_bind().dialect.name == "postgresql")
        if esc is None:
            raise NotFound(f"There is no escalation #{escalation_id}.")
        if esc.status not in (Status.CLAIMED.value, Status.RESOLVED.value):
            raise Conflict(f"#{escalation_id} is {esc.status}; claim it before working on it.")
        if esc.claimed_by_id != actor.user_id:
            holder = session.get(User, esc.claimed_by_id) if esc.claimed_by_id else None
            who = holder.display_name if holder else "nobody"
            raise PermissionDenied(f"#{escalation_id} is held by {who}; claim it before working on it.")
        return esc

    @staticmethod
    def _owned(session: Session, actor: Actor, escalation_id: int) -> Escalation:
        """For follow-ups: the holder, or any supervisor once the case is resolved (the holder may be off shift)."""
        esc = session.get(Escalation, escalation_id)
        if esc is None:
            raise NotFound(f"There is no escalation #{escalation_id}.")
        if esc.status == Status.CLAIMED.value and esc.claimed_by_id != actor.user_id and not actor.is_manager:
            raise PermissionDenied(f"#{escalation_id} is being handled by someone else.")
        if esc.status in (Status.OPEN.value, Status.REOPENED.value):
            raise Conflict(f"#{escalation_id} is waiting in the queue; claim it first.")
        return esc

    @staticmethod
    def _row(session: Session, escalation_id: int, step: Step) -> WorkflowStep | None:
        return session.scalar(
            select(WorkflowStep).where(WorkflowStep.escalation_id == escalation_id, WorkflowStep.step == step.value)
        )

    @staticmethod
    def _start(session: Session, escalation_id: int, step: Step, now: datetime, actor: Actor) -> WorkflowStep:
        row = WorkflowStep(
            escalation_id=escalation_id,
            step=step.value,
            started_at=now,
            fields={},
            revision=1,
            updated_at=now,
            updated_by_id=actor.user_id,
        )
        session.add(row)
        session.flush()
        return row


def _follow_up_settled(session: Session, escalation_id: int) -> bool:
    """A follow-up was found unnecessary, or happened and the problem is solved."""
    settled = select(FollowUp.id).where(
        FollowUp.escalation_id == escalation_id,
        (FollowUp.status == "not_needed") | ((FollowUp.status == "done") & FollowUp.solved.is_(True)),
    )
    return session.scalar(settled.limit(1)) is not None


def _has_follow_up_plan(session: Session, escalation_id: int) -> bool:
    return session.scalar(select(FollowUp.id).where(FollowUp.escalation_id == escalation_id).limit(1)) is not None


def _step_state(session: Session, row: WorkflowStep) -> StepState:
    who = session.get(User, row.updated_by_id) if row.updated_by_id else None
    return StepState(
        Step(row.step),
        row.started_at,
        row.completed_at,
        dict(row.fields or {}),
        row.revision,
        who.display_name if who else None,
    )


def _state(session: Session, esc: Escalation) -> WorkflowState:
    session.flush()
    rows = {Step(r.step): r for r in session.scalars(select(WorkflowStep).where(WorkflowStep.escalation_id == esc.id))}
    steps = {
        step: _step_state(session, rows[step]) if step in rows else StepState(step, None, None, {}, 0, None)
        for step in Step
    }
    follow_ups = [
        FollowUpState(f.id, f.status, f.due_at, f.channel, f.reason, f.done_at, f.csat, f.nps, f.comment, f.solved)
        for f in session.scalars(select(FollowUp).where(FollowUp.escalation_id == esc.id).order_by(FollowUp.id))
    ]
    return WorkflowState(
        escalation_id=esc.id,
        status=Status(esc.status),
        category=Category(esc.category),
        product=esc.product,
        current=Step(esc.workflow_step) if esc.workflow_step else Step.LISTEN,
        steps=steps,
        follow_ups=follow_ups,
        claimed_at=esc.claimed_at,
        claimed_by_id=esc.claimed_by_id,
    )
