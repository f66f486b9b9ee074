"""The domain's vocabulary: roles, channels, categories, severities, statuses, tiers.

Values are stored as their ``.value`` strings so that both database engines and every export read the same
words our users use.
"""

from __future__ import annotations

from enum import StrEnum


class LabelledEnum(StrEnum):
    """A string enum whose members carry a human label for screens and messages."""

    @property
    def label(self) -> str:
        """The member as a supervisor would say it."""
        return _LABELS.get(self, self.value.replace("_", " ").capitalize())

    @classmethod
    def parse(cls, text: str) -> LabelledEnum:
        """Parse a value or label (case-insensitive); raise ValueError naming the allowed values."""
        key = text.strip().lower().replace("-", "_").replace(" ", "_")
        for member in cls:
            if key in (member.value, member.label.lower().replace(" ", "_")):
                return member
        allowed = ", ".join(m.value for m in cls)
        raise ValueError(f"unknown {cls.kind()} {text!r}; allowed: {allowed}")

    @classmethod
    def kind(cls) -> str:
        """The noun for this vocabulary, used in error messages."""
        return cls.__name__.lower()


class Role(LabelledEnum):
    """What a signed-in person may do. Managers can do everything a supervisor can."""

    SUPERVISOR = "supervisor"
    MANAGER = "manager"


class Channel(LabelledEnum):
    """Where the customer reached us (domain.md section 6); ``other`` for what fits none of them."""

    PHONE = "phone"
    CHAT = "chat"
    EMAIL = "email"
    SOCIAL = "social"
    IN_PERSON = "in_person"
    WEB_FORM = "web_form"
    POST = "post"
    OTHER = "other"


class Category(LabelledEnum):
    """The failure type, matching the recovery playbook (domain.md section 3)."""

    PRODUCT_MALFUNCTION = "product_malfunction"
    LONG_WAIT = "long_wait"
    BILLING_ERROR = "billing_error"
    UNMET_EXPECTATION = "unmet_expectation"
    OTHER = "other"


class Severity(LabelledEnum):
    """How bad it is; drives the SLA targets and breaks ties in the queue."""

    CRITICAL = "critical"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"

    @property
    def rank(self) -> int:
        """0 for the most severe."""
        return list(Severity).index(self)


class Status(LabelledEnum):
    """Where an escalation is in its life. ``open`` and ``reopened`` wait in the queue unclaimed."""

    OPEN = "open"
    CLAIMED = "claimed"
    REOPENED = "reopened"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def in_queue(self) -> bool:
        """Whether the escalation belongs in the live queue."""
        return self in (Status.OPEN, Status.CLAIMED, Status.REOPENED)


class Tier(LabelledEnum):
    """Customer tier."""

    STANDARD = "standard"
    SILVER = "silver"
    GOLD = "gold"
    PLATINUM = "platinum"


QUEUE_STATUSES: tuple[str, ...] = tuple(s.value for s in Status if s.in_queue)

_LABELS: dict[object, str] = {
    Channel.IN_PERSON: "In person",
    Channel.WEB_FORM: "Web form",
    Channel.SOCIAL: "Social media",
    Category.LONG_WAIT: "Long wait / poor communication",
    Category.UNMET_EXPECTATION: "Unmet expectation",
    Category.PRODUCT_MALFUNCTION: "Product malfunction",
    Category.BILLING_ERROR: "Billing error",
}
