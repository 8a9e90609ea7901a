"""Every route of the local stack over real HTTP and WebSocket connections."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest

from tests.e2e.conftest import NOTIFICATION_TIMEOUT_SECONDS, Api, receive_notification
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e


def test_create_is_accepted_notified_and_stored(api: Api) -> None:
    with api.connect() as connection:
        request_id = api.submit("POST", "/items", json={
            "name": "widget", "description": "blue", "attributes": {"size": 3, "ok": True}})
        connection.send(json.dumps({"action": "subscribe", "requestId": request_id}))
        notification = receive_notification(connection, request_id)

    assert notification["status"] == "success"
    assert notification["operation"] == "create"
    assert notification["error"] is None
    assert notification["completedAt"]
    item = notification["result"]
    assert item["version"] == 1
    assert item["attributes"] == {"size": 3, "ok": True}
    stored = api.stored_outcome(request_id)
    assert {k: stored[k] for k in ("requestId", "status", "result")} == {
        "requestId": request_id, "status": "success", "result": item}


def test_the_seeds_connect_with_request_id_subscription(api: Api) -> None:
    request_id = api.submit("POST", "/items", json={"name": "seed style"})
    with api.connect(request_id) as connection:
        notification = receive_notification(connection, request_id)
    assert notification["status"] == "success"


def test_get_list_update_delete_round_trip(api: Api) -> None:
    item = api.created_item("round trip")

    got = api.stored_outcome(api.submit("GET", f"/items/{item['id']}"))
    listed = api.stored_outcome(api.submit("GET", "/items", params={"limit": "100"}))
    updated = api.stored_outcome(api.submit(
        "PUT", f"/items/{item['id']}", json={"name": "renamed", "expectedVersion": 1}))
    deleted = api.stored_outcome(api.submit(
        "DELETE", f"/items/{item['id']}", headers={"If-Match": '"2"'}))
    gone = api.stored_outcome(api.submit("GET", f"/items/{item['id']}"))

    assert got["result"] == item
    assert item["id"] in [i["id"] for i in listed["result"]["items"]]
    assert updated["result"]["name"] == "renamed"
    assert updated["result"]["version"] == 2
    assert deleted["result"] == {"id": item["id"], "deleted": True, "version": 2}
    assert gone["error"]["code"] == "not_found"


def test_a_stale_version_is_a_conflict_and_changes_nothing(api: Api) -> None:
    item = api.created_item("contended")

    stale = api.stored_outcome(api.submit(
        "PUT", f"/items/{item['id']}", json={"name": "lost", "expectedVersion": 5}))
    current = api.stored_outcome(api.submit("GET", f"/items/{item['id']}"))

    assert stale["status"] == "error"
    assert stale["error"]["code"] == "conflict"
    assert current["result"]["name"] == "contended"
    assert current["result"]["version"] == 1


def test_an_unknown_item_is_a_not_found_outcome(api: Api) -> None:
    outcome = api.stored_outcome(api.submit("GET", "/items/does-not-exist"))
    assert outcome["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "body",
    [
        {"description": "no name"},
        {"name": "ok", "unknown": 1},
        {"name": 42},
        {"name": "ok", "attributes": {"nested": {"no": "objects"}}},
    ],
)
def test_a_body_that_breaks_the_schema_is_a_400_with_a_json_error(api: Api, body: object) -> None:
    response = api.http.post("/items", json=body)
    assert response.status_code == 400, response.text
    assert "error" in response.json()


def test_invalid_json_is_a_400(api: Api) -> None:
    response = api.http.post("/items", content=b"{not json",
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "error" in response.json()


@pytest.mark.parametrize("body", [
    b'{"name": "n", "attributes": {"k": ' + b"[" * 1000 + b"]" * 1000 + b"}}",
    b'{"name": "n", "description": ' + b'{"a": ' * 990 + b"1" + b"}" * 990 + b"}",
    b'\xef\xbb\xbf{"name": "bom"}',
    '{"name": "utf-16"}'.encode("utf-16"),
    b'{"name": "\\ud800"}',
    b'{"name": "\xff"}',
], ids=["deep-array", "deep-object", "utf8-bom", "utf16", "lone-surrogate", "not-utf8"])
def test_a_body_that_is_not_json_text_is_a_400_not_a_500(api: Api, body: bytes) -> None:
    response = api.http.post("/items", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["error"]


def test_an_escaped_surrogate_pair_is_one_character_and_accepted(api: Api) -> None:
    request_id = api.submit("POST", "/items", content=b'{"name": "\\ud83d\\ude00"}',
                            headers={"Content-Type": "application/json"})
    assert api.stored_outcome(request_id)["result"]["name"] == "\U0001f600"


@pytest.mark.parametrize("number", [b"1e300", b"-1e400", b"8.8e126", b"NaN", b"Infinity"])
def test_a_number_out_of_dynamodb_range_is_a_400(api: Api, number: bytes) -> None:
    response = api.http.post("/items", content=b'{"name": "n", "attributes": {"k": %s}}' % number,
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert "error" in response.json()


@pytest.mark.parametrize("number", [b"1e-131", b"123456789012345678901234567890123456789",
                                    b"1e126"])
def test_a_number_dynamodb_cannot_store_is_a_validation_error_not_a_poison_message(
        api: Api, number: bytes) -> None:
    """Inside the model's bound but not storable (too small, too many digits): the
    function answers it once instead of failing on every receive into the DLQ."""
    request_id = api.submit("POST", "/items",
                            content=b'{"name": "n", "attributes": {"k": %s}}' % number,
                            headers={"Content-Type": "application/json"})
    outcome = api.stored_outcome(request_id)
    assert outcome["status"] == "error"
    assert outcome["error"]["code"] == "validation_error"
    assert "attributes.k" in outcome["error"]["message"]


def test_a_number_of_38_digits_comes_back_digit_for_digit(api: Api) -> None:
    """DynamoDB keeps 38 significant digits: so do the outcome, the notification and
    the item read back (a float in between would keep 17)."""
    digits = b"0.12345678901234567890123456789012345678"
    request_id = api.submit("POST", "/items",
                            content=b'{"name": "exact", "attributes": {"k": %s}}' % digits,
                            headers={"Content-Type": "application/json"})
    api.stored_outcome(request_id)
    with api.connect() as ws:
        ws.send(json.dumps({"action": "subscribe", "requestId": request_id}))
        notified = wait_until(
            lambda: json.loads(ws.recv(timeout=NOTIFICATION_TIMEOUT_SECONDS),
                               parse_float=Decimal),
            lambda frame: frame.get("type") == "notification", timeout=60, interval=0,
            describe="the notification")
    stored = json.loads(api.http.get(f"/requests/{request_id}").text, parse_float=Decimal)
    read_id = api.submit("GET", f"/items/{stored['result']['id']}")
    api.stored_outcome(read_id)
    read = json.loads(api.http.get(f"/requests/{read_id}").text, parse_float=Decimal)
    exact = Decimal(digits.decode())
    assert notified["result"]["attributes"]["k"] == exact
    assert stored["result"]["attributes"]["k"] == exact
    assert read["result"]["attributes"]["k"] == exact


def test_an_oversize_body_is_a_413_and_is_not_published(api: Api) -> None:
    marker = f"oversize-{uuid.uuid4()}"

    response = api.http.post("/items", json={"name": marker, "description": "x" * 70_000})
    # A request accepted after it has been answered, so anything published before it
    # would have been created by now too.
    api.created_item("after the oversize one")

    assert response.status_code == 413, response.text
    assert "error" in response.json()
    items = api.aws("dynamodb").scan(
        TableName=api.ref("StorageItems", "AWS::DynamoDB::Table"),
        FilterExpression="#n = :marker", ExpressionAttributeNames={"#n": "name"},
        ExpressionAttributeValues={":marker": {"S": marker}})["Items"]
    assert items == []


def test_an_update_with_an_empty_body_is_a_400(api: Api) -> None:
    item = api.created_item("empty update")
    response = api.http.put(f"/items/{item['id']}", json={})
    assert response.status_code == 400


def test_an_unknown_outcome_is_a_404(api: Api) -> None:
    response = api.http.get("/requests/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    assert response.json()


def test_subscribing_after_completion_still_delivers_the_outcome(api: Api) -> None:
    request_id = api.submit("POST", "/items", json={"name": "late"})
    stored = api.stored_outcome(request_id)  # completed before anyone subscribed

    with api.connect() as connection:
        connection.send(json.dumps({"action": "subscribe", "requestId": request_id}))
        by_message = receive_notification(connection, request_id)
    with api.connect(request_id) as connection:
        by_connect = receive_notification(connection, request_id)

    assert by_message["result"] == stored["result"]
    assert by_connect["result"] == stored["result"]


def test_a_bad_websocket_message_gets_an_error_frame(api: Api) -> None:
    with api.connect() as connection:
        connection.send("not json")
        frame = json.loads(connection.recv(timeout=30))
    assert frame["type"] == "error"
    assert frame["error"]["code"] == "validation_error"
