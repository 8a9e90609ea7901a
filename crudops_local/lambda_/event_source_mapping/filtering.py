"""Filter criteria of an event source mapping, as Lambda applies them to SQS records.

EventBridge-style content filtering, the subset Lambda documents for SQS (`exists`,
`prefix`, `anything-but`, `numeric`, exact values and lists of them). A record matching
none of a mapping's filters is *deleted* by Lambda, never delivered (the poller does
that; this module only decides). The body is matched as JSON when it parses as JSON.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any


def _matches(pattern: Any, value: Any) -> bool:
    """EventBridge-style content filtering, the subset Lambda documents for SQS."""
    if isinstance(pattern, dict):
        if not isinstance(value, dict):
            return False
        return all(_matches(sub, value.get(key, _MISSING)) for key, sub in pattern.items())
    if isinstance(pattern, list):
        return any(_matches_rule(rule, value) for rule in pattern)
    return False


_MISSING = object()


def _matches_rule(rule: Any, value: Any) -> bool:
    if isinstance(rule, dict):
        if "exists" in rule:
            return (value is not _MISSING) is bool(rule["exists"])
        if value is _MISSING:
            return False
        if "prefix" in rule:
            return isinstance(value, str) and value.startswith(rule["prefix"])
        if "anything-but" in rule:
            excluded = rule["anything-but"]
            excluded = excluded if isinstance(excluded, list) else [excluded]
            return value not in excluded
        if "numeric" in rule:
            return isinstance(value, int | float) and _numeric(rule["numeric"], value)
        return False
    if isinstance(value, list):
        return rule in value
    return bool(value == rule)


def _numeric(conditions: list[Any], value: float) -> bool:
    checks: dict[str, Callable[[float, float], bool]] = {
        "=": lambda a, b: a == b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
    }
    pairs = zip(conditions[::2], conditions[1::2], strict=True)
    return all(checks[op](value, float(bound)) for op, bound in pairs)


def record_passes_filters(record: dict[str, Any], filters: tuple[dict[str, Any], ...]) -> bool:
    if not filters:
        return True
    document = dict(record)
    with contextlib.suppress(json.JSONDecodeError, TypeError):
        document["body"] = json.loads(record["body"])
    return any(_matches(pattern, document) for pattern in filters)
