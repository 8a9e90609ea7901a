from __future__ import annotations

import json
from decimal import Decimal

import pytest

from functions.contracts.command import Operation, parse_command
from functions.exceptions import MalformedCommandError
from tests.support.events import load_event


def test_parses_the_command_of_a_real_sqs_record() -> None:
    body = load_event("sqs_batch")["Records"][0]["body"]

    command = parse_command(body)

    assert command.request_id == "5b0c3a2e-1f0a-4c1b-9b7e-3c1d2e4f5a6b"
    assert command.owner == "8f2b6c1e-4a7d-4e0b-9c3f-1d5e7a9b2c4d"
    assert command.known_operation is Operation.CREATE
    assert command.payload == {"name": "widget"}
    assert command.submitted_at_ms == 1764000000000


def test_client_strings_are_url_decoded() -> None:
    # GIVEN the mapping template URL-encodes every client string inside the JSON
    body = json.dumps({
        "requestId": "r-1", "operation": "update", "owner": "sub%3Awith+colon",
        "itemId": "a%22b+c%0Ad",
        "ifMatch": "%22%33%22", "query": {"limit": "10", "cursor": "abc%3D"},
        "submittedAt": 5, "payload": {"price": 1.10},
    })

    command = parse_command(body)

    assert command.item_id == 'a"b c\nd'
    assert command.owner == "sub:with colon"
    assert command.if_match == '"3"'
    assert command.cursor == "abc="
    assert command.limit == "10"
    # Numbers keep their exact decimal value for DynamoDB.
    assert command.payload == {"price": Decimal("1.1")}


@pytest.mark.parametrize(
    "body",
    ["not json", "[1, 2]", json.dumps({"operation": "create"}), json.dumps({"requestId": ""}),
     json.dumps({"requestId": "x" * 129}),
     # No caller to answer: the API always sets the owner from the authorizer's claims.
     json.dumps({"requestId": "r", "operation": "get", "itemId": "i"}),
     json.dumps({"requestId": "r", "operation": "get", "owner": ""}),
     json.dumps({"requestId": "r", "operation": "get", "owner": None}),
     json.dumps({"requestId": "r", "operation": "get", "owner": "o" * 129})],
)
def test_a_body_that_cannot_be_answered_is_malformed(body: str) -> None:
    with pytest.raises(MalformedCommandError):
        parse_command(body)


def test_an_unknown_operation_is_parsed_but_not_known() -> None:
    command = parse_command(json.dumps({"requestId": "r", "operation": "explode",
                                        "owner": "o"}))
    assert command.operation == "explode"
    assert command.known_operation is None
