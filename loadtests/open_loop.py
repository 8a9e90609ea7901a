"""The open-loop crudops client: commands at an arrival rate, whatever the stack does.

A closed loop (loadtests/users.py) waits for each notification before its next
command, so the offered load falls as the stack slows and overload is never seen
(coordinated omission). Here each `OpenLoopUser` fires its share of `--rate` on the
schedule of `--shape` (loadtests/schedules.py), each command in a greenlet of its
own, so neither a slow 202 nor a late notification delays the next arrival.

Each user holds one WebSocket, read by one reader greenlet; an accepted command
waits in the user's `PendingTable` (loadtests/correlation.py) until its notification
arrives, and a reaper greenlet declares lost whatever waited longer than
`--notify-timeout`. When the run ends the user sends nothing more, gives what is
pending up to `--notify-timeout` to arrive, and counts what is left as lost.

Per command, as Locust entries (console, CSV, HTML report):
- the HTTP call (`POST /items`, ...): time to the 202; a failure is named after its
  status (`HttpStatus('503')`) or its connection error (`Unreachable(...)`);
- `NOTIFY <operation>`: 202 → notification; `E2E <operation>`: send → notification.
  A failure `NotificationLost` is a lost one, `NotificationError('<code>')` an error
  outcome, counted by code. An error the command expected (a conflict mix's stale
  `expectedVersion`) is a success under `<operation> conflict`;
- `WS connect`: each (re)connection of the user's WebSocket. After a reconnect the
  pending requests are subscribed again (a late subscriber gets the stored outcome).
"""

from __future__ import annotations

import contextlib
import json
import random
import time
from typing import Any

import gevent
import websocket
from gevent.pool import Group
from locust import events, task
from locust.contrib.fasthttp import FastHttpUser
from locust.exception import StopUser

from loadtests.auth import auth_headers, next_identity, with_token
from loadtests.contract import (
    ACCEPTED,
    CONFLICTS,
    E2E,
    ERRORS,
    EXPECTED_SUFFIX,
    HTTP_TIMEOUT_SECONDS,
    LATE,
    LOST_COUNT,
    NOTIFIED,
    NOTIFY,
    OFFERED,
    WS,
)
from loadtests.correlation import Completed, Lost, Pending, PendingTable
from loadtests.failures import NotificationError, NotificationLost, http_failure
from loadtests.mix import ItemPool, Mix
from loadtests.options import pacer_of
from loadtests.reporting import TIMELINE, run_started_at

CONNECT_TIMEOUT_SECONDS = 30.0
RECONNECT_BACKOFF_SECONDS = 1.0
# An arrival fired this much after its time counts as late: the generator, not the
# stack, was behind (see the `late` counter of the summary).
LATE_SECONDS = 0.1
# Items shared by the users of this process that act for one caller (loadtests/mix.py),
# by the index of their token.
POOLS: dict[int, ItemPool] = {}


class OpenLoopUser(FastHttpUser):
    # In-flight HTTP commands of one user share this many connections.
    concurrency = 64
    network_timeout = float(HTTP_TIMEOUT_SECONDS)
    connection_timeout = 10.0

    def on_start(self) -> None:
        options = self.environment.parsed_options
        if not options or not options.ws_url:
            raise StopUser("--ws-url (LOCUST_WS_URL) is required")
        identity, token = next_identity(options)
        self.pool = POOLS.setdefault(identity, ItemPool())
        self.headers = auth_headers(token)
        self.ws_url = with_token(str(options.ws_url), token)
        self.notify_timeout = float(options.notify_timeout)
        self.pacer = pacer_of(options)
        self.mix = Mix(str(options.mix), shared_items=int(options.shared_items))
        self.rng = random.Random()
        self.table = PendingTable(self.notify_timeout)
        self.connection: Any = None
        self.commands = Group()
        self.next_at = self.pacer.first_arrival(self.rng.random())
        self.helpers = Group()
        self.helpers.spawn(self._read_forever)
        self.helpers.spawn(self._reap_forever)

    def wait_time(self) -> float:
        if self.next_at is None:
            return 0.5  # the schedule is over: idle until Locust stops the user
        return max(0.0, run_started_at() + self.next_at - time.perf_counter())

    @task
    def arrive(self) -> None:
        """One arrival: its command starts in its own greenlet."""
        if self.next_at is None:
            return
        lag = time.perf_counter() - (run_started_at() + self.next_at)
        if lag > LATE_SECONDS:
            TIMELINE.count(time.time(), LATE)
        self.commands.spawn(self._command)
        self.next_at = self.pacer.next_arrival(self.next_at)

    def on_stop(self) -> None:
        self.next_at = None
        self.commands.join(timeout=HTTP_TIMEOUT_SECONDS)
        deadline = time.perf_counter() + self.notify_timeout
        while len(self.table) and time.perf_counter() < deadline:
            gevent.sleep(0.05)
        for lost in self.table.stop(time.perf_counter()):
            self._report_lost(lost)
        self.helpers.kill(block=False)
        self._drop_connection()

    # --- one command: its 202, then it waits in the table ------------------------------
    def _command(self) -> None:
        command = self.mix.next_command(self.rng, self.pool)
        if command.item_id:
            self.pool.begin(command.item_id)
        TIMELINE.count(time.time(), OFFERED)
        sent = time.perf_counter()
        request_id = None
        with self.client.request(command.method, command.path, name=command.name,
                                 json=command.body, headers=self.headers,
                                 catch_response=True) as response:
            if response.status_code == 202:
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    request_id = str(json.loads(response.content)["requestId"])
            if request_id is None:
                response.failure(http_failure(response.status_code,
                                              getattr(response, "error", None)))
            else:
                response.success()
        if request_id is None:
            TIMELINE.count(time.time(), ERRORS)
            if command.item_id:
                self.pool.end(command.item_id)
            return
        self.table.accepted(Pending(request_id, command.operation, sent, time.perf_counter(),
                                    command.expected_codes, command.item_id))
        TIMELINE.count(time.time(), ACCEPTED)
        self._subscribe(request_id)

    def _subscribe(self, request_id: str) -> None:
        if self.connection is None:
            return  # the reader subscribes every pending request once it is connected
        try:
            self.connection.send(json.dumps({"action": "subscribe", "requestId": request_id}))
        except (websocket.WebSocketException, OSError):
            self._drop_connection()  # the reader reconnects and subscribes it again

    # --- the reader and the reaper -------------------------------------------------------
    def _read_forever(self) -> None:
        while True:
            if self.connection is None and not self._connect():
                gevent.sleep(RECONNECT_BACKOFF_SECONDS)
                continue
            try:
                frame = self.connection.recv()
            except (websocket.WebSocketException, OSError):
                self._drop_connection()
                continue
            completed = self.table.notified(frame, time.perf_counter())
            if isinstance(completed, Lost):
                self._report_lost(completed)
            elif completed is not None:
                self._report(completed)

    def _connect(self) -> bool:
        started = time.perf_counter()
        failure: Exception | None = None
        try:
            connection = websocket.create_connection(self.ws_url,
                                                     timeout=CONNECT_TIMEOUT_SECONDS)
            connection.settimeout(None)
        except (websocket.WebSocketException, OSError) as exc:
            failure = exc
        events.request.fire(  # type: ignore[no-untyped-call]
            request_type=WS, name="connect", response_time=(time.perf_counter() - started) * 1000,
            response_length=0, exception=failure, context={})
        if failure is not None:
            return False
        self.connection = connection
        for request_id in self.table:  # a reconnect: ask again for what is still pending
            self._subscribe(request_id)
        return True

    def _drop_connection(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            with contextlib.suppress(websocket.WebSocketException, OSError):
                connection.close()

    def _reap_forever(self) -> None:
        interval = min(1.0, max(0.05, self.notify_timeout / 10))
        while True:
            gevent.sleep(interval)
            for lost in self.table.reap(time.perf_counter()):
                self._report_lost(lost)

    # --- what Locust records -----------------------------------------------------------
    def _report(self, completed: Completed) -> None:
        pending = completed.pending
        name = pending.operation + (EXPECTED_SUFFIX if completed.kind == "expected" else "")
        failure = NotificationError(completed.code) if completed.kind == "error" else None
        self._fire(name, completed.notify_ms, completed.end_to_end_ms, completed.size, failure)
        now = time.time()
        TIMELINE.count(now, NOTIFIED)
        TIMELINE.notified(now, pending.operation, completed.notify_ms)
        if completed.kind == "error":
            TIMELINE.count(now, ERRORS)
        elif completed.kind == "expected":
            TIMELINE.count(now, CONFLICTS)
        result = completed.result or {}
        if completed.kind == "success" and "id" in result and "version" in result:
            if pending.operation == "create":
                self.pool.created(str(result["id"]), int(result["version"]))
            elif pending.operation == "update":
                self.pool.seen(str(result["id"]), int(result["version"]))
        if pending.item_id:
            self.pool.end(pending.item_id)

    def _report_lost(self, lost: Lost) -> None:
        self._fire(lost.pending.operation, lost.notify_ms, lost.end_to_end_ms, 0,
                   NotificationLost("lost"))
        TIMELINE.count(time.time(), LOST_COUNT)
        if lost.pending.item_id:
            self.pool.end(lost.pending.item_id)

    def _fire(self, name: str, notify_ms: float, end_to_end_ms: float, size: int,
              failure: Exception | None) -> None:
        for request_type, response_time in ((NOTIFY, notify_ms), (E2E, end_to_end_ms)):
            events.request.fire(  # type: ignore[no-untyped-call]
                request_type=request_type, name=name, response_time=response_time,
                response_length=size, exception=failure, context={})
