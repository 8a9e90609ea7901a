"""The local REST API against moto: commands reach their queue, outcomes are read back."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from tests.integration.local.conftest import Gateway
from tests.integration.local.gateway_support import client

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _receive_command(gateway: Gateway, operation: str, request_id: str,
                     timeout: float = 10.0) -> dict[str, Any]:
    """The message with `request_id` on `operation`'s queue, waiting up to `timeout`."""
    sqs = client(gateway.endpoint, "sqs")
    queue = gateway.path.queue_by_operation[operation]
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while time.monotonic() < deadline:
        for message in sqs.receive_message(
            QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1,
            MessageAttributeNames=["All"],
        ).get("Messages", []):
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
            seen.append(message["Body"])
            if json.loads(message["Body"])["requestId"] == request_id:
                return dict(message)
    raise AssertionError(f"command {request_id} not on the {operation} queue; saw {seen}")


def test_post_item_publishes_a_create_command(gateway: Gateway) -> None:
    # GIVEN the local REST API
    http = gateway.http()

    # WHEN a client creates an item
    response = http.post("/v1/items", json={"name": 'a "b"\n漢字'},
                         headers={"Idempotency-Key": "k+1 %"})

    # THEN it is accepted with a request id, and the Command is on the create queue
    assert response.status_code == 202, response.text
    request_id = response.json()["requestId"]
    assert response.headers["x-amzn-RequestId"] == request_id
    message = _receive_command(gateway, "create", request_id)
    command = json.loads(message["Body"])
    assert command["operation"] == "create"
    assert command["payload"] == {"name": 'a "b"\n漢字'}
    assert command["idempotencyKey"] == "k%2B1+%25"
    assert message["MessageAttributes"]["operation"]["StringValue"] == "create"


def test_get_item_routes_to_the_read_queue_with_the_encoded_id(gateway: Gateway) -> None:
    http = gateway.http()
    response = http.get("/v1/items/a+b%25c")
    assert response.status_code == 202, response.text
    command = json.loads(_receive_command(gateway, "get", response.json()["requestId"])["Body"])
    assert command["itemId"] == "a%2Bb%25c"


def test_invalid_body_is_400_and_publishes_nothing(gateway: Gateway) -> None:
    http = gateway.http()
    response = http.post("/v1/items", json={"colour": "red"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "BadRequestBody"
    assert '["name"]' in error["details"]
    assert response.json()["requestId"] == response.headers["x-amzn-RequestId"]


def test_oversize_body_is_blocked_by_the_waf_rule(gateway: Gateway) -> None:
    http = gateway.http()
    response = http.post("/v1/items", content=b" " * (64 * 1024 + 1),
                         headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "RequestTooLarge"


def test_unknown_route_is_missing_authentication_token(gateway: Gateway) -> None:
    http = gateway.http()
    response = http.delete("/v1/items")
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "Missing Authentication Token"


def test_unsupported_media_type_with_passthrough_never(gateway: Gateway) -> None:
    http = gateway.http()
    response = http.post("/v1/items", content=b"name=x",
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 415


def test_outcome_lookup_is_404_then_the_stored_document(gateway: Gateway) -> None:
    http = gateway.http()
    request_id = str(uuid.uuid4())

    # GIVEN no outcome yet: 404 with the template's error body
    missing = http.get(f"/v1/requests/{request_id}")
    assert missing.status_code == 404, missing.text
    assert missing.json()["error"]["code"] == "NotFound"

    # WHEN the worker stores the outcome (another caller's first, under their sub)
    document = {"requestId": request_id, "status": "SUCCEEDED", "item": {"name": "é\"x"}}
    dynamodb = client(gateway.endpoint, "dynamodb")
    dynamodb.put_item(TableName=gateway.path.outcomes_table, Item={
        "requestId": {"S": request_id}, "owner": {"S": "someone-else"},
        "document": {"S": json.dumps({"requestId": request_id, "theirs": True})}})
    assert http.get(f"/v1/requests/{request_id}").status_code == 404
    dynamodb.put_item(TableName=gateway.path.outcomes_table, Item={
        "requestId": {"S": request_id}, "owner": {"S": gateway.sub},
        "document": {"S": json.dumps(document)}})

    # THEN the lookup answers 200 with the caller's document itself
    found = http.get(f"/v1/requests/{request_id}")
    assert found.status_code == 200, found.text
    assert found.json() == document
    assert found.headers["content-type"].startswith("application/json")
