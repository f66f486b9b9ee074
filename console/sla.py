"""SLA policy: targets per severity, clocks that pause on hold, and the pre-breach and breach states."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from console.domain import Severity

# Minutes to claim and to resolve, per severity (the defaults; a manager may change them).
DEFAULT_TARGET_MINUTES: dict[Severity, tuple[int, int]] = {
    Severity.CRITICAL: (5, 4 * 60),
    Severity.HIGH: (15, 24 * 60),
    Severity.NORMAL: (60, 72 * 60),
    Severity.LOW: (4 * 60, 5 * 24 * 60),
}
DEFAULT_WARN_RATIO = 0.8
WARN_RATIO_KEY = "sla.warn_ratio"


@dataclass(frozen=True)
class SlaTargets:
    """Time to claim and time to resolve for one severity."""

    claim: timedelta
    resolve: timedelta


@dataclass(frozen=True)
class SlaPolicy:
    """The floor's SLA targets and the share of a target at which a pre-breach alert fires."""

    targets: dict[Severity, SlaTargets] = field(
        default_factory=lambda: {
            sev: SlaTargets(timedelta(minutes=c), timedelta(minutes=r))
            for sev, (c, r) in DEFAULT_TARGET_MINUTES.items()
        }
    )
    warn_ratio: float = DEFAULT_WARN_RATIO

    def for_severity(self, severity: Severity) -> SlaTargets:
        """The targets for one severity."""
        return self.targets[severity]


class ClockState(StrEnum):
    """How close an escalation is to its next target."""

    OK = "ok"
    WARNING = "warning"
    BREACHED = "breached"
    PAUSED = "paused"


@dataclass(frozen=True)
class SlaClock:
    """The clock of one escalation at one moment."""

    target: str  # "claim" or "resolve"
    due_at: datetime  # when the target falls due if nothing pauses it from now on
    remaining: timedelta  # negative when overdue
    state: ClockState
    breached: bool  # overdue, whether or not paused now


@dataclass(frozen=True)
class ClockInputs:
    """What a clock needs from an escalation."""

    severity: Severity
    queued_at: datetime
    claimed_at: datetime | None
    held_since: datetime | None
    held_seconds: int


def paused_time(inputs: ClockInputs, now: datetime) -> timedelta:
    """Total time on hold since the escalation entered the queue, including a hold still running."""
    paused = timedelta(seconds=inputs.held_seconds)
    if inputs.held_since is not None:
        paused += max(now - inputs.held_since, timedelta(0))
    return paused


def clock(inputs: ClockInputs, policy: SlaPolicy, now: datetime) -> SlaClock:
    """The clock toward the next target: claim while unclaimed, then resolve. Holds push due times back."""
    targets = policy.for_severity(inputs.severity)
    if inputs.claimed_at is None:
        name, span = "claim", targets.claim
    else:
        name, span = "resolve", targets.resolve
    paused = paused_time(inputs, now)
    due_at = inputs.queued_at + span + paused
    remaining = due_at - now
    elapsed = span - remaining
    breached = remaining < timedelta(0)
    if inputs.held_since is not None:
        state = ClockState.PAUSED
    elif breached:
        state = ClockState.BREACHED
    elif elapsed >= span * policy.warn_ratio:
        state = ClockState.WARNING
    else:
        state = ClockState.OK
    return SlaClock(name, due_at, remaining, state, breached)


def format_duration(delta: timedelta) -> str:
    """A compact duration: ``45s``, ``12m 05s``, ``3h 07m``, ``2d 04h``; the sign is the caller's business."""
    total = int(abs(delta).total_seconds())
    days, rem = divmod(total, 86_400)
    hours, rem = divmod(rem, 3_600)
    minutes, seconds = divmod(rem, 60)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {seconds:02d}s"
    return f"{seconds}s"
