"""The values a mapping template sees, and how API Gateway's Java prints them.

API Gateway evaluates templates in Java (Velocity 1.7). A JSON object from
`$input.path` is a Java map and prints as `{a=1, b=x}`; a JSON array is a JSON-smart
array and prints as JSON (`[{"foo":"bar"}]`), also inside a map; a list made in the
template is an `ArrayList` and prints as `[1, a]`; booleans print `true`/`false`; a
null printed at the top of a reference is nothing, inside a collection `null`.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from functions.contracts.exact_json import dumps


class JavaBool(int):
    """A boolean that prints like Java's (`true`/`false`) and stays falsy in `#if`."""

    def __new__(cls, value: bool) -> JavaBool:
        return super().__new__(cls, 1 if value else 0)

    def __str__(self) -> str:
        return "true" if self else "false"

    __repr__ = __str__


class JavaMap(dict[str, Any]):
    """A JSON object / Velocity map; its Java methods are in velocity.py."""

    def __str__(self) -> str:
        return java_str(self)


class JavaList(list[Any]):
    """A list made by a template (or a map's `keySet`): Java's `ArrayList.toString`."""

    def __str__(self) -> str:
        return java_str(self)


class JsonArray(JavaList):
    """A JSON array from the body: API Gateway prints it as compact JSON."""


def java_str(value: Any) -> str:
    """`value` as Java's `toString` inside a collection (`null` for None)."""
    if value is None:
        return "null"
    if isinstance(value, bool | JavaBool):
        return "true" if value else "false"
    if isinstance(value, JsonArray):
        return to_json(value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}={java_str(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple | set | frozenset):
        return "[" + ", ".join(java_str(v) for v in value) + "]"
    return str(value)


def printed(value: Any) -> str:
    """What `$ref` prints for `value`: API Gateway prints nothing for a null reference."""
    if value.__class__ is str:  # most references; skips the ABC checks of java_str
        return str(value)
    return "" if value is None else java_str(value)


def java_value(value: Any) -> Any:
    """`value` (parsed JSON, plain dicts) as the Java-like types templates see."""
    if isinstance(value, bool):
        return JavaBool(value)
    if isinstance(value, Mapping):
        return JavaMap((str(k), java_value(v)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return JsonArray(java_value(v) for v in value)
    if isinstance(value, Decimal):
        return float(value)  # a template computes and prints with Java's double
    return value


def plain_value(value: Any) -> Any:
    """The inverse of `java_value`, for serializing back to JSON."""
    if isinstance(value, JavaBool):
        return bool(value)
    if isinstance(value, Mapping):
        return {str(k): plain_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_value(v) for v in value]
    return value


def to_json(value: Any) -> str:
    """Compact JSON; a number parsed as Decimal keeps its digits."""
    return dumps(plain_value(value))
