"""SLA clocks without a database: which target runs, warning and breach, paused while held, durations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from console.domain import Severity
from console.sla import ClockInputs, ClockState, SlaPolicy, SlaTargets, clock, format_duration, paused_time

QUEUED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def _policy(claim_minutes: int = 10, resolve_minutes: int = 100, warn_ratio: float = 0.8) -> SlaPolicy:
    """A policy whose numbers make the expectations easy to work out by hand (NORMAL only is changed)."""
    targets = dict(SlaPolicy().targets)
    targets[Severity.NORMAL] = SlaTargets(timedelta(minutes=claim_minutes), timedelta(minutes=resolve_minutes))
    return SlaPolicy(targets=targets, warn_ratio=warn_ratio)


def _inputs(
    *,
    claimed_at: datetime | None = None,
    held_since: datetime | None = None,
    held_seconds: int = 0,
    severity: Severity = Severity.NORMAL,
) -> ClockInputs:
    return ClockInputs(severity, QUEUED, claimed_at, held_since, held_seconds)


def test_unclaimed_case_runs_the_claim_clock_from_when_it_was_queued() -> None:
    now = QUEUED + 3 * MIN
    state = clock(_inputs(), _policy(), now)
    assert state.target == "claim"
    assert state.due_at == QUEUED + 10 * MIN
    assert state.remaining == 7 * MIN
    assert state.state is ClockState.OK
    assert state.breached is False


def test_claimed_case_runs_the_resolve_clock_from_when_it_was_queued() -> None:
    claimed = QUEUED + 4 * MIN
    now = QUEUED + 30 * MIN
    state = clock(_inputs(claimed_at=claimed), _policy(), now)
    assert state.target == "resolve"
    # Resolution time counts from the escalation, not from the claim (domain.md section 5).
    assert state.due_at == QUEUED + 100 * MIN
    assert state.remaining == 70 * MIN
    assert state.state is ClockState.OK


@pytest.mark.parametrize(
    ("elapsed", "expected"),
    [
        (7 * MIN + timedelta(seconds=59), ClockState.OK),  # just under 80 % of 10 minutes
        (8 * MIN, ClockState.WARNING),  # exactly 80 %
        (10 * MIN, ClockState.WARNING),  # due now, not yet over
        (10 * MIN + timedelta(seconds=1), ClockState.BREACHED),
    ],
)
def test_warning_at_the_warn_ratio_and_breach_after_the_target(elapsed: timedelta, expected: ClockState) -> None:
    state = clock(_inputs(), _policy(), QUEUED + elapsed)
    assert state.state is expected
    assert state.breached is (expected is ClockState.BREACHED)
    assert state.remaining == 10 * MIN - elapsed


def test_the_warn_ratio_comes_from_the_policy() -> None:
    at_half = QUEUED + 5 * MIN
    assert clock(_inputs(), _policy(warn_ratio=0.5), at_half).state is ClockState.WARNING
    assert clock(_inputs(), _policy(warn_ratio=0.9), at_half).state is ClockState.OK


def test_each_severity_uses_its_own_targets() -> None:
    policy = SlaPolicy(
        targets={
            Severity.CRITICAL: SlaTargets(2 * MIN, 30 * MIN),
            Severity.HIGH: SlaTargets(5 * MIN, 60 * MIN),
            Severity.NORMAL: SlaTargets(10 * MIN, 100 * MIN),
            Severity.LOW: SlaTargets(20 * MIN, 200 * MIN),
        }
    )
    now = QUEUED + 4 * MIN
    assert clock(_inputs(severity=Severity.CRITICAL), policy, now).state is ClockState.BREACHED
    assert clock(_inputs(severity=Severity.HIGH), policy, now).remaining == MIN
    assert clock(_inputs(severity=Severity.LOW), policy, now).due_at == QUEUED + 20 * MIN
    assert policy.for_severity(Severity.HIGH) == SlaTargets(5 * MIN, 60 * MIN)


def test_a_held_case_is_paused_and_its_remaining_time_stands_still() -> None:
    claimed = QUEUED + 2 * MIN
    held = QUEUED + 20 * MIN
    states = [
        clock(_inputs(claimed_at=claimed, held_since=held), _policy(), held + wait)
        for wait in (timedelta(0), 30 * MIN, 10 * 60 * MIN)
    ]
    # 20 of the 100 minutes had run when the hold began: 80 stay left however long the hold lasts.
    assert [s.remaining for s in states] == [80 * MIN] * 3
    assert [s.state for s in states] == [ClockState.PAUSED] * 3
    assert [s.breached for s in states] == [False] * 3
    # The due time moves with the hold.
    assert states[1].due_at == QUEUED + 100 * MIN + 30 * MIN


def test_held_seconds_push_the_due_time_back() -> None:
    claimed = QUEUED + MIN
    inputs = _inputs(claimed_at=claimed, held_seconds=15 * 60)
    now = QUEUED + 100 * MIN  # would be due now without the earlier hold
    state = clock(inputs, _policy(), now)
    assert state.due_at == QUEUED + 115 * MIN
    assert state.remaining == 15 * MIN
    # 100 - 15 = 85 running minutes of 100: past the 80 % mark, not yet due.
    assert state.state is ClockState.WARNING
    assert state.breached is False


def test_held_seconds_count_toward_the_warning_only_as_running_time() -> None:
    inputs = _inputs(claimed_at=QUEUED + MIN, held_seconds=30 * 60)
    # 100 minutes since queued, 30 of them on hold: 70 running minutes of 100 -> still OK at 80 %.
    assert clock(inputs, _policy(), QUEUED + 100 * MIN).state is ClockState.OK
    # 111 minutes since queued: 81 running minutes -> warning.
    assert clock(inputs, _policy(), QUEUED + 111 * MIN).state is ClockState.WARNING


def test_a_case_held_after_its_due_time_is_paused_but_still_breached() -> None:
    inputs = _inputs(claimed_at=QUEUED + MIN, held_since=QUEUED + 110 * MIN)
    state = clock(inputs, _policy(), QUEUED + 300 * MIN)
    assert state.state is ClockState.PAUSED
    assert state.breached is True
    assert state.remaining == -10 * MIN


def test_paused_time_adds_the_running_hold_to_the_earlier_ones() -> None:
    inputs = _inputs(claimed_at=QUEUED, held_since=QUEUED + 50 * MIN, held_seconds=120)
    assert paused_time(inputs, QUEUED + 60 * MIN) == 12 * MIN
    assert paused_time(_inputs(held_seconds=90), QUEUED + 60 * MIN) == timedelta(seconds=90)


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(0), "0s"),
        (timedelta(seconds=45), "45s"),
        (timedelta(seconds=59, milliseconds=999), "59s"),
        (timedelta(minutes=1), "1m 00s"),
        (timedelta(minutes=12, seconds=5), "12m 05s"),
        (timedelta(hours=1), "1h 00m"),
        (timedelta(hours=3, minutes=7, seconds=59), "3h 07m"),
        (timedelta(days=1), "1d 00h"),
        (timedelta(days=2, hours=4, minutes=30), "2d 04h"),
        (-timedelta(minutes=1, seconds=30), "1m 30s"),  # the sign is the caller's business
    ],
)
def test_format_duration(delta: timedelta, text: str) -> None:
    assert format_duration(delta) == text
