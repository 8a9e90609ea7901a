"""VTL mapping templates of the REST API's direct AWS integrations.

The command templates build the Command JSON in Velocity and publish it with the SNS
query API. Velocity 1.7 string literals cannot escape a double quote, so `$q` holds
one; every client-controlled string is `$util.urlEncode`d inside the JSON, which makes
it JSON-safe whatever it contains (quotes, newlines, unicode). The handlers URL-decode
those fields. The body (`payload`) is inserted with `$input.json('$')`, which API
Gateway already serializes as JSON. The caller's `owner` is the Cognito `sub` from the
REST authorizer's claims (`$context.authorizer.claims.sub`), never from the request.

Each template is a single line: a newline before `Action=` would become part of the
form body, and whether a `#set` line's newline is swallowed differs between engines.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Final

from functions.contracts.command import Operation
from functions.contracts.tables import OUTCOMES_KEY

OUTCOME_DOCUMENT_ATTRIBUTE: Final = "document"


@dataclass(frozen=True)
class CommandShape:
    """Which parts of the HTTP request an operation's Command carries."""

    item_id: bool = False
    payload: bool = False
    query: bool = False
    if_match: bool = False


COMMAND_SHAPES: Final[dict[Operation, CommandShape]] = {
    Operation.CREATE: CommandShape(payload=True),
    Operation.GET: CommandShape(item_id=True),
    Operation.LIST: CommandShape(query=True),
    Operation.UPDATE: CommandShape(item_id=True, payload=True, if_match=True),
    Operation.DELETE: CommandShape(item_id=True, if_match=True),
}

LIST_QUERY_PARAMETERS: Final = ("limit", "cursor")
# The caller's sub, as the Cognito user pool authorizer hands it to the integration.
CALLER_SUB: Final = "$context.authorizer.claims.sub"


def _encoded(expression: str) -> str:
    return f"$util.urlEncode({expression})"


def _string_field(name: str, value: str) -> str:
    return f"${{q}}{name}${{q}}:${{q}}{value}${{q}}"


def _raw_field(name: str, value: str) -> str:
    return f"${{q}}{name}${{q}}:{value}"


def command_json_vtl(operation: Operation) -> str:
    """VTL that sets `$msg` to the Command JSON of `operation`.

    Every Command has every field, so consumers never test for presence: absent
    strings are "", absent objects are null.
    """
    shape = COMMAND_SHAPES[operation]
    query = "null"
    if shape.query:
        query = "{" + ",".join(
            _string_field(name, _encoded(f"$input.params('{name}')"))
            for name in LIST_QUERY_PARAMETERS
        ) + "}"
    fields = [
        _string_field("requestId", _encoded("$context.requestId")),
        _string_field("operation", operation.value),
        _string_field("owner", _encoded(CALLER_SUB)),
        _string_field("itemId", _encoded("$input.params('id')") if shape.item_id else ""),
        _raw_field("submittedAt", "$context.requestTimeEpoch"),
        _string_field("idempotencyKey", _encoded("$input.params('Idempotency-Key')")),
        _raw_field("payload", "$input.json('$')" if shape.payload else "null"),
        _raw_field("query", query),
        _string_field("ifMatch", _encoded("$input.params('If-Match')") if shape.if_match else ""),
    ]
    return "#set($q = '\"')#set($msg = \"{" + ",".join(fields) + "}\")"


def sns_publish_template(operation: Operation, topic_arn: str) -> str:
    """Request template: an SNS `Publish` form body carrying the Command.

    `topic_arn` may be a CDK token; it must not contain a single quote.
    """
    form = "&".join(
        [
            "Action=Publish",
            f"TopicArn={_encoded(_single_quoted(topic_arn))}",
            f"Message={_encoded('$msg')}",
            "MessageAttributes.entry.1.Name=operation",
            "MessageAttributes.entry.1.Value.DataType=String",
            f"MessageAttributes.entry.1.Value.StringValue={operation.value}",
            "MessageAttributes.entry.2.Name=requestId",
            "MessageAttributes.entry.2.Value.DataType=String",
            f"MessageAttributes.entry.2.Value.StringValue={_encoded('$context.requestId')}",
        ]
    )
    return command_json_vtl(operation) + form


def _single_quoted(value: str) -> str:
    if "'" in value:
        raise ValueError("a Velocity single-quoted literal cannot contain a single quote")
    return f"'{value}'"


ACCEPTED_RESPONSE_TEMPLATE: Final = '{"requestId": "$context.requestId"}'


def error_body(code: str, message: str) -> str:
    """A JSON error body in the Outcome's `error` shape, with the request id."""
    body = json.dumps({"error": {"code": code, "message": message}})
    return body[:-1] + ', "requestId": "$context.requestId"}'


def outcome_lookup_request_template(table_name: str) -> str:
    """DynamoDB `GetItem` of the caller's outcome of one request id: the key names the
    caller's sub, so another's outcome is not found (404), like one not stored yet.

    The key is `$util.urlEncode`d rather than `escapeJavaScript`d: the latter turns
    `'` into `\\'`, which is not valid JSON. A real request id (a UUID) is unchanged
    by URL encoding; anything else becomes a key that simply does not exist (404).
    """
    return json.dumps(
        {
            "TableName": table_name,
            "Key": {
                OUTCOMES_KEY.partition: {"S": _encoded("$input.params('requestId')")},
                OUTCOMES_KEY.sort: {"S": _encoded(CALLER_SUB)},
            },
            "ConsistentRead": True,
        }
    )


OUTCOME_NOT_FOUND_MESSAGE: Final = "no outcome for this requestId yet"


def outcome_lookup_response_template() -> str:
    """The stored Outcome document as the body, or a 404 when there is none yet."""
    return (
        "#set($item = $input.path('$.Item'))"
        '#if("$!item" != "")'
        f"$input.path('$.Item.{OUTCOME_DOCUMENT_ATTRIBUTE}.S')"
        "#{else}"
        "#set($context.responseOverride.status = 404)"
        + error_body("NotFound", OUTCOME_NOT_FOUND_MESSAGE)
        + "#{end}"
    )
