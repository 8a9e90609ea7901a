"""Serving the local dashboard: `/` is the page, `/fragment` what it refreshes.

The standard library's threading HTTP server is enough for one or a few browsers on
this machine. Each request draws the dashboard anew from CloudWatch; requests that
arrive while a drawing is under way share it (one lock), so several tabs cost one
drawing per refresh. A failing drawing answers 503 with its one-line reason, which the
page shows in its title and tries again after the next interval.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Final, Protocol

from crudops_local.errors import ConfigurationError
from crudops_local.http_thread import BackgroundHttpServer
from tools.errors import UserError

log = logging.getLogger("crudops.dashboard")


class LocalDashboard(Protocol):
    """What the server draws (tools.dashboard.command.LocalDashboard)."""

    def page(self) -> str: ...

    def fragment(self) -> str: ...

# A drawing younger than this is served again rather than redrawn.
_REUSE_SECONDS: Final = 1.0


class _Drawings:
    def __init__(self, dashboard: LocalDashboard) -> None:
        self._dashboard = dashboard
        self._lock = threading.Lock()
        self._last: dict[str, tuple[float, str]] = {}

    def get(self, kind: str) -> str:
        with self._lock:
            at, text = self._last.get(kind, (0.0, ""))
            if time.monotonic() - at > _REUSE_SECONDS:
                text = (self._dashboard.page() if kind == "page"
                        else self._dashboard.fragment())
                self._last[kind] = (time.monotonic(), text)
            return text


def _handler(drawings: _Drawings) -> type[BaseHTTPRequestHandler]:
    routes: dict[str, Callable[[], str]] = {
        "/": lambda: drawings.get("page"),
        "/fragment": lambda: drawings.get("fragment"),
    }

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            route = routes.get(self.path.split("?", 1)[0])
            if route is None:
                self._send(HTTPStatus.NOT_FOUND, "not found", "text/plain")
                return
            try:
                body = route()
            except ConfigurationError as exc:  # a UserError, or no local stack any more
                self._send(HTTPStatus.SERVICE_UNAVAILABLE, exc.one_line(), "text/plain")
                return
            self._send(HTTPStatus.OK, body, "text/html")

        def _send(self, status: HTTPStatus, body: str, content_type: str) -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", f"{content_type}; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            log.debug("%s " + format, self.address_string(), *args)

    return Handler


class DashboardServer:
    """The dashboard on http://host:port/ (port 0: a free one), in a background thread."""

    def __init__(self, dashboard: LocalDashboard, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        try:
            self._server = BackgroundHttpServer(_handler(_Drawings(dashboard)), host=host,
                                                port=port, name="dashboard")
        except OSError as exc:
            raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                            hint="choose another --port, or 0 for a free one") from exc

    @property
    def url(self) -> str:
        return f"{self._server.origin}/"

    def start(self) -> DashboardServer:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> DashboardServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
