"""Subscriptions and notification delivery against moto, with a recording
management API (moto's never answers 410, see docs/emulator-facts.md)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from functions import create, notify, ws_connect, ws_default, ws_disconnect
from tests.integration.conftest import OWNER_A, OWNER_B, Aws, RecordingConnections
from tests.support.events import load_event
from tests.support.lambda_context import FakeLambdaContext
from tests.support.sqs_lambda import deliver_batch, drain
from tests.support.waiting import wait_until


def _as_caller(event: dict[str, Any], owner: str | None) -> dict[str, Any]:
    """The event as API Gateway passes it for a connection `owner` authorized (None:
    no authorizer context at all)."""
    if owner is None:
        del event["requestContext"]["authorizer"]
    else:
        event["requestContext"]["authorizer"].update(principalId=owner, sub=owner)
    return event


def connect(connection_id: str, request_id: str | None,
            owner: str | None = OWNER_A) -> dict[str, Any]:
    event = _as_caller(load_event("ws_connect"), owner)
    event["requestContext"]["connectionId"] = connection_id
    event["queryStringParameters"] = {"requestId": request_id} if request_id else None
    return dict(ws_connect.handler(event, FakeLambdaContext()))


def send(connection_id: str, body: str, owner: str | None = OWNER_A) -> dict[str, Any]:
    event = _as_caller(load_event("ws_default"), owner)
    event["requestContext"]["connectionId"] = connection_id
    event["body"] = body
    return dict(ws_default.handler(event, FakeLambdaContext()))


def subscribe(connection_id: str, request_id: str, owner: str = OWNER_A) -> dict[str, Any]:
    return send(connection_id, json.dumps({"action": "subscribe", "requestId": request_id}),
                owner)


def disconnect(connection_id: str) -> None:
    event = load_event("ws_disconnect")
    event["requestContext"]["connectionId"] = connection_id
    ws_disconnect.handler(event, FakeLambdaContext())


def subscribers(aws: Aws, request_id: str) -> list[str]:
    response = aws.dynamodb.query(
        TableName=aws.topology.subscriptions_table,
        KeyConditionExpression="requestId = :r",
        ExpressionAttributeValues={":r": {"S": request_id}},
    )
    return sorted(item["connectionId"]["S"] for item in response["Items"])


def complete_create(aws: Aws) -> str:
    request_id = aws.publish_command("create", payload={"name": "w"})
    drain(aws.sqs, aws.queue("create"), create.handler)
    return request_id


def test_subscribers_get_the_outcome_and_a_gone_one_is_dropped(
    aws: Aws, connections: RecordingConnections
) -> None:
    # GIVEN two subscribers, one of which has since closed its connection
    request_id = aws.publish_command("create", payload={"name": "w"})
    assert subscribe("alive", request_id)["statusCode"] == 200
    assert subscribe("closed", request_id)["statusCode"] == 200
    connections.gone.add("closed")

    drain(aws.sqs, aws.queue("create"), create.handler)
    results = drain(aws.sqs, aws.queue("notifications"), notify.handler)

    # THEN the live one got the outcome, the batch did not fail, and neither
    # subscription is left: the gone one dropped, the delivered one waits no more
    (ack, outcome) = connections.messages_to("alive")
    assert ack["type"] == "subscribed"
    assert outcome["requestId"] == request_id
    assert outcome["status"] == "success"
    assert all(not r.failed for r in results)
    assert subscribers(aws, request_id) == []


def test_a_failed_post_fails_only_that_notification(
    aws: Aws, connections: RecordingConnections, capsys: pytest.CaptureFixture[str]
) -> None:
    first = aws.publish_command("create", payload={"name": "a"})
    second = aws.publish_command("create", payload={"name": "b"})
    subscribe("flaky", first)
    subscribe("fine", second)
    drain(aws.sqs, aws.queue("create"), create.handler)
    connections.failing.add("flaky")

    result = deliver_batch(aws.sqs, aws.queue("notifications"), notify.handler)

    assert len(result.failed) == 1
    assert [m["requestId"] for m in connections.messages_to("fine") if "status" in m] == [second]
    assert aws.depth(aws.queue("notifications")) == 1  # kept for retry
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines()
               if line.startswith('{"_aws"')]
    assert any(m.get("NotificationFailed") == [1.0] for m in emitted), emitted


def test_subscribing_after_completion_on_default_delivers_the_stored_outcome(
    aws: Aws, connections: RecordingConnections
) -> None:
    request_id = complete_create(aws)

    response = subscribe("late", request_id)

    assert response["statusCode"] == 200
    acknowledgement, outcome = connections.messages_to("late")
    assert acknowledgement == {"type": "subscribed", "requestId": request_id}
    assert outcome["requestId"] == request_id
    assert outcome["status"] == "success"


def _drain_notify_until(aws: Aws, connections: RecordingConnections, connection_id: str,
                       timeout: float = 10.0) -> list[dict[str, Any]]:
    """Run Notify on whatever becomes visible (delayed replays included) until the
    connection has received a notification."""

    def delivered() -> list[dict[str, Any]]:
        drain(aws.sqs, aws.queue("notifications"), notify.handler)
        return [m for m in connections.messages_to(connection_id)
                if m.get("type") == "notification"]

    return wait_until(delivered, bool, timeout=timeout, interval=0.2,
                      describe=f"a notification on {connection_id}")


def test_connecting_after_completion_replays_the_outcome_through_notify(
    aws: Aws, connections: RecordingConnections, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LATE_SUBSCRIBER_REPLAY_DELAY_SECONDS", "1")
    request_id = complete_create(aws)
    aws.notifications()  # the original notification, before anyone listened

    assert connect("late", request_id)["statusCode"] == 200
    # THEN a delayed replay request waits on the notifications queue ...
    immediately = aws.sqs.receive_message(QueueUrl=aws.queue("notifications")).get("Messages")
    assert immediately is None
    assert aws.depth(aws.queue("notifications")) == 1
    # ... and Notify answers it with the stored outcome, on that connection
    (outcome,) = _drain_notify_until(aws, connections, "late")
    assert outcome["requestId"] == request_id
    assert outcome["status"] == "success"


def test_an_outcome_notified_while_the_connection_is_being_accepted_is_replayed(
    aws: Aws, connections: RecordingConnections, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a client connecting with ?requestId= while its command completes: API
    # Gateway answers 410 to posts until $connect has returned
    monkeypatch.setenv("LATE_SUBSCRIBER_REPLAY_DELAY_SECONDS", "1")
    request_id = aws.publish_command("create", payload={"name": "racing"})
    connections.gone.add("opening")
    assert connect("opening", request_id)["statusCode"] == 200
    drain(aws.sqs, aws.queue("create"), create.handler)

    # WHEN Notify delivers the outcome before the connection is open
    first = deliver_batch(aws.sqs, aws.queue("notifications"), notify.handler)
    assert first.received and not first.failed
    assert connections.messages_to("opening") == []
    assert subscribers(aws, request_id) == []  # the 410 dropped the subscription

    # THEN once it is open, the replay request still brings the outcome
    connections.gone.discard("opening")
    (outcome,) = _drain_notify_until(aws, connections, "opening")
    assert outcome["requestId"] == request_id
    assert outcome["status"] == "success"


def test_connecting_without_a_request_id_is_allowed_and_a_bad_one_refused(
    aws: Aws, connections: RecordingConnections
) -> None:
    assert connect("plain", None)["statusCode"] == 200
    assert connect("bad", "no spaces or quotes\"")["statusCode"] == 400
    assert subscribers(aws, "no spaces or quotes\"") == []


def test_a_bad_message_gets_an_error_back_and_subscribes_nothing(
    aws: Aws, connections: RecordingConnections
) -> None:
    for body in ("not json", '{"action": "dance"}', '{"action": "subscribe"}'):
        assert send("c1", body)["statusCode"] == 400

    messages = connections.messages_to("c1")
    assert [m["type"] for m in messages] == ["error"] * 3
    assert all(m["error"]["code"] == "validation_error" for m in messages)


def test_one_connection_may_subscribe_to_many_requests_and_disconnect_forgets_all(
    aws: Aws, connections: RecordingConnections
) -> None:
    for request_id in ("r1", "r2", "r3"):
        subscribe("multi", request_id)
    subscribe("other", "r1")

    disconnect("multi")

    assert subscribers(aws, "r1") == ["other"]
    assert subscribers(aws, "r2") == subscribers(aws, "r3") == []


NOT_YOURS = {"code": "not_found", "message": "no request of yours has this id"}


def test_subscribing_to_another_callers_stored_outcome_gets_only_the_error_frame(
    aws: Aws, connections: RecordingConnections
) -> None:
    # GIVEN A's command has completed
    request_id = complete_create(aws)

    # WHEN B subscribes to its id
    subscribe("b", request_id, owner=OWNER_B)

    # THEN B gets one error frame, no ack, no outcome, and keeps no subscription
    assert connections.messages_to("b") == [
        {"type": "error", "requestId": request_id, "error": NOT_YOURS}]
    assert subscribers(aws, request_id) == []
    # ... and a redelivered notification brings B nothing more
    drain(aws.sqs, aws.queue("notifications"), notify.handler)
    assert len(connections.messages_to("b")) == 1


def test_subscribing_before_another_callers_outcome_gets_the_ack_then_the_error_frame(
    aws: Aws, connections: RecordingConnections
) -> None:
    # GIVEN A and B both subscribed to A's command before it completed
    request_id = aws.publish_command("create", payload={"name": "w"})
    subscribe("a", request_id)
    subscribe("b", request_id, owner=OWNER_B)

    # WHEN it completes and Notify delivers
    drain(aws.sqs, aws.queue("create"), create.handler)
    results = drain(aws.sqs, aws.queue("notifications"), notify.handler)

    # THEN A gets the outcome; B its ack and then the error frame, never the outcome
    assert all(not r.failed for r in results)
    ack = {"type": "subscribed", "requestId": request_id}
    a_ack, a_outcome = connections.messages_to("a")
    assert a_ack == ack and a_outcome["status"] == "success"
    assert connections.messages_to("b") == [
        ack, {"type": "error", "requestId": request_id, "error": NOT_YOURS}]
    assert subscribers(aws, request_id) == []  # delivered to A, refused to B


def test_connecting_for_another_callers_request_replays_only_the_error_frame(
    aws: Aws, connections: RecordingConnections, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LATE_SUBSCRIBER_REPLAY_DELAY_SECONDS", "1")
    request_id = complete_create(aws)
    aws.notifications()  # the original notification, before anyone listened

    assert connect("b", request_id, owner=OWNER_B)["statusCode"] == 200

    def frames() -> list[dict[str, Any]]:
        drain(aws.sqs, aws.queue("notifications"), notify.handler)
        return connections.messages_to("b")

    assert wait_until(frames, bool, timeout=10.0, interval=0.2,
                      describe="the replay's frame on b") == [
        {"type": "error", "requestId": request_id, "error": NOT_YOURS}]
    assert subscribers(aws, request_id) == []
    assert aws.depth(aws.queue("notifications")) == 0


def test_a_connection_without_an_authorized_caller_is_refused(
    aws: Aws, connections: RecordingConnections
) -> None:
    request_id = complete_create(aws)

    assert connect("anon", request_id, owner=None)["statusCode"] == 401
    response = send("anon", json.dumps({"action": "subscribe", "requestId": request_id}),
                    owner=None)

    assert response["statusCode"] == 401
    (message,) = connections.messages_to("anon")
    assert message["type"] == "error" and message["error"]["code"] == "unauthorized"
    assert subscribers(aws, request_id) == []


def test_a_notification_without_an_owner_is_delivered_to_nobody(
    aws: Aws, connections: RecordingConnections
) -> None:
    # GIVEN an outcome on the notifications queue that names no owner
    request_id = aws.publish_command("create", payload={"name": "w"})
    subscribe("a", request_id)
    drain(aws.sqs, aws.queue("create"), create.handler)
    (message,) = aws.sqs.receive_message(QueueUrl=aws.queue("notifications"),
                                         MessageAttributeNames=["All"])["Messages"]
    aws.sqs.delete_message(QueueUrl=aws.queue("notifications"),
                           ReceiptHandle=message["ReceiptHandle"])
    aws.sqs.send_message(QueueUrl=aws.queue("notifications"), MessageBody=message["Body"])

    result = deliver_batch(aws.sqs, aws.queue("notifications"), notify.handler)

    # THEN it fails (and so ends in the DLQ), and the subscriber saw only its ack
    assert len(result.failed) == 1
    assert connections.messages_to("a") == [{"type": "subscribed", "requestId": request_id}]


def _replays(aws: Aws) -> list[dict[str, Any]]:
    """The replay requests waiting on the notifications queue (left there)."""
    messages = aws.sqs.receive_message(QueueUrl=aws.queue("notifications"),
                                       MaxNumberOfMessages=10, VisibilityTimeout=0)
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


def test_a_replay_is_put_back_until_the_connection_is_open(
    aws: Aws, connections: RecordingConnections
) -> None:
    # GIVEN a finished request and a client whose ?requestId= connect has not returned
    request_id = complete_create(aws)
    aws.notifications()
    connections.gone.add("opening")
    assert connect("opening", request_id)["statusCode"] == 200

    # WHEN Notify takes the replay while the connection is not open yet
    batch = deliver_batch(aws.sqs, aws.queue("notifications"), notify.handler)
    assert batch.received and not batch.failed
    # THEN nothing was posted, and the request is back on the queue, counted
    assert connections.posts == []
    (again,) = _replays(aws)
    assert again["type"] == "replay" and again["attempt"] == 1

    # and once the connection is open the outcome reaches it
    connections.gone.discard("opening")
    (outcome,) = _drain_notify_until(aws, connections, "opening")
    assert outcome["requestId"] == request_id and outcome["status"] == "success"
    assert "opening" in connections.lookups


def test_a_replay_for_a_connection_that_never_opens_is_given_up(
    aws: Aws, connections: RecordingConnections, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(notify, "DEFAULTS", replace(
        notify.DEFAULTS, late_subscriber_replay_retry_delays_seconds=(0, 0)))
    request_id = complete_create(aws)
    aws.notifications()
    connections.gone.add("vanished")
    assert connect("vanished", request_id)["statusCode"] == 200

    # the first replay and the two it was allowed to ask again
    for _ in range(3):
        batch = deliver_batch(aws.sqs, aws.queue("notifications"), notify.handler)
        assert batch.received and not batch.failed
    assert aws.depth(aws.queue("notifications")) == 0
    assert connections.posts == []
    assert '"NotificationGone":[1.0]' in capsys.readouterr().out
