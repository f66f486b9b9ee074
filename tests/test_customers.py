"""The customer service on both engines: profile, the merged timeline, the Gather hint, few queries."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from console.actor import Actor
from console.customers import CustomerService, EntryKind
from console.domain import Category, Channel, Severity, Tier
from console.errors import NotFound
from console.intake import IntakeService, NewEscalation
from console.queue import QueueService
from console.workflow import Step, WorkflowService
from db.engine import Database
from db.models import Customer, Escalation, FollowUp, Interaction
from db.types import utcnow
from tests.conftest import make_actor

MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
INDIA = timezone(timedelta(hours=5, minutes=30))  # a zone whose days start at 18:30 UTC


@dataclass
class Floor:
    """What the scenario built, for the expectations."""

    customer_id: int
    earlier: int  # resolved, followed up, closed, a story
    current: int  # claimed now, a follow-up promised
    contacts: list[tuple[datetime, Channel, str, str, str | None]]  # at, channel, direction, summary, handled by
    follow_up_due: datetime


def add_customer(database: Database, **values: object) -> int:
    with database.transaction() as session:
        customer = Customer(**values)
        session.add(customer)
        session.flush()
        return customer.id


def _add_contacts(
    database: Database, customer_id: int, contacts: list[tuple[datetime, Channel, str, str, str | None]]
) -> None:
    with database.transaction() as session:
        for at, channel, direction, summary, by in contacts:
            session.add(
                Interaction(
                    customer_id=customer_id,
                    channel=channel.value,
                    direction=direction,
                    occurred_at=at,
                    summary=summary,
                    handled_by=by,
                )
            )


def _work_through_propose(flow: WorkflowService, sam: Actor, case_id: int, remedies: list[dict[str, str]]) -> None:
    state = flow.open(sam, case_id)
    flow.save(sam, case_id, Step.LISTEN, {"account": "Charged twice", "upset": 4}, state.step(Step.LISTEN).revision)
    flow.complete(sam, case_id, Step.LISTEN)
    flow.save(sam, case_id, Step.GATHER, {"what_happened": "Two debits on the 3rd"}, 1)
    flow.complete(sam, case_id, Step.GATHER)
    flow.save(sam, case_id, Step.APOLOGIZE, {"given": True}, 1)
    flow.complete(sam, case_id, Step.APOLOGIZE)
    flow.save(sam, case_id, Step.PROPOSE, {"remedies": remedies, "response": "accepted"}, 1)
    flow.complete(sam, case_id, Step.PROPOSE)


def _escalate(database: Database, summary: str, at: datetime | None = None) -> int:
    new = NewEscalation(
        "Ada Mensah",
        Channel.PHONE,
        Category.BILLING_ERROR,
        Severity.HIGH,
        "Bo Lind",
        summary,
        customer_ref="C-1001",
        escalated_at=at,
    )
    return IntakeService(database).escalate(None, new)


def build_floor(database: Database) -> Floor:
    """A customer with contacts on three channels, a resolved and closed escalation, a story, and a current case."""
    now = utcnow()
    sam = make_actor(database, "sam")
    customer_id = add_customer(
        database,
        external_ref="C-1001",
        name="Ada Mensah",
        email="ada@example.com",
        phone="+1 (212) 555-0101",
        tier="gold",
        lifetime_value=Decimal("7250.40"),
        churn_risk=0.72,
        contact_consent=False,
        created_at=now - timedelta(days=400),
    )
    # 23:30 UTC is the next day in India: the hint must write local days.
    day = (now - timedelta(days=20)).replace(hour=23, minute=30, second=0, microsecond=0)
    contacts = [
        (day, Channel.PHONE, "inbound", "Asked about the invoice", "Grace Mwale"),
        (day + timedelta(days=2), Channel.CHAT, "outbound", "Promised a call-back.", "Ama Boateng"),
        (day + timedelta(days=5), Channel.EMAIL, "inbound", "Sent the bank statement", None),
    ]
    _add_contacts(database, customer_id, contacts)

    queue, flow = QueueService(database), WorkflowService(database)
    earlier = _escalate(database, "Charged twice for May", now - timedelta(days=10))
    queue.claim(sam, earlier)
    remedies = [
        {"type": "refund", "amount": "25.00", "note": "Second debit reversed"},
        {"type": "credit", "amount": "10.5", "note": "Goodwill credit"},
        {"type": "explanation", "note": "Explained the billing cycle"},
    ]
    _work_through_propose(flow, sam, earlier, remedies)
    flow.resolve(sam, earlier)
    state = flow.schedule_follow_up(sam, earlier, utcnow() + timedelta(hours=1), Channel.PHONE)
    flow.record_outcome(sam, state.follow_ups[0].id, csat=5, nps=9, comment="Thanks, all sorted", solved=True)
    flow.mark_story(sam, earlier, "win", "Refunded in one call and turned Ada into a fan")

    current = _escalate(database, "Charged again in June")
    queue.claim(sam, current)
    due = utcnow() + timedelta(days=2)
    flow.schedule_follow_up(sam, current, due, Channel.EMAIL)
    return Floor(customer_id, earlier, current, contacts, due)


@pytest.fixture
def floor(database: Database) -> Floor:
    return build_floor(database)


def _escalated_at(database: Database, escalation_id: int) -> datetime:
    with database.read() as session:
        at = session.scalar(select(Escalation.escalated_at).where(Escalation.id == escalation_id))
    assert at is not None
    return at


def test_profile_carries_the_customer_and_their_escalation_counts(database: Database, floor: Floor) -> None:
    profile = CustomerService(database).profile(floor.customer_id)
    assert profile.id == floor.customer_id
    assert (profile.ref, profile.name, profile.email) == ("C-1001", "Ada Mensah", "ada@example.com")
    assert profile.phone == "+1 (212) 555-0101"
    assert profile.tier is Tier.GOLD
    assert profile.lifetime_value == Decimal("7250.40")
    assert isinstance(profile.lifetime_value, Decimal)
    assert profile.churn_risk == pytest.approx(0.72)
    assert profile.churn_level == "high"
    assert profile.churn_flagged
    assert profile.high_value
    assert profile.contact_consent is False
    assert profile.churned_at is None
    assert profile.customer_since.tzinfo is not None
    assert (profile.open_escalations, profile.total_escalations) == (1, 2)
    # The latest contact is the current case's escalation (a promised follow-up has not happened yet).
    assert profile.last_contact == _escalated_at(database, floor.current)


def test_timeline_merges_every_kind_newest_first(database: Database, floor: Floor) -> None:
    entries = CustomerService(database).timeline(floor.customer_id)
    moments = [entry.at for entry in entries]
    assert moments == sorted(moments, reverse=True)
    assert all(entry.at.utcoffset() == timedelta(0) for entry in entries)
    assert [entry.kind for entry in entries] == [
        "follow_up",  # promised for the current case, two days ahead
        "escalated",  # the current case
        "story",
        "closed",  # the follow-up confirmed it solved, closing the case in the same moment
        "follow_up",
        "remedy",
        "remedy",
        "resolved",
        "escalated",  # the earlier case, ten days ago
        "contact",
        "contact",
        "contact",
    ]
    # Each escalation's own intake record is the escalation row, not a second "contact" beside it.
    assert sum(entry.kind == EntryKind.CONTACT for entry in entries) == len(floor.contacts)

    promised = entries[0]
    assert promised.at == floor.follow_up_due
    assert promised.channel is Channel.EMAIL
    assert promised.escalation_id == floor.current
    assert "due" in promised.title

    escalated = entries[1]
    assert escalated.escalation_id == floor.current
    assert escalated.channel is Channel.PHONE
    assert "Charged again in June" in escalated.title
    assert "High" in escalated.detail
    assert "Billing error" in escalated.detail
    assert escalated.marker


def test_remedies_and_scores_of_the_earlier_case(database: Database, floor: Floor) -> None:
    entries = CustomerService(database).timeline(floor.customer_id)
    remedies = [entry for entry in entries if entry.kind == "remedy"]
    assert sorted(entry.amount for entry in remedies if entry.amount is not None) == [
        Decimal("10.50"),
        Decimal("25.00"),
    ]
    assert {entry.escalation_id for entry in remedies} == {floor.earlier}
    assert any("25.00" in entry.title and "Refund" in entry.title for entry in remedies)
    assert any("10.50" in entry.title and "Credit" in entry.title for entry in remedies)

    (resolved,) = [entry for entry in entries if entry.kind == "resolved"]
    assert resolved.escalation_id == floor.earlier
    for words in ("Refund 25.00", "Credit 10.50", "Explanation", "Explained the billing cycle", "accepted"):
        assert words in resolved.detail
    assert resolved.by == "Sam"

    (done,) = [entry for entry in entries if entry.kind == "follow_up" and entry.escalation_id == floor.earlier]
    assert "CSAT 5/5" in done.title
    assert "NPS 9/10" in done.title
    assert "solved" in done.title
    assert "not solved" not in done.title
    assert "Thanks, all sorted" in done.detail

    (story,) = [entry for entry in entries if entry.kind == "story"]
    assert story.title == "Win: Refunded in one call and turned Ada into a fan"
    assert story.marker == "★"
    assert story.escalation_id == floor.earlier

    (closed,) = [entry for entry in entries if entry.kind == "closed"]
    assert closed.escalation_id == floor.earlier
    with database.read() as session:
        done_at = session.scalar(select(FollowUp.done_at).where(FollowUp.escalation_id == floor.earlier))
    assert closed.at == done_at


def test_contacts_keep_channel_direction_and_who_handled_them(database: Database, floor: Floor) -> None:
    contacts = [e for e in CustomerService(database).timeline(floor.customer_id) if e.kind == "contact"]
    expected = sorted(floor.contacts, key=lambda contact: contact[0], reverse=True)
    assert [(e.at, e.channel, e.title, e.by) for e in contacts] == [
        (at, channel, summary, by) for at, channel, _direction, summary, by in expected
    ]
    assert "We contacted the customer" in contacts[1].detail  # the outbound chat
    assert "The customer contacted us" in contacts[0].detail
    assert contacts[1].marker != contacts[0].marker  # direction is told without colour


def test_limit_keeps_the_newest(database: Database, floor: Floor) -> None:
    service = CustomerService(database)
    everything = service.timeline(floor.customer_id)
    assert service.timeline(floor.customer_id, limit=3) == everything[:3]
    assert service.timeline(floor.customer_id, limit=len(everything) - 1) == everything[:-1]
    assert service.timeline(floor.customer_id, limit=0) == []


def _local_day(at: datetime, now: datetime) -> str:
    local = at + timedelta(hours=5, minutes=30)
    day = f"{local.day} {MONTH_NAMES[local.month - 1]}"
    return day if local.year == (now + timedelta(hours=5, minutes=30)).year else f"{day} {local.year}"


def test_history_hint_names_earlier_contacts_by_local_day(database: Database, floor: Floor) -> None:
    service = CustomerService(database, zone=INDIA)
    now = utcnow()
    (phone_at, *_), (chat_at, *_), (email_at, *_) = floor.contacts
    assert phone_at.hour == 23  # so the local day is the next one
    assert service.history_hint(floor.customer_id) == (
        f"{_local_day(phone_at, now)}, phone: Asked about the invoice (Grace Mwale); "
        f"{_local_day(chat_at, now)}, chat, outbound: Promised a call-back (Ama Boateng); "
        f"{_local_day(email_at, now)}, email: Sent the bank statement"
    )
    assert (phone_at + timedelta(days=1)).day == int(_local_day(phone_at, now).split()[0])
    assert service.history_hint(floor.customer_id, limit=1) == (
        f"{_local_day(email_at, now)}, email: Sent the bank statement"
    )


def test_for_escalation_finds_the_customer(database: Database, floor: Floor) -> None:
    service = CustomerService(database)
    assert service.for_escalation(floor.earlier) == floor.customer_id
    assert service.for_escalation(floor.current) == floor.customer_id
    with pytest.raises(NotFound):
        service.for_escalation(floor.current + 1000)


def test_a_customer_with_no_history(database: Database) -> None:
    since = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
    customer_id = add_customer(database, name="Nell Quiet", created_at=since)
    service = CustomerService(database)
    profile = service.profile(customer_id)
    assert profile.name == "Nell Quiet"
    assert profile.ref is None
    assert profile.tier is Tier.STANDARD
    assert profile.lifetime_value == Decimal("0.00")
    assert profile.churn_level == "low"
    assert profile.contact_consent is True
    assert profile.customer_since == since
    assert (profile.open_escalations, profile.total_escalations, profile.last_contact) == (0, 0, None)
    assert service.timeline(customer_id) == []
    assert service.history_hint(customer_id) == ""
    for call in (service.profile, service.timeline, service.history_hint):
        with pytest.raises(NotFound):
            call(customer_id + 1)


def test_a_reopened_case_keeps_both_resolutions_and_their_remedies(database: Database) -> None:
    sam = make_actor(database, "sam")
    add_customer(database, external_ref="C-1001", name="Ada Mensah")
    queue, flow = QueueService(database), WorkflowService(database)
    case_id = _escalate(database, "Router keeps dropping")
    queue.claim(sam, case_id)
    _work_through_propose(flow, sam, case_id, [{"type": "refund", "amount": "40", "note": "a month's fee"}])
    flow.resolve(sam, case_id)
    state = flow.schedule_follow_up(sam, case_id, utcnow() + timedelta(hours=1), Channel.CHAT)
    flow.record_outcome(sam, state.follow_ups[0].id, csat=2, nps=3, comment="Still dropping", solved=False)

    queue.claim(sam, case_id)
    # Straight back to Propose (open() on a reopened case would start Listen again).
    state = flow.go_to(sam, case_id, Step.PROPOSE)
    revision = state.step(Step.PROPOSE).revision
    flow.save(sam, case_id, Step.PROPOSE, {"remedies": [{"type": "credit", "amount": "15", "note": "sorry"}]}, revision)
    flow.complete(sam, case_id, Step.PROPOSE)
    flow.resolve(sam, case_id)

    customer_id = CustomerService(database).for_escalation(case_id)
    entries = CustomerService(database).timeline(customer_id)
    assert [entry.kind for entry in entries] == [
        "remedy",
        "resolved",  # the second time
        "reopened",
        "follow_up",  # "not solved" reopened it in the same moment
        "remedy",
        "resolved",  # the first time
        "escalated",
    ]
    assert [entry.amount for entry in entries if entry.kind == "remedy"] == [Decimal("15.00"), Decimal("40.00")]
    reopened = entries[2]
    assert "Still dropping" in reopened.title
    follow_up = entries[3]
    assert "not solved" in follow_up.title
    assert "CSAT 2/5" in follow_up.title
    assert "NPS 3/10" in follow_up.title


@pytest.fixture
def selects(database: Database) -> Iterator[list[str]]:
    """The SELECT statements run while the test body runs."""
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(database.engine, "before_cursor_execute", count)
    yield statements
    event.remove(database.engine, "before_cursor_execute", count)


def test_a_handful_of_selects_however_long_the_history(database: Database, floor: Floor, selects: list[str]) -> None:
    service = CustomerService(database)
    service.timeline(floor.customer_id)
    few = len(selects)
    for summary in ("Third time", "Fourth time", "Fifth time"):
        _escalate(database, summary)
    selects.clear()
    service.timeline(floor.customer_id)
    assert len(selects) == few <= 8
    selects.clear()
    service.profile(floor.customer_id)
    assert len(selects) == 1
