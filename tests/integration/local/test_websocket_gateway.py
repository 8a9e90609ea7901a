"""The local WebSocket API: route events, the handshake, and the management API."""

from __future__ import annotations

import json
import socket
import struct
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from websockets.sync.client import connect

from crudops_local.apigateway.serving import gateway_server, serve_in_thread
from crudops_local.apigateway.websocket.server import (
    IN_FLIGHT_PER_CONNECTION,
    QUEUED_PER_CONNECTION,
)
from tests.integration.local.conftest import PUBLIC_HOST, Gateway
from tests.integration.local.gateway_support import REGION, handler_error
from tests.support.waiting import wait_until

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _route(event: dict[str, Any]) -> str:
    return str(event["requestContext"]["routeKey"])


def test_connect_message_and_disconnect_events(gateway: Gateway) -> None:
    # GIVEN a client that connects with a query string, sends, then closes
    with TestClient(gateway.app) as http, http.websocket_connect(
        "/live?requestId=r-1&requestId=r-2", headers={"User-Agent": "tests"}
    ) as ws:
        ws.send_text(json.dumps({"action": "subscribe", "requestId": "r-2"}))
        message = gateway.functions.wait_for(lambda e: _route(e) == "$default")
        ws.close(1000)
    disconnect = gateway.functions.wait_for(lambda e: _route(e) == "$disconnect")

    # THEN each route's function received API Gateway's event shape
    arn_of = {arn: _route(event) for arn, event in gateway.functions.events}
    assert arn_of == {**{gateway.function_arn(key): key
                         for key in ("$connect", "$default", "$disconnect")},
                      # the $connect authorizer ran first, with the route's request context
                      gateway.function_arn("authorizer"): "$connect"}
    authorizer_event = gateway.functions.events[0][1]
    assert authorizer_event["type"] == "REQUEST"
    assert authorizer_event["methodArn"].endswith("/live/$connect")
    connect_event = gateway.functions.events[1][1]
    context = connect_event["requestContext"]
    assert context["eventType"] == "CONNECT"
    assert connect_event["queryStringParameters"] == {"requestId": "r-2"}
    assert connect_event["multiValueQueryStringParameters"] == {"requestId": ["r-1", "r-2"]}
    assert context["stage"] == "live"
    assert context["domainName"] == PUBLIC_HOST
    assert context["identity"]["sourceIp"]
    assert len(context["connectionId"]) == 16 and context["connectionId"].endswith("=")
    assert context["requestTimeEpoch"] == context["connectedAt"]
    assert message["requestContext"]["eventType"] == "MESSAGE"
    assert json.loads(message["body"]) == {"action": "subscribe", "requestId": "r-2"}
    assert message["isBase64Encoded"] is False
    assert message["requestContext"]["connectionId"] == context["connectionId"]
    assert disconnect["requestContext"]["eventType"] == "DISCONNECT"
    assert disconnect["requestContext"]["disconnectStatusCode"] == 1000
    assert disconnect["requestContext"]["connectionId"] == context["connectionId"]
    # what the authorizer allowed the connection as, on each of its events
    allowed = {"principalId": "sub-1", "sub": "sub-1", "username": "tester"}
    for event in (connect_event, message, disconnect):
        assert event["requestContext"]["authorizer"] == allowed


def test_connect_rejected_when_the_function_answers_400(gateway: Gateway) -> None:
    gateway.functions.responses[gateway.function_arn("$connect")] = {"statusCode": 400}
    with (TestClient(gateway.app) as http, pytest.raises(WebSocketDisconnect),
          http.websocket_connect("/live?requestId=bad")):
        pass
    assert [(arn, _route(e)) for arn, e in gateway.functions.events] == [
        (gateway.function_arn("authorizer"), "$connect"),
        (gateway.function_arn("$connect"), "$connect")]


def test_a_failing_default_handler_sends_internal_server_error(gateway: Gateway) -> None:
    gateway.functions.responses[gateway.function_arn("$default")] = handler_error()
    with TestClient(gateway.app) as http, http.websocket_connect("/live") as ws:
        ws.send_text("not json")
        frame = json.loads(ws.receive_text())
    assert frame["message"] == "Internal server error"
    assert frame["connectionId"] and frame["requestId"]


def _connection_id(gateway: Gateway) -> str:
    event = gateway.functions.wait_for(lambda e: _route(e) == "$connect")
    return str(event["requestContext"]["connectionId"])


def test_management_api_posts_reads_and_deletes(gateway: Gateway) -> None:
    with TestClient(gateway.app) as http, http.websocket_connect("/live") as ws:
        connection_id = _connection_id(gateway)
        url = f"/live/@connections/{connection_id}"

        posted = http.post(url, content=b'{"type": "outcome"}')
        assert posted.status_code == 200
        assert ws.receive_text() == '{"type": "outcome"}'

        info = http.get(url)
        assert info.status_code == 200
        assert set(info.json()) == {"connectedAt", "identity", "lastActiveAt"}
        assert info.json()["identity"]["sourceIp"]

        too_large = http.post(url, content=b"x" * (128 * 1024 + 1))
        assert too_large.status_code == 413
        assert too_large.headers["x-amzn-ErrorType"] == "PayloadTooLargeException"

        deleted = http.delete(url)
        assert deleted.status_code == 204
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
        assert closed.value.code == 1000
    gateway.functions.wait_for(lambda e: _route(e) == "$disconnect")
    gone = TestClient(gateway.app).post(url, content=b"late")
    assert gone.status_code == 410
    assert gone.headers["x-amzn-ErrorType"] == "GoneException"


@pytest.fixture
def served(gateway: Gateway) -> Iterator[str]:
    """The gateway on a real uvicorn server at 127.0.0.1 (port chosen by the OS)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = gateway_server(gateway.app)
    thread = serve_in_thread(server, listener)
    yield f"127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
    listener.close()


def _management(origin: str) -> Any:
    return boto3.client("apigatewaymanagementapi", endpoint_url=f"http://{origin}/live",
                        region_name=REGION, aws_access_key_id="local",
                        aws_secret_access_key="local",
                        config=Config(retries={"max_attempts": 1}))


def test_boto3_posts_from_a_handler_and_gets_gone_after_close(gateway: Gateway,
                                                              served: str) -> None:
    # GIVEN a $default function that answers on its own connection with boto3,
    # as the real handler does (the post arrives while the invocation is running)
    def answer(event: dict[str, Any]) -> dict[str, Any]:
        connection_id = event["requestContext"]["connectionId"]
        _management(served).post_to_connection(ConnectionId=connection_id, Data=b"subscribed")
        return {"statusCode": 200}

    gateway.functions.responses[gateway.function_arn("$default")] = answer

    # WHEN a client sends a message
    with connect(f"ws://{served}/live?requestId=x", open_timeout=10) as ws:
        ws.send(json.dumps({"action": "subscribe"}))
        # THEN the handler's post arrives as a text frame
        assert ws.recv(timeout=10) == "subscribed"
        connection_id = _connection_id(gateway)
        info = _management(served).get_connection(ConnectionId=connection_id)
        assert info["Identity"]["SourceIp"] == "127.0.0.1"
        assert info["ConnectedAt"] <= info["LastActiveAt"]
    gateway.functions.wait_for(lambda e: _route(e) == "$disconnect")

    # AND once the client is gone, boto3 raises GoneException
    management = _management(served)
    with pytest.raises(management.exceptions.GoneException):
        management.post_to_connection(ConnectionId=connection_id, Data=b"late")
    with pytest.raises(management.exceptions.GoneException):
        management.delete_connection(ConnectionId=connection_id)


@pytest.mark.parametrize("reset", [False, True], ids=["closed", "reset"])
def test_a_handshake_abandoned_while_connect_runs_still_runs_disconnect(
        gateway: Gateway, served: str, reset: bool) -> None:
    """`$connect` stored the subscription; the client left before the 101. API Gateway
    runs `$disconnect` for a connection `$connect` accepted, so the row is removed —
    without it the row stayed for good (the emulator applies no TTL)."""
    client_gone = threading.Event()

    def accept_after_the_client_left(event: dict[str, Any]) -> dict[str, Any]:
        assert client_gone.wait(10)
        return {"statusCode": 200}

    gateway.functions.responses[gateway.function_arn("$connect")] = accept_after_the_client_left
    host, port = served.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        if reset:  # leave with a TCP RST, as a killed client's kernel does
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        raw.sendall(b"GET /live?requestId=abandoned HTTP/1.1\r\nHost: " + served.encode()
                    + b"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    b"Sec-WebSocket-Version: 13\r\n\r\n")
    client_gone.set()
    connect_event = gateway.functions.wait_for(lambda e: _route(e) == "$connect")

    disconnect = gateway.functions.wait_for(lambda e: _route(e) == "$disconnect")
    assert (disconnect["requestContext"]["connectionId"]
            == connect_event["requestContext"]["connectionId"])


def test_one_busy_connection_does_not_starve_another(gateway: Gateway, served: str) -> None:
    """A connection's messages take at most IN_FLIGHT_PER_CONNECTION invocations at
    once; another client's message is invoked while they all wait."""
    released = threading.Event()
    running: list[str] = []
    peak = {"busy": 0}
    lock = threading.Lock()

    def slow_for_the_busy_client(event: dict[str, Any]) -> dict[str, Any]:
        body = json.loads(event["body"])
        if body["requestId"].startswith("busy"):
            with lock:
                running.append(body["requestId"])
                peak["busy"] = max(peak["busy"], len(running))
            assert released.wait(20)
            with lock:
                running.remove(body["requestId"])
        return {"statusCode": 200}

    gateway.functions.responses[gateway.function_arn("$default")] = slow_for_the_busy_client
    with connect(f"ws://{served}/live", open_timeout=10) as busy, \
            connect(f"ws://{served}/live", open_timeout=10) as other:
        for n in range(40):
            busy.send(json.dumps({"action": "subscribe", "requestId": f"busy-{n}"}))
        wait_until(lambda: len(running), lambda count: count == IN_FLIGHT_PER_CONNECTION,
                   timeout=10, describe="the busy connection's share running")
        other.send(json.dumps({"action": "subscribe", "requestId": "other"}))
        gateway.functions.wait_for(
            lambda e: _route(e) == "$default" and "other" in str(e.get("body")))
        assert len(running) == IN_FLIGHT_PER_CONNECTION  # the busy ones still wait
        released.set()
        wait_until(lambda: sum(1 for _, e in gateway.functions.events
                               if "busy-" in str(e.get("body"))),
                   lambda count: count == 40, timeout=20, describe="every busy message invoked")
    assert peak["busy"] == IN_FLIGHT_PER_CONNECTION


def test_messages_past_a_connections_queue_are_refused_not_invoked(
        gateway: Gateway, served: str) -> None:
    released = threading.Event()

    def blocked(event: dict[str, Any]) -> dict[str, Any]:
        assert released.wait(20)
        return {"statusCode": 200}

    gateway.functions.responses[gateway.function_arn("$default")] = blocked
    limit = IN_FLIGHT_PER_CONNECTION + QUEUED_PER_CONNECTION
    with connect(f"ws://{served}/live", open_timeout=10) as ws:
        for n in range(limit + 3):
            ws.send(json.dumps({"action": "subscribe", "requestId": f"r-{n}"}))
        frames = [json.loads(ws.recv(timeout=10)) for _ in range(3)]
        released.set()
    assert [frame["message"] for frame in frames] == ["Too Many Requests"] * 3
    wait_until(lambda: sum(1 for _, e in gateway.functions.events if _route(e) == "$default"),
               lambda count: count == limit, timeout=20, describe="the queued messages invoked")
