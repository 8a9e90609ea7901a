"""The closed-loop crudops client (`crudops load --mode closed`): each user waits for
its notification before its next command, so the offered load falls as the stack
slows (loadtests/open_loop.py is the open loop, the default).

A `CrudUser` holds one WebSocket connection, as a browser tab would, and works on the
items it created: create, get, list, update and delete in the proportions of its
`@task` weights. For every command it reports two things to Locust's statistics (so
the console, the CSV files and the HTML report show both):

- the HTTP call (`POST /items`, ...): time to the `202 Accepted`;
- `NOTIFY <operation>`: time from the 202 to the WebSocket notification of that
  request (subscribing on the open connection right after the 202, as a client must).
  A notification that does not arrive within `--notify-timeout` is a failure named
  "lost", one with status `error` a failure named after its error code.

A connection that drops (API Gateway closes every WebSocket after two hours) fails
the command waiting on it (`WebSocketClosed`) and is opened again for the next one.

Options: loadtests/options.py; the summary `crudops load` reads: loadtests/reporting.py.
"""

from __future__ import annotations

import contextlib
import json
import random
import time
import uuid
from typing import Any

import websocket
from locust import HttpUser, between, events, task
from locust.exception import StopUser

from loadtests.auth import auth_headers, next_identity, with_token
from loadtests.contract import (
    ACCEPTED,
    ERRORS,
    HTTP_TIMEOUT_SECONDS,
    LOST_COUNT,
    NOTIFIED,
    NOTIFY,
    OFFERED,
)
from loadtests.failures import (
    NotificationError,
    NotificationLost,
    WebSocketClosed,
    http_failure,
)
from loadtests.reporting import TIMELINE

CONNECT_TIMEOUT_SECONDS = 30.0


class CrudUser(HttpUser):
    wait_time = between(0.1, 0.5)

    def on_start(self) -> None:
        options = self.environment.parsed_options
        if not options or not options.ws_url:
            raise StopUser("--ws-url (LOCUST_WS_URL) is required")
        self.notify_timeout = float(options.notify_timeout)
        _, token = next_identity(options)
        self.headers = auth_headers(token)
        self.ws_url = with_token(str(options.ws_url), token)
        self.connection: Any = None
        self.items: list[str] = []

    def on_stop(self) -> None:
        self._drop_connection()

    def _drop_connection(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(websocket.WebSocketException, OSError):
                self.connection.close()
            self.connection = None

    def _connected(self) -> Any:
        if self.connection is None:
            self.connection = websocket.create_connection(self.ws_url,
                                                          timeout=CONNECT_TIMEOUT_SECONDS)
        return self.connection

    # --- the commands -------------------------------------------------------------
    @task(4)
    def create(self) -> None:
        outcome = self._command("POST", "/items", "POST /items", "create",
                                json={"name": f"load {uuid.uuid4().hex[:8]}"})
        if outcome and outcome.get("status") == "success":
            self.items.append(str(outcome["result"]["id"]))

    @task(2)
    def get(self) -> None:
        if not self.items:
            return self.create()
        self._command("GET", f"/items/{random.choice(self.items)}", "GET /items/{id}", "get")
        return None

    @task(1)
    def list_items(self) -> None:
        self._command("GET", "/items?limit=10", "GET /items", "list")

    @task(2)
    def update(self) -> None:
        if not self.items:
            return self.create()
        self._command("PUT", f"/items/{random.choice(self.items)}", "PUT /items/{id}",
                      "update", json={"description": f"updated {time.time():.3f}"})
        return None

    @task(1)
    def delete(self) -> None:
        if not self.items:
            return self.create()
        item = self.items.pop(random.randrange(len(self.items)))
        self._command("DELETE", f"/items/{item}", "DELETE /items/{id}", "delete")
        return None

    # --- one command: 202, subscribe, notification ---------------------------------
    def _command(self, method: str, path: str, name: str, operation: str,
                 **kwargs: Any) -> dict[str, Any] | None:
        TIMELINE.count(time.time(), OFFERED)
        with self.client.request(method, path, name=name, catch_response=True,
                                 headers=self.headers, timeout=HTTP_TIMEOUT_SECONDS,
                                 **kwargs) as response:
            if response.status_code != 202:
                response.failure(http_failure(response.status_code,
                                              getattr(response, "error", None)))
                TIMELINE.count(time.time(), ERRORS)
                return None
            request_id = str(response.json()["requestId"])
        accepted = time.perf_counter()
        TIMELINE.count(time.time(), ACCEPTED)
        try:
            self._connected().send(json.dumps({"action": "subscribe",
                                               "requestId": request_id}))
            outcome, size, failure = self._notification(request_id)
        except (websocket.WebSocketException, OSError) as exc:
            self._drop_connection()
            outcome, size, failure = None, 0, WebSocketClosed(str(exc))
        if failure is None and outcome is not None and outcome.get("status") != "success":
            failure = NotificationError(str((outcome.get("error") or {}).get("code")))
        notify_ms = (time.perf_counter() - accepted) * 1000
        if outcome is not None:
            TIMELINE.count(time.time(), NOTIFIED)
            TIMELINE.notified(time.time(), operation, notify_ms)
        if failure is not None:
            TIMELINE.count(time.time(), LOST_COUNT if isinstance(failure, NotificationLost)
                           else ERRORS)
        events.request.fire(  # type: ignore[no-untyped-call]
            request_type=NOTIFY, name=operation,
            response_time=notify_ms,
            response_length=size, exception=failure, context={"requestId": request_id})
        return outcome

    def _notification(self, request_id: str
                      ) -> tuple[dict[str, Any] | None, int, Exception | None]:
        """The notification of `request_id` (others, e.g. duplicates, are skipped)."""
        deadline = time.monotonic() + self.notify_timeout
        while (remaining := deadline - time.monotonic()) > 0:
            self.connection.settimeout(remaining)
            try:
                frame = self.connection.recv()
            except websocket.WebSocketTimeoutException:
                break
            try:
                message = json.loads(frame)
            except ValueError:
                continue
            if message.get("type") == "notification" and message.get("requestId") == request_id:
                return message, len(frame), None
        return None, 0, NotificationLost("lost")
