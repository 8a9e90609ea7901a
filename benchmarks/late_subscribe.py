"""How soon a subscriber gets an outcome, by the way it subscribes, on a running stack.

    crudops local up &   # then, once it is up:
    python -m benchmarks.late_subscribe --requests 20

For each of `--requests` creates, in turn:
- `connect ?requestId=` after the outcome is stored (the `$connect` replay path);
- `connect ?requestId=` right after the 202 (the outcome lands while, or just after,
  the connection is accepted);
- an open connection and `{"action": "subscribe"}` after the outcome is stored.
Each figure is the time from the start of the connect (or the subscribe frame) to the
notification. A measurement to read, not a timed test.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import urllib.parse
from typing import Any

import httpx
from websockets.sync.client import connect


def _env() -> dict[str, str]:
    out = subprocess.run([sys.executable, "-m", "tools.cli", "local", "env", "--json"],
                         check=True, capture_output=True, text=True).stdout
    found: dict[str, str] = json.loads(out)
    return found


def _token() -> str:
    out = subprocess.run([sys.executable, "-m", "tools.cli", "local", "token", "--json"],
                         check=True, capture_output=True, text=True).stdout
    return str(json.loads(out)["token"])


def _notified(ws: Any, request_id: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        frame = json.loads(ws.recv(timeout=30))
        if frame.get("type") == "notification" and frame.get("requestId") == request_id:
            return
    raise TimeoutError(f"no notification of {request_id}")


def _stored(http: httpx.Client, request_id: str) -> None:
    deadline = time.monotonic() + 30
    while http.get(f"/requests/{request_id}").status_code != 200:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no outcome of {request_id}")
        time.sleep(0.02)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args(argv)
    env, token = _env(), _token()
    rest, ws_url = env["CRUDOPS_REST_URL"], env["CRUDOPS_WS_URL"]
    headers = {"Authorization": token}
    figures: dict[str, list[float]] = {"connect ?requestId= after the outcome": [],
                                       "connect ?requestId= right after the 202": [],
                                       "subscribe frame after the outcome": []}
    with httpx.Client(base_url=rest, headers=headers, timeout=30) as http, \
            connect(ws_url, additional_headers=headers) as open_ws:
        for _ in range(args.requests):
            def create() -> str:
                return str(http.post("/items", json={"name": "late"}).json()["requestId"])

            def url(rid: str) -> str:
                return ws_url + "?" + urllib.parse.urlencode({"requestId": rid})

            request_id = create()
            _stored(http, request_id)
            started = time.monotonic()
            with connect(url(request_id), additional_headers=headers) as ws:
                _notified(ws, request_id)
            figures["connect ?requestId= after the outcome"].append(time.monotonic() - started)

            request_id = create()
            started = time.monotonic()
            with connect(url(request_id), additional_headers=headers) as ws:
                _notified(ws, request_id)
            figures["connect ?requestId= right after the 202"].append(
                time.monotonic() - started)

            request_id = create()
            _stored(http, request_id)
            started = time.monotonic()
            open_ws.send(json.dumps({"action": "subscribe", "requestId": request_id}))
            _notified(open_ws, request_id)
            figures["subscribe frame after the outcome"].append(time.monotonic() - started)
    for name, seconds in figures.items():
        ms = sorted(s * 1000 for s in seconds)
        print(f"{name}: p50 {statistics.median(ms):.0f} ms, max {ms[-1]:.0f} ms "
              f"({len(ms)} requests)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
