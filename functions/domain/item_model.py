"""Items: validation against the contract schemas and the pure state changes.

Kept free of I/O so that create/update rules are unit-tested without DynamoDB.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from aws_lambda_powertools.utilities.validation import SchemaValidationError, validate

from functions.contracts.schemas import ITEM_CREATE_SCHEMA, ITEM_UPDATE_SCHEMA, UPDATABLE_FIELDS
from functions.exceptions import InvalidCommandError

# Items created from the same requestId get the same id, so a redelivered create can
# never make a second item even if the outcome guard were bypassed.
_ITEM_ID_NAMESPACE = uuid.UUID("6f1b8a52-3c1e-4c55-9a83-4f3f0f4b9d11")
_ETAG = re.compile(r'^(?:W/)?"?(?P<version>[0-9]+)"?$')


def item_id_for(request_id: str) -> str:
    return str(uuid.uuid5(_ITEM_ID_NAMESPACE, request_id))


def _validated(payload: Any, schema: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise InvalidCommandError("the request body must be a JSON object")
    try:
        validate(event=payload, schema=schema)
    except SchemaValidationError as exc:
        raise InvalidCommandError(f"invalid item: {exc.validation_message or exc}") from exc
    return payload


def new_item(request_id: str, payload: Any, now_iso: str) -> dict[str, Any]:
    body = _validated(payload, ITEM_CREATE_SCHEMA)
    return {
        "id": item_id_for(request_id),
        "name": body["name"],
        "description": body.get("description", ""),
        "attributes": body.get("attributes", {}),
        "version": 1,
        "createdAt": now_iso,
        "updatedAt": now_iso,
    }


def parse_expected_version(payload: Any, if_match: str) -> int | None:
    """The precondition of an update/delete: `expectedVersion` in the body or If-Match.

    Both may be given only if they agree; an unparseable If-Match is a client error.
    """
    from_body = payload.get("expectedVersion") if isinstance(payload, dict) else None
    from_header: int | None = None
    if if_match:
        match = _ETAG.match(if_match.strip())
        if not match:
            raise InvalidCommandError(f"If-Match must be an item version, got {if_match!r}")
        from_header = int(match.group("version"))
    if from_body is not None and from_header is not None and int(from_body) != from_header:
        raise InvalidCommandError("expectedVersion and If-Match disagree")
    if from_body is not None:
        return int(from_body)
    return from_header


def validated_changes(payload: Any) -> dict[str, Any]:
    body = _validated(payload, ITEM_UPDATE_SCHEMA)
    changes = {field: body[field] for field in UPDATABLE_FIELDS if field in body}
    if not changes:
        raise InvalidCommandError("an update must change at least one of: "
                                  + ", ".join(UPDATABLE_FIELDS))
    return changes


def updated_item(current: dict[str, Any], changes: dict[str, Any], now_iso: str) -> dict[str, Any]:
    return {
        **current,
        **changes,
        "version": int(current["version"]) + 1,
        "updatedAt": now_iso,
    }
