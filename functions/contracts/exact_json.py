"""JSON text in which DynamoDB's Decimal numbers keep every digit.

DynamoDB holds 38 significant digits and boto3 reads them as Decimal; a float keeps
17, so `json.dumps(default=float)` would notify and store 0.1234567890123456789 as
0.12345678901234568. The json module cannot write a number it did not make, hence
this small writer; everything but a Decimal (and a set, written as a sorted list:
DynamoDB's string and number sets) is written by the json module itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any


def dumps(document: Any) -> str:
    """Compact JSON (no spaces, non-ASCII kept), each Decimal digit for digit."""
    return "".join(_parts(document))


def _parts(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        yield "{"
        for index, (key, member) in enumerate(value.items()):
            if not isinstance(key, str):
                raise TypeError(f"keys must be str, not {type(key).__name__}")
            yield ("," if index else "") + _plain(key) + ":"
            yield from _parts(member)
        yield "}"
    elif isinstance(value, list | tuple | set):
        yield "["
        for index, member in enumerate(sorted(value) if isinstance(value, set) else value):
            if index:
                yield ","
            yield from _parts(member)
        yield "]"
    elif isinstance(value, Decimal):
        yield _decimal(value)
    else:
        yield _plain(value)


def _plain(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _decimal(number: Decimal) -> str:
    """An integral number as its digits (1E+2 is written 100, so that a reader without
    a decimal type still gets an exact integer), any other as `str(Decimal)`, a JSON
    number for every finite value (0.5, 1E-130)."""
    if not number.is_finite():
        raise ValueError(f"{number} is not a JSON number")
    if number == number.to_integral_value():
        return str(int(number))
    return str(number)
