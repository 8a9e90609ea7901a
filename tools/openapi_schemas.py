"""Schemas of what the REST API answers, for its OpenAPI description.

The request models come from the template (`AWS::ApiGateway::Model`, built from
functions/contracts/schemas.py). The answers have no model in the template: API
Gateway's method responses carry status codes only, and the bodies are written by
mapping templates and gateway responses. Their schemas are built here from the
contracts that produce them, never copied: the item fields from the item model's
own properties, the outcome's enums from `Operation`, `Status` and the business
errors' codes. tests/infra/test_openapi.py renders every mapping template and
gateway response of the template and validates it against these schemas, and the
e2e fuzz validates every live answer, so a body that changes shape without them
fails a test.
"""

from __future__ import annotations

import copy
from typing import Any, Final

from functions.contracts.command import REQUEST_ID_MAX_LENGTH, Operation
from functions.contracts.outcome import NOTIFICATION_TYPE, Status
from functions.contracts.schemas import ITEM_CREATE_SCHEMA
from functions.exceptions import BusinessError

# Names under components/schemas; the request models keep their model title.
ACCEPTED: Final = "Accepted"
ERROR: Final = "Error"
OUTCOME: Final = "Outcome"
ITEM: Final = "Item"
ITEM_PAGE: Final = "ItemPage"
DELETED_ITEM: Final = "DeletedItem"


def ref(name: str) -> dict[str, str]:
    """A `$ref` to one of the document's component schemas."""
    return {"$ref": f"#/components/schemas/{name}"}


def _string(description: str, **constraints: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **constraints}


def business_error_codes() -> list[str]:
    """Every `error.code` an outcome can carry: the codes of the business errors.

    Delivery errors never become an outcome (they are retried, then parked in a DLQ).
    """
    codes: set[str] = set()
    pending = list(BusinessError.__subclasses__())
    while pending:
        error = pending.pop()
        codes.add(error.code)
        pending.extend(error.__subclasses__())
    return sorted(codes)


def _item() -> dict[str, Any]:
    fields = copy.deepcopy(ITEM_CREATE_SCHEMA["properties"])
    return {
        "type": "object",
        "description": "An item as the server stores it: the client's fields plus the "
                       "server's own.",
        "properties": {
            "id": _string("Set by the server at create."),
            **fields,
            "version": {"type": "integer", "minimum": 1,
                        "description": "1 at create, +1 per update."},
            "createdAt": _string("When it was created (UTC).", format="date-time"),
            "updatedAt": _string("When it last changed (UTC).", format="date-time"),
        },
        "required": ["id", "name", "version", "createdAt", "updatedAt"],
    }


def _item_page() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "One page of the caller's items (the result of a list).",
        "properties": {
            "items": {"type": "array", "items": ref(ITEM)},
            "nextCursor": {"type": "string", "nullable": True,
                           "description": "Pass as `cursor` for the next page; null on "
                                          "the last."},
        },
        "required": ["items", "nextCursor"],
    }


def _deleted_item() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "The result of a delete.",
        "properties": {
            "id": {"type": "string"},
            "deleted": {"type": "boolean", "enum": [True]},
            "version": {"type": "integer", "minimum": 1,
                        "description": "The version that was deleted."},
        },
        "required": ["id", "deleted", "version"],
    }


def _accepted() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "The command was published; its outcome follows on the WebSocket "
                       "and at GET /requests/{requestId}.",
        "properties": {"requestId": _string(
            "API Gateway's request id: subscribe to it, or look its outcome up.",
            minLength=1, maxLength=REQUEST_ID_MAX_LENGTH)},
        "required": ["requestId"],
        "additionalProperties": False,
    }


def _error() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "Every refusal, by API Gateway (gateway responses, integration "
                       "errors) or by the firewall. The firewall answers before API "
                       "Gateway runs, so its bodies have no requestId.",
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "code": _string("Stable: the gateway response type or the "
                                    "firewall's reason, e.g. BadRequestBody.",
                                    minLength=1),
                    "message": _string("For a person."),
                    "details": _string("Why the request validator refused (400 only)."),
                },
                "required": ["code", "message"],
                "additionalProperties": False,
            },
            "requestId": _string("API Gateway's request id of the refused request."),
        },
        "required": ["error"],
        "additionalProperties": False,
    }


def _outcome() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "The one answer every accepted command ends with; the same "
                       "document is the WebSocket notification.",
        "properties": {
            "requestId": {"type": "string"},
            "operation": {"type": "string", "enum": [o.value for o in Operation]},
            "status": {"type": "string", "enum": [s.value for s in Status]},
            "result": {
                "description": "An Item (create, get, update), an ItemPage (list) or a "
                               "DeletedItem (delete) on success; null on error.",
                "nullable": True,
                "anyOf": [ref(ITEM), ref(ITEM_PAGE), ref(DELETED_ITEM)],
            },
            "error": {
                "type": "object",
                "nullable": True,
                "description": "null on success.",
                "properties": {
                    "code": {"type": "string", "enum": business_error_codes()},
                    "message": {"type": "string"},
                },
                "required": ["code", "message"],
            },
            "type": {"type": "string", "enum": [NOTIFICATION_TYPE]},
            "completedAt": {"type": "string", "format": "date-time"},
            "submittedAt": {"type": "integer",
                            "description": "When API Gateway accepted it (epoch ms)."},
        },
        "required": ["requestId", "operation", "status", "result", "error", "type",
                     "completedAt"],
    }


def answer_schemas() -> dict[str, dict[str, Any]]:
    """The component schemas of every body the API answers with, by name."""
    return {
        ACCEPTED: _accepted(),
        ERROR: _error(),
        OUTCOME: _outcome(),
        ITEM: _item(),
        ITEM_PAGE: _item_page(),
        DELETED_ITEM: _deleted_item(),
    }
