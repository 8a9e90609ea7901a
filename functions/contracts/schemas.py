"""JSON Schemas (draft-04) of the API request bodies.

These dicts are the single definition: the CDK stack turns them into API Gateway
models, the functions validate commands against them. Limits bound the size of any
valid item (about 19 KiB) so an item always fits an SNS message (256 KiB), a DynamoDB
item (400 KiB) and a WebSocket notification (128 KiB).
"""

from __future__ import annotations

import math
from typing import Any, Final

NAME_MAX_LENGTH: Final = 200
DESCRIPTION_MAX_LENGTH: Final = 2_000
ATTRIBUTES_MAX_KEYS: Final = 50
ATTRIBUTE_KEY_PATTERN: Final = "^[A-Za-z0-9_.:-]{1,64}$"
ATTRIBUTE_VALUE_MAX_LENGTH: Final = 256
# The first double above 1E+126: every number DynamoDB stores (|x| <= 9.99…E+125, 38
# digits) is within it, while 1E+300 is refused by API Gateway at once. A double, so the
# model keeps it exactly; 1E+126 itself the handler refuses (functions/domain/numbers.py).
NUMBER_BOUND: Final = math.nextafter(1e126, math.inf)

_ATTRIBUTE_VALUE: Final[dict[str, Any]] = {
    "anyOf": [
        {"type": "string", "maxLength": ATTRIBUTE_VALUE_MAX_LENGTH},
        # DynamoDB's range (functions/domain/numbers.py checks the digits as well).
        {"type": "number", "minimum": -NUMBER_BOUND, "maximum": NUMBER_BOUND},
        {"type": "boolean"},
    ]
}

_ITEM_FIELDS: Final[dict[str, Any]] = {
    "name": {"type": "string", "minLength": 1, "maxLength": NAME_MAX_LENGTH},
    "description": {"type": "string", "maxLength": DESCRIPTION_MAX_LENGTH},
    "attributes": {
        "type": "object",
        "maxProperties": ATTRIBUTES_MAX_KEYS,
        "patternProperties": {ATTRIBUTE_KEY_PATTERN: _ATTRIBUTE_VALUE},
        "additionalProperties": False,
    },
}

ITEM_CREATE_SCHEMA: Final[dict[str, Any]] = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "ItemCreate",
    "type": "object",
    "properties": dict(_ITEM_FIELDS),
    "required": ["name"],
    "additionalProperties": False,
}

ITEM_UPDATE_SCHEMA: Final[dict[str, Any]] = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "ItemUpdate",
    "type": "object",
    "properties": {
        **_ITEM_FIELDS,
        "expectedVersion": {"type": "integer", "minimum": 1},
    },
    "minProperties": 1,
    "additionalProperties": False,
}

# Fields a client may change with PUT; `expectedVersion` is a precondition, not data.
UPDATABLE_FIELDS: Final = tuple(_ITEM_FIELDS)
