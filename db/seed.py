"""The demo floor: a believable day on a service floor, created once in a separate demo database.

``main.py --demo`` calls :func:`ensure_demo_floor` after upgrading the database. On an empty database it writes
three teams of associates, a few hundred customers with their contact history, a day of handled escalations and a
live queue of about fifteen open ones, some close to or past their SLA; on a database that already holds data it
does nothing. A seed makes the floor reproducible: same seed and same ``now``, same floor. The story templates
here are also what :mod:`console.simulator` draws new arrivals from.

Every demo supervisor signs in with ``DEMO_SUPERVISOR_PASSWORD`` (so a second console can sign in as another
supervisor to show the floor shared live); the demo manager with ``DEMO_MANAGER_PASSWORD``.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from console import audit
from console.accounts import create_account
from console.domain import Category, Channel, Role, Severity, Status, Tier
from db.engine import Database
from db.models import Associate, Customer, Escalation, HoldPeriod, Interaction, Team, User
from db.seed_goodwill import seed_goodwill
from db.types import utcnow

DEFAULT_SEED = 2026
DEMO_SUPERVISOR_USERNAME = "demo"
DEMO_SUPERVISOR_PASSWORD = "demo-floor"
DEMO_MANAGER_USERNAME = "morgan"
DEMO_MANAGER_PASSWORD = "demo-manager"
T = TypeVar("T")
# Month names in English whatever the process locale (Qt sets it from the environment), so a seed means one text.
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class DemoAccount:
    """A sign-in account on the demo floor."""

    username: str
    display_name: str
    role: Role
    password: str


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount(DEMO_SUPERVISOR_USERNAME, "Jordan Avery", Role.SUPERVISOR, DEMO_SUPERVISOR_PASSWORD),
    DemoAccount(DEMO_MANAGER_USERNAME, "Morgan Ellis", Role.MANAGER, DEMO_MANAGER_PASSWORD),
    DemoAccount("priya", "Priya Raman", Role.SUPERVISOR, DEMO_SUPERVISOR_PASSWORD),
    DemoAccount("tomasz", "Tomasz Nowak", Role.SUPERVISOR, DEMO_SUPERVISOR_PASSWORD),
    DemoAccount("aisha", "Aisha Bello", Role.SUPERVISOR, DEMO_SUPERVISOR_PASSWORD),
)

BILLING_DESK = "Billing desk"
ORDERS_DESK = "Orders & delivery"
DEVICES_DESK = "Devices"
DEMO_TEAMS: tuple[str, ...] = (BILLING_DESK, ORDERS_DESK, DEVICES_DESK)
ASSOCIATES_PER_TEAM = 4
# Which desk an associate escalating each kind of complaint usually sits on.
HOME_TEAM: dict[Category, str] = {
    Category.PRODUCT_MALFUNCTION: DEVICES_DESK,
    Category.BILLING_ERROR: BILLING_DESK,
    Category.UNMET_EXPECTATION: ORDERS_DESK,
    Category.LONG_WAIT: ORDERS_DESK,
}
PLAYBOOK_CATEGORIES: tuple[Category, ...] = (
    Category.PRODUCT_MALFUNCTION,
    Category.LONG_WAIT,
    Category.BILLING_ERROR,
    Category.UNMET_EXPECTATION,
)

# --- names ------------------------------------------------------------------------------------------------------
FIRST_NAMES: tuple[str, ...] = (
    "Amara", "Liam", "Sofia", "Mateo", "Aiko", "Kwame", "Priyanka", "Chen", "Fatima", "Oliver", "Zoe", "Diego",
    "Hannah", "Yusuf", "Mei", "Noah", "Isabella", "Ravi", "Ngozi", "Lucas", "Emma", "Hiroshi", "Leila", "Jamal",
    "Elena", "Tariq", "Grace", "Santiago", "Ayesha", "Connor", "Nadia", "Kofi", "Ingrid", "Wei", "Camila", "Omar",
    "Freya", "Arjun", "Chloe", "Dmitri", "Lucía", "Samuel", "Keiko", "Malik", "Olivia", "Rafael", "Sana", "Ethan",
    "Thandiwe", "Marco", "Anika", "Gabriel", "Yara", "Jonas", "Mariam", "Tomás", "Ruth", "Kenji", "Aaliyah",
    "Patrick", "Esther", "Bilal", "Maya", "Andrei", "Naledi", "Felix", "Carmen", "Hamza", "Siobhan", "Vikram",
    "Julia", "Emeka", "Astrid", "Daniel", "Rosa", "Ibrahim", "Nora", "Jin", "Beatriz", "Samir",
)  # fmt: skip
LAST_NAMES: tuple[str, ...] = (
    "Okafor", "Nguyen", "Garcia", "Patel", "Kowalski", "Andersson", "Mensah", "Haddad", "Rossi", "Kim", "Tanaka",
    "O'Brien", "Schmidt", "Hernández", "Ali", "Dubois", "Chen", "Mbeki", "Silva", "Novak", "Johansson", "Khan",
    "Murphy", "Yamamoto", "Fernandes", "Adeyemi", "Kaur", "Petrov", "Martin", "Walker", "Rahman", "López",
    "Brennan", "Osei", "Nakamura", "Cohen", "Santos", "Lindqvist", "Das", "Moreau", "Hughes", "Ito", "Abubakar",
    "Reyes", "Fischer", "Sharma", "Campbell", "Delgado", "Wójcik", "Eze", "Bianchi", "Park", "Nielsen", "Hassan",
    "Thompson", "Costa", "Singh", "Papadopoulos", "Mwangi", "Clarke",
)  # fmt: skip
ASSOCIATE_NAMES: tuple[str, ...] = (
    "Sam Ortiz", "Leah Goldberg", "Ravi Menon", "Chioma Nwosu", "Tyler Brooks", "Mina Park", "Jonas Weber",
    "Fatou Diallo", "Carlos Mendes", "Hana Suzuki", "Ellie Byrne", "Kareem Aziz", "Sofie Jensen", "Marcus Bell",
    "Anjali Rao", "Luis Ramírez", "Grace Mwale", "Ben Carter", "Yuki Mori", "Zainab Hussain", "Ollie Grant",
    "Teresa Vidal", "Dev Malhotra", "Ama Boateng",
)  # fmt: skip

# --- things customers buy --------------------------------------------------------------------------------------
# Each device with the accessory its listing says is in the box.
DEVICES: dict[str, str] = {
    "Aurora X2 phone": "charging dock",
    "Pulse 5 smartwatch": "spare strap",
    "HomeHub speaker": "power adapter",
    "Vela 14 laptop": "travel charger",
    "Nimbus wireless earbuds": "wireless charging case",
    "Kettle Pro 1.7 L": "limescale filter",
    "Breeze air purifier": "spare filter",
    "Luma robot vacuum": "charging base",
    "StreamBox 4K": "voice remote",
    'Orbit tablet 11"': "keyboard cover",
    "FreshCool fridge freezer": "water filter",
    "Quill e-reader": "sleeve cover",
    "Arc soundbar": "wall mount",
    "Spin 8 kg washing machine": "anti-vibration feet",
}
ANY_DEVICE: tuple[str, ...] = tuple(DEVICES)
# Which devices a story can be about, so a kettle never gets a flickering screen.
WITH_SCREEN = ("Aurora X2 phone", "Pulse 5 smartwatch", "Vela 14 laptop", 'Orbit tablet 11"', "Quill e-reader")
WITH_BATTERY = (*WITH_SCREEN, "Nimbus wireless earbuds", "Luma robot vacuum")
WIRELESS = ("Pulse 5 smartwatch", "Nimbus wireless earbuds", "HomeHub speaker", "Arc soundbar", "StreamBox 4K")
COMPUTING = ("Aurora X2 phone", "Vela 14 laptop", 'Orbit tablet 11"', "StreamBox 4K", "HomeHub speaker")
WITH_WATER = ("Kettle Pro 1.7 L", "FreshCool fridge freezer", "Spin 8 kg washing machine")
WITH_MOTOR = ("Luma robot vacuum", "Breeze air purifier", "FreshCool fridge freezer", "Spin 8 kg washing machine")
BULKY = ("Breeze air purifier", "HomeHub speaker", "Arc soundbar", "Luma robot vacuum", "FreshCool fridge freezer")
INSTALLED = ("FreshCool fridge freezer", "Spin 8 kg washing machine", "Arc soundbar")
PORTABLE = (*WITH_BATTERY, "HomeHub speaker", "Arc soundbar", "StreamBox 4K", "Kettle Pro 1.7 L")
PLANS: tuple[str, ...] = (
    "Fibre 500 broadband plan", "Family mobile plan", "Unlimited 5G SIM plan", "Device protection plan",
    "Premium streaming add-on", "Home phone line",
)  # fmt: skip
CARRIERS: tuple[str, ...] = ("ParcelNow", "SwiftPost", "Northline Freight", "CityCourier")
STORES: tuple[str, ...] = ("Riverside", "Market Street", "Eastgate", "Harbour Mall", "Northfield")


@dataclass(frozen=True)
class StoryTemplate:
    """One kind of complaint: a one-line summary and the associate's notes, with ``{facts}`` to fill in."""

    summary: str
    details: str
    subject: str | None = "product"  # which fact names the escalation's product ("product", "plan" or None)
    products: tuple[str, ...] = ANY_DEVICE  # the devices this story fits


# Eight to ten templates per playbook category (domain.md section 3), written like an associate's hand-off.
STORIES: dict[Category, tuple[StoryTemplate, ...]] = {
    Category.PRODUCT_MALFUNCTION: (
        StoryTemplate(
            "{product} stopped charging {days} days after delivery",
            "{first} bought the {product} {days} days ago. It stopped charging on {date}; tried another cable and "
            "wall socket as I suggested, no change. Does not want to send it away for repair and wait.",
            products=WITH_BATTERY,
        ),
        StoryTemplate(
            "Second {product} in a row dead on arrival",
            "The first unit was replaced last week with the same fault: no power out of the box. {first} took "
            "time off work for the delivery both times.",
        ),
        StoryTemplate(
            "New {product} overheating and switching itself off",
            "Gets too hot to hold after about twenty minutes, then shuts down. {days} days old. {first} is worried "
            "it is unsafe and has unplugged it.",
            products=COMPUTING,
        ),
        StoryTemplate(
            "Screen on new {product} flickering since day one",
            "Flickers at every brightness setting; factory reset and software update done with me on the call. "
            "Bought {days} days ago as a present.",
            products=WITH_SCREEN,
        ),
        StoryTemplate(
            "{product} will not pair after {calls} troubleshooting sessions",
            "Followed the pairing guide with three different associates; each time told a reset would fix it. "
            "{first} says they have spent hours on this and wants one that works.",
            products=WIRELESS,
        ),
        StoryTemplate(
            "{product} making a grinding noise after {days} days",
            "Noise started in the first week and is getting louder; customer emailed a video. Relies on it every "
            "day and asks what we will do today.",
            products=WITH_MOTOR,
        ),
        StoryTemplate(
            "Battery on new {product} lasts under two hours",
            "Advertised as all-day battery. Calibrated and reset as advised; still flat before lunch. {first}: "
            "'I paid for a premium product.'",
            products=WITH_BATTERY,
        ),
        StoryTemplate(
            "{product} leaking water after the first week",
            "Water pooling under the unit and it has damaged a floor mat. Unit switched off now. Customer wants it "
            "collected and mentions the floor.",
            products=WITH_WATER,
        ),
        StoryTemplate(
            "Cracked casing on {product} straight out of the box",
            "Box undamaged, casing cracked along one side; photos on file. I offered a repair; customer refuses a "
            "repair on a brand-new item.",
        ),
        StoryTemplate(
            "{product} keeps rebooting; the update made it worse",
            "Restarts every few minutes since the update on {date}. Rolled back with me on the phone, no change. "
            "{first} works from home and needs it working.",
            products=COMPUTING,
        ),
    ),
    Category.LONG_WAIT: (
        StoryTemplate(
            "On hold {hours} hours over {calls} calls about order {order}",
            "Each call ended without an answer or dropped in the queue. {first} has a log of every call time and "
            "wants one person to own this.",
            None,
        ),
        StoryTemplate(
            "Promised call-back about the {product} never came ({calls} times)",
            "Told on every call that a specialist would ring back within 24 hours. Nobody did. Customer feels ignored.",
        ),
        StoryTemplate(
            "{emails} emails in {days} days without a real reply",
            "Emails since {date} about a refund for the {product}; only automatic acknowledgements came back. "
            "Asked me for a name and a date.",
        ),
        StoryTemplate(
            "{product} in the repair workshop {weeks} weeks with no update",
            "Handed in at the {store} store. The tracking page still says 'received'. Customer has been without it "
            "for {weeks} weeks and had to buy a stand-in.",
            products=PORTABLE,
        ),
        StoryTemplate(
            "Chat dropped three times; customer retold the story each time",
            "Three chats about order {order} this morning, each disconnected or transferred. {first}: 'I have "
            "explained this four times now.'",
            None,
        ),
        StoryTemplate(
            "Refund of {amount} promised {days} days ago, still not received",
            "The warehouse confirmed the return of the {product} on {date}; refund was promised within five working "
            "days. Customer is short of money this month.",
        ),
        StoryTemplate(
            "Transferred {calls} times; nobody owns the complaint",
            "Passed between orders, billing and devices on one call of {hours} hours. Asked for a manager before "
            "the line dropped.",
            None,
        ),
        StoryTemplate(
            "Complaint letter sent {weeks} weeks ago, never acknowledged",
            "Letter about the {product} sent by post; no reply of any kind. {first} says this call is the last try "
            "before going to the ombudsman.",
        ),
        StoryTemplate(
            "Technician missed two installation appointments for the {product}",
            "Customer stayed in both times ({date} and the week before). No call to say nobody was coming.",
            products=INSTALLED,
        ),
        StoryTemplate(
            "Order {order} stuck 'processing' for {days} days",
            "Every contact gave a different explanation. Customer wants a straight answer and a date.",
            None,
        ),
    ),
    Category.BILLING_ERROR: (
        StoryTemplate(
            "Charged twice for the {product} ({amount} each)",
            "Two identical card payments on {date}; bank statement emailed. {first} needs the money back before "
            "rent is due.",
        ),
        StoryTemplate(
            "Still billed for the cancelled {plan} after {months} months",
            "Cancelled by phone {months} months ago and has the cancellation reference. Billed {amount} every month "
            "since. Wants all of it back.",
            "plan",
        ),
        StoryTemplate(
            "Invoice {invoice} shows {wrong_amount} instead of the agreed {amount}",
            "The agreed price is in a chat transcript from the sale. I can see the quote but cannot change an "
            "issued invoice.",
            "plan",
        ),
        StoryTemplate(
            "Promotional discount on the {plan} never applied",
            "Signed up for 30% off for 12 months; billed full price for {months} months. Customer feels misled by "
            "the offer.",
            "plan",
        ),
        StoryTemplate(
            "Late fee charged although payment was on time",
            "Paid on {date}, two days before the due date; a {fee} late fee was added anyway. Card statement shows "
            "the payment.",
            "plan",
        ),
        StoryTemplate(
            "{wrong_amount} roaming charges for a trip never taken",
            "Customer has not left the country this year; the usage log shows data sessions abroad on {date}. "
            "Suspects fraud and is anxious.",
            "plan",
        ),
        StoryTemplate(
            "Direct debit taken twice; customer's account overdrawn",
            "Two debits of {amount} on {date}; the bank charged an overdraft fee. {first} wants the bank's fee "
            "covered too.",
            "plan",
        ),
        StoryTemplate(
            "Refund for the {product} paid to an old, closed card",
            "Refund of {amount} went to a card cancelled last year. Customer was told it 'will bounce back', with "
            "no date.",
        ),
        StoryTemplate(
            "Price of the {plan} raised without notice",
            "Bill went from {amount} to {wrong_amount}; no letter or email about a price change. Customer is in "
            "the minimum term and cannot leave without a fee.",
            "plan",
        ),
        StoryTemplate(
            "Billed {amount} for the {product} they returned",
            "Returned at the {store} store on {date}; has the returns receipt. Invoice {invoice} still charges for it.",
            products=PORTABLE,
        ),
    ),
    Category.UNMET_EXPECTATION: (
        StoryTemplate(
            "Order {order} {days} days past the promised delivery date",
            "Delivery of the {product} was promised for {date}; tracking with {carrier} has not moved since. "
            "{first} took time off to receive it.",
        ),
        StoryTemplate(
            "Next-day delivery took {days} days; birthday present missed",
            "Paid {fee} for next-day delivery of the {product}. It arrived after the birthday. Customer wants at "
            "least the fee back.",
        ),
        StoryTemplate(
            "{product} arrived without the advertised {accessory}",
            "The product page lists the {accessory} as included; the box had none. I could not send one without a "
            "new order.",
        ),
        StoryTemplate(
            "Installation of the {product} cancelled the same morning, no notice",
            "Customer found out only when nobody came. The next slot offered is {days} days away.",
            products=INSTALLED,
        ),
        StoryTemplate(
            "Order {order} marked delivered but never arrived",
            "{carrier} says it was left at the door on {date}; customer was home all day and the neighbours have "
            "nothing. Wants a replacement sent, not an investigation.",
        ),
        StoryTemplate(
            "{product} much smaller than the listing suggested",
            "The listing photos show it next to a person; the real one is about half that size. Customer feels the "
            "listing is misleading.",
            products=BULKY,
        ),
        StoryTemplate(
            "Paid {fee} for express shipping, got standard",
            "Order {order} went by standard post with {carrier}. Customer needed the {product} for a trip that has "
            "now started.",
        ),
        StoryTemplate(
            "{product} missing from order {order}",
            "Everything else arrived; the packing slip lists the {product} as packed. Customer needs it for a job "
            "starting Monday.",
        ),
        StoryTemplate(
            "Price match promised in store not honoured",
            "The {store} store promised to match a lower price on the {product}; the difference of {amount} was "
            "never credited.",
        ),
        StoryTemplate(
            "Pre-ordered {product} shipped {weeks} weeks after launch",
            "Pre-ordered on day one for launch-day delivery; people who ordered weeks later got theirs first.",
            products=WITH_BATTERY,
        ),
    ),
}

MOODS: tuple[str, ...] = (
    "Calm but firm.",
    "Very upset; raised their voice at me twice.",
    "Asked for a manager straight away.",
    "Polite, but says this is our last chance.",
    "Mentioned posting about it online.",
    "Long-standing customer; disappointed more than angry.",
    "Close to tears; it has been a stressful week for them.",
    "Threatening to cancel everything with us.",
)
WANTS: dict[Category, tuple[str, ...]] = {
    Category.PRODUCT_MALFUNCTION: (
        "Wants a replacement sent today.",
        "Wants a full refund.",
        "Would accept a replacement if it arrives this week.",
        "Wants to swap it in store.",
    ),
    Category.LONG_WAIT: (
        "Wants one named person and a date.",
        "Wants something for the time spent chasing us.",
        "Wants a call back today at a set time.",
        "Wants the original problem fixed first, then an apology.",
    ),
    Category.BILLING_ERROR: (
        "Wants the money back today and a corrected bill.",
        "Wants the error explained in writing.",
        "Wants the charge reversed and the account checked.",
        "Wants a credit for the trouble.",
    ),
    Category.UNMET_EXPECTATION: (
        "Wants it delivered tomorrow at no cost.",
        "Wants the delivery fee back.",
        "Wants to know exactly when it will arrive.",
        "Will cancel if it cannot arrive this week.",
    ),
}
OUTCOMES: dict[Category, tuple[str, ...]] = {
    Category.PRODUCT_MALFUNCTION: (
        "Replacement shipped with accessory; customer happy",
        "Advance replacement sent by courier, faulty unit collected; apology call made",
        "Exchanged in store the same day; free case added",
        "Full refund at the customer's choice; thanked us for not arguing",
        "Replacement plus 12-month warranty extension; customer reassured",
        "Technician booked for tomorrow, loan unit delivered today",
    ),
    Category.LONG_WAIT: (
        "Named case owner, status update given; 15% off the next purchase",
        "Refund pushed through during the call; apology and $20 voucher",
        "Called back at the agreed time; issue fixed and discount applied",
        "Repair escalated to the workshop lead, loan unit sent; customer calmer",
        "Clear timeline given in writing; weekly updates agreed",
        "Apologised for the runaround; $25 goodwill credit",
    ),
    Category.BILLING_ERROR: (
        "Duplicate charge refunded today; $10 goodwill credit; confirmation emailed",
        "Charges for the cancelled plan refunded in full; error explained",
        "Invoice corrected to the agreed price; goodwill credit applied",
        "Late fee removed and bank fee covered; customer satisfied",
        "Charges reversed, account checked for fraud; follow-up booked",
        "Discount back-dated to sign-up; customer thanked us",
    ),
    Category.UNMET_EXPECTATION: (
        "Delivery expedited at no cost; arrives tomorrow",
        "Delivery fee refunded; voucher for the next order",
        "Missing item sent by courier today; apology note included",
        "New installation slot tomorrow morning; delivery fee waived",
        "Replacement dispatched, we opened the carrier claim; customer relieved",
        "Price difference credited; store manager informed",
    ),
}
REOPEN_REASONS: dict[Category, tuple[str, ...]] = {
    Category.PRODUCT_MALFUNCTION: ("The replacement shows the same fault", "Replacement never left the warehouse"),
    Category.LONG_WAIT: ("The promised call-back did not happen again", "Still no update after the agreed date"),
    Category.BILLING_ERROR: ("The corrected bill still shows the wrong amount", "Refund has not reached the card"),
    Category.UNMET_EXPECTATION: ("The expedited delivery did not arrive either", "Courier says there is no parcel"),
}
HOLD_REASONS: dict[Category, str] = {
    Category.PRODUCT_MALFUNCTION: "Waiting for the customer's photos of the fault",
    Category.LONG_WAIT: "Waiting for the repair workshop's report",
    Category.BILLING_ERROR: "Waiting for the billing team to confirm the reversal",
    Category.UNMET_EXPECTATION: "Waiting for the carrier's proof of delivery",
}
# The contacts that typically came before the escalation, per category: (channel, summary).
LEAD_UPS: dict[Category, tuple[tuple[Channel, str], ...]] = {
    Category.PRODUCT_MALFUNCTION: (
        (Channel.PHONE, "Reported a fault on the {product}; troubleshooting steps given"),
        (Channel.CHAT, "Asked for help with the {product} fault"),
        (Channel.EMAIL, "Sent photos of the {product} fault"),
    ),
    Category.LONG_WAIT: (
        (Channel.PHONE, "Chased order {order}; told 'within 48 hours'"),
        (Channel.EMAIL, "Asked for an update; automatic reply only"),
        (Channel.CHAT, "Asked for a call-back about the {product}"),
    ),
    Category.BILLING_ERROR: (
        (Channel.CHAT, "Queried a charge of {amount}"),
        (Channel.PHONE, "Asked why invoice {invoice} is higher than usual"),
        (Channel.EMAIL, "Sent a bank statement showing the charge"),
    ),
    Category.UNMET_EXPECTATION: (
        (Channel.CHAT, "Asked where order {order} is"),
        (Channel.PHONE, "{carrier} tracking not updating; told to wait 24 hours"),
        (Channel.WEB_FORM, "Reported a delivery problem with order {order}"),
    ),
}
# Everyday contacts that make up a customer's history: (channel, direction, summary).
EVERYDAY_CONTACTS: tuple[tuple[Channel, str, str], ...] = (
    (Channel.PHONE, "inbound", "Asked about invoice {invoice}"),
    (Channel.CHAT, "inbound", "Delivery status of order {order}"),
    (Channel.EMAIL, "inbound", "Asked for a copy of the receipt for the {product}"),
    (Channel.PHONE, "inbound", "Updated billing address"),
    (Channel.WEB_FORM, "inbound", "Return request for the {product}"),
    (Channel.CHAT, "inbound", "Asked about upgrading to the {plan}"),
    (Channel.CHAT, "inbound", "Asked how to register the {product} warranty"),
    (Channel.SOCIAL, "inbound", "Complained about a four-hour delivery window"),
    (Channel.PHONE, "inbound", "Moved the payment date to the 15th"),
    (Channel.IN_PERSON, "inbound", "In-store demo of the {product} at {store}"),
    (Channel.EMAIL, "inbound", "Warranty question about the {product}"),
    (Channel.PHONE, "inbound", "Cancelled the premium streaming add-on"),
    (Channel.POST, "inbound", "Returned the signed contract for the {plan}"),
    (Channel.PHONE, "outbound", "Satisfaction survey call; scored us 8 out of 10"),
    (Channel.EMAIL, "outbound", "Renewal reminder for the {plan}"),
    (Channel.PHONE, "outbound", "Courtesy call after the repair of the {product}"),
    (Channel.CHAT, "inbound", "Asked for a Saturday delivery of the {product}"),
    (Channel.IN_PERSON, "inbound", "Collected order {order} at the {store} store"),
    (Channel.WEB_FORM, "inbound", "Changed contact preferences"),
    (Channel.SOCIAL, "inbound", "Thanked the delivery driver publicly"),
)

CHANNEL_WEIGHTS: tuple[tuple[Channel, int], ...] = (
    (Channel.PHONE, 35),
    (Channel.CHAT, 25),
    (Channel.EMAIL, 14),
    (Channel.SOCIAL, 8),
    (Channel.WEB_FORM, 8),
    (Channel.IN_PERSON, 7),
    (Channel.POST, 3),
)
SEVERITY_WEIGHTS: tuple[tuple[Severity, int], ...] = (
    (Severity.CRITICAL, 5),
    (Severity.HIGH, 20),
    (Severity.NORMAL, 58),
    (Severity.LOW, 17),
)
TIER_WEIGHTS: tuple[tuple[Tier, int], ...] = (
    (Tier.STANDARD, 70),
    (Tier.SILVER, 18),
    (Tier.GOLD, 9),
    (Tier.PLATINUM, 3),
)
# Lifetime value bands in cents per tier: (low, high, most likely).
_LTV_CENTS: dict[Tier, tuple[int, int, int]] = {
    Tier.STANDARD: (10_000, 300_000, 45_000),
    Tier.SILVER: (150_000, 600_000, 250_000),
    Tier.GOLD: (500_000, 2_000_000, 800_000),
    Tier.PLATINUM: (1_500_000, 4_000_000, 2_200_000),
}


def pick_weighted(rng: random.Random, weights: Sequence[tuple[T, int]]) -> T:
    """One value drawn by weight."""
    return rng.choices([value for value, _ in weights], [weight for _, weight in weights])[0]


def _money(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


def _dollars(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def story_facts(
    rng: random.Random, first_name: str, now: datetime, products: Sequence[str] = ANY_DEVICE
) -> dict[str, str]:
    """The variable bits a story template names: a device (one of ``products``), order numbers, amounts, dates."""
    product = rng.choice(products)
    amount = _money(rng.randint(1_499, 34_999))
    wrong = amount + _money(rng.randint(1_000, 25_000))
    day = now - timedelta(days=rng.randint(2, 14))
    return {
        "first": first_name,
        "product": product,
        "plan": rng.choice(PLANS),
        "accessory": DEVICES[product],
        "carrier": rng.choice(CARRIERS),
        "store": rng.choice(STORES),
        "order": f"SO-{rng.randint(410_000, 489_999)}",
        "invoice": f"INV-{rng.randint(700_000, 799_999)}",
        "amount": _dollars(amount),
        "wrong_amount": _dollars(wrong),
        "fee": _dollars(_money(rng.choice((499, 799, 999, 1_299, 1_500)))),
        "days": str(rng.randint(3, 12)),
        "weeks": str(rng.randint(2, 6)),
        "months": str(rng.randint(2, 5)),
        "calls": str(rng.randint(3, 6)),
        "emails": str(rng.randint(3, 6)),
        "hours": str(rng.randint(2, 4)),
        "date": f"{day.day} {_MONTHS[day.month - 1]}",
    }


@dataclass(frozen=True)
class DemoStory:
    """A complaint ready to escalate: what the associate writes, and the facts it was built from."""

    category: Category
    summary: str
    details: str
    product: str | None
    facts: Mapping[str, str]


def write_story(rng: random.Random, category: Category, first_name: str, now: datetime) -> DemoStory:
    """A believable complaint of one playbook category for a customer called ``first_name``."""
    template = rng.choice(STORIES[category])
    facts = story_facts(rng, first_name, now, template.products)
    summary = template.summary.format(**facts)
    summary = summary[0].upper() + summary[1:]
    details = " ".join((template.details.format(**facts), rng.choice(MOODS), rng.choice(WANTS[category])))
    product = facts[template.subject] if template.subject else None
    return DemoStory(category, summary, details, product, facts)


def person_name(rng: random.Random) -> str:
    """A realistic full name from the demo's name lists."""
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


_AREA_CODES = (212, 206, 303, 312, 404, 415, 503, 512, 602, 617, 718, 919)


def contact_details(rng: random.Random, name: str) -> tuple[str | None, str | None]:
    """A plausible (email, phone) for a customer, either possibly missing; reserved example domains and numbers."""
    first, _, last = name.partition(" ")
    email = None
    if rng.random() < 0.92:
        style = rng.randrange(3)
        local = (
            f"{_ascii(first)}.{_ascii(last)}"
            if style == 0
            else f"{_ascii(first)[0]}{_ascii(last)}{rng.randint(1, 99)}"
            if style == 1
            else f"{_ascii(first)}{rng.randint(70, 99)}"
        )
        email = f"{local}@example.com"
    # 555-0100..0199 are the numbers reserved for fiction in North America.
    phone = f"+1 ({rng.choice(_AREA_CODES)}) 555-01{rng.randint(0, 99):02d}" if rng.random() < 0.85 else None
    return email, phone


def customer_profile(rng: random.Random) -> tuple[Tier, Decimal, float, bool]:
    """Tier, lifetime value, churn risk and contact consent, skewed the way a real book of customers is."""
    tier = pick_weighted(rng, TIER_WEIGHTS)
    low, high, mode = _LTV_CENTS[tier]
    ltv = _money(int(rng.triangular(low, high, mode)))
    # About one customer in ten is flagged as likely to leave; the rest sit low.
    at_risk = rng.random() < 0.1
    churn = round(rng.uniform(0.6, 0.95) if at_risk else min(rng.betavariate(1.6, 7.0), 0.58), 2)
    consent = rng.random() < 0.88
    return tier, ltv, churn, consent


# --- the floor ---------------------------------------------------------------------------------------------------
def ensure_demo_floor(database: Database, *, seed: int | None = None, now: datetime | None = None) -> bool:
    """Create the demo floor on a fresh database (no users, no escalations) and return True; else do nothing.

    Same ``seed`` and ``now`` give the same floor; ``seed`` None means :data:`DEFAULT_SEED`, so the demo is
    stable from run to run. Everything is written in one transaction: a failed seeding leaves the database empty.
    """
    now = now or utcnow()
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    with database.transaction() as session:
        if database.dialect == "postgresql":
            # Two consoles seeding one empty database at once, or a first-run manager being created meanwhile,
            # queue up behind this lock (the same one AccountService.create_first_manager takes); SQLite's
            # BEGIN IMMEDIATE already serialises writers.
            session.execute(text("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE"))
        if not _is_fresh(session):
            return False
        chosen = DEFAULT_SEED if seed is None else seed
        counts = _FloorBuilder(session, random.Random(chosen), now).build()
        audit.record(session, None, "demo.seed", "database", None, after={"seed": chosen, **counts})
        return True


def _interaction_row(customer_id: int, escalation_id: int | None, contact: _Contact) -> dict[str, object]:
    return {
        "customer_id": customer_id,
        "escalation_id": escalation_id,
        "channel": contact.channel.value,
        "direction": contact.direction,
        "occurred_at": contact.at,
        "handled_by": contact.handled_by,
        "summary": contact.summary,
    }


def _is_fresh(session: Session) -> bool:
    users = session.scalar(select(func.count()).select_from(User))
    escalations = session.scalar(select(func.count()).select_from(Escalation))
    return not users and not escalations


@dataclass
class _Contact:
    channel: Channel
    direction: str
    at: datetime
    handled_by: str | None
    summary: str


@dataclass
class _Hold:
    started_at: datetime
    ended_at: datetime | None
    reason: str
    by: User


@dataclass
class _Case:
    """An escalation being planned, with the contacts and holds that belong to it."""

    escalation: Escalation
    facts: Mapping[str, str]
    contacts: list[_Contact] = field(default_factory=list)
    holds: list[_Hold] = field(default_factory=list)


# The live queue: (severity, state, escalated minutes ago (low, high)). Chosen so that some clocks are close to
# or past their claim target (critical 5 min, high 15 min, normal 1 h, low 4 h by default).
_OPEN_SLOTS: tuple[tuple[Severity, str, tuple[float, float]], ...] = (
    (Severity.CRITICAL, "open", (2.0, 4.6)),  # pre-breach or nearly
    (Severity.HIGH, "open", (17.0, 30.0)),  # past its 15-minute claim target
    (Severity.HIGH, "open", (6.0, 11.0)),
    (Severity.NORMAL, "open", (49.0, 58.0)),  # about to breach
    (Severity.NORMAL, "open", (65.0, 110.0)),  # breached
    (Severity.NORMAL, "open", (2.0, 14.0)),
    (Severity.NORMAL, "open", (10.0, 30.0)),
    (Severity.NORMAL, "open", (20.0, 45.0)),
    (Severity.LOW, "open", (15.0, 90.0)),
    (Severity.LOW, "open", (200.0, 280.0)),  # the 4-hour target looming
    (Severity.NORMAL, "reopened", (150.0, 300.0)),
    (Severity.CRITICAL, "claimed", (18.0, 40.0)),
    (Severity.HIGH, "claimed", (60.0, 150.0)),
    (Severity.NORMAL, "held", (120.0, 240.0)),
    (Severity.LOW, "claimed", (45.0, 120.0)),
)
# Minutes from escalation to claim, per severity, on the day's handled cases (some past the target).
_CLAIM_MINUTES: dict[Severity, tuple[float, float]] = {
    Severity.CRITICAL: (1.0, 7.0),
    Severity.HIGH: (2.0, 20.0),
    Severity.NORMAL: (3.0, 75.0),
    Severity.LOW: (10.0, 260.0),
}
_HANDLE_MINUTES: dict[Severity, tuple[float, float]] = {
    Severity.CRITICAL: (20.0, 150.0),
    Severity.HIGH: (20.0, 240.0),
    Severity.NORMAL: (15.0, 360.0),
    Severity.LOW: (30.0, 480.0),
}


class _FloorBuilder:
    """Plans the floor with one random generator and writes it through one session (no commits here)."""

    def __init__(self, session: Session, rng: random.Random, now: datetime) -> None:
        self.session = session
        self.rng = rng
        self.now = now.replace(microsecond=0)  # whole seconds read better in the case record
        self.cases: list[_Case] = []
        self.contacts: list[tuple[Customer, _Contact]] = []
        self.users: list[User] = []
        self.supervisors: list[User] = []
        self.others: list[User] = []
        self.teams: list[Team] = []
        self.associates: list[Associate] = []
        self.customers: list[Customer] = []

    # -- helpers -------------------------------------------------------------------------------------------------
    def ago(self, minutes: float) -> datetime:
        """``minutes`` before now, to the whole second."""
        return self.now - timedelta(seconds=round(minutes * 60))

    def minutes(self, span: tuple[float, float]) -> timedelta:
        """A random whole-second duration in a span of minutes."""
        return timedelta(seconds=round(self.rng.uniform(*span) * 60))

    def associate_for(self, category: Category) -> Associate:
        """Usually someone from the desk that handles this kind of complaint."""
        home = [a for a in self.associates if a.team is not None and a.team.name == HOME_TEAM[category]]
        return self.rng.choice(home if home and self.rng.random() < 0.8 else self.associates)

    def channel(self, urgent: bool = False) -> Channel:
        """Where the complaint came in; the urgent ones are mostly live conversations."""
        if urgent:
            return pick_weighted(self.rng, ((Channel.PHONE, 6), (Channel.CHAT, 3), (Channel.SOCIAL, 1)))
        return pick_weighted(self.rng, CHANNEL_WEIGHTS)

    def first_name(self, customer: Customer) -> str:
        """What the associate's notes call the customer."""
        return customer.name.split(" ", 1)[0]

    # -- build ---------------------------------------------------------------------------------------------------
    def build(self) -> dict[str, int]:
        """Write the whole floor; returns what was made, for the audit event."""
        self.users = self.create_accounts()
        self.supervisors = [u for u in self.users if u.role == Role.SUPERVISOR.value]
        self.others = [u for u in self.supervisors if u.username != DEMO_SUPERVISOR_USERNAME]
        self.create_associates()
        self.create_customers()
        self.session.add_all(self.associates)
        self.session.add_all(self.customers)
        self.session.flush()

        queue_customers = self.queue_customers()
        taken = {c.external_ref for c in queue_customers}
        rest = [c for c in self.customers if c.external_ref not in taken]
        self.rng.shuffle(rest)
        n_history = self.rng.randint(66, 84)
        self.plan_history(rest[:n_history])
        self.plan_queue(queue_customers)
        self.plan_everyday_contacts(queue_customers)

        self.cases.sort(key=lambda case: (case.escalation.escalated_at, case.escalation.summary))
        self.session.add_all([case.escalation for case in self.cases])
        self.session.flush()
        contacts: list[tuple[int, int | None, _Contact]] = [(c.id, None, contact) for c, contact in self.contacts]
        holds: list[dict[str, object]] = []
        for case in self.cases:
            esc = case.escalation
            contacts.extend((esc.customer_id, esc.id, contact) for contact in case.contacts)
            holds.extend(
                {
                    "escalation_id": esc.id,
                    "started_at": hold.started_at,
                    "ended_at": hold.ended_at,
                    "reason": hold.reason,
                    "started_by_id": hold.by.id,
                    "ended_by_id": hold.by.id if hold.ended_at else None,
                }
                for hold in case.holds
            )
        # Oldest first, so ids follow time the way they would on a real floor. These rows need no objects back,
        # so they go in as one bulk INSERT each (a thousand interactions through the unit of work is slow).
        contacts.sort(key=lambda row: (row[2].at, row[0], row[2].summary))
        self.session.execute(insert(Interaction), [_interaction_row(*row) for row in contacts])
        if holds:
            self.session.execute(insert(HoldPeriod), holds)
        goodwill = seed_goodwill(
            self.session,
            self.rng,
            self.now,
            teams=self.teams,
            associates=self.associates,
            supervisors=self.supervisors,
            demo_supervisor=next(u for u in self.users if u.username == DEMO_SUPERVISOR_USERNAME),
            customers=self.customers,
            escalations=[case.escalation for case in self.cases],
        )
        return {
            **goodwill,
            "users": len(self.users),
            "teams": len(self.teams),
            "associates": len(self.associates),
            "customers": len(self.customers),
            "escalations": len(self.cases),
            "interactions": len(contacts),
        }

    def create_accounts(self) -> list[User]:
        """The demo's sign-in accounts (see DEMO_ACCOUNTS)."""
        # The accounts module's own in-session creation (validation, argon2 hash, audit), so the accounts commit
        # together with the rest of the floor: a seeding that fails half-way must leave the database fresh.
        return [
            create_account(self.session, None, a.username, a.display_name, a.password, a.role) for a in DEMO_ACCOUNTS
        ]

    def create_associates(self) -> None:
        """Three desks of four associates."""
        self.teams = [Team(name=name) for name in DEMO_TEAMS]
        names = self.rng.sample(ASSOCIATE_NAMES, ASSOCIATES_PER_TEAM * len(self.teams))
        self.associates = [
            Associate(
                name=name,
                team=self.teams[index // ASSOCIATES_PER_TEAM],
                active=True,
                created_at=self.now - timedelta(days=self.rng.randint(60, 1500)),
            )
            for index, name in enumerate(names)
        ]

    def create_customers(self) -> None:
        """About three hundred customers with distinct names and references."""
        count = self.rng.randint(285, 315)
        names: list[str] = []
        seen: set[str] = set()
        while len(names) < count:
            name = person_name(self.rng)
            if name not in seen:
                seen.add(name)
                names.append(name)
        refs = self.rng.sample(range(10_000, 100_000), count)
        self.customers = []
        for name, ref in zip(names, refs, strict=True):
            tier, ltv, churn, consent = customer_profile(self.rng)
            email, phone = contact_details(self.rng, name)
            self.customers.append(
                Customer(
                    external_ref=f"C-{ref}",
                    name=name,
                    email=email,
                    phone=phone,
                    tier=tier.value,
                    lifetime_value=ltv,
                    churn_risk=churn,
                    contact_consent=consent,
                    created_at=self.now - timedelta(days=self.rng.randint(30, 2400)),
                )
            )

    def queue_customers(self) -> list[Customer]:
        """Who is waiting: distinct customers, including a high-value one and one likely to leave."""
        valuable = [c for c in self.customers if c.lifetime_value >= Decimal("5000")]
        leaving = [c for c in self.customers if c.churn_risk >= 0.6]
        chosen: list[Customer] = []
        for pool in (valuable, leaving, valuable):
            options = [c for c in pool if c not in chosen]
            if options:
                chosen.append(self.rng.choice(options))
        others = [c for c in self.customers if c not in chosen]
        chosen.extend(self.rng.sample(others, len(_OPEN_SLOTS) - len(chosen)))
        self.rng.shuffle(chosen)
        return chosen

    # -- escalations ---------------------------------------------------------------------------------------------
    def new_case(self, customer: Customer, category: Category, severity: Severity, at: datetime) -> _Case:
        """An open escalation as intake would have created it, with its escalation contact."""
        story = write_story(self.rng, category, self.first_name(customer), at)
        associate = self.associate_for(category)
        channel = self.channel(urgent=severity in (Severity.CRITICAL, Severity.HIGH))
        esc = Escalation(
            source="console",
            customer=customer,
            associate=associate,
            channel=channel.value,
            category=category.value,
            product=story.product,
            severity=severity.value,
            summary=story.summary,
            details=story.details,
            status=Status.OPEN.value,
            created_at=at,
            escalated_at=at,
            queued_at=at,
            held_seconds=0,
            reopen_count=0,
            version=1,
            updated_at=at,
        )
        case = _Case(esc, story.facts)
        case.contacts.append(
            _Contact(channel, "inbound", at, associate.name, f"Escalated by {associate.name}: {story.summary}")
        )
        return case

    def resolve(self, case: _Case, category: Category, by: User, claimed: datetime, resolved: datetime) -> None:
        """Mark a case claimed and resolved, with the supervisor's call recorded."""
        esc = case.escalation
        esc.status = Status.RESOLVED.value
        esc.claimed_by = by
        esc.claimed_at = claimed
        esc.first_claimed_at = esc.first_claimed_at or claimed
        esc.resolved_at = resolved
        esc.outcome = self.rng.choice(OUTCOMES[category])
        esc.updated_at = resolved
        case.contacts.append(
            _Contact(Channel(esc.channel), "outbound", resolved, by.display_name, f"Supervisor: {esc.outcome}")
        )

    def close_maybe(self, case: _Case, latest: datetime, chance: float = 0.65) -> None:
        """Close a resolved case after a follow-up call, when there was time for one today."""
        esc = case.escalation
        assert esc.resolved_at is not None
        assert esc.claimed_by is not None
        follow_up = esc.resolved_at + self.minutes((30.0, 300.0))
        if follow_up < latest and self.rng.random() < chance:
            esc.status = Status.CLOSED.value
            esc.closed_at = follow_up
            esc.updated_at = follow_up
            case.contacts.append(
                _Contact(
                    Channel.PHONE,
                    "outbound",
                    follow_up,
                    esc.claimed_by.display_name,
                    "Follow-up call: customer confirmed the remedy worked",
                )
            )

    def plan_history(self, customers: Sequence[Customer]) -> None:
        """The day's handled escalations: claimed, resolved, many closed; two reopened and resolved again."""
        latest = self.ago(2)
        weights = [(u, 3 if u.username == DEMO_SUPERVISOR_USERNAME else 2) for u in self.supervisors]
        reopened_left = 2
        for customer in customers:
            category = self.rng.choice(PLAYBOOK_CATEGORIES)
            severity = pick_weighted(self.rng, SEVERITY_WEIGHTS)
            # The two reopened cases need room for two rounds, so they started earlier in the day.
            reopened = reopened_left > 0
            at = self.ago(self.rng.uniform(600, 1430) if reopened else self.rng.uniform(60, 1430))
            case = self.new_case(customer, category, severity, at)
            by = pick_weighted(self.rng, weights)
            if reopened:
                reopened_left -= 1
                self.plan_reopened_history(case, category, by, latest)
            else:
                span = latest - at
                claim = min(self.minutes(_CLAIM_MINUTES[severity]), span * 0.3)
                claimed = at + claim
                handle = min(self.minutes(_HANDLE_MINUTES[severity]), (latest - claimed) * 0.9)
                resolved = claimed + timedelta(seconds=round(handle.total_seconds()))
                if handle >= timedelta(minutes=60) and self.rng.random() < 0.15:
                    start = claimed + timedelta(seconds=round(handle.total_seconds() * 0.2))
                    end = start + timedelta(seconds=round(handle.total_seconds() * 0.3))
                    case.holds.append(_Hold(start, end, HOLD_REASONS[category], by))
                    case.escalation.held_seconds = int((end - start).total_seconds())
                self.resolve(case, category, by, claimed, resolved)
            self.close_maybe(case, latest)
            self.cases.append(case)

    def plan_reopened_history(self, case: _Case, category: Category, by: User, latest: datetime) -> None:
        """Resolved, back within hours because the remedy failed, resolved again (maybe by someone else)."""
        esc = case.escalation
        first_claim = esc.escalated_at + self.minutes((3.0, 25.0))
        first_resolved = first_claim + self.minutes((30.0, 120.0))
        reopened_at = first_resolved + self.minutes((60.0, 180.0))
        second_claim = reopened_at + self.minutes((4.0, 20.0))
        resolved = min(second_claim + self.minutes((20.0, 90.0)), latest)
        esc.first_claimed_at = first_claim
        case.contacts.append(
            _Contact(Channel(esc.channel), "outbound", first_resolved, by.display_name, "Supervisor: remedy agreed")
        )
        reason = self.rng.choice(REOPEN_REASONS[category])
        case.contacts.append(
            _Contact(Channel.PHONE, "inbound", reopened_at, None, f"Customer came back: {reason.lower()}")
        )
        esc.reopen_count = 1
        esc.queued_at = reopened_at
        esc.details += f"\n\nReopened: {reason}."
        second = self.rng.choice(self.supervisors)
        self.resolve(case, category, second, second_claim, resolved)

    def plan_queue(self, customers: Sequence[Customer]) -> None:
        """The live queue: about fifteen open cases, a few claimed by colleagues and one on hold."""
        categories = list(PLAYBOOK_CATEGORIES) * 3
        categories += [self.rng.choice(PLAYBOOK_CATEGORIES) for _ in range(len(_OPEN_SLOTS) - len(categories))]
        self.rng.shuffle(categories)
        for customer, category, (severity, state, span) in zip(customers, categories, _OPEN_SLOTS, strict=True):
            at = self.ago(self.rng.uniform(*span))
            case = self.new_case(customer, category, severity, at)
            self.plan_lead_up(customer, category, case)
            esc = case.escalation
            if state == "reopened":
                by = self.rng.choice(self.supervisors)
                first_claim = at + self.minutes((5.0, 20.0))
                first_resolved = first_claim + self.minutes((20.0, 60.0))
                reopened_at = self.ago(self.rng.uniform(8.0, 35.0))
                reason = self.rng.choice(REOPEN_REASONS[category])
                esc.status = Status.REOPENED.value
                esc.first_claimed_at = first_claim
                esc.reopen_count = 1
                esc.queued_at = reopened_at
                esc.updated_at = reopened_at
                esc.details += f"\n\nReopened: {reason}."
                case.contacts.append(
                    _Contact(
                        Channel(esc.channel),
                        "outbound",
                        first_resolved,
                        by.display_name,
                        f"Supervisor: {self.rng.choice(OUTCOMES[category])}",
                    )
                )
                case.contacts.append(
                    _Contact(Channel.PHONE, "inbound", reopened_at, None, f"Customer came back: {reason.lower()}")
                )
            elif state in ("claimed", "held"):
                by = self.rng.choice(self.others)
                claim_span = {Severity.CRITICAL: (1.0, 4.0), Severity.HIGH: (5.0, 14.0)}.get(severity, (10.0, 40.0))
                claimed = min(at + self.minutes(claim_span), self.ago(1))
                esc.status = Status.CLAIMED.value
                esc.claimed_by = by
                esc.claimed_at = claimed
                esc.first_claimed_at = claimed
                esc.updated_at = claimed
                if state == "held":
                    held = min(claimed + self.minutes((10.0, 30.0)), self.ago(5))
                    esc.held_since = held
                    esc.hold_reason = HOLD_REASONS[category]
                    esc.updated_at = held
                    case.holds.append(_Hold(held, None, HOLD_REASONS[category], by))
            self.cases.append(case)
        self.plan_earlier_escalations(customers)

    def plan_lead_up(self, customer: Customer, category: Category, case: _Case) -> None:
        """The contacts before the escalation, about the same order or product (what was already tried)."""
        at = case.escalation.escalated_at
        options = LEAD_UPS[category]
        for channel, template in self.rng.sample(options, self.rng.randint(1, len(options))):
            when = at - timedelta(seconds=round(self.rng.uniform(3, 24 * 12) * 3600))
            handler = self.rng.choice(self.associates).name
            summary = template.format(**case.facts)
            self.contacts.append((customer, _Contact(channel, "inbound", when, handler, summary)))

    def plan_earlier_escalations(self, customers: Sequence[Customer]) -> None:
        """A few of today's waiting customers complained before: a closed case weeks ago."""
        for customer in self.rng.sample(list(customers), 4):
            category = self.rng.choice(PLAYBOOK_CATEGORIES)
            severity = pick_weighted(self.rng, SEVERITY_WEIGHTS)
            at = self.now - timedelta(days=self.rng.uniform(14, 90))
            at = at.replace(microsecond=0)
            case = self.new_case(customer, category, severity, at)
            by = self.rng.choice(self.supervisors)
            claimed = at + self.minutes(_CLAIM_MINUTES[severity])
            resolved = claimed + self.minutes(_HANDLE_MINUTES[severity])
            self.resolve(case, category, by, claimed, resolved)
            self.close_maybe(case, self.now, chance=1.0)
            self.cases.append(case)

    def plan_everyday_contacts(self, queue_customers: Sequence[Customer]) -> None:
        """Months of ordinary contacts for most customers; everyone now waiting has some."""
        waiting = {c.external_ref for c in queue_customers}
        for customer in self.customers:
            if customer.external_ref in waiting:
                count = self.rng.randint(2, 5)
            elif self.rng.random() < 0.7:
                count = self.rng.randint(1, 6)
            else:
                continue
            for _ in range(count):
                channel, direction, template = self.rng.choice(EVERYDAY_CONTACTS)
                when = self.now - timedelta(minutes=self.rng.randint(3 * 24 * 60, 180 * 24 * 60))
                facts = story_facts(self.rng, self.first_name(customer), when)
                handler = None if channel is Channel.WEB_FORM else self.rng.choice(self.associates).name
                self.contacts.append((customer, _Contact(channel, direction, when, handler, template.format(**facts))))
