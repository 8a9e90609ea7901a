"""The Command: what the REST API publishes to the commands topic.

Wire format (built by the API's mapping templates, see infra/mapping_templates.py):
every client-controlled string (`requestId`, `itemId`, `idempotencyKey`, `ifMatch`,
`query.limit`, `query.cursor`) and the caller's `owner` (the Cognito `sub` of the
REST authorizer's claims, never from the body) is URL-encoded inside the JSON so that
no input can break the document; `parse_command` decodes them. `payload` is the request body
as API Gateway re-serialized it; numbers are parsed as `Decimal` so DynamoDB stores
exactly what the client sent.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any
from urllib.parse import unquote_plus

from functions.exceptions import MalformedCommandError

REQUEST_ID_MAX_LENGTH = 128
# What a requestId a client can subscribe to or an operator can trace looks like
# (API Gateway issues UUIDs); one definition for the WebSocket handlers and the CLI.
REQUEST_ID_PATTERN = re.compile(rf"^[A-Za-z0-9._:-]{{1,{REQUEST_ID_MAX_LENGTH}}}$")
# A Cognito sub is a 36-character UUID; the bound keeps a forged one out of the keys.
OWNER_MAX_LENGTH = 128


class Operation(StrEnum):
    CREATE = "create"
    GET = "get"
    LIST = "list"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True)
class Command:
    request_id: str
    operation: str
    # The caller's sub: every item and outcome of this command is keyed by it.
    owner: str
    item_id: str
    submitted_at_ms: int
    payload: Any
    limit: str
    cursor: str
    if_match: str
    idempotency_key: str

    @property
    def known_operation(self) -> Operation | None:
        try:
            return Operation(self.operation)
        except ValueError:
            return None


def _text(document: dict[str, Any], key: str) -> str:
    value = document.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        return str(value)
    return unquote_plus(value)


def parse_command(body: str) -> Command:
    """Decode a command message body.

    Raises MalformedCommandError only when no outcome can be addressed (not JSON, not
    an object, no usable requestId, no owner: the API always sets one, so a command
    without it did not come from the API and has no caller to answer); every other
    defect is left for the domain to answer with a `validation_error` outcome.
    """
    try:
        document = json.loads(body, parse_float=Decimal)
    except (json.JSONDecodeError, TypeError) as exc:
        raise MalformedCommandError(f"command body is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise MalformedCommandError("command body is not a JSON object")
    request_id = _text(document, "requestId")
    if not request_id or len(request_id) > REQUEST_ID_MAX_LENGTH:
        raise MalformedCommandError("command has no usable requestId")
    owner = _text(document, "owner")
    if not owner or len(owner) > OWNER_MAX_LENGTH:
        raise MalformedCommandError("command has no usable owner (the caller's sub)")
    raw_query = document.get("query")
    query: dict[str, Any] = raw_query if isinstance(raw_query, dict) else {}
    submitted_at = document.get("submittedAt")
    return Command(
        request_id=request_id,
        operation=_text(document, "operation"),
        owner=owner,
        item_id=_text(document, "itemId"),
        submitted_at_ms=int(submitted_at) if isinstance(submitted_at, int | Decimal) else 0,
        payload=document.get("payload"),
        limit=_text(query, "limit"),
        cursor=_text(query, "cursor"),
        if_match=_text(document, "ifMatch"),
        idempotency_key=_text(document, "idempotencyKey"),
    )
