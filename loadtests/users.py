"""A crudops client as Locust runs it: each request's 202, then its notification.

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

Options (each also a `LOCUST_…` environment variable): `--ws-url`, `--notify-timeout`,
`--summary-file` (the final statistics as JSON, written when Locust quits, after the
last user stopped: Locust's CSV files are rewritten only once a second, so they can
miss the last notifications, often the lost ones).
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
from locust.stats import StatsError

from loadtests.contract import HTTP_TIMEOUT_SECONDS, LOST, NOTIFY

CONNECT_TIMEOUT_SECONDS = 30.0


class NotificationLost(Exception):
    """No notification within --notify-timeout (counted as lost by `crudops load`)."""


assert NotificationLost.__name__ == LOST


class NotificationError(Exception):
    """The request ended in an `error` outcome (its code is the message)."""


class WebSocketClosed(Exception):
    """The connection dropped while the command waited (reopened for the next one)."""


@events.init_command_line_parser.add_listener  # type: ignore[untyped-decorator]
def _options(parser: Any) -> None:
    parser.add_argument("--ws-url", type=str, env_var="LOCUST_WS_URL", default="",
                        help="WebSocket API URL of the stack (ws://… or wss://…)")
    parser.add_argument("--notify-timeout", type=float, env_var="LOCUST_NOTIFY_TIMEOUT",
                        default=30.0,
                        help="Seconds to wait for a notification before counting it lost")
    parser.add_argument("--summary-file", type=str, env_var="LOCUST_SUMMARY_FILE",
                        default="", help="Write the final statistics here as JSON")


@events.quit.add_listener  # type: ignore[untyped-decorator]
def _write_summary(exit_code: int, **kwargs: Any) -> None:
    environment = _ENVIRONMENT[0] if _ENVIRONMENT else None
    options = environment.parsed_options if environment is not None else None
    if environment is None or options is None or not options.summary_file:
        return
    stats = environment.stats
    runner = environment.runner
    summary = {
        "exit_code": exit_code,
        "entries": [{
            "type": entry.method, "name": entry.name, "count": entry.num_requests,
            "failures": entry.num_failures,
            "p50_ms": entry.get_response_time_percentile(0.5),
            "p95_ms": entry.get_response_time_percentile(0.95),
            "p99_ms": entry.get_response_time_percentile(0.99),
            "per_second": entry.total_rps,
        } for entry in stats.entries.values()],
        # `error.error` is the exception itself; Locust's own text of it for the report
        "failures": [{"type": error.method, "name": error.name,
                      "error": StatsError.parse_error(error.error),
                      "occurrences": error.occurrences} for error in stats.errors.values()],
        "exceptions": [{"message": row["msg"], "count": row["count"]}
                       for row in (runner.exceptions.values() if runner else [])],
    }
    text = json.dumps(summary, default=str)  # whole before the file is opened
    with open(options.summary_file, "w") as handle:
        handle.write(text)


_ENVIRONMENT: list[Any] = []


@events.init.add_listener  # type: ignore[untyped-decorator]
def _keep_environment(environment: Any, **kwargs: Any) -> None:
    _ENVIRONMENT[:] = [environment]


class CrudUser(HttpUser):
    wait_time = between(0.1, 0.5)

    def on_start(self) -> None:
        options = self.environment.parsed_options
        if not options or not options.ws_url:
            raise StopUser("--ws-url (LOCUST_WS_URL) is required")
        self.notify_timeout = float(options.notify_timeout)
        self.ws_url = str(options.ws_url)
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
        with self.client.request(method, path, name=name, catch_response=True,
                                 timeout=HTTP_TIMEOUT_SECONDS, **kwargs) as response:
            if response.status_code != 202:
                response.failure(f"{response.status_code}: {response.text[:200]}")
                return None
            request_id = str(response.json()["requestId"])
        accepted = time.perf_counter()
        try:
            self._connected().send(json.dumps({"action": "subscribe",
                                               "requestId": request_id}))
            outcome, size, failure = self._notification(request_id)
        except (websocket.WebSocketException, OSError) as exc:
            self._drop_connection()
            outcome, size, failure = None, 0, WebSocketClosed(str(exc))
        if failure is None and outcome is not None and outcome.get("status") != "success":
            failure = NotificationError(str((outcome.get("error") or {}).get("code")))
        events.request.fire(  # type: ignore[no-untyped-call]
            request_type=NOTIFY, name=operation,
            response_time=(time.perf_counter() - accepted) * 1000,
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
