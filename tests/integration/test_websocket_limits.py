"""The per-connection subscription limit against moto (ADR 0029): a counter row per
connection, changed in the same transaction as each subscription it counts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions import create, notify, runtime
from functions.contracts.tables import LIVE_SUBSCRIPTIONS_ATTRIBUTE
from functions.domain.subscriptions import counter_key
from functions.settings import EnvVar
from tests.integration.conftest import OWNER_B, Aws, RecordingConnections
from tests.integration.test_websocket import (
    complete_create,
    connect,
    disconnect,
    subscribe,
    subscribers,
)
from tests.support.sqs_lambda import drain
from tests.support.waiting import wait_until

LIMIT = 3


@pytest.fixture(autouse=True)
def small_limit(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(EnvVar.MAX_SUBSCRIPTIONS_PER_CONNECTION.value, str(LIMIT))
    monkeypatch.setenv(EnvVar.LATE_SUBSCRIBER_REPLAY_DELAY_SECONDS.value, "0")
    runtime.reset()


def live(aws: Aws, connection_id: str) -> int | None:
    """The connection's counter (None: it has no counter row)."""
    item = aws.dynamodb.get_item(TableName=aws.topology.subscriptions_table,
                                 Key=counter_key(connection_id), ConsistentRead=True).get("Item")
    return None if item is None else int(item[LIVE_SUBSCRIPTIONS_ATTRIBUTE]["N"])


def rows_of(aws: Aws, connection_id: str) -> list[dict[str, Any]]:
    items = aws.dynamodb.scan(TableName=aws.topology.subscriptions_table)["Items"]
    return [item for item in items if item["connectionId"]["S"] == connection_id]


def pending_creates(aws: Aws, count: int) -> list[str]:
    return [aws.publish_command("create", payload={"name": f"w{n}"}) for n in range(count)]


def test_beyond_the_limit_a_subscribe_gets_the_error_frame_and_a_429(
    aws: Aws, connections: RecordingConnections
) -> None:
    # GIVEN a connection holding LIMIT subscriptions still waiting for their outcome
    request_ids = pending_creates(aws, LIMIT + 1)
    for request_id in request_ids[:LIMIT]:
        assert subscribe("busy", request_id)["statusCode"] == 200

    # WHEN it subscribes once more
    refused = subscribe("busy", request_ids[LIMIT])

    # THEN the route answers 429, the client gets the error frame naming the request,
    # and nothing was stored; another connection subscribes as before
    assert refused["statusCode"] == 429
    frame = connections.messages_to("busy")[-1]
    assert frame["type"] == "error" and frame["requestId"] == request_ids[LIMIT]
    assert frame["error"]["code"] == "too_many_subscriptions"
    assert subscribers(aws, request_ids[LIMIT]) == []
    assert live(aws, "busy") == LIMIT
    assert subscribe("calm", request_ids[LIMIT])["statusCode"] == 200
    assert connections.messages_to("calm")[-1]["type"] == "subscribed"


def test_subscribing_to_the_same_request_again_counts_once(
    aws: Aws, connections: RecordingConnections
) -> None:
    (request_id,) = pending_creates(aws, 1)
    for _ in range(LIMIT + 2):
        assert subscribe("repeat", request_id)["statusCode"] == 200
    assert live(aws, "repeat") == 1
    assert subscribers(aws, request_id) == ["repeat"]


def test_a_delivered_outcome_frees_its_place(
    aws: Aws, connections: RecordingConnections
) -> None:
    # GIVEN a full connection
    request_ids = pending_creates(aws, LIMIT)
    for request_id in request_ids:
        subscribe("full", request_id)
    assert subscribe("full", "one-too-many")["statusCode"] == 429

    # WHEN Notify delivers the outcomes
    drain(aws.sqs, aws.queue("create"), create.handler)
    drain(aws.sqs, aws.queue("notifications"), notify.handler)

    # THEN each delivered subscription is gone and counted off; the connection may
    # subscribe again
    delivered = {m["requestId"] for m in connections.messages_to("full")
                 if m.get("type") == "notification"}
    assert delivered == set(request_ids)
    assert all(subscribers(aws, request_id) == [] for request_id in request_ids)
    assert live(aws, "full") == 0
    assert subscribe("full", "one-more")["statusCode"] == 200
    assert live(aws, "full") == 1


def test_a_stored_outcome_sent_on_subscribe_holds_no_place(
    aws: Aws, connections: RecordingConnections
) -> None:
    answered = [complete_create(aws) for _ in range(LIMIT + 1)]
    for request_id in answered:
        assert subscribe("late", request_id)["statusCode"] == 200
    notified = [m["requestId"] for m in connections.messages_to("late")
                if m.get("type") == "notification"]
    assert notified == answered
    assert live(aws, "late") == 0
    assert rows_of(aws, "late") == [
        {**counter_key("late"), LIVE_SUBSCRIPTIONS_ATTRIBUTE: {"N": "0"},
         "expiresAt": rows_of(aws, "late")[0]["expiresAt"]}]


def test_a_refused_subscription_to_anothers_request_frees_its_place(
    aws: Aws, connections: RecordingConnections
) -> None:
    others = [complete_create(aws) for _ in range(LIMIT + 1)]
    for request_id in others:
        assert subscribe("nosy", request_id, owner=OWNER_B)["statusCode"] == 404
    assert live(aws, "nosy") == 0


def test_a_connect_subscription_counts_and_its_replay_frees_it(
    aws: Aws, connections: RecordingConnections
) -> None:
    request_id = complete_create(aws)
    aws.notifications()  # the original notification, before anyone listened
    assert connect("seed", request_id)["statusCode"] == 200
    assert live(aws, "seed") == 1

    def replayed() -> list[dict[str, Any]]:
        drain(aws.sqs, aws.queue("notifications"), notify.handler)
        return [m for m in connections.messages_to("seed") if m.get("type") == "notification"]

    wait_until(replayed, bool, timeout=10, interval=0.2, describe="the replayed outcome")
    assert live(aws, "seed") == 0
    assert subscribers(aws, request_id) == []


def test_disconnect_removes_the_subscriptions_and_the_counter(
    aws: Aws, connections: RecordingConnections
) -> None:
    for request_id in pending_creates(aws, LIMIT):
        subscribe("leaving", request_id)
    subscribe("staying", "kept")
    assert len(rows_of(aws, "leaving")) == LIMIT + 1  # and its counter row

    disconnect("leaving")

    assert rows_of(aws, "leaving") == []
    assert live(aws, "staying") == 1 and subscribers(aws, "kept") == ["staying"]


def test_an_outcome_after_disconnect_creates_no_counter(
    aws: Aws, connections: RecordingConnections
) -> None:
    """Notify removing a subscription whose connection's `$disconnect` took the counter
    (but whose row the eventually consistent index missed) leaves no row behind."""
    (request_id,) = pending_creates(aws, 1)
    subscribe("raced", request_id)
    aws.dynamodb.delete_item(TableName=aws.topology.subscriptions_table,
                             Key=counter_key("raced"))

    drain(aws.sqs, aws.queue("create"), create.handler)
    drain(aws.sqs, aws.queue("notifications"), notify.handler)

    assert rows_of(aws, "raced") == []


def test_a_subscribe_whose_ack_finds_the_connection_gone_leaves_nothing(
    aws: Aws, connections: RecordingConnections
) -> None:
    """A subscribe that lands after its connection's `$disconnect` ran (API Gateway
    does not order them) stores a row and a counter; the 410 on its ack takes both."""
    connections.gone.add("closed")
    assert subscribe("closed", "after-the-close")["statusCode"] == 410
    assert rows_of(aws, "closed") == []


def test_the_limit_holds_when_removals_and_subscribes_interleave(
    aws: Aws, connections: RecordingConnections
) -> None:
    """Subscribe, deliver and refuse in turns: the counter always equals the rows."""
    for round_ in range(3):
        request_ids = pending_creates(aws, LIMIT)
        for request_id in request_ids:
            assert subscribe("cycling", request_id)["statusCode"] == 200
        assert subscribe("cycling", f"extra-{round_}")["statusCode"] == 429
        drain(aws.sqs, aws.queue("create"), create.handler)
        drain(aws.sqs, aws.queue("notifications"), notify.handler)
        held = [row for row in rows_of(aws, "cycling") if LIVE_SUBSCRIPTIONS_ATTRIBUTE not in row]
        assert live(aws, "cycling") == len(held) == 0
    frames = [json.dumps(m) for m in connections.messages_to("cycling")]
    assert sum('"too_many_subscriptions"' in f for f in frames) == 3
