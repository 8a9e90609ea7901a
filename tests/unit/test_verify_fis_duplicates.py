"""Copies of accepted commands (tools/verify/duplicates.py): the same Command the API
published, as the handlers read it, published with the attributes the topic routes by."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from functions.contracts.command import parse_command
from tools.errors import UserError
from tools.stacks import Resource
from tools.verify.conservation import Accepted
from tools.verify.duplicates import (
    Duplicator,
    SentCommand,
    command_document,
    commands_topic_arn,
)

OWNER = "8f2b6c1e-4a7d-4e0b-9c3f-1d5e7a9b2c4d"
TOPIC = "arn:aws:sns:eu-west-1:123456789012:Crudops-MessagingCommands-1"
REQUEST = "c0ffee00-1111-2222-3333-444455556666"
ITEM = "5b0e7d4e-2c1a-5f3e-9d8b-7a6c5e4d3c2b"


@pytest.mark.parametrize(("accepted", "sent", "expected"), [
    (Accepted(REQUEST, "create"), SentCommand("/items", {"name": "n", "attributes": {"n": 1.5}}),
     {"item_id": "", "payload": {"name": "n", "attributes": {"n": Decimal("1.5")}}}),
    (Accepted(REQUEST, "get", ITEM), SentCommand(f"/items/{ITEM}", None),
     {"item_id": ITEM, "payload": None}),
    (Accepted(REQUEST, "list"), SentCommand("/items?limit=5", None),
     {"item_id": "", "payload": None, "limit": "5", "cursor": ""}),
    (Accepted(REQUEST, "update", ITEM, 3),
     SentCommand(f"/items/{ITEM}", {"description": "d e", "expectedVersion": 3}),
     {"item_id": ITEM, "payload": {"description": "d e", "expectedVersion": 3}}),
    (Accepted(REQUEST, "delete", ITEM), SentCommand(f"/items/{ITEM}", None),
     {"item_id": ITEM, "payload": None}),
])
def test_the_copy_reads_as_the_command_the_api_published(
        accepted: Accepted, sent: SentCommand, expected: dict[str, Any]) -> None:
    document = command_document(accepted, sent, owner=OWNER, submitted_at_ms=1_700_000_000_000)
    command = parse_command(json.dumps(document))
    assert (command.request_id, command.operation, command.owner) == (
        REQUEST, accepted.operation, OWNER)
    assert command.item_id == expected["item_id"]
    assert command.payload == expected["payload"]
    assert (command.limit, command.cursor) == (expected.get("limit", ""),
                                               expected.get("cursor", ""))
    assert (command.if_match, command.idempotency_key) == ("", "")
    assert command.submitted_at_ms == 1_700_000_000_000
    # Every field the mapping templates write, so consumers never test for presence.
    assert set(document) == {"requestId", "operation", "owner", "itemId", "submittedAt",
                             "idempotencyKey", "payload", "query", "ifMatch"}


def test_client_strings_are_url_encoded_as_the_mapping_template_does() -> None:
    document = command_document(Accepted("a b+c", "list"), SentCommand(
        "/items?limit=5&cursor=x%2By", None), owner="sub/1", submitted_at_ms=0)
    assert (document["requestId"], document["owner"]) == ("a+b%2Bc", "sub%2F1")
    assert document["query"] == {"limit": "5", "cursor": "x%2By"}
    command = parse_command(json.dumps(document))
    assert (command.request_id, command.owner, command.cursor) == ("a b+c", "sub/1", "x+y")


def _publish(stubber: Stubber, accepted: Accepted, sent: SentCommand) -> None:
    stubber.add_response("publish", {"MessageId": "m-1"}, {
        "TopicArn": TOPIC,
        "Message": json.dumps(command_document(accepted, sent, owner=OWNER,
                                               submitted_at_ms=1_000)),
        "MessageAttributes": {
            "operation": {"DataType": "String", "StringValue": accepted.operation},
            "requestId": {"DataType": "String", "StringValue": accepted.request_id}}})


def test_every_accepted_command_is_copied_at_rate_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tools.verify.duplicates.time.time", lambda: 1.0)
    sns = boto3.client("sns", region_name="eu-west-1")
    commands = [(Accepted(f"r-{n}", "update", ITEM, n), SentCommand(
        f"/items/{ITEM}", {"description": str(n), "expectedVersion": n})) for n in range(3)]
    with Stubber(sns) as stubber:
        for accepted, sent in commands:
            _publish(stubber, accepted, sent)
        duplicator = Duplicator(sns, TOPIC, owner=OWNER, rate=1.0, seed=1)
        for accepted, sent in commands:
            duplicator(accepted, sent)
        stubber.assert_no_pending_responses()
    assert duplicator.sent == 3


def test_none_is_copied_at_rate_zero() -> None:
    sns = boto3.client("sns", region_name="eu-west-1")
    with Stubber(sns):  # any publish would fail: none is expected
        duplicator = Duplicator(sns, TOPIC, owner=OWNER, rate=0.0, seed=1)
        duplicator(Accepted(REQUEST, "create"), SentCommand("/items", {"name": "n"}))
    assert duplicator.sent == 0


def test_the_same_seed_copies_the_same_commands() -> None:
    class Recording:
        def __init__(self) -> None:
            self.copied: list[str] = []

        def publish(self, **call: Any) -> None:
            self.copied.append(call["MessageAttributes"]["requestId"]["StringValue"])

    def copied(seed: int) -> list[str]:
        sns = Recording()
        duplicator = Duplicator(sns, TOPIC, owner=OWNER, rate=0.3, seed=seed)
        for n in range(200):
            duplicator(Accepted(f"r-{n}", "get", ITEM), SentCommand(f"/items/{ITEM}", None))
        return sns.copied

    assert copied(7) == copied(7)
    assert copied(7) != copied(8)
    assert 30 < len(copied(7)) < 90


def test_the_commands_topic_is_found_by_its_construct_id() -> None:
    resources = [Resource("ObservabilityAlarmsTopic1", "AWS::SNS::Topic", "arn:alarms"),
                 Resource("MessagingCommands4F2A", "AWS::SNS::Topic", TOPIC)]
    assert commands_topic_arn(resources) == TOPIC
    with pytest.raises(UserError, match="0 commands topics"):
        commands_topic_arn(resources[:1])
