"""The VTL request templates, rendered by a Velocity engine with fake API Gateway objects.

The fakes mirror what API Gateway hands the template: `$input.params` returns the
decoded path, query or header value ("" when absent), `$input.json('$')` the body
as JSON text, `$util.urlEncode` Java's `URLEncoder` (space as `+`).
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import airspeed
import pytest

from infra.mapping_templates import (
    COMMAND_SHAPES,
    Operation,
    outcome_lookup_request_template,
    outcome_lookup_response_template,
    sns_publish_template,
)

TOPIC_ARN = "arn:aws:sns:region-x:000000000000:commands"
HOSTILE = [
    "plain",
    'quote " and \\ backslash',
    "new\nline\r\ttab",
    "unicode é 漢字 😀",
    "json }]{[ , : close",
    "form & = + % ; ?",
    "velocity ${q} $util #set($x = 1) '",
    "",
]


class FakeUtil:
    def urlEncode(self, value: Any) -> str:
        return urllib.parse.quote_plus(str(value), safe="*").replace("~", "%7E")


class FakeInput:
    def __init__(self, params: dict[str, str], body: Any = None,
                 paths: dict[str, Any] | None = None) -> None:
        self._params = params
        self._body = body
        self._paths = paths or {}

    def params(self, name: str) -> str:
        return self._params.get(name, "")

    def json(self, path: str) -> str:
        assert path == "$"
        return json.dumps(self._body)

    def path(self, path: str) -> Any:
        return self._paths.get(path)


CALLER_SUB = "8f2b6c1e-4a7d-4e0b-9c3f-1d5e7a9b2c4d"


def _render(template: str, params: dict[str, str], body: Any = None,
            context: dict[str, Any] | None = None, sub: str = CALLER_SUB) -> str:
    # The Cognito authorizer's claims, as API Gateway hands them to the integration.
    merged_context = {"requestId": "3f1c2a4e-0000-4000-8000-000000000001",
                      "requestTimeEpoch": 1_732_400_000_123,
                      "authorizer": {"claims": {"sub": sub}}, **(context or {})}
    return str(airspeed.Template(template).merge(
        {"util": FakeUtil(), "input": FakeInput(params, body), "context": merged_context}
    ))


def _publish(operation: Operation, params: dict[str, str], body: Any = None,
             sub: str = CALLER_SUB) -> dict[str, str]:
    form = _render(sns_publish_template(operation, TOPIC_ARN), params, body, sub=sub)
    assert "\n" not in form
    parsed = urllib.parse.parse_qs(form, keep_blank_values=True, strict_parsing=True)
    assert all(len(values) == 1 for values in parsed.values()), parsed
    return {key: values[0] for key, values in parsed.items()}


@pytest.mark.parametrize("operation", list(Operation))
@pytest.mark.parametrize("hostile", HOSTILE)
def test_command_survives_hostile_input(operation: Operation, hostile: str) -> None:
    shape = COMMAND_SHAPES[operation]
    params = {"id": hostile, "Idempotency-Key": hostile, "If-Match": hostile,
              "limit": hostile, "cursor": hostile}
    body = {"name": hostile, "attributes": {"k": hostile}} if shape.payload else None

    form = _publish(operation, params, body, sub=hostile or CALLER_SUB)

    assert form["Action"] == "Publish"
    assert form["TopicArn"] == TOPIC_ARN
    assert form["MessageAttributes.entry.1.Name"] == "operation"
    assert form["MessageAttributes.entry.1.Value.StringValue"] == operation.value
    assert form["MessageAttributes.entry.2.Name"] == "requestId"
    command = json.loads(form["Message"])
    assert set(command) == {"requestId", "operation", "owner", "itemId", "submittedAt",
                            "idempotencyKey", "payload", "query", "ifMatch"}

    def decoded(value: str) -> str:
        return urllib.parse.unquote_plus(value)

    assert decoded(command["requestId"]) == "3f1c2a4e-0000-4000-8000-000000000001"
    assert command["requestId"] == form["MessageAttributes.entry.2.Value.StringValue"]
    assert command["operation"] == operation.value
    # The owner is the authorizer's sub, whatever it holds, never the request's.
    assert decoded(command["owner"]) == (hostile or CALLER_SUB)
    assert command["submittedAt"] == 1_732_400_000_123
    assert decoded(command["idempotencyKey"]) == hostile
    assert decoded(command["itemId"]) == (hostile if shape.item_id else "")
    assert decoded(command["ifMatch"]) == (hostile if shape.if_match else "")
    assert command["payload"] == body
    if shape.query:
        assert {k: decoded(v) for k, v in command["query"].items()} == {
            "limit": hostile, "cursor": hostile}
    else:
        assert command["query"] is None


def test_absent_headers_become_empty_strings() -> None:
    command = json.loads(_publish(Operation.CREATE, {}, {"name": "n"})["Message"])
    assert command["idempotencyKey"] == ""
    assert command["itemId"] == ""
    assert command["ifMatch"] == ""


@pytest.mark.parametrize("hostile", HOSTILE)
def test_outcome_lookup_key_is_json_safe(hostile: str) -> None:
    rendered = _render(outcome_lookup_request_template("outcomes-table"), {"requestId": hostile},
                       sub=hostile or CALLER_SUB)
    request = json.loads(rendered)
    assert request["TableName"] == "outcomes-table"
    assert request["ConsistentRead"] is True
    assert set(request["Key"]) == {"requestId", "owner"}
    assert urllib.parse.unquote_plus(request["Key"]["requestId"]["S"]) == hostile
    assert urllib.parse.unquote_plus(request["Key"]["owner"]["S"]) == (hostile or CALLER_SUB)


def test_outcome_lookup_reads_only_the_callers_outcome() -> None:
    # GIVEN the same request id asked for by two callers
    template = outcome_lookup_request_template("outcomes-table")
    params = {"requestId": "3f1c2a4e-0000-4000-8000-000000000009"}
    mine = json.loads(_render(template, params))["Key"]
    theirs = json.loads(_render(template, params, sub="another-sub"))["Key"]
    # THEN each GetItem names its own caller: another's outcome is a key not stored
    assert mine["owner"] == {"S": CALLER_SUB}
    assert theirs["owner"] == {"S": "another-sub"}
    assert mine["requestId"] == theirs["requestId"]


def test_outcome_lookup_returns_the_document_or_404() -> None:
    template = airspeed.Template(outcome_lookup_response_template())
    document = '{"requestId": "r", "status": "success"}'
    found: dict[str, Any] = {"requestId": "r", "responseOverride": {}}
    body = template.merge({"context": found, "input": FakeInput(
        {}, paths={"$.Item": {"document": {"S": document}}, "$.Item.document.S": document})})
    assert json.loads(body) == json.loads(document)
    assert found["responseOverride"] == {}

    missing: dict[str, Any] = {"requestId": "r", "responseOverride": {}}
    body = template.merge({"context": missing, "input": FakeInput({})})
    assert missing["responseOverride"] == {"status": 404}
    assert json.loads(body)["error"]["code"] == "NotFound"
