"""Money as the floor speaks it: exact Decimal amounts with two places, parsed strictly, shown with two decimals."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from console.errors import ValidationError

CENT = Decimal("0.01")
_PLAIN = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)", re.ASCII)
# No single amount the console records (a remedy, a budget) may exceed this; a goodwill gesture has a lower,
# floor-configured ceiling on top.
MAX_AMOUNT = Decimal("100000.00")


def parse_amount(text: Any, name: str = "amount", *, ceiling: Decimal = MAX_AMOUNT) -> Decimal:
    """A money amount: positive or zero, at most two decimals, at most ``ceiling``; refused with a reason otherwise."""
    if isinstance(text, float):
        raise TypeError("money must be Decimal or text, never float")
    try:
        amount = Decimal(str(text).strip().replace("_", "!"))  # Decimal() accepts 1_000; a supervisor's typo
    except (InvalidOperation, ValueError):
        raise ValidationError(f"{text!r} is not an amount; write it like 25.00.", field=name) from None
    if not amount.is_finite():
        raise ValidationError("An amount must be a finite number.", field=name)
    if not _PLAIN.fullmatch(str(text).strip()):  # 1e3, Arabic-Indic digits: Decimal reads them, people don't
        raise ValidationError(f"{text!r} is not an amount; write it like 25.00.", field=name)
    if amount < 0:
        raise ValidationError("An amount cannot be negative.", field=name)
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValidationError("An amount has at most two decimals (cents).", field=name)
    if amount > ceiling:
        raise ValidationError(f"{amount} is above the ceiling of {ceiling}; check the amount.", field=name)
    return amount.quantize(CENT)


def money(amount: Decimal) -> str:
    """Two decimals, no grouping: what exports and the command line print (``1234.50``)."""
    return f"{amount.quantize(CENT)}"


def money_display(amount: Decimal, currency: str = "") -> str:
    """For screens: grouped thousands and two decimals, with the currency code when given (``1,234.50 USD``)."""
    text = f"{amount.quantize(CENT):,}"
    return f"{text} {currency}" if currency else text
