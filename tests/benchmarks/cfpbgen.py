"""A synthetic CFPB Consumer Complaint Database export (the 18 columns of the real one) for the import benchmarks.

Values follow the real export's shape (see ../shared/data/cfpb_complaints_2019_sample.csv, which is never modified):
mostly web submissions, about a quarter with a multi-line narrative redacted with XXXX, about 0.5 % still
"In progress" (they join the live queue), the rest closed on the day or a few days later.
"""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path

CFPB_VERSION = 1
ROWS = 100_000
FIRST_ID = 90_000_000
HEADER = (
    "Date received",
    "Product",
    "Sub-product",
    "Issue",
    "Sub-issue",
    "Consumer complaint narrative",
    "Company public response",
    "Company",
    "State",
    "ZIP code",
    "Tags",
    "Consumer consent provided?",
    "Submitted via",
    "Date sent to company",
    "Company response to consumer",
    "Timely response?",
    "Consumer disputed?",
    "Complaint ID",
)
PRODUCTS = (
    ("Credit reporting, credit repair services, or other personal consumer reports", "Credit reporting", 53),
    ("Debt collection", "I do not know", 19),
    ("Checking or savings account", "Checking account", 7),
    ("Credit card or prepaid card", "General-purpose credit card or charge card", 7),
    ("Mortgage", "Conventional home mortgage", 7),
    ("Student loan", "Federal student loan servicing", 3),
    ("Vehicle loan or lease", "Loan", 2),
    ("Money transfer, virtual currency, or money service", "Domestic (US) money transfer", 2),
)
ISSUES = (
    ("Incorrect information on your report", "Information belongs to someone else"),
    ("Problem with a credit reporting company's investigation into an existing problem", "Their investigation"),
    ("Attempts to collect debt not owed", "Debt is not yours"),
    ("Improper use of your report", "Reporting company used your report improperly"),
    ("Managing an account", "Deposits and withdrawals"),
    ("Written notification about debt", "Didn't receive enough information to verify debt"),
    ("Trouble during payment process", "Problem with additional add-on products or services"),
    ("Fees or interest", "Problem with fees"),
    ("Problem with a purchase shown on your statement", "Credit card company isn't resolving a dispute"),
    ("Dealing with your lender or servicer", "Received bad information about your loan"),
    ("Struggling to pay mortgage", ""),
    ("Closing an account", "Company closed your account"),
)
RESPONSES = (
    ("Closed with explanation", 839),
    ("Closed with non-monetary relief", 118),
    ("Closed with monetary relief", 32),
    ("Untimely response", 6),
    ("In progress", 5),
)
VIA = (("Web", 776), ("Referral", 95), ("Phone", 73), ("Postal mail", 40), ("Fax", 15), ("Email", 1))
TAGS = (("", 877), ("Servicemember", 76), ("Older American", 36), ("Older American, Servicemember", 11))
CONSENT = (("Consent not provided", 50), ("Consent provided", 23), ("N/A", 22), ("Other", 3), ("", 2))
PUBLIC = (
    ("Company has responded to the consumer and the CFPB and chooses not to provide a public response", 56),
    ("", 38),
    ("Company believes it acted appropriately as authorized by contract or law", 6),
)
STATES = ["CA", "TX", "FL", "NY", "GA", "IL", "PA", "NC", "OH", "NJ", "MI", "VA", "MD", "AZ", "WA"]
WORDS = [
    "I contacted the company XXXX times about this account and they refused to correct the information",
    "On XX/XX/XXXX I sent a letter with proof of payment but never received a response",
    "This is not my debt and I have asked them to validate it",
    "The late payment reported is inaccurate and is hurting my credit score",
    "They keep calling me at work even though I asked them to stop.",
]


def _picker(rng: random.Random, table: tuple[tuple[str, int], ...]) -> list[str]:
    return [value for value, weight in table for _ in range(weight)]


def write_cfpb_csv(path: Path, rows: int = ROWS, *, seed: int = 2019) -> None:
    """Write ``rows`` complaints with ids from ``FIRST_ID``, received through 2019."""
    rng = random.Random(seed)
    products = [(p, s) for p, s, w in PRODUCTS for _ in range(w)]
    responses, via, tags = _picker(rng, RESPONSES), _picker(rng, VIA), _picker(rng, TAGS)
    consent, public = _picker(rng, CONSENT), _picker(rng, PUBLIC)
    companies = [f"COMPANY {n:03d} FINANCIAL, INC." for n in range(700)]
    first_day = date(2019, 1, 1)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(HEADER)
        for n in range(rows):
            product, sub_product = rng.choice(products)
            issue, sub_issue = rng.choice(ISSUES)
            received = first_day + timedelta(days=rng.randrange(365))
            response = rng.choice(responses)
            sent = received + timedelta(days=rng.choice((0, 0, 0, 1, 2, 5)))
            narrative = ""
            if rng.random() < 0.23:
                narrative = "\n".join(". ".join(rng.sample(WORDS, rng.randint(2, 5))) for _ in range(rng.randint(1, 4)))
            writer.writerow(
                (
                    received.isoformat(),
                    product,
                    sub_product,
                    issue,
                    sub_issue,
                    narrative,
                    rng.choice(public),
                    rng.choice(companies),
                    rng.choice(STATES),
                    f"{rng.randint(100, 999)}XX",
                    rng.choice(tags),
                    rng.choice(consent),
                    rng.choice(via),
                    sent.isoformat(),
                    response,
                    "No" if rng.random() < 0.014 else "Yes",
                    "N/A",
                    str(FIRST_ID + n),
                )
            )


def ensure_cfpb_csv(cache_dir: Path, rows: int = ROWS) -> Path:
    """The cached synthetic export (written first if missing)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"cfpb-v{CFPB_VERSION}-{rows}.csv"
    if not path.exists():
        partial = path.with_name(path.name + ".partial")
        write_cfpb_csv(partial, rows)
        partial.rename(path)
    return path
