"""The local gateway keeps an idle connection for longer than its clients keep it.

Equal idle timers (uvicorn's 5 s, httpx's 5 s) made a client reuse a connection in the
instant the server closed it: the request met a reset (ADR 0033). This holds a
connection idle for as long as httpx would, then uses it again.
"""

from __future__ import annotations

import select
import socket
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crudops_local.apigateway.serving import (
    IDLE_CONNECTION_SECONDS,
    gateway_server,
    serve_in_thread,
)

# The idle timer of the clients the project ships (crudops verify, crudops demo).
CLIENT_IDLE_SECONDS = httpx.Limits().keepalive_expiry or 0.0
# How much longer the server must keep the connection than the client would.
MARGIN_SECONDS = 1.0
REQUEST = b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


async def _ping(request: Request) -> Response:
    return JSONResponse({"ok": True})


@pytest.fixture
def origin() -> Iterator[tuple[str, int]]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    server = gateway_server(Starlette(routes=[Route("/ping", _ping)]))
    thread = serve_in_thread(server, listener)
    yield listener.getsockname()[:2]
    server.should_exit = True
    thread.join(10)
    listener.close()


def _read_response(connection: socket.socket) -> bytes:
    """One whole response (these have a Content-Length and a small body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(4096)
        assert chunk, "the server closed the connection"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        body += connection.recv(4096)
    return head


def test_the_server_outlives_the_clients_idle_timer() -> None:
    assert CLIENT_IDLE_SECONDS + MARGIN_SECONDS < IDLE_CONNECTION_SECONDS


def test_an_idle_connection_is_still_served_after_the_clients_idle_timer(
        origin: tuple[str, int]) -> None:
    # GIVEN a keep-alive connection that has had one answer
    with socket.create_connection(origin, timeout=10) as connection:
        connection.sendall(REQUEST)
        assert _read_response(connection).startswith(b"HTTP/1.1 200")
        # WHEN it stays idle for as long as an httpx client would still reuse it
        closed, _, _ = select.select([connection], [], [],
                                     CLIENT_IDLE_SECONDS + MARGIN_SECONDS)
        # THEN the server has not closed it (a close makes it readable: EOF)
        assert closed == [], "the gateway closed an idle connection a client may reuse"
        connection.sendall(REQUEST)
        assert _read_response(connection).startswith(b"HTTP/1.1 200")
