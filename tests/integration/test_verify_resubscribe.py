"""`crudops verify` over real connections: it stops with one line when an answer is
lost, and subscribes again to what its first subscribe never answered (a gateway that
refuses each requestId's first subscribe as the local gateway refuses beyond its
queue: `Too Many Requests`, no requestId)."""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
from collections import Counter
from collections.abc import Iterator

import pytest
from websockets.sync.server import Server, ServerConnection, serve

from tests.support.waiting import wait_until
from tools.errors import UserError
from tools.verify.run import Driver, Notifications, RunSettings
from tools.verify.workload import Kind, Step


class RefusesFirstSubscribe:
    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, connection: ServerConnection) -> None:
        for frame in connection:
            request_id = json.loads(frame)["requestId"]
            with self._lock:
                self.seen[request_id] += 1
                first = self.seen[request_id] == 1
            if first:
                connection.send(json.dumps({"message": "Too Many Requests",
                                            "connectionId": "c", "requestId": "gw"}))
                continue
            connection.send(json.dumps({"type": "subscribed", "requestId": request_id}))
            connection.send(json.dumps({"type": "notification", "requestId": request_id,
                                        "status": "success", "result": {}}))


@pytest.fixture
def gateway() -> Iterator[tuple[str, RefusesFirstSubscribe]]:
    handler = RefusesFirstSubscribe()
    server: Server = serve(handler, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"ws://127.0.0.1:{server.socket.getsockname()[1]}", handler
    finally:
        server.shutdown()
        thread.join(10)


def test_what_the_first_subscribe_never_answered_is_subscribed_again(
        gateway: tuple[str, RefusesFirstSubscribe]) -> None:
    url, handler = gateway
    request_ids = [f"r{n}" for n in range(120)]
    notifications = Notifications(url, connections=2)
    try:
        for request_id in request_ids:
            notifications.subscribe(request_id)
        # GIVEN every first subscribe refused: none acknowledged, none notified
        wait_until(lambda: sum(handler.seen.values()), lambda n: n == len(request_ids),
                   timeout=30, describe="the gateway to refuse every first subscribe")
        assert notifications.unanswered(request_ids) == request_ids
        # WHEN the unanswered ones are subscribed again
        progress: list[tuple[int, int]] = []
        notifications.resubscribe_unanswered(
            request_ids, lambda done, total: progress.append((done, total)))
        # THEN each was sent once more and is now answered and notified, the bar
        # counting up to all of them
        assert progress[-1] == (len(request_ids), len(request_ids))
        assert [done for done, _ in progress] == sorted(done for done, _ in progress)
        assert notifications.unanswered(request_ids) == []
        assert notifications.count(request_ids) == len(request_ids)
        assert notifications.resubscribed == len(request_ids)
        assert all(handler.seen[r] == 2 for r in request_ids)
    finally:
        notifications.close()


def test_nothing_is_sent_again_when_every_subscribe_was_answered(
        gateway: tuple[str, RefusesFirstSubscribe]) -> None:
    url, handler = gateway
    notifications = Notifications(url, connections=1)
    try:
        progress: list[tuple[int, int]] = []
        notifications.resubscribe_unanswered([], lambda d, t: progress.append((d, t)))
        assert notifications.resubscribed == 0 and not handler.seen
        assert progress == []  # no bar for nothing to do
    finally:
        notifications.close()


@pytest.fixture
def resetting_rest() -> Iterator[str]:
    """A REST endpoint that accepts each connection and drops it unanswered."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def drop() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                  struct.pack("ii", 1, 0))  # close with a reset
            connection.close()

    thread = threading.Thread(target=drop, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        # close() alone does not wake a thread blocked in accept(); shutdown() does
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        thread.join(10)
        assert not thread.is_alive()


def test_a_lost_answer_stops_the_run_with_one_line_not_a_traceback(
        gateway: tuple[str, RefusesFirstSubscribe], resetting_rest: str) -> None:
    url, _ = gateway
    notifications = Notifications(url, connections=1)
    driver = Driver(resetting_rest, notifications, "run", RunSettings())
    try:
        with pytest.raises(UserError, match="lost the answer to POST /items") as refused:
            driver.send(Step(Kind.CREATE))
        assert "cannot tell whether that command was accepted" in (refused.value.hint or "")
        assert driver.facts.accepted == [] and driver.facts.rejected == 0
    finally:
        driver.close()
        notifications.close()
