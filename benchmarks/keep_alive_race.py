"""How often reusing a keep-alive connection meets a reset, by the two idle timers.

    python -m benchmarks.keep_alive_race --server-idle 0.1 --client-idle 0.1
    python -m benchmarks.keep_alive_race --server-idle 0.1 --client-idle 0.05

A bare Starlette app on uvicorn (the server the local gateway runs on) closes a
connection after `--server-idle` seconds; `--clients` httpx clients, each with its own
pool, send a request, wait the server's idle time ± 4 ms, and send again on the pooled
connection. The timers are scaled down from 5 s so that thousands of reuses take
seconds; the race is the same (ADR 0033). `--busy-ms` blocks the server's event loop
for that long every 10 ms (keep it well under 10), as a gateway busy with other
requests' work is: a due idle timer then runs before the request that arrived on its
connection is read.
A measurement to read, not a timed test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import socket
import threading
import time
from collections import Counter

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

JITTER_SECONDS = 0.004


async def _accept(request: Request) -> Response:
    await request.body()
    return JSONResponse({"requestId": "r"}, 202)


def _keep_busy(loop: asyncio.AbstractEventLoop, busy_seconds: float,
               stop: threading.Event) -> None:
    while not stop.wait(0.01):
        loop.call_soon_threadsafe(time.sleep, busy_seconds)  # blocks the loop on purpose


def _serve(server_idle: float, busy_seconds: float,
           stop: threading.Event) -> tuple[uvicorn.Server, str]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    busy_started = threading.Event()

    async def accept(request: Request) -> Response:
        if busy_seconds and not busy_started.is_set():
            busy_started.set()
            threading.Thread(target=_keep_busy, daemon=True, args=(
                asyncio.get_running_loop(), busy_seconds, stop)).start()
        return await _accept(request)

    app = Starlette(routes=[Route("/items", accept, methods=["POST"])])
    # uvicorn takes the keep-alive timeout as given (int or float) and arms a timer
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off",
                                           timeout_keep_alive=server_idle))  # type: ignore[arg-type]
    threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[listener])),
                     daemon=True).start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    return server, f"http://127.0.0.1:{listener.getsockname()[1]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server-idle", type=float, default=0.1)
    parser.add_argument("--client-idle", type=float, default=0.1)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--reuses", type=int, default=300, help="per client")
    parser.add_argument("--busy-ms", type=float, default=0.0)
    args = parser.parse_args()
    stop = threading.Event()
    server, origin = _serve(args.server_idle, args.busy_ms / 1000, stop)
    errors: Counter[str] = Counter()
    lock = threading.Lock()

    def client(seed: int) -> None:
        rnd = random.Random(seed)
        limits = httpx.Limits(keepalive_expiry=args.client_idle)
        with httpx.Client(base_url=origin, timeout=10, limits=limits) as http:
            for _ in range(args.reuses):
                try:
                    http.post("/items", json={"name": "n"})
                except httpx.TransportError as exc:
                    with lock:
                        errors[f"first request: {type(exc).__name__}"] += 1
                    continue
                time.sleep(args.server_idle + rnd.uniform(-JITTER_SECONDS, JITTER_SECONDS))
                try:
                    http.post("/items", json={"name": "n"})
                except httpx.TransportError as exc:
                    with lock:
                        errors[f"reuse: {type(exc).__name__}: {exc}"] += 1

    threads = [threading.Thread(target=client, args=(seed,)) for seed in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stop.set()
    server.should_exit = True
    print(json.dumps({"server_idle_s": args.server_idle, "client_idle_s": args.client_idle,
                      "busy_ms": args.busy_ms, "reuses": args.clients * args.reuses,
                      "errors": dict(errors)}))


if __name__ == "__main__":
    main()
