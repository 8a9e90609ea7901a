"""The HTTP server the local gateway runs on: uvicorn, set up the one way the local
stack and the gateway's tests both use.

Idle connections are kept for `IDLE_CONNECTION_SECONDS`, longer than any client of
this project keeps one (httpx: 5 s, the default `crudops verify` and `crudops demo`
use). With uvicorn's default (5 s) the two timers were equal: a client reusing a
connection in the instant the server closed it wrote its request into a socket that
was being closed, and the unread request made the kernel answer with a reset
(`httpx.ReadError: [Errno 104] Connection reset by peer`), which `crudops verify`
cannot tell from a lost command. A server that outlives its clients' idle timers
closes no connection a client still means to use (ADR 0033).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time

import uvicorn
from starlette.applications import Starlette

from crudops_local.apigateway.websocket.server import MESSAGE_LIMIT_BYTES, DenialLogFilter

# Longer than the idle timer of every HTTP client the project ships (httpx's 5 s);
# the same as an Application Load Balancer's default idle timeout.
IDLE_CONNECTION_SECONDS = 60
# A frame just over the WebSocket limit must reach the gateway, which closes with
# 1009 as API Gateway does; uvicorn's own cap would close first, with its own code.
_WS_MAX_FRAME_BYTES = MESSAGE_LIMIT_BYTES + 1024
START_TIMEOUT_SECONDS = 30.0


def gateway_server(app: Starlette) -> uvicorn.Server:
    """A uvicorn server for `app`, not yet started."""
    config = uvicorn.Config(app, log_level="warning", ws="websockets-sansio", lifespan="off",
                            ws_max_size=_WS_MAX_FRAME_BYTES,
                            timeout_keep_alive=IDLE_CONNECTION_SECONDS)
    uvicorn_errors = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, DenialLogFilter) for f in uvicorn_errors.filters):
        uvicorn_errors.addFilter(DenialLogFilter())
    return uvicorn.Server(config)


def serve_in_thread(server: uvicorn.Server, listener: socket.socket) -> threading.Thread:
    """Runs `server` on `listener` in a daemon thread; returns once it accepts
    connections. Raises RuntimeError if it stops or does not start in time."""
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[listener])),
                              name="gateway", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the local gateway did not start")
        time.sleep(0.02)  # polling a flag uvicorn sets, under a deadline
    return thread
