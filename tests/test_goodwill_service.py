"""The goodwill service on both engines: budgets and where they come from, periods in the floor's time zone,
gestures, approvals, reversals, adjustments, the append-only ledger, input refusals, suggestions and returns.

Expected values are worked out by hand in each test (period bounds from a calendar, sums from the amounts granted),
not by calling the service's own helpers.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DatabaseError

from console.actor import Actor
from console.domain import Category, Channel, Severity
from console.errors import Conflict, NotFound, PermissionDenied, ValidationError
from console.goodwill import (
    ApprovalRefused,
    BudgetStatus,
    FloorGoodwill,
    GestureType,
    GoodwillService,
    Period,
    period_bounds,
)
from console.intake import IntakeService, NewEscalation
from db.engine import Database
from db.models import (
    Associate,
    AuditEvent,
    Change,
    Customer,
    Escalation,
    FollowUp,
    GoodwillBudget,
    GoodwillEntry,
    GoodwillRequest,
    Team,
)
from tests.conftest import make_actor

T0 = datetime(2024, 5, 6, 10, 0, tzinfo=UTC)  # a Monday; the floor's default time zone is UTC
NEXT_WEEK = T0 + timedelta(days=8)
WHY = "Quarterly budget review"
NIL = Decimal("0.00")


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# --- set-up helpers ----------------------------------------------------------------------------------------------
def _case(
    database: Database,
    associate: str = "Ana",
    customer: str = "Ann Lee",
    category: Category = Category.BILLING_ERROR,
    ref: str | None = None,
) -> int:
    new = NewEscalation(
        customer, Channel.PHONE, category, Severity.NORMAL, associate, "Charged twice", customer_ref=ref
    )
    return IntakeService(database).escalate(None, new)


def _customer_of(database: Database, case_id: int) -> int:
    with database.read() as session:
        found = session.scalar(select(Escalation.customer_id).where(Escalation.id == case_id))
        assert found is not None
        return int(found)


def _associate_id(database: Database, name: str) -> int:
    with database.read() as session:
        found = session.scalar(select(Associate.id).where(Associate.name == name))
        assert found is not None
        return int(found)


def _team(database: Database, name: str, *members: str) -> None:
    with database.transaction() as session:
        team = Team(name=name)
        session.add(team)
        session.flush()
        session.execute(update(Associate).where(Associate.name.in_(members)).values(team_id=team.id))


def _customer_values(database: Database, customer_id: int, *, ltv: str = "0", churn: float = 0.0) -> None:
    with database.transaction() as session:
        session.execute(
            update(Customer).where(Customer.id == customer_id).values(lifetime_value=Decimal(ltv), churn_risk=churn)
        )


def _status(service: GoodwillService, associate: str, at: datetime) -> BudgetStatus:
    [status] = service.budgets(associate=associate, at=at)
    return status


def _gift(
    service: GoodwillService, actor: Actor, case_id: int, amount: str, at: datetime, associate: str = "Ana"
) -> int:
    """A gesture that must be recorded at once; returns its ledger entry."""
    outcome = service.grant(
        actor,
        associate=associate,
        amount=amount,
        gesture_type="credit",
        reason_code="billing_error",
        escalation_id=case_id,
        at=at,
    )
    assert outcome.granted, outcome
    return outcome.id


def _request(
    service: GoodwillService, actor: Actor, case_id: int, amount: str, at: datetime = T0, associate: str = "Ana"
) -> int:
    """A gesture that must become an approval request; returns the request."""
    outcome = service.grant(
        actor,
        associate=associate,
        amount=amount,
        gesture_type="credit",
        reason_code="billing_error",
        escalation_id=case_id,
        at=at,
    )
    assert outcome.status == "pending", outcome
    return outcome.id


def _count(database: Database, model: type[object], *where: object) -> int:
    with database.read() as session:
        query = select(func.count()).select_from(model)
        for clause in where:
            query = query.where(clause)  # type: ignore[arg-type]
        return int(session.scalar(query) or 0)


def _footprint(database: Database) -> dict[str, int]:
    """Everything a goodwill call could write, counted."""
    return {
        "entries": _count(database, GoodwillEntry),
        "requests": _count(database, GoodwillRequest),
        "budgets": _count(database, GoodwillBudget),
        "audit": _count(database, AuditEvent, AuditEvent.action.like("goodwill.%")),
        "changes": _count(database, Change, Change.entity == "goodwill"),
    }


def _audit(database: Database, action: str) -> list[AuditEvent]:
    with database.read() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


# --- periods, by hand ----------------------------------------------------------------------------------------------
BERLIN = FloorGoodwill(timezone="Europe/Berlin", shift_starts=(time(6), time(14), time(22)))
NEW_YORK = FloorGoodwill(timezone="America/New_York", shift_starts=(time(6), time(14), time(22)))


@pytest.mark.parametrize(
    ("floor", "period", "at", "start", "end"),
    [
        # Berlin springs forward on Sun 31 Mar 2024 (02:00 CET -> 03:00 CEST): that week has 167 hours.
        (BERLIN, Period.WEEK, _utc(2024, 3, 28, 12), _utc(2024, 3, 24, 23), _utc(2024, 3, 31, 22)),
        (BERLIN, Period.WEEK, _utc(2024, 3, 24, 23), _utc(2024, 3, 24, 23), _utc(2024, 3, 31, 22)),
        (BERLIN, Period.WEEK, _utc(2024, 3, 24, 22, 59), _utc(2024, 3, 17, 23), _utc(2024, 3, 24, 23)),
        (BERLIN, Period.WEEK, _utc(2024, 3, 31, 22), _utc(2024, 3, 31, 22), _utc(2024, 4, 7, 22)),
        # Berlin falls back on Sun 27 Oct 2024: that week has 169 hours.
        (BERLIN, Period.WEEK, _utc(2024, 10, 27, 1, 30), _utc(2024, 10, 20, 22), _utc(2024, 10, 27, 23)),
        (BERLIN, Period.MONTH, _utc(2024, 3, 15), _utc(2024, 2, 29, 23), _utc(2024, 3, 31, 22)),
        (BERLIN, Period.MONTH, _utc(2024, 3, 31, 22, 30), _utc(2024, 3, 31, 22), _utc(2024, 4, 30, 22)),
        (BERLIN, Period.MONTH, _utc(2024, 12, 31, 23, 30), _utc(2024, 12, 31, 23), _utc(2025, 1, 31, 23)),
        # Night shift 22:00-06:00 crossing midnight, on an ordinary winter night (CET, UTC+1), from both sides.
        (BERLIN, Period.SHIFT, _utc(2024, 1, 15, 22, 30), _utc(2024, 1, 15, 21), _utc(2024, 1, 16, 5)),
        (BERLIN, Period.SHIFT, _utc(2024, 1, 16, 1), _utc(2024, 1, 15, 21), _utc(2024, 1, 16, 5)),
        (BERLIN, Period.SHIFT, _utc(2024, 1, 16, 5), _utc(2024, 1, 16, 5), _utc(2024, 1, 16, 13)),
        (BERLIN, Period.SHIFT, _utc(2024, 1, 16, 20, 59), _utc(2024, 1, 16, 13), _utc(2024, 1, 16, 21)),
        # The night the clocks go forward: 22:00 CET to 06:00 CEST is seven hours.
        (BERLIN, Period.SHIFT, _utc(2024, 3, 31, 1, 30), _utc(2024, 3, 30, 21), _utc(2024, 3, 31, 4)),
        # The night they go back: nine hours, and both 02:30s (CEST, then CET) fall in it.
        (BERLIN, Period.SHIFT, _utc(2024, 10, 27, 0, 30), _utc(2024, 10, 26, 20), _utc(2024, 10, 27, 5)),
        (BERLIN, Period.SHIFT, _utc(2024, 10, 27, 1, 30), _utc(2024, 10, 26, 20), _utc(2024, 10, 27, 5)),
        # New York springs forward on Sun 10 Mar 2024, falls back on Sun 3 Nov 2024.
        (NEW_YORK, Period.WEEK, _utc(2024, 3, 10, 12), _utc(2024, 3, 4, 5), _utc(2024, 3, 11, 4)),
        (NEW_YORK, Period.MONTH, _utc(2024, 3, 15), _utc(2024, 3, 1, 5), _utc(2024, 4, 1, 4)),
        (NEW_YORK, Period.MONTH, _utc(2024, 11, 15), _utc(2024, 11, 1, 4), _utc(2024, 12, 1, 5)),
        (NEW_YORK, Period.SHIFT, _utc(2024, 3, 10, 8), _utc(2024, 3, 10, 3), _utc(2024, 3, 10, 10)),
        # UTC, one shift a day: before today's start it is still yesterday's.
        (
            FloorGoodwill(shift_starts=(time(6),)),
            Period.SHIFT,
            _utc(2024, 5, 6, 5),
            _utc(2024, 5, 5, 6),
            T0 - timedelta(hours=4),
        ),
    ],
)
def test_period_bounds_worked_out_by_hand(
    floor: FloorGoodwill, period: Period, at: datetime, start: datetime, end: datetime
) -> None:
    assert period_bounds(period, at, floor) == (start, end)


# --- where a budget comes from ---------------------------------------------------------------------------------
def test_without_any_budget_the_floor_default_applies(database: Database) -> None:
    _case(database, "Ana")
    status = _status(GoodwillService(database), "Ana", T0)
    assert (status.rule.source, status.period, status.allowance, status.cap) == (
        "floor",
        Period.WEEK,
        Decimal("150.00"),
        Decimal("25.00"),
    )
    assert (status.spent, status.pending, status.adjustments, status.remaining) == (NIL, NIL, NIL, Decimal("150.00"))
    assert (status.period_start, status.period_end) == (_utc(2024, 5, 6), _utc(2024, 5, 13))
    assert status.currency == "USD"


def test_team_rule_overrides_floor_and_associate_rule_overrides_team(database: Database, manager: Actor) -> None:
    for name in ("Ana", "Ben", "Cy"):
        _case(database, name, customer=f"Customer of {name}")
    _team(database, "Returns", "Ben", "Cy")
    service = GoodwillService(database)
    service.set_budget(manager, reason=WHY, allowance="200", cap="30", period="month")
    service.set_budget(manager, reason=WHY, team="returns", allowance="120", cap="20", period="week")
    service.set_budget(manager, reason=WHY, associate="Cy", allowance="80", cap="10", period="shift")
    rules = {s.associate: s.rule for s in service.budgets(at=T0)}
    assert (rules["Ana"].source, rules["Ana"].period, rules["Ana"].allowance, rules["Ana"].cap) == (
        "floor",
        Period.MONTH,
        Decimal("200.00"),
        Decimal("30.00"),
    )
    assert (rules["Ben"].source, rules["Ben"].period, rules["Ben"].allowance, rules["Ben"].cap) == (
        "team",
        Period.WEEK,
        Decimal("120.00"),
        Decimal("20.00"),
    )
    assert (rules["Cy"].source, rules["Cy"].period, rules["Cy"].allowance, rules["Cy"].cap) == (
        "associate",
        Period.SHIFT,
        Decimal("80.00"),
        Decimal("10.00"),
    )
    teams = {s.associate: s.team for s in service.budgets(at=T0)}
    assert teams == {"Ana": None, "Ben": "Returns", "Cy": "Returns"}
    # The rule is what a gesture is checked against: 21 is over Ben's team cap of 20, not over the floor's 30.
    assert (
        service.grant(
            manager,
            associate="Ben",
            amount="21",
            gesture_type="credit",
            reason_code="billing_error",
            customer_id=_customer_of(database, _case(database, "Ben", customer="Customer of Ben")),
            at=T0,
        ).status
        == "pending"
    )


def test_set_budget_changes_only_what_is_given_and_is_audited(database: Database, manager: Actor) -> None:
    _case(database, "Ana")
    _team(database, "Billing", "Ana")
    service = GoodwillService(database)
    service.set_budget(manager, reason="Team default", team="Billing", allowance="120", cap="20", period="month")
    rule = service.set_budget(manager, reason="Ana handles the big accounts", associate="ana", cap="40")
    assert (rule.source, rule.period, rule.allowance, rule.cap) == (
        "associate",
        Period.MONTH,
        Decimal("120.00"),
        Decimal("40.00"),
    )
    rule = service.set_budget(manager, reason="More room", associate="Ana", allowance="300")
    assert (rule.period, rule.allowance, rule.cap) == (Period.MONTH, Decimal("300.00"), Decimal("40.00"))
    rule = service.set_budget(manager, reason="Weekly like the rest", associate="Ana", period="week")
    assert (rule.period, rule.allowance, rule.cap) == (Period.WEEK, Decimal("300.00"), Decimal("40.00"))
    status = _status(service, "Ana", T0)
    assert (status.rule.source, status.period, status.allowance, status.cap) == (
        "associate",
        Period.WEEK,
        Decimal("300.00"),
        Decimal("40.00"),
    )
    history = service.budget_history("Ana")
    assert [h.action for h in history] == ["goodwill.budget_set"] * 3
    first = history[0]
    assert first.actor == "mia"
    assert first.note == "Ana handles the big accounts"
    assert first.before == {"scope": "Ana", "period": "month", "allowance": "120.00", "cap": "20.00", "from": "team"}
    assert first.after == {"scope": "Ana", "period": "month", "allowance": "120.00", "cap": "40.00"}
    assert history[2].before is not None
    assert history[2].before["from"] == "associate"
    assert history[2].after == {"scope": "Ana", "period": "week", "allowance": "300.00", "cap": "40.00"}


def test_set_budget_is_for_managers_and_needs_a_reason(database: Database, manager: Actor, supervisor: Actor) -> None:
    _case(database, "Ana")
    _team(database, "Billing")
    _team(database, "Returns")
    service = GoodwillService(database)
    before = _footprint(database)
    with pytest.raises(PermissionDenied, match="manager"):
        service.set_budget(supervisor, reason=WHY, associate="Ana", cap="30")
    for reason in ("", "   "):
        with pytest.raises(ValidationError, match="reason"):
            service.set_budget(manager, reason=reason, associate="Ana", cap="30")
    with pytest.raises(ValidationError, match="Nothing to change"):
        service.set_budget(manager, reason=WHY, associate="Ana")
    with pytest.raises(ValidationError, match="not both"):
        service.set_budget(manager, reason=WHY, associate="Ana", team="Billing", cap="30")
    with pytest.raises(ValidationError, match="Billing, Returns"):
        service.set_budget(manager, reason=WHY, team="Refunds", cap="30")
    with pytest.raises(ValidationError, match="ceiling") as above:
        service.set_budget(manager, reason=WHY, associate="Ana", cap="1000.01")
    assert above.value.field == "cap"
    with pytest.raises(ValidationError, match="shift, week, month"):
        service.set_budget(manager, reason=WHY, associate="Ana", period="fortnight")
    for bad in ("-1", "abc", "1.001"):
        with pytest.raises(ValidationError):
            service.set_budget(manager, reason=WHY, associate="Ana", allowance=bad)
    assert _footprint(database) == before
    assert _status(service, "Ana", T0).rule.source == "floor"


# --- gestures ----------------------------------------------------------------------------------------------------
def test_a_gesture_within_cap_and_budget_is_recorded_at_once(database: Database, supervisor: Actor) -> None:
    case = _case(database, "Ana", customer="Ann Lee")
    service = GoodwillService(database)
    outcome = service.grant(
        supervisor,
        associate="Ana",
        amount="12.5",
        gesture_type="discount",
        reason_code="Billing error",
        escalation_id=case,
        at=T0,
    )
    assert (outcome.status, outcome.granted, outcome.amount, outcome.because) == (
        "granted",
        True,
        Decimal("12.50"),
        None,
    )
    [line] = service.ledger(associate="Ana")
    assert line.id == outcome.id
    assert (line.kind, line.associate, line.customer, line.escalation_id) == ("gesture", "Ana", "Ann Lee", case)
    assert line.customer_id == _customer_of(database, case)
    assert (line.gesture_type, line.amount, line.currency) == (GestureType.DISCOUNT, Decimal("12.50"), "USD")
    assert (line.reason_code, line.reason_text) == ("billing_error", None)
    assert (line.effective_at, line.recorded_at, line.recorded_by) == (T0, T0, "sam")
    assert line.reversible
    status = _status(service, "Ana", T0)
    assert (status.spent, status.remaining, status.pending) == (Decimal("12.50"), Decimal("137.50"), NIL)
    assert service.requests() == []
    [event] = _audit(database, "goodwill.granted")
    assert event.actor == "sam"
    assert event.entity_id == str(outcome.id)
    assert event.after is not None
    assert event.after["amount"] == "12.50"


def test_a_gesture_over_the_cap_waits_for_approval(database: Database, supervisor: Actor) -> None:
    case = _case(database, "Ana")
    service = GoodwillService(database)
    outcome = service.grant(
        supervisor,
        associate="Ana",
        amount="30",
        gesture_type="credit",
        reason_code="billing_error",
        escalation_id=case,
        at=T0,
    )
    assert outcome.status == "pending"
    assert not outcome.granted
    assert outcome.because is not None
    assert "over the 25.00 cap per gesture" in outcome.because
    assert "left" not in outcome.because  # 30 is within the 150 left; only the cap is the problem
    [request] = service.requests()
    assert (request.id, request.amount, request.status, request.requested_by) == (
        outcome.id,
        Decimal("30.00"),
        "pending",
        "sam",
    )
    assert request.because == outcome.because
    assert service.ledger() == []
    assert service.pending_count() == 1
    status = _status(service, "Ana", T0)
    assert (status.spent, status.pending, status.pending_count, status.remaining) == (
        NIL,
        Decimal("30.00"),
        1,
        Decimal("150.00"),
    )
    # Exactly the cap is within it.
    assert service.grant(
        supervisor,
        associate="Ana",
        amount="25.00",
        gesture_type="credit",
        reason_code="billing_error",
        escalation_id=case,
        at=T0,
    ).granted


def test_a_gesture_beyond_what_is_left_waits_and_pending_is_not_spent(database: Database, supervisor: Actor) -> None:
    case = _case(database, "Ana")
    service = GoodwillService(database)
    for _ in range(5):
        _gift(service, supervisor, case, "25", T0)
    _gift(service, supervisor, case, "20", T0 + timedelta(hours=1))  # 150 - 145 = 5.00 left
    request = _request(service, supervisor, case, "5.01", T0 + timedelta(hours=2))
    [waiting] = service.requests()
    assert waiting.id == request
    assert "only 5.00 left this week" in waiting.because
    assert "cap" not in waiting.because
    _gift(service, supervisor, case, "5.00", T0 + timedelta(hours=3))  # exactly what is left
    status = _status(service, "Ana", T0 + timedelta(hours=4))
    assert (status.spent, status.remaining) == (Decimal("150.00"), Decimal("0.00"))
    assert (status.pending, status.pending_count) == (Decimal("5.01"), 1)
    late = _request(service, supervisor, case, "1", T0 + timedelta(hours=5))
    assert late != request
    assert _status(service, "Ana", T0 + timedelta(hours=5)).pending == Decimal("6.01")
    # Next week starts afresh.
    assert _status(service, "Ana", NEXT_WEEK).remaining == Decimal("150.00")
    _gift(service, supervisor, case, "1", NEXT_WEEK)


def test_gestures_outside_the_period_do_not_count(database: Database, supervisor: Actor) -> None:
    case = _case(database, "Ana")
    service = GoodwillService(database)
    _gift(service, supervisor, case, "7", _utc(2024, 5, 5, 23, 59, 59))  # Sunday, last week
    _gift(service, supervisor, case, "11", _utc(2024, 5, 6))  # Monday 00:00, this week
    _gift(service, supervisor, case, "13", _utc(2024, 5, 13))  # next Monday 00:00
    assert _status(service, "Ana", T0).spent == Decimal("11.00")
    assert _status(service, "Ana", _utc(2024, 5, 5, 12)).spent == Decimal("7.00")
    assert _status(service, "Ana", _utc(2024, 5, 13, 0, 0, 1)).spent == Decimal("13.00")


# --- approvals ---------------------------------------------------------------------------------------------------
def test_an_approved_request_counts_in_the_period_it_was_asked_in(
    database: Database, supervisor: Actor, manager: Actor
) -> None:
    tom = make_actor(database, "tom")
    case = _case(database, "Ana")
    service = GoodwillService(database)
    request = _request(service, supervisor, case, "30", T0)
    changes = _count(database, Change, Change.entity == "goodwill")
    entry_id = service.approve(tom, request, at=NEXT_WEEK)
    [line] = service.ledger()
    assert line.id == entry_id
    assert (line.kind, line.amount, line.effective_at, line.recorded_at) == (
        "gesture",
        Decimal("30.00"),
        T0,
        NEXT_WEEK,
    )
    assert line.request_id == request
    assert _status(service, "Ana", T0).spent == Decimal("30.00")
    assert _status(service, "Ana", T0).pending == 0
    assert _status(service, "Ana", NEXT_WEEK).spent == 0
    assert service.requests() == []
    [decided] = service.requests(status="approved")
    assert (decided.status, decided.decided_by, decided.decided_at, decided.entry_id) == (
        "approved",
        "tom",
        NEXT_WEEK,
        entry_id,
    )
    [event] = _audit(database, "goodwill.approved")
    assert event.actor == "tom"
    assert event.entity_id == str(request)
    assert event.before == {"status": "pending"}
    assert event.after is not None
    assert event.after["status"] == "approved"
    assert event.after["entry_id"] == entry_id
    assert _count(database, Change, Change.entity == "goodwill") > changes


def test_nobody_approves_their_own_request_and_the_refusal_is_audited(
    database: Database, supervisor: Actor, manager: Actor
) -> None:
    case = _case(database, "Ana")
    service = GoodwillService(database)
    own = _request(service, supervisor, case, "30")
    managers_own = _request(service, manager, case, "40")
    before = _footprint(database)
    with pytest.raises(ApprovalRefused, match="yourself"):
        service.approve(supervisor, own, at=T0)
    with pytest.raises(ApprovalRefused, match="yourself"):
        service.approve(manager, managers_own, at=T0)
    refusals = _audit(database, "goodwill.approval_refused")
    assert [(r.actor, r.entity, r.entity_id) for r in refusals] == [
        ("sam", "goodwill_request", str(own)),
        ("mia", "goodwill_request", str(managers_own)),
    ]
    assert all(r.note and "yourself" in r.note for r in refusals)
    # Apart from the two audit events, nothing changed: both still wait, no ledger entry, no approval recorded.
    after = _footprint(database)
    assert after == {**before, "audit": before["audit"] + 2}
    assert {r.id: r.status for r in service.requests(status=None)} == {own: "pending", managers_own: "pending"}
    assert _audit(database, "goodwill.approved") == []
    # Someone else may.
    service.approve(manager, own, at=T0)
    service.approve(supervisor, managers_own, at=T0)
    assert _status(service, "Ana", T0).spent == Decimal("70.00")


def test_a_supervisor_approves_only_within_their_limit_and_a_manager_above_it(
    database: Database, supervisor: Actor, manager: Actor
) -> None:
    tom = make_actor(database, "tom")
    case = _case(database, "Ana")
    service = GoodwillService(database)
    assert service.approval_limit(tom) == Decimal("100.00")
    assert service.approval_limit(manager) == Decimal("1000.00")  # the floor's ceiling
    at_limit = _request(service, supervisor, case, "100")
    above = _request(service, supervisor, case, "100.01")
    with pytest.raises(ApprovalRefused, match=r"100\.01 is above your approval limit of 100\.00"):
        service.approve(tom, above, at=T0)
    [refusal] = _audit(database, "goodwill.approval_refused")
    assert refusal.actor == "tom"
    assert refusal.note is not None
    assert "approval limit" in refusal.note
    assert {r.id for r in service.requests()} == {at_limit, above}
    service.approve(tom, at_limit, at=T0)
    service.approve(manager, above, at=T0)
    assert _status(service, "Ana", T0).spent == Decimal("200.01")
    assert _status(service, "Ana", T0).remaining == Decimal("-50.01")


def test_a_personal_approval_limit_overrides_the_floor_default(
    database: Database, supervisor: Actor, manager: Actor
) -> None:
    tom, uma = make_actor(database, "tom"), make_actor(database, "uma")
    case = _case(database, "Ana")
    service = GoodwillService(database)
    service.set_floor_settings(manager, reason="Tighter approvals", supervisor_limit="50")
    assert service.approval_limit(tom) == Decimal("50.00")
    with pytest.raises(PermissionDenied, match="manager"):
        service.set_approval_limit(supervisor, "tom", "200", reason="I say so")
    with pytest.raises(ValidationError, match="reason"):
        service.set_approval_limit(manager, "tom", "200", reason=" ")
    with pytest.raises(ValidationError, match="no account"):
        service.set_approval_limit(manager, "nobody", "200", reason=WHY)
    service.set_approval_limit(manager, "tom", "200", reason="Team lead")
    service.set_approval_limit(manager, "uma", "20", reason="New on the floor")
    assert (service.approval_limit(tom), service.approval_limit(uma)) == (Decimal("200.00"), Decimal("20.00"))
    sixty, thirty = _request(service, supervisor, case, "60"), _request(service, supervisor, case, "30")
    with pytest.raises(ApprovalRefused, match=r"limit of 20\.00"):
        service.approve(uma, thirty, at=T0)  # within the floor's 50, but not within her own 20
    service.approve(tom, sixty, at=T0)  # above the floor's 50, within his own 200
    [change] = _audit(database, "goodwill.approval_limit")[:1]
    assert change.actor == "mia"
    assert change.note == "Team lead"
    assert change.before == {"username": "tom", "approval_limit": None}
    assert change.after == {"username": "tom", "approval_limit": "200.00"}
    # Back to the floor's default.
    service.set_approval_limit(manager, "tom", None, reason="Back to normal")
    assert service.approval_limit(tom) == Decimal("50.00")


def test_a_decline_needs_a_reason_and_is_final(database: Database, supervisor: Actor, manager: Actor) -> None:
    case = _case(database, "Ana")
    service = GoodwillService(database)
    request = _request(service, supervisor, case, "30")
    before = _footprint(database)
    for reason in ("", "  \n"):
        with pytest.raises(ValidationError, match="reason"):
            service.decline(manager, request, reason, at=T0)
    assert _footprint(database) == before
    assert service.requests()[0].status == "pending"
    service.decline(manager, request, "A replacement is on its way instead", at=T0 + timedelta(hours=1))
    [decided] = service.requests(status="declined")
    assert (decided.status, decided.decided_by, decided.decision_reason) == (
        "declined",
        "mia",
        "A replacement is on its way instead",
    )
    assert decided.decided_at == T0 + timedelta(hours=1)
    assert decided.entry_id is None
    status = _status(service, "Ana", T0)
    assert (status.spent, status.pending, status.pending_count) == (NIL, NIL, 0)
    [event] = _audit(database, "goodwill.declined")
    assert event.note == "A replacement is on its way instead"
    assert event.actor == "mia"
    with pytest.raises(Conflict, match="already declined by mia"):
        service.approve(make_actor(database, "tom"), request, at=T0)
    with pytest.raises(Conflict):
        service.decline(manager, request, "Again", at=T0)
    assert service.ledger() == []


def test_deciding_twice_is_a_conflict(database: Database, supervisor: Actor, manager: Actor) -> None:
    tom = make_actor(database, "tom")
    case = _case(database, "Ana")
    service = GoodwillService(database)
    request = _request(service, supervisor, case, "30")
    service.approve(tom, request, at=T0)
    with pytest.raises(Conflict, match="already approved by tom"):
        service.approve(manager, request, at=T0)
    with pytest.raises(Conflict, match="already approved"):
        service.decline(manager, request, "Too much", at=T0)
    assert len(service.ledger()) == 1
    assert _status(service, "Ana", T0).spent == Decimal("30.00")
    with pytest.raises(NotFound):
        service.approve(manager, request + 1000, at=T0)


# --- reversals and adjustments -----------------------------------------------------------------------------------
def test_a_reversal_is_a_linked_negative_entry_in_the_original_period(
    database: Database, supervisor: Actor, manager: Actor
) -> None:
    tom = make_actor(database, "tom")
    case = _case(database, "Ana")
    service = GoodwillService(database)
    original = _gift(service, supervisor, case, "20", T0)
    _gift(service, supervisor, case, "4", T0 + timedelta(hours=1))
    _gift(service, supervisor, case, "9", NEXT_WEEK)
    assert _status(service, "Ana", T0).remaining == Decimal("126.00")
    with pytest.raises(ValidationError, match="reason"):
        service.reverse(tom, original, "  ", at=NEXT_WEEK)
    reversal = service.reverse(tom, original, "Keyed twice", at=NEXT_WEEK)
    lines = {line.id: line for line in service.ledger()}
    back = lines[reversal]
    assert (back.kind, back.amount, back.reverses_id, back.effective_at, back.recorded_at) == (
        "reversal",
        Decimal("-20.00"),
        original,
        T0,
        NEXT_WEEK,
    )
    assert (back.reason_text, back.recorded_by, back.customer_id) == ("Keyed twice", "tom", lines[original].customer_id)
    assert lines[original].reversed_by_id == reversal
    assert not lines[original].reversible
    assert not back.reversible
    status = _status(service, "Ana", T0)
    assert (status.spent, status.remaining) == (Decimal("4.00"), Decimal("146.00"))
    assert _status(service, "Ana", NEXT_WEEK).spent == Decimal("9.00")  # the week it was reversed in is untouched
    [event] = _audit(database, "goodwill.reversed")
    assert event.note == "Keyed twice"
    assert event.entity_id == str(original)
    before = _footprint(database)
    with pytest.raises(Conflict, match=f"already reversed by entry #{reversal}"):
        service.reverse(manager, original, "Again", at=NEXT_WEEK)
    with pytest.raises(ValidationError, match="only gestures"):
        service.reverse(manager, reversal, "Undo the undo", at=NEXT_WEEK)
    with pytest.raises(NotFound):
        service.reverse(manager, reversal + 1000, "No such entry", at=NEXT_WEEK)
    adjustment = service.adjust(manager, "Ana", "10", "Busy week", at=T0)
    with pytest.raises(ValidationError, match="only gestures"):
        service.reverse(manager, adjustment, "Not a gesture", at=T0)
    assert _footprint(database)["entries"] == before["entries"] + 1


def test_adjustments_are_signed_manager_only_and_change_what_is_left(
    database: Database, supervisor: Actor, manager: Actor
) -> None:
    case = _case(database, "Ana")
    service = GoodwillService(database)
    _gift(service, supervisor, case, "25", T0)
    before = _footprint(database)
    with pytest.raises(PermissionDenied, match="manager"):
        service.adjust(supervisor, "Ana", "20", "Please", at=T0)
    with pytest.raises(ValidationError, match="reason"):
        service.adjust(manager, "Ana", "20", "", at=T0)
    for bad in ("0", "-0.00", "abc", "1.234", "NaN", "--5", "+-5", "-", ""):
        with pytest.raises(ValidationError):
            service.adjust(manager, "Ana", bad, WHY, at=T0)
    with pytest.raises(ValidationError, match="Unknown associate"):
        service.adjust(manager, "Nobody", "5", WHY, at=T0)
    assert _footprint(database) == before
    service.adjust(manager, "Ana", "+20", "Big recall this week", at=T0)
    status = _status(service, "Ana", T0)
    assert (status.adjustments, status.available, status.spent, status.remaining) == (
        Decimal("20.00"),
        Decimal("170.00"),
        Decimal("25.00"),
        Decimal("145.00"),
    )
    service.adjust(manager, "Ana", "-50", "Overspent last month", at=T0 + timedelta(hours=1))
    service.adjust(manager, "Ana", Decimal("-5.5"), "Rounding it out", at=T0 + timedelta(hours=2))
    status = _status(service, "Ana", T0 + timedelta(hours=3))
    assert (status.adjustments, status.spent, status.remaining) == (
        Decimal("-35.50"),
        Decimal("25.00"),
        Decimal("89.50"),
    )
    assert _status(service, "Ana", NEXT_WEEK).adjustments == 0
    kinds = sorted((line.kind, line.amount) for line in service.ledger(associate="Ana"))
    assert kinds == [
        ("adjustment", Decimal("-50.00")),
        ("adjustment", Decimal("-5.50")),
        ("adjustment", Decimal("20.00")),
        ("gesture", Decimal("25.00")),
    ]
    events = _audit(database, "goodwill.adjusted")
    assert next((e.actor, e.note) for e in events) == ("mia", "Big recall this week")
    assert events[1].after == {"associate": "Ana", "amount": "-50.00"}
    # What is left decides: 89.50 left, so 25 more is still within it.
    _gift(service, supervisor, case, "25", T0 + timedelta(hours=4))


# --- the ledger only grows -----------------------------------------------------------------------------------------
def test_the_database_refuses_to_update_or_delete_ledger_entries(database: Database, supervisor: Actor) -> None:
    case = _case(database, "Ana")
    service = GoodwillService(database)
    entry = _gift(service, supervisor, case, "12", T0)
    statements = [
        "UPDATE goodwill_entries SET amount = 1 WHERE id = :id",
        "UPDATE goodwill_entries SET reason_text = 'edited' WHERE id = :id",
        "DELETE FROM goodwill_entries WHERE id = :id",
    ]
    if database.dialect == "postgresql":
        statements.append("TRUNCATE goodwill_entries CASCADE")
    for statement in statements:
        with pytest.raises(DatabaseError, match="append-only"), database.transaction() as session:
            session.execute(text(statement), {"id": entry})
    with database.read() as session:
        row = session.get(GoodwillEntry, entry)
        assert row is not None
        assert (row.amount, row.reason_text, row.kind) == (Decimal("12.00"), None, "gesture")
    assert _count(database, GoodwillEntry) == 1


# --- refusals of bad input -----------------------------------------------------------------------------------------
BAD_AMOUNTS = [
    "0",
    "0.00",
    "-5",
    "-0.01",
    "NaN",
    "nan",
    "sNaN",
    "Infinity",
    "-inf",
    "1.234",
    "0.001",
    "12.5.0",
    "abc",
    "12 EUR",
    "",
    "   ",
    "1_000",
    "1000.01",  # above the default ceiling of 1000.00
    "100000.01",
]


def test_bad_amounts_are_refused_with_a_reason_and_nothing_is_written(
    database: Database, supervisor: Actor, manager: Actor
) -> None:
    case = _case(database, "Ana")
    service = GoodwillService(database)
    before = _footprint(database)
    bad_amounts: list[str | Decimal] = [*BAD_AMOUNTS, Decimal("NaN"), Decimal("0.005"), Decimal("-1")]
    for bad in bad_amounts:
        with pytest.raises(ValidationError) as refused:
            service.grant(
                supervisor,
                associate="Ana",
                amount=bad,
                gesture_type="credit",
                reason_code="billing_error",
                escalation_id=case,
                at=T0,
            )
        assert refused.value.field == "amount", bad
        assert str(refused.value).strip(), bad
    with pytest.raises(TypeError):  # a float is a programming error, never money
        service.grant(
            supervisor,
            associate="Ana",
            amount=5.0,  # type: ignore[arg-type]
            gesture_type="credit",
            reason_code="billing_error",
            escalation_id=case,
            at=T0,
        )
    assert _footprint(database) == before
    # The ceiling is the floor's to set; the message names it.
    service.set_floor_settings(manager, reason="Smaller gestures", ceiling="40")
    before = _footprint(database)
    with pytest.raises(ValidationError, match=r"40\.01 is above the floor's ceiling of 40\.00"):
        service.grant(
            supervisor,
            associate="Ana",
            amount="40.01",
            gesture_type="credit",
            reason_code="billing_error",
            escalation_id=case,
            at=T0,
        )
    assert _footprint(database) == before
    # Exactly the ceiling is a gesture (over the 25 cap, so a request).
    assert _request(service, supervisor, case, "40.00")


def test_an_unknown_associate_is_refused_naming_the_valid_ones(database: Database, supervisor: Actor) -> None:
    case = _case(database, "Ana")
    _case(database, "Ben", customer="Bo Diaz")
    _case(database, "Cy", customer="Cal Eng")
    with database.transaction() as session:
        session.execute(update(Associate).where(Associate.name == "Cy").values(active=False))
    service = GoodwillService(database)
    before = _footprint(database)
    for who in ("Anna", "Cy"):
        with pytest.raises(ValidationError) as refused:
            service.grant(
                supervisor,
                associate=who,
                amount="5",
                gesture_type="credit",
                reason_code="billing_error",
                escalation_id=case,
                at=T0,
            )
        message = str(refused.value)
        assert refused.value.field == "associate"
        assert repr(who) in message
        assert "valid: Ana, Ben" in message
        assert "Cy," not in message
        assert not message.rstrip(".").endswith("Cy")
    with pytest.raises(ValidationError, match="valid: Ana, Ben"):
        service.budgets(associate="Nobody")
    assert _footprint(database) == before
    assert service.grant(
        supervisor,
        associate=" ana ",
        amount="5",
        gesture_type="credit",
        reason_code="billing_error",
        escalation_id=case,
        at=T0,
    ).granted


def test_reason_codes_and_gesture_types_are_checked(database: Database, supervisor: Actor) -> None:
    case = _case(database, "Ana")
    service = GoodwillService(database)
    before = _footprint(database)
    with pytest.raises(ValidationError) as refused:
        service.grant(
            supervisor,
            associate="Ana",
            amount="5",
            gesture_type="credit",
            reason_code="rude_customer",
            escalation_id=case,
            at=T0,
        )
    assert refused.value.field == "reason_code"
    for code in ("product_malfunction", "long_wait", "billing_error", "unmet_expectation", "other"):
        assert code in str(refused.value)
    with pytest.raises(ValidationError) as refused:
        service.grant(
            supervisor,
            associate="Ana",
            amount="5",
            gesture_type="voucher",
            reason_code="billing_error",
            escalation_id=case,
            at=T0,
        )
    for kind in ("discount", "credit", "free_item", "expedited_shipping"):
        assert kind in str(refused.value)
    for words in (None, "", "   "):
        with pytest.raises(ValidationError, match="other") as refused:
            service.grant(
                supervisor,
                associate="Ana",
                amount="5",
                gesture_type="credit",
                reason_code="other",
                reason_text=words,
                escalation_id=case,
                at=T0,
            )
        assert refused.value.field == "reason_text"
    with pytest.raises(ValidationError, match="500"):
        service.grant(
            supervisor,
            associate="Ana",
            amount="5",
            gesture_type="credit",
            reason_code="other",
            reason_text="x" * 501,
            escalation_id=case,
            at=T0,
        )
    assert _footprint(database) == before
    outcome = service.grant(
        supervisor,
        associate="Ana",
        amount="5",
        gesture_type="Free item",
        reason_code="other",
        reason_text="  Dog ate the parcel  ",
        escalation_id=case,
        at=T0,
    )
    [line] = service.ledger()
    assert line.id == outcome.id
    assert (line.reason_code, line.reason_text, line.gesture_type) == (
        "other",
        "Dog ate the parcel",
        GestureType.FREE_ITEM,
    )


def test_a_gesture_needs_a_customer_or_a_case_that_agree(database: Database, supervisor: Actor) -> None:
    ann_case = _case(database, "Ana", customer="Ann Lee", ref="C-100")
    bo_case = _case(database, "Ana", customer="Bo Diaz", ref="C-200")
    service = GoodwillService(database)
    before = _footprint(database)

    def give(**where: object) -> None:
        service.grant(
            supervisor,
            associate="Ana",
            amount="5",
            gesture_type="credit",
            reason_code="billing_error",
            at=T0,
            **where,  # type: ignore[arg-type]
        )

    with pytest.raises(ValidationError, match="customer") as refused:
        give()
    assert refused.value.field == "customer"
    with pytest.raises(ValidationError, match="another customer"):
        give(escalation_id=ann_case, customer_ref="C-200")
    with pytest.raises(ValidationError, match="another customer"):
        give(escalation_id=ann_case, customer_id=_customer_of(database, bo_case))
    with pytest.raises(ValidationError, match="no escalation"):
        give(escalation_id=bo_case + 1000)
    with pytest.raises(ValidationError, match="C-999"):
        give(customer_ref="C-999")
    with pytest.raises(ValidationError, match="no customer"):
        give(customer_id=_customer_of(database, bo_case) + 1000)
    assert _footprint(database) == before
    give(customer_ref="C-200")
    give(escalation_id=ann_case, customer_ref="C-100")
    lines = sorted(service.ledger(), key=lambda line: line.id)
    assert [(line.customer, line.escalation_id) for line in lines] == [("Bo Diaz", None), ("Ann Lee", ann_case)]


# --- floor settings ----------------------------------------------------------------------------------------------
def test_the_currency_cannot_change_under_existing_entries(
    database: Database, supervisor: Actor, manager: Actor
) -> None:
    case = _case(database, "Ana")
    service = GoodwillService(database)
    assert service.set_floor_settings(manager, reason="We are in Berlin", currency="eur").currency == "EUR"
    _gift(service, supervisor, case, "5", T0)
    assert service.ledger()[0].currency == "EUR"
    with pytest.raises(ValidationError, match="EUR") as refused:
        service.set_floor_settings(manager, reason="Moving", currency="USD")
    assert refused.value.field == "currency"
    assert service.floor_settings().currency == "EUR"
    assert service.set_floor_settings(manager, reason="Same again", currency="EUR").currency == "EUR"
    assert _status(service, "Ana", T0).currency == "EUR"


def test_the_currency_cannot_change_under_a_pending_request(
    database: Database, supervisor: Actor, manager: Actor
) -> None:
    # Approving it afterwards would put a USD amount in a EUR ledger.
    case = _case(database, "Ana")
    service = GoodwillService(database)
    request = _request(service, supervisor, case, "30")
    with pytest.raises(ValidationError, match="USD"):
        service.set_floor_settings(manager, reason="Moving", currency="EUR")
    assert service.floor_settings().currency == "USD"
    service.decline(manager, request, "Not this time", at=T0)
    assert service.set_floor_settings(manager, reason="Moving", currency="EUR").currency == "EUR"


def test_floor_settings_are_validated_manager_only_and_audited(
    database: Database, supervisor: Actor, manager: Actor
) -> None:
    service = GoodwillService(database)
    original = service.floor_settings()
    assert original == FloorGoodwill()
    with pytest.raises(PermissionDenied):
        service.set_floor_settings(supervisor, reason=WHY, timezone="Europe/Berlin")
    with pytest.raises(ValidationError, match="reason"):
        service.set_floor_settings(manager, reason="", timezone="Europe/Berlin")
    with pytest.raises(ValidationError, match="Nothing to change"):
        service.set_floor_settings(manager, reason=WHY)
    for zone in ("Mars/Olympus_Mons", "", "Berlin", "../etc/passwd"):
        with pytest.raises(ValidationError) as refused:
            service.set_floor_settings(manager, reason=WHY, timezone=zone)
        assert refused.value.field == "timezone", zone
    for starts in ("", "6am", "25:00", "06:00,06:00", "06:00,,14:00", "06:61", "06:00:00", "-1:00"):
        with pytest.raises(ValidationError) as refused:
            service.set_floor_settings(manager, reason=WHY, shift_starts=starts)
        assert refused.value.field == "shift_starts", starts
    for code in ("US", "USDX", "U$D", "123", "", "ÜSD"):
        with pytest.raises(ValidationError) as refused:
            service.set_floor_settings(manager, reason=WHY, currency=code)
        assert refused.value.field == "currency", code
    for limit in ("0", "-5", "abc"):
        with pytest.raises(ValidationError):
            service.set_floor_settings(manager, reason=WHY, supervisor_limit=limit)
        with pytest.raises(ValidationError):
            service.set_floor_settings(manager, reason=WHY, ceiling=limit)
    # A bad value next to a good one changes neither.
    with pytest.raises(ValidationError):
        service.set_floor_settings(manager, reason=WHY, timezone="Europe/Berlin", currency="EURO")
    assert service.floor_settings() == original
    assert _audit(database, "goodwill.settings") == []

    after = service.set_floor_settings(
        manager,
        reason="Berlin floor",
        timezone=" Europe/Berlin ",
        shift_starts="22:00, 06:00,14:00",
        currency="eur",
        ceiling="500",
        supervisor_limit="75.5",
    )
    assert after == FloorGoodwill(
        "EUR", "Europe/Berlin", Decimal("500.00"), (time(6), time(14), time(22)), Decimal("75.50")
    )
    assert service.floor_settings() == after
    [event] = _audit(database, "goodwill.settings")
    assert event.note == "Berlin floor"
    assert event.actor == "mia"
    assert event.before == {
        "currency": "USD",
        "timezone": "UTC",
        "ceiling": "1000.00",
        "shift_starts": "06:00,14:00,22:00",
        "supervisor_limit": "100.00",
    }
    assert event.after == {
        "currency": "EUR",
        "timezone": "Europe/Berlin",
        "ceiling": "500.00",
        "shift_starts": "06:00,14:00,22:00",
        "supervisor_limit": "75.50",
    }
    # Only what is given changes.
    service.set_floor_settings(manager, reason="Two shifts", shift_starts="07:00,19:00")
    assert service.floor_settings() == FloorGoodwill(
        "EUR", "Europe/Berlin", Decimal("500.00"), (time(7), time(19)), Decimal("75.50")
    )


# --- periods through the service ---------------------------------------------------------------------------------
def test_a_shift_budget_in_berlin_spans_midnight(database: Database, supervisor: Actor, manager: Actor) -> None:
    case = _case(database, "Ana")
    service = GoodwillService(database)
    service.set_floor_settings(
        manager, reason="Berlin floor", timezone="Europe/Berlin", shift_starts="06:00,14:00,22:00"
    )
    service.set_budget(manager, reason="Per shift", period="shift", allowance="40", cap="25")
    _gift(service, supervisor, case, "5", _utc(2024, 1, 15, 20, 59))  # 21:59 CET, the late shift
    _gift(service, supervisor, case, "7", _utc(2024, 1, 15, 21))  # 22:00 CET, the night shift starts
    _gift(service, supervisor, case, "11", _utc(2024, 1, 15, 23, 30))  # 00:30 CET on the 16th
    _gift(service, supervisor, case, "13", _utc(2024, 1, 16, 4, 59))  # 05:59 CET
    pending = service.grant(
        supervisor,
        associate="Ana",
        amount="10",
        gesture_type="credit",
        reason_code="billing_error",
        escalation_id=case,
        at=_utc(2024, 1, 16, 4, 59, 30),
    )
    assert pending.because is not None
    assert "only 9.00 left this shift" in pending.because
    _gift(service, supervisor, case, "17", _utc(2024, 1, 16, 5))  # 06:00 CET, the early shift
    night = _status(service, "Ana", _utc(2024, 1, 16, 2))
    assert (night.period, night.period_start, night.period_end) == (
        Period.SHIFT,
        _utc(2024, 1, 15, 21),
        _utc(2024, 1, 16, 5),
    )
    assert (night.spent, night.remaining) == (Decimal("31.00"), Decimal("9.00"))
    early = _status(service, "Ana", _utc(2024, 1, 16, 12))
    assert (early.period_start, early.period_end, early.spent) == (
        _utc(2024, 1, 16, 5),
        _utc(2024, 1, 16, 13),
        Decimal("17.00"),
    )
    assert _status(service, "Ana", _utc(2024, 1, 15, 20)).spent == Decimal("5.00")


def test_a_week_budget_in_berlin_follows_local_midnight_across_dst(
    database: Database, supervisor: Actor, manager: Actor
) -> None:
    case = _case(database, "Ana")
    service = GoodwillService(database)
    service.set_floor_settings(manager, reason="Berlin floor", timezone="Europe/Berlin")
    _gift(service, supervisor, case, "3", _utc(2024, 3, 24, 22, 59))  # Sun 23:59 CET: the week before
    _gift(service, supervisor, case, "5", _utc(2024, 3, 24, 23))  # Mon 25 Mar 00:00 CET
    _gift(service, supervisor, case, "7", _utc(2024, 3, 31, 21, 59))  # Sun 31 Mar 23:59 CEST
    _gift(service, supervisor, case, "11", _utc(2024, 3, 31, 22))  # Mon 1 Apr 00:00 CEST: the week after
    week = _status(service, "Ana", _utc(2024, 3, 28, 12))
    assert (week.period_start, week.period_end, week.spent) == (
        _utc(2024, 3, 24, 23),
        _utc(2024, 3, 31, 22),
        Decimal("12.00"),
    )
    assert _status(service, "Ana", _utc(2024, 3, 31, 22)).spent == Decimal("11.00")
    assert _status(service, "Ana", _utc(2024, 3, 24, 22, 59)).spent == Decimal("3.00")


def test_a_month_budget_in_new_york(database: Database, supervisor: Actor, manager: Actor) -> None:
    case = _case(database, "Ana")
    service = GoodwillService(database)
    service.set_floor_settings(manager, reason="New York floor", timezone="America/New_York")
    service.set_budget(manager, reason="Monthly", period="month")
    _gift(service, supervisor, case, "2", _utc(2024, 3, 1, 4, 59))  # 29 Feb 23:59 EST
    _gift(service, supervisor, case, "3", _utc(2024, 3, 1, 5))  # 1 Mar 00:00 EST
    _gift(service, supervisor, case, "5", _utc(2024, 4, 1, 3, 59))  # 31 Mar 23:59 EDT
    _gift(service, supervisor, case, "7", _utc(2024, 4, 1, 4))  # 1 Apr 00:00 EDT
    march = _status(service, "Ana", _utc(2024, 3, 15))
    assert (march.period, march.period_start, march.period_end, march.spent) == (
        Period.MONTH,
        _utc(2024, 3, 1, 5),
        _utc(2024, 4, 1, 4),
        Decimal("8.00"),
    )


# --- suggestions ---------------------------------------------------------------------------------------------------
def test_the_suggestion_follows_the_playbook_per_failure_type(database: Database) -> None:
    service = GoodwillService(database)
    expected = {
        Category.PRODUCT_MALFUNCTION: (GestureType.FREE_ITEM, Decimal("15.00")),
        Category.LONG_WAIT: (GestureType.DISCOUNT, Decimal("10.00")),
        Category.BILLING_ERROR: (GestureType.CREDIT, Decimal("10.00")),
        Category.UNMET_EXPECTATION: (GestureType.EXPEDITED_SHIPPING, Decimal("12.00")),
        Category.OTHER: (GestureType.CREDIT, Decimal("5.00")),
    }
    for category, (kind, amount) in expected.items():
        case = _case(database, "Ana", customer=f"New customer {category.value}", category=category)
        suggestion = service.suggest(case, at=T0)
        assert (suggestion.gesture_type, suggestion.amount, suggestion.reason_code) == (kind, amount, category.value)
        assert (suggestion.associate, suggestion.needs_approval, suggestion.currency) == ("Ana", False, "USD")
        assert suggestion.customer_id == _customer_of(database, case)
        assert money_in(suggestion.explanation, amount)
        assert "lifetime value" not in suggestion.explanation
        assert "churn" not in suggestion.explanation
        assert "\n" not in suggestion.explanation
    with pytest.raises(NotFound):
        service.suggest(10_000, at=T0)


def money_in(explanation: str, amount: Decimal) -> bool:
    """The explanation names the amount with two decimals."""
    return f"{amount:.2f}" in explanation


def test_the_suggestion_scales_with_lifetime_value_and_churn_risk(database: Database) -> None:
    service = GoodwillService(database)
    # A billing error's credit of 10.00, for a customer worth 10,000 (factor 1.5) at 0.6 churn risk (1.6): 24.00.
    case = _case(database, "Ana", customer="Val Ued", category=Category.BILLING_ERROR)
    _customer_values(database, _customer_of(database, case), ltv="10000", churn=0.6)
    suggestion = service.suggest(case, at=T0)
    assert suggestion.amount == Decimal("24.00")
    assert not suggestion.needs_approval
    for words in ("lifetime value", "10,000.00", "1.50", "churn risk", "0.60", "1.60", "24.00"):
        assert words in suggestion.explanation, words
    assert "\n" not in suggestion.explanation
    # Lifetime value alone: a malfunction's 15.00 for a customer worth 4,000 (factor 1.2) is 18.00.
    case = _case(database, "Ana", customer="Lo Yal", category=Category.PRODUCT_MALFUNCTION)
    _customer_values(database, _customer_of(database, case), ltv="4000")
    suggestion = service.suggest(case, at=T0)
    assert suggestion.amount == Decimal("18.00")
    assert "lifetime value" in suggestion.explanation
    assert "churn" not in suggestion.explanation
    # Churn risk alone: a long wait's 10.00 at 0.5 churn risk (1.5) is 15.00.
    case = _case(database, "Ana", customer="Ris Ky", category=Category.LONG_WAIT)
    _customer_values(database, _customer_of(database, case), churn=0.5)
    suggestion = service.suggest(case, at=T0)
    assert suggestion.amount == Decimal("15.00")
    assert "churn risk" in suggestion.explanation
    assert "lifetime value" not in suggestion.explanation
    # More value and more risk never suggest less.
    amounts = []
    for i, (ltv, churn) in enumerate([("0", 0.0), ("2500", 0.1), ("5000", 0.3), ("9000", 0.45)]):
        case = _case(database, "Ana", customer=f"Step {i}", category=Category.OTHER)
        _customer_values(database, _customer_of(database, case), ltv=ltv, churn=churn)
        amounts.append(service.suggest(case, at=T0).amount)
    assert amounts == sorted(amounts)
    assert amounts[0] < amounts[-1]


def test_the_suggestion_is_capped_by_the_cap_and_by_what_is_left(
    database: Database, supervisor: Actor, manager: Actor
) -> None:
    service = GoodwillService(database)
    # Expedited shipping, 12.00 x 1.5 x 1.5 = 27.00: over Ana's 25.00 cap per gesture.
    case = _case(database, "Ana", customer="Big Spender", category=Category.UNMET_EXPECTATION)
    _customer_values(database, _customer_of(database, case), ltv="10000", churn=0.5)
    suggestion = service.suggest(case, at=T0)
    assert (suggestion.amount, suggestion.needs_approval) == (Decimal("25.00"), False)
    assert "27.00" in suggestion.explanation
    assert "cap" in suggestion.explanation
    # Ben has his own smaller cap.
    ben_case = _case(database, "Ben", customer="Big Spender", category=Category.UNMET_EXPECTATION)
    service.set_budget(manager, reason="New starter", associate="Ben", cap="8")
    assert service.suggest(ben_case, at=T0).amount == Decimal("8.00")
    # Ana spends 140 of 150: 10.00 left caps the suggestion.
    for _ in range(5):
        _gift(service, supervisor, case, "25", T0)
    _gift(service, supervisor, case, "15", T0)
    suggestion = service.suggest(case, at=T0)
    assert (suggestion.amount, suggestion.needs_approval) == (Decimal("10.00"), False)
    assert "10.00" in suggestion.explanation
    assert "left this week" in suggestion.explanation
    # Nothing left: the suggestion needs an approval.
    _gift(service, supervisor, case, "10", T0)
    suggestion = service.suggest(case, at=T0)
    assert suggestion.needs_approval
    assert "nothing left" in suggestion.explanation
    # A new week, a full budget again.
    assert not service.suggest(case, at=NEXT_WEEK).needs_approval


# --- reports -------------------------------------------------------------------------------------------------------
def _follow_up(database: Database, case_id: int, done_at: datetime, csat: int | None, status: str = "done") -> None:
    with database.transaction() as session:
        session.add(
            FollowUp(
                escalation_id=case_id,
                status=status,
                done_at=done_at if status == "done" else None,
                due_at=done_at,
                csat=csat,
                created_at=T0 - timedelta(days=30),
            )
        )


def test_returns_per_associate_and_per_gesture_type(database: Database, supervisor: Actor) -> None:
    cara = _case(database, "Ana", customer="Cara")
    dev = _case(database, "Ana", customer="Dev")
    eli = _case(database, "Ana", customer="Eli")
    fay = _case(database, "Ben", customer="Fay")
    service = GoodwillService(database)

    def give(associate: str, case_id: int, kind: str, amount: str, hours: float) -> int:
        outcome = service.grant(
            supervisor,
            associate=associate,
            amount=amount,
            gesture_type=kind,
            reason_code="billing_error",
            escalation_id=case_id,
            at=T0 + timedelta(hours=hours),
        )
        assert outcome.granted
        return outcome.id

    give("Ana", cara, "credit", "20", 1)
    give("Ana", dev, "discount", "10", 2)
    reversed_gesture = give("Ana", eli, "credit", "15", 3)
    service.reverse(supervisor, reversed_gesture, "Wrong customer", at=T0 + timedelta(hours=3, minutes=10))
    give("Ben", eli, "free_item", "25", 4)
    give("Ben", cara, "credit", "5", 5)
    give("Ben", fay, "expedited_shipping", "8", 8)
    # Follow-ups: only answers given after a customer's (first) gesture count.
    _follow_up(database, cara, T0 - timedelta(days=1), 1)  # before any gesture
    _follow_up(database, cara, T0 + timedelta(hours=6), 5)
    _follow_up(database, cara, T0 + timedelta(hours=7), 2)
    _follow_up(database, dev, T0 + timedelta(days=1), 4)
    _follow_up(database, eli, T0 + timedelta(hours=3, minutes=30), 5)  # after Ana's (reversed) one, before Ben's
    _follow_up(database, eli, T0 + timedelta(days=1), 3)
    _follow_up(database, fay, T0 + timedelta(days=2), None, status="scheduled")
    with database.transaction() as session:
        session.execute(update(Customer).where(Customer.name == "Dev").values(churned_at=T0 + timedelta(days=2)))

    returns = service.returns()
    by_associate = {r.key: r for r in returns.by_associate}
    assert [r.key for r in returns.by_associate] == ["Ben", "Ana"]  # 38.00, then 30.00
    ana, ben = by_associate["Ana"], by_associate["Ben"]
    assert (ana.gestures, ana.amount, ana.customers, ana.csat_n) == (2, Decimal("30.00"), 2, 3)
    assert ana.csat_share == pytest.approx(2 / 3)  # Cara 5 and 2, Dev 4
    assert ana.retained_share == pytest.approx(1 / 2)  # Dev churned after his discount
    assert (ben.gestures, ben.amount, ben.customers, ben.csat_n) == (3, Decimal("38.00"), 3, 3)
    assert ben.csat_share == pytest.approx(1 / 3)  # Eli 3 (not the 5 before Ben's gesture), Cara 5 and 2
    assert ben.retained_share == pytest.approx(1.0)
    assert ana.currency == "USD"

    by_type = {r.key: r for r in returns.by_type}
    assert [r.key for r in returns.by_type] == ["credit", "free_item", "discount", "expedited_shipping"]
    credit = by_type["credit"]
    assert (credit.gestures, credit.amount, credit.customers, credit.csat_n) == (2, Decimal("25.00"), 1, 2)
    assert credit.csat_share == pytest.approx(1 / 2)
    assert credit.retained_share == pytest.approx(1.0)
    discount = by_type["discount"]
    assert (discount.gestures, discount.amount) == (1, Decimal("10.00"))
    assert discount.csat_share == pytest.approx(1.0)  # Dev's 4
    assert discount.retained_share == pytest.approx(0.0)
    free = by_type["free_item"]
    assert (free.gestures, free.amount, free.csat_n) == (1, Decimal("25.00"), 1)
    assert free.csat_share == pytest.approx(0.0)
    shipping = by_type["expedited_shipping"]
    assert (shipping.gestures, shipping.csat_share, shipping.csat_n) == (1, None, 0)
    assert shipping.retained_share == pytest.approx(1.0)
    # A window: only Ben's gestures from hour 4 on.
    later = service.returns(start=T0 + timedelta(hours=4))
    assert [(r.key, r.gestures, r.amount) for r in later.by_associate] == [("Ben", 3, Decimal("38.00"))]


def test_budgets_are_sorted_by_share_used_and_flag_past_80_percent(
    database: Database, supervisor: Actor, manager: Actor
) -> None:
    service = GoodwillService(database)
    cases = {
        name: _case(database, name, customer=f"Customer of {name}") for name in ("Ann", "Bea", "Cid", "Dot", "Eve")
    }
    service.set_budget(manager, reason="One big gesture each", cap="200")
    spend = {"Ann": "130", "Bea": "121", "Cid": "120", "Eve": "150"}
    for name, amount in spend.items():
        _gift(service, supervisor, cases[name], amount, T0, associate=name)
    service.adjust(manager, "Eve", "50", "Covering a colleague", at=T0)  # 150 of 200: 75 %
    statuses = service.budgets(at=T0)
    assert [s.associate for s in statuses] == ["Ann", "Bea", "Cid", "Eve", "Dot"]
    flags = {s.associate: s.near_limit for s in statuses}
    assert flags == {"Ann": True, "Bea": True, "Cid": False, "Dot": False, "Eve": False}
    shares = {s.associate: s.share_used for s in statuses}
    assert shares["Cid"] == Decimal("0.8")
    assert shares["Eve"] == Decimal("0.75")
    assert shares["Dot"] == 0
    assert [s.associate for s in service.budgets(at=NEXT_WEEK)] == ["Ann", "Bea", "Cid", "Dot", "Eve"]


# --- the live feed -------------------------------------------------------------------------------------------------
def test_every_goodwill_write_tells_the_live_feed(database: Database, supervisor: Actor, manager: Actor) -> None:
    case = _case(database, "Ana")
    ana = _associate_id(database, "Ana")
    service = GoodwillService(database)

    def changes() -> int:
        return _count(database, Change, Change.entity == "goodwill", Change.entity_id == ana)

    before = changes()
    entry = _gift(service, supervisor, case, "5", T0)
    assert changes() == before + 1
    request = _request(service, supervisor, case, "30")
    assert changes() == before + 2
    service.approve(manager, request, at=T0)
    assert changes() == before + 3
    service.decline(manager, _request(service, supervisor, case, "31"), "No", at=T0)
    assert changes() == before + 5
    service.reverse(manager, entry, "Mistake", at=T0)
    assert changes() == before + 6
    service.adjust(manager, "Ana", "5", "Bonus", at=T0)
    assert changes() == before + 7
    with pytest.raises(ValidationError):
        service.grant(
            supervisor,
            associate="Ana",
            amount="0",
            gesture_type="credit",
            reason_code="billing_error",
            escalation_id=case,
            at=T0,
        )
    assert changes() == before + 7
