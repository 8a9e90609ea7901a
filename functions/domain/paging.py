"""List paging: opaque cursors and a size budget so a page fits one notification."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from functions.contracts.exact_json import dumps
from functions.exceptions import InvalidCommandError

# Room for the outcome envelope around the items (requestId, status, cursor, ...).
ENVELOPE_BYTES = 1_024


def encode_cursor(last_key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(dumps(last_key).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError) as exc:
        raise InvalidCommandError("cursor is not one this API returned") from exc
    if not isinstance(key, dict) or not isinstance(key.get("id"), str) or len(key) != 1:
        raise InvalidCommandError("cursor is not one this API returned")
    return key


def parse_limit(raw: str, default: int, maximum: int) -> int:
    if not raw:
        return min(default, maximum)
    try:
        limit = int(raw)
    except ValueError as exc:
        raise InvalidCommandError(f"limit must be an integer, got {raw!r}") from exc
    if not 1 <= limit <= maximum:
        raise InvalidCommandError(f"limit must be between 1 and {maximum}")
    return limit


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None

    def to_result(self) -> dict[str, Any]:
        return {"items": self.items, "nextCursor": self.next_cursor}


def cut_to_budget(
    items: list[dict[str, Any]], more_after: bool, max_bytes: int
) -> Page:
    """Keep the leading items whose JSON fits `max_bytes`; the cursor resumes after them.

    `more_after` says whether the store had more items after `items`; if everything
    fits and the store is exhausted there is no next cursor.
    """
    budget = max_bytes - ENVELOPE_BYTES
    kept: list[dict[str, Any]] = []
    used = 0
    for item in items:
        size = len(dumps(item).encode()) + 1
        if kept and used + size > budget:
            break
        kept.append(item)
        used += size
    truncated = len(kept) < len(items)
    next_cursor = encode_cursor({"id": kept[-1]["id"]}) if kept and (truncated or more_after) \
        else None
    return Page(kept, next_cursor)
