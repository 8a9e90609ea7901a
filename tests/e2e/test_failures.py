"""Failure handling end to end: poison messages and workers dying mid-batch."""

from __future__ import annotations

import os
import signal
import socket
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from functions.contracts.tables import ITEMS_KEY
from tests.e2e.conftest import Api
from tests.support.poison import PoisonMessage, create_max_receive_count, parked_copies
from tests.support.waiting import wait_until
from tools.tokens import token_sub

pytestmark = pytest.mark.e2e


def test_a_poison_message_is_retried_then_parked_in_the_dlq(
        parked_poison: PoisonMessage) -> None:
    # GIVEN a body that is no Command, published as a create (the shared one)
    # WHEN the create consumer fails it on every receive
    parked = parked_poison.parked()
    # THEN SQS parked it, once, in the create DLQ after maxReceiveCount receives
    assert parked.body == parked_poison.body
    assert parked.receive_count is not None
    max_receives = create_max_receive_count(parked_poison.stack)
    assert parked.receive_count >= max_receives, parked.attributes
    assert len(parked_copies(parked_poison.stack, parked_poison.body)) == 1


def _kill_a_busy_create_worker(api: Api, request_ids: list[str]) -> bool:
    """Submit creates until one is in flight, SIGKILL the busy worker(s); True once the
    poller saw the invocation die (False: the invocation had just finished and the
    kill hit an idle worker, which a busy machine makes likely now and then)."""
    stack = api.stack
    (create_pool,) = [p for p in stack.pools.values() if "CreateHandler" in p.spec.logical_id]
    (create_poller,) = [p for p in stack.pollers if "CreateHandler" in p.spec.logical_id]
    errors_before = create_poller.stats.invocation_errors
    busy: list[int] = []
    for index in range(200):
        request_ids.append(api.submit("POST", "/items", json={"name": f"burst {index}"}))
        busy = create_pool.busy_pids
        if busy:
            break
    assert busy, "no create invocation was ever in flight"
    for pid in busy:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if create_poller.stats.invocation_errors > errors_before:
            return True
        time.sleep(0.1)
    return False


def test_a_worker_killed_mid_batch_loses_nothing(api: Api) -> None:
    # WHEN creates are in flight and the function's busy worker is killed
    request_ids: list[str] = []
    assert any(_kill_a_busy_create_worker(api, request_ids) for _ in range(5)), (
        "no kill interrupted an invocation in five tries")

    # THEN the interrupted batch comes back after its visibility timeout and every
    # request ends in exactly one stored success, with one item each
    outcomes = [api.stored_outcome(request_id) for request_id in request_ids]
    assert all(o["status"] == "success" for o in outcomes), outcomes
    item_ids = {o["result"]["id"] for o in outcomes}
    assert len(item_ids) == len(request_ids)
    items_table = api.ref("StorageItems", "AWS::DynamoDB::Table")
    stored = api.aws("dynamodb").batch_get_item(RequestItems={items_table: {
        "Keys": [ITEMS_KEY.of(token_sub(api.token or ""), item_id)
                 for item_id in list(item_ids)[:100]]}})
    assert len(stored["Responses"][items_table]) == min(100, len(item_ids))


def _abandoned_handshake(ws_url: str, request_id: str, token: str) -> None:
    """An upgrade request with `?requestId=` (and the caller's `?token=`), the socket
    closed before the 101 comes."""
    host_port, path = ws_url.split("//", 1)[1].split("/", 1)
    host, port = host_port.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        raw.sendall(f"GET /{path}?requestId={request_id}&token={token} HTTP/1.1\r\n"
                    f"Host: {host_port}\r\n"
                    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    "Sec-WebSocket-Version: 13\r\n\r\n".encode())


def test_abandoned_handshakes_leave_no_subscription(api: Api) -> None:
    """`$connect` stores the subscription; a client that leaves before the 101 still
    gets its `$disconnect`, which removes it (the emulator applies no TTL)."""
    run = uuid.uuid4().hex[:8]
    request_ids = [f"abandoned-{run}-{n}" for n in range(20)]
    for request_id in request_ids:
        assert api.token is not None
        _abandoned_handshake(api.ws_url, request_id, api.token)

    def subscribed_on_connect() -> set[str]:
        lines = [line for log in Path(api.stack.options.log_dir).glob("*WsConnectFunction*.log")
                 for line in log.read_text(errors="replace").splitlines()
                 if "subscribed on connect" in line]
        return {r for r in request_ids if any(f'"{r}"' in line for line in lines)}

    def rows_left() -> list[Any]:
        table = api.ref("StorageSubscriptions", "AWS::DynamoDB::Table")
        items = api.aws("dynamodb").scan(TableName=table)["Items"]
        return [item for item in items if run in str(item)]

    wait_until(subscribed_on_connect, lambda seen: seen == set(request_ids), timeout=60,
               describe="every $connect stored its subscription")
    wait_until(rows_left, lambda rows: not rows, timeout=60,
               describe="the abandoned connections' subscriptions removed")
