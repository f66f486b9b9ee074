"""Two gestures recorded at the same moment for one associate never overdraw the budget (two processes, both engines).

Each round gives a fresh associate a budget that fits exactly one of two 60.00 gestures (allowance 100.00, cap
100.00). Two worker processes, each with its own Database and connection, wait on one barrier and then record a
gesture at the same moment. Without the service's lock (the associate's row ``FOR UPDATE`` on PostgreSQL, the write
lock taken at ``BEGIN IMMEDIATE`` on SQLite) both would read "100.00 left": on PostgreSQL both would be granted
(spent 120.00), on SQLite the later writer's stale snapshot would fail with "database is busy". Either way a round
would not come out as exactly one ``granted`` and one ``pending``.
"""

from __future__ import annotations

import multiprocessing
import queue
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from console.actor import Actor
from console.domain import Role
from console.goodwill import GoodwillService
from db.engine import Database
from db.models import Associate, AuditEvent, Customer
from tests.conftest import make_actor

ROUNDS = 6
AMOUNT = "60.00"
CUSTOMER_REF = "CRM-1"
WAIT_SECONDS = 120


def _grant_worker(url: str, actor: Actor, warm_up: str, associates: list[str], start: Any, results: Any) -> None:
    """A console in its own process: for each associate, waits for the other process, then records 60.00."""
    database = Database(url)
    service = GoodwillService(database)
    try:
        # Warm up on an associate of its own: connection opened, every statement of grant() compiled, so both
        # processes reach the budget check within the same fraction of a millisecond after the barrier.
        service.grant(
            actor,
            associate=warm_up,
            amount="1.00",
            gesture_type="credit",
            reason_code="long_wait",
            customer_ref=CUSTOMER_REF,
        )
        for name in associates:
            start.wait(timeout=WAIT_SECONDS)
            try:
                outcome = service.grant(
                    actor,
                    associate=name,
                    amount=AMOUNT,
                    gesture_type="credit",
                    reason_code="billing_error",
                    customer_ref=CUSTOMER_REF,
                )
                results.put((name, outcome.status, outcome.id))
            except Exception as exc:  # reported to the test, which fails naming it
                results.put((name, "error", repr(exc)))
    except Exception as exc:
        start.abort()  # do not leave the other worker waiting
        results.put(("worker", "error", repr(exc)))
    finally:
        database.dispose()


def _set_up(database: Database) -> tuple[list[Actor], list[str]]:
    manager = make_actor(database, "mia", Role.MANAGER)
    actors = [make_actor(database, "sam"), make_actor(database, "lee")]
    names = [f"Round {n} Associate" for n in range(ROUNDS)]
    with database.transaction() as session:
        session.add(Customer(name="Ann Lee", external_ref=CUSTOMER_REF))
        session.add_all(Associate(name=name) for name in [*names, "Warm Up A", "Warm Up B"])
    service = GoodwillService(database)
    for name in names:
        service.set_budget(manager, associate=name, allowance="100.00", cap="100.00", reason="fits one gesture")
    return actors, names


@pytest.mark.slow
def test_two_processes_granting_at_once_never_overdraw_a_budget(database_url: str) -> None:
    database = Database(database_url)
    try:
        actors, names = _set_up(database)
        context = multiprocessing.get_context("spawn")
        start = context.Barrier(2)
        results = context.Queue()
        workers = [
            context.Process(
                target=_grant_worker,
                args=(database_url, actor, warm_up, names, start, results),
                daemon=True,
            )
            for actor, warm_up in zip(actors, ["Warm Up A", "Warm Up B"], strict=True)
        ]
        for worker in workers:
            worker.start()
        outcomes: dict[str, list[tuple[str, Any]]] = {name: [] for name in names}
        try:
            for _ in range(2 * ROUNDS):
                try:
                    name, status, detail = results.get(timeout=WAIT_SECONDS)
                except queue.Empty:
                    pytest.fail(f"the grant workers stopped answering; so far: {outcomes}")
                assert name in outcomes, f"a worker failed: {detail}"
                outcomes[name].append((status, detail))
        finally:
            for worker in workers:
                worker.join(timeout=30)
                if worker.is_alive():
                    worker.kill()

        service = GoodwillService(database)
        for name in names:
            statuses = sorted(status for status, _ in outcomes[name])
            assert statuses == ["granted", "pending"], f"{name}: {outcomes[name]}"
            budget = service.budgets(associate=name)[0]
            assert budget.spent == Decimal("60.00") <= budget.allowance == Decimal("100.00")
            assert (budget.remaining, budget.pending, budget.pending_count) == (Decimal("40.00"), Decimal("60.00"), 1)
            ledger = service.ledger(associate=name)
            assert [(e.kind, e.amount) for e in ledger] == [("gesture", Decimal("60.00"))]
            granted_id = next(detail for status, detail in outcomes[name] if status == "granted")
            assert ledger[0].id == granted_id
            pending = [r for r in service.requests() if r.associate == name]
            assert [(r.amount, r.status) for r in pending] == [(Decimal("60.00"), "pending")]
            assert pending[0].id == next(detail for status, detail in outcomes[name] if status == "pending")
        with database.read() as session:
            actions = list(session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("goodwill.%"))))
        # ROUNDS budgets set, two warm-up gestures, and per round one gesture and one request.
        assert sorted(actions) == sorted(
            ["goodwill.budget_set"] * ROUNDS + ["goodwill.granted"] * (ROUNDS + 2) + ["goodwill.requested"] * ROUNDS
        )
    finally:
        database.dispose()
