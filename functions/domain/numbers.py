"""The numbers DynamoDB can store, checked before a command is applied.

DynamoDB keeps at most 38 significant digits, and a non-zero magnitude between 1E-130
and 9.9999999999999999999999999999999999999E+125. A number outside that fails on every
write: as a retried record it would end in the DLQ with no outcome, a poison message
any client could plant. The request model bounds the magnitude (`NUMBER_BOUND`, so API
Gateway answers 400 at once,
functions/contracts/schemas.py); the digits and the smallest magnitudes no JSON Schema
keyword expresses, so the handler checks every number here and answers a
`validation_error` outcome instead.

boto3's own `DYNAMODB_CONTEXT` (what `TypeSerializer` uses) refuses too many digits and
an overflow, but lets 1E-131 and 8.8E+126 through to a `ValidationException` from the
service: both rules are applied.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal, DecimalException
from typing import Any, Final

from boto3.dynamodb.types import DYNAMODB_CONTEXT

SMALLEST_EXPONENT: Final = -130
LARGEST_EXPONENT: Final = 125
RANGE_TEXT: Final = ("DynamoDB stores at most 38 significant digits, magnitudes from "
                     "1E-130 to 9.99…E+125")


def _numbers(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _numbers(child, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _numbers(child, f"{path}[{index}]")
    elif isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        yield path, value


def unstorable(number: int | float | Decimal) -> str | None:
    """Why DynamoDB cannot store `number`, or None when it can."""
    if isinstance(number, float):
        return "is not a finite decimal number"  # NaN, Infinity (or a float at all)
    decimal = Decimal(number)
    if not decimal.is_finite():
        return "is not a finite decimal number"
    try:
        DYNAMODB_CONTEXT.create_decimal(decimal)
    except DecimalException:
        return f"cannot be stored: {RANGE_TEXT}"
    if decimal and not SMALLEST_EXPONENT <= decimal.adjusted() <= LARGEST_EXPONENT:
        return f"cannot be stored: {RANGE_TEXT}"
    return None


def first_unstorable(document: Any) -> str | None:
    """`attributes.k: 1E-131 cannot be stored: …` for the first number that cannot be."""
    for path, number in _numbers(document, ""):
        reason = unstorable(number)
        if reason is not None:
            return f"{path}: {number} {reason}"
    return None
