"""The WebSocket side under abuse, over real WebSockets on the local stack: garbage,
oversize and rapid frames, a connection up to its subscription limit and beyond, and
a connect/disconnect storm. After each, another client's `POST /items` and its
notification still arrive, and the subscriptions table holds no row of a connection
that is gone (`$disconnect`, and a 410 on a late ack, clean up; ADR 0029).

Every count is bounded and every wait has a deadline; nothing is timed here (the
limit's cost is measured by benchmarks/subscription_writes.py, ADR 0029).
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection

from functions.contracts.tables import CONNECTION_COUNTER_PREFIX, LIVE_SUBSCRIPTIONS_ATTRIBUTE
from functions.settings import EnvVar
from tests.e2e.conftest import NOTIFICATION_TIMEOUT_SECONDS, Api, receive_notification
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

# API Gateway's message limit; a larger one closes the connection with 1009.
MESSAGE_LIMIT_BYTES = 128 * 1024
# Subscribes a client keeps unanswered at once when it paces itself (below the local
# gateway's 4 running + 100 waiting per connection, beyond which it answers "Too Many
# Requests" without invoking anything).
WINDOW = 40
RAPID_FRAMES = 300
STORM_CONNECTIONS = 100
STORM_THREADS = 10
# Generous: the point is that they arrive at all while the stack is busy.
CLEANUP_TIMEOUT_SECONDS = 120.0
MANY_TIMEOUT_SECONDS = 600.0


# --- fixtures and helpers ----------------------------------------------------------------

def _subscriptions_table(api: Api) -> str:
    return api.ref("StorageSubscriptions", "AWS::DynamoDB::Table")


def _rows(api: Api) -> list[dict[str, Any]]:
    dynamodb = api.aws("dynamodb")
    rows: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": _subscriptions_table(api), "ConsistentRead": True}
    while True:
        page = dynamodb.scan(**kwargs)
        rows += page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return rows
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _connection_ids(rows: list[dict[str, Any]]) -> set[str]:
    return {row["connectionId"]["S"] for row in rows}


@pytest.fixture
def leaves_no_rows(api: Api) -> Iterator[None]:
    """After the test, once every connection it opened is gone, the table holds no
    row (subscription or counter) of a connection that was not there before it."""
    before = _connection_ids(_rows(api))
    yield

    def left_behind() -> list[dict[str, Any]]:
        return [row for row in _rows(api) if row["connectionId"]["S"] not in before]

    wait_until(left_behind, lambda rows: not rows, timeout=CLEANUP_TIMEOUT_SECONDS,
               interval=0.5, describe="no subscription rows of gone connections")


def _subscribe_frame(request_id: str) -> str:
    return json.dumps({"action": "subscribe", "requestId": request_id})


def _frames_until(connection: ClientConnection, done: Any, *, timeout: float,
                  describe: str) -> list[dict[str, Any]]:
    """Read frames until `done(frames)`; fail at the deadline showing the last few."""
    frames: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while not done(frames):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"{describe} not met within {timeout:g} s; "
                                 f"{len(frames)} frames, last: {frames[-3:]!r}")
        try:
            frames.append(json.loads(connection.recv(timeout=left)))
        except TimeoutError:
            continue
    return frames


def _answers(frames: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each subscribe's answer (its ack or its error frame), by requestId."""
    return {f["requestId"]: f for f in frames
            if f.get("type") in {"subscribed", "error"} and "requestId" in f}


def _subscribe_paced(connection: ClientConnection, request_ids: list[str], *,
                     timeout: float) -> dict[str, dict[str, Any]]:
    """Subscribe to each id, at most WINDOW unanswered at once; each one's answer."""
    answers: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    sent = 0
    while len(answers) < len(request_ids):
        while sent < len(request_ids) and sent - len(answers) < WINDOW:
            connection.send(_subscribe_frame(request_ids[sent]))
            sent += 1
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"{len(answers)} of {len(request_ids)} subscribes answered "
                                 f"within {timeout:g} s")
        try:
            frame = json.loads(connection.recv(timeout=left))
        except TimeoutError:
            continue
        answers.update(_answers([frame]))
    return answers


def _limit_of(api: Api) -> int:
    """The per-connection limit the stack's template gave its `$default` function."""
    (function,) = [r for logical_id, r in api.stack.template.resources.items()
                   if logical_id.startswith("WebSocketWsDefault")
                   and r.type == "AWS::Lambda::Function"]
    variables = function.properties["Environment"]["Variables"]
    return int(variables[EnvVar.MAX_SUBSCRIPTIONS_PER_CONNECTION.value])


def _still_serving(client: Api) -> None:
    """Another client's create is accepted, and its notification arrives."""
    with client.connect() as connection:
        request_id = client.submit("POST", "/items", json={"name": "still served"})
        connection.send(_subscribe_frame(request_id))
        notification = receive_notification(connection, request_id,
                                            timeout=NOTIFICATION_TIMEOUT_SECONDS)
    assert notification["status"] == "success", notification


def _abrupt_close(connection: ClientConnection) -> None:
    """Drop the TCP connection without a close frame (a client that crashed)."""
    with contextlib.suppress(OSError):
        connection.socket.shutdown(socket.SHUT_RDWR)
    connection.socket.close()


def _abandoned_handshake(ws_url: str, query: str) -> None:
    """An upgrade request closed before the 101 comes."""
    host_port, path = ws_url.split("//", 1)[1].split("/", 1)
    host, port = host_port.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        raw.sendall(f"GET /{path}?{query} HTTP/1.1\r\nHost: {host_port}\r\n"
                    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    "Sec-WebSocket-Version: 13\r\n\r\n".encode())


# --- garbage ------------------------------------------------------------------------------

GARBAGE = [
    "not json",
    "",
    "null",
    "[]",
    "42",
    '{"action": "dance"}',
    '{"action": "subscribe"}',
    '{"action": "subscribe", "requestId": 5}',
    '{"action": "subscribe", "requestId": "no spaces allowed"}',
    '{"action": "subscribe", "requestId": "' + "x" * 1000 + '"}',
    '{"action": ',
]


def test_garbage_text_frames_get_an_error_frame_each_and_the_connection_serves_on(
        api: Api, other_api: Api, leaves_no_rows: None) -> None:
    with api.connect() as connection:
        for body in GARBAGE:
            connection.send(body)
        errors = _frames_until(connection, lambda frames: len(frames) >= len(GARBAGE),
                               timeout=NOTIFICATION_TIMEOUT_SECONDS,
                               describe="an answer to every garbage frame")
        assert all(f["type"] == "error" and f["error"]["code"] == "validation_error"
                   for f in errors), errors

        # the same connection still subscribes and is notified
        request_id = api.submit("POST", "/items", json={"name": "after garbage"})
        connection.send(_subscribe_frame(request_id))
        assert receive_notification(connection, request_id)["status"] == "success"
    _still_serving(other_api)


def test_a_binary_frame_closes_the_connection_with_1003_as_api_gateway_does(
        api: Api, other_api: Api, leaves_no_rows: None) -> None:
    """API Gateway does not take binary frames: it closes the connection with 1003."""
    with api.connect() as connection:
        connection.send(_subscribe_frame("binary-" + uuid.uuid4().hex).encode())
        with pytest.raises(ConnectionClosed) as closed:
            connection.recv(timeout=NOTIFICATION_TIMEOUT_SECONDS)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1003
    _still_serving(other_api)


# --- oversize -----------------------------------------------------------------------------

def _padded_subscribe(request_id: str, size: int) -> str:
    frame = {"action": "subscribe", "requestId": request_id, "pad": ""}
    frame["pad"] = "p" * (size - len(json.dumps(frame)))
    body = json.dumps(frame)
    assert len(body.encode()) == size
    return body


def test_a_message_of_the_limit_is_served_and_one_byte_more_closes_with_1009(
        api: Api, other_api: Api, leaves_no_rows: None) -> None:
    run = uuid.uuid4().hex[:8]
    with api.connect() as connection:
        connection.send(_padded_subscribe(f"at-limit-{run}", MESSAGE_LIMIT_BYTES))
        (ack,) = _frames_until(connection, bool, timeout=NOTIFICATION_TIMEOUT_SECONDS,
                               describe="the answer to a message of exactly 128 KiB")
        assert ack == {"type": "subscribed", "requestId": f"at-limit-{run}"}

        connection.send(_padded_subscribe(f"over-limit-{run}", MESSAGE_LIMIT_BYTES + 1))
        with pytest.raises(ConnectionClosed) as closed:
            connection.recv(timeout=NOTIFICATION_TIMEOUT_SECONDS)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    assert not [r for r in _rows(api) if r["requestId"]["S"] == f"over-limit-{run}"]
    _still_serving(other_api)


# --- rapid frames -------------------------------------------------------------------------

def test_rapid_frames_are_each_answered_once_and_counted_exactly(
        api: Api, other_api: Api, leaves_no_rows: None) -> None:
    """RAPID_FRAMES subscribes sent without waiting: each gets one answer, its ack or
    the gateway's "Too Many Requests" (past what one connection may have waiting), and
    the connection's counter equals the subscriptions it holds."""
    run = uuid.uuid4().hex[:8]
    request_ids = [f"rapid-{run}-{n}" for n in range(RAPID_FRAMES)]
    with api.connect() as connection:
        for request_id in request_ids:
            connection.send(_subscribe_frame(request_id))
        frames = _frames_until(connection, lambda frames: len(frames) >= RAPID_FRAMES,
                               timeout=MANY_TIMEOUT_SECONDS,
                               describe=f"an answer to each of {RAPID_FRAMES} frames")
        acked = {f["requestId"] for f in frames if f.get("type") == "subscribed"}
        refused = [f for f in frames if f.get("message") == "Too Many Requests"]
        assert len(acked) + len(refused) == RAPID_FRAMES, frames[:5]
        assert acked <= set(request_ids) and len(acked) >= 1

        rows = [r for r in _rows(api) if r["requestId"]["S"] in acked]
        (connection_id,) = _connection_ids(rows)
        (counter,) = [r for r in _rows(api)
                      if r["requestId"]["S"] == CONNECTION_COUNTER_PREFIX + connection_id]
        assert int(counter[LIVE_SUBSCRIPTIONS_ATTRIBUTE]["N"]) == len(acked) == len(rows)

        request_id = api.submit("POST", "/items", json={"name": "after the burst"})
        connection.send(_subscribe_frame(request_id))
        assert receive_notification(connection, request_id)["status"] == "success"
    _still_serving(other_api)


def test_rapid_frames_then_an_abrupt_close_leave_no_rows(
        api: Api, other_api: Api, leaves_no_rows: None) -> None:
    """Subscribes still running when the client vanishes land after `$disconnect`;
    their acks meet a 410, which removes what they stored."""
    run = uuid.uuid4().hex[:8]
    with api.connect() as connection:
        for n in range(RAPID_FRAMES // 3):
            connection.send(_subscribe_frame(f"vanish-{run}-{n}"))
        _abrupt_close(connection)
    _still_serving(other_api)


# --- many subscriptions on one connection -------------------------------------------------

def test_a_connection_subscribes_up_to_its_limit_and_beyond_it_gets_the_error_frame(
        api: Api, other_api: Api, leaves_no_rows: None) -> None:
    limit = _limit_of(api)
    run = uuid.uuid4().hex[:8]
    request_ids = [f"many-{run}-{n}" for n in range(limit)]
    # as many again: thousands of subscribes on one connection in all
    beyond = [f"beyond-{run}-{n}" for n in range(limit)]
    with api.connect() as connection:
        # GIVEN a connection holding `limit` subscriptions none of which is answered
        answers = _subscribe_paced(connection, request_ids, timeout=MANY_TIMEOUT_SECONDS)
        assert all(answers[r] == {"type": "subscribed", "requestId": r}
                   for r in request_ids), [a for a in answers.values()
                                           if a.get("type") != "subscribed"][:3]

        # WHEN it subscribes to more
        refusals = _subscribe_paced(connection, beyond, timeout=MANY_TIMEOUT_SECONDS)

        # THEN each gets the error frame naming it, and nothing is stored for them
        for request_id in beyond:
            frame = refusals[request_id]
            assert frame["type"] == "error", frame
            assert frame["error"]["code"] == "too_many_subscriptions", frame
        stored = {r["requestId"]["S"] for r in _rows(api)}
        assert stored.isdisjoint(beyond)
        assert set(request_ids) <= stored

        # AND another connection of the same caller is unaffected, and so is another
        # caller: both subscribe and are notified
        _still_serving(api)
        _still_serving(other_api)


# --- connect/disconnect storm -------------------------------------------------------------

def _storm_client(api: Api, run: str, index: int) -> str:
    """One connection of the storm, opened and dropped in one of four ways."""
    request_id = f"storm-{run}-{index}"
    kind = index % 4
    if kind == 0:  # plain connect, clean close
        with api.connect():
            pass
    elif kind == 1:  # the seed's ?requestId= subscription, clean close
        with api.connect(request_id):
            pass
    elif kind == 2:  # ?requestId= and subscribes on the connection, then vanishes
        with api.connect(request_id) as connection:
            for n in range(3):
                connection.send(_subscribe_frame(f"{request_id}-{n}"))
            _abrupt_close(connection)
    else:  # a handshake abandoned before the 101
        assert api.token is not None
        _abandoned_handshake(api.ws_url, f"requestId={request_id}&token={api.token}")
    return request_id


def test_a_connect_disconnect_storm_leaves_no_rows_and_the_gateway_serves_on(
        api: Api, other_api: Api, leaves_no_rows: None) -> None:
    run = uuid.uuid4().hex[:8]
    with ThreadPoolExecutor(max_workers=STORM_THREADS) as pool:
        done = list(pool.map(lambda i: _storm_client(api, run, i), range(STORM_CONNECTIONS)))
    assert len(done) == STORM_CONNECTIONS
    _still_serving(other_api)
    wait_until(lambda: [r for r in _rows(api) if run in r["requestId"]["S"]],
               lambda rows: not rows, timeout=CLEANUP_TIMEOUT_SECONDS, interval=0.5,
               describe="the storm's subscriptions removed")
