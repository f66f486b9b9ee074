"""Another process committing escalations, as an associate's tool would: ``python -m tests.benchmarks.arrivals URL N``.

Each arrival is one IntakeService transaction; after each commit it prints ``<id> <time.time()>``. Arrivals are
spaced 0.3-0.8 s apart (a busy floor's burst), so each is seen on its own.
"""

from __future__ import annotations

import argparse
import random
import sys
import time

from console.domain import Category, Channel, Severity
from console.intake import IntakeService, NewEscalation
from db.engine import Database


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("count", type=int)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    database = Database(args.url)
    intake = IntakeService(database)
    database.check_connection()
    time.sleep(0.5)
    for n in range(args.count):
        new = NewEscalation(
            customer_name=f"Arrival customer {n}",
            customer_ref=f"ARR-{args.seed}-{n}",
            channel=rng.choice(list(Channel)),
            category=rng.choice(list(Category)),
            severity=rng.choice(list(Severity)),
            associate_name="Bench associate",
            summary=f"Live arrival {n}: charged twice",
        )
        escalation_id = intake.escalate(None, new)
        print(escalation_id, repr(time.time()), flush=True)
        time.sleep(rng.uniform(0.3, 0.8))
    database.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
