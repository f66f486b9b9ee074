"""New escalations arriving on the demo floor every so often, so the queue is visibly live.

Plain Python: the window's timer asks :meth:`ArrivalSimulator.next_delay_seconds` when to call next and runs
:meth:`ArrivalSimulator.arrive` off the GUI thread. Arrivals go through intake like any other escalation, so they
are audited and every console's live feed sees them.
"""

from __future__ import annotations

import random
from datetime import datetime
from decimal import Decimal

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from console.domain import QUEUE_STATUSES, Category, Channel, Severity, Tier
from console.intake import NewEscalation, add_escalation
from db.engine import Database
from db.models import Associate, Customer, Escalation, Team
from db.seed import (
    ASSOCIATE_NAMES,
    CHANNEL_WEIGHTS,
    HOME_TEAM,
    PLAYBOOK_CATEGORIES,
    contact_details,
    person_name,
    pick_weighted,
    write_story,
)
from db.types import utcnow

MIN_DELAY_SECONDS = 20.0
MAX_DELAY_SECONDS = 60.0
# How often the complaint comes from someone we have not seen before.
NEW_CUSTOMER_CHANCE = 0.15
ARRIVAL_SOURCE = "demo"
ARRIVAL_SEVERITIES: tuple[tuple[Severity, int], ...] = (
    (Severity.CRITICAL, 4),
    (Severity.HIGH, 18),
    (Severity.NORMAL, 60),
    (Severity.LOW, 18),
)
LIVE_CHANNELS: tuple[tuple[Channel, int], ...] = ((Channel.PHONE, 6), (Channel.CHAT, 3), (Channel.SOCIAL, 1))


class ArrivalSimulator:
    """Creates one believable escalation per call, for a demo customer (sometimes a new one).

    With a seed, the delays and the arrivals are each a fixed sequence (on the same floor, the same cases arrive
    in the same order); without one they vary from run to run. The delays and the arrivals draw from separate
    generators, so the GUI thread asking for a delay never races a worker thread creating an arrival.
    """

    def __init__(self, database: Database, *, seed: int | None = None) -> None:
        self.db = database
        self._delays = random.Random(seed)
        self._arrivals = random.Random(None if seed is None else f"arrivals:{seed}")

    def next_delay_seconds(self) -> float:
        """Seconds until the next arrival: uniform between 20 and 60."""
        return self._delays.uniform(MIN_DELAY_SECONDS, MAX_DELAY_SECONDS)

    def arrive(self, now: datetime | None = None) -> int:
        """Escalate one new complaint now (or at ``now``) and return its id; one transaction."""
        rng = self._arrivals
        at = now or utcnow()
        category = rng.choice(PLAYBOOK_CATEGORIES)
        severity = pick_weighted(rng, ARRIVAL_SEVERITIES)
        urgent = severity in (Severity.CRITICAL, Severity.HIGH)
        channel = pick_weighted(rng, LIVE_CHANNELS if urgent else CHANNEL_WEIGHTS)
        wants_new_customer = rng.random() < NEW_CUSTOMER_CHANCE
        with self.db.transaction() as session:
            customer = None if wants_new_customer else self._waiting_free_customer(session, rng)
            if customer is None:
                customer = self._new_customer(session, rng, at)
            associate = self._associate(session, rng, category)
            story = write_story(rng, category, customer.name.split(" ", 1)[0], at)
            new = NewEscalation(
                customer_name=customer.name,
                customer_ref=customer.external_ref,
                channel=channel,
                category=category,
                severity=severity,
                associate_name=associate,
                summary=story.summary,
                details=story.details,
                product=story.product,
                escalated_at=now,
                source=ARRIVAL_SOURCE,
            )
            return add_escalation(session, None, new).id

    @staticmethod
    def _waiting_free_customer(session: Session, rng: random.Random) -> Customer | None:
        """A customer with a reference and nothing in the queue now (one complaint at a time reads better)."""
        in_queue = exists().where(Escalation.customer_id == Customer.id, Escalation.status.in_(QUEUE_STATUSES))
        eligible = select(Customer).where(Customer.external_ref.is_not(None), ~in_queue)
        count = session.scalar(select(func.count()).select_from(eligible.subquery())) or 0
        if not count:
            return None
        return session.scalars(eligible.order_by(Customer.id).offset(rng.randrange(count)).limit(1)).first()

    @staticmethod
    def _new_customer(session: Session, rng: random.Random, at: datetime) -> Customer:
        """A first-time customer: standard tier, a first purchase's worth of value, low churn risk."""
        name = person_name(rng)
        while True:
            ref = f"C-{rng.randint(100_000, 999_999)}"
            if session.scalar(select(Customer.id).where(Customer.external_ref == ref)) is None:
                break
        email, phone = contact_details(rng, name)
        customer = Customer(
            external_ref=ref,
            name=name,
            email=email,
            phone=phone,
            tier=Tier.STANDARD.value,
            lifetime_value=(Decimal(rng.randint(2_000, 60_000)) / 100).quantize(Decimal("0.01")),
            churn_risk=round(rng.uniform(0.05, 0.35), 2),
            contact_consent=rng.random() < 0.85,
            created_at=at,
        )
        session.add(customer)
        session.flush()
        return customer

    @staticmethod
    def _associate(session: Session, rng: random.Random, category: Category) -> str:
        """Usually an associate from the desk that handles this kind of complaint."""
        rows = session.execute(
            select(Associate.name, Team.name)
            .outerjoin(Team, Team.id == Associate.team_id)
            .where(Associate.active.is_(True))
            .order_by(Associate.id)
        ).all()
        if not rows:
            return rng.choice(ASSOCIATE_NAMES)
        home = [name for name, team in rows if team == HOME_TEAM.get(category)]
        pool = home if home and rng.random() < 0.8 else [name for name, _ in rows]
        return rng.choice(pool)
