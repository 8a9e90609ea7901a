"""A small HTTP server on a background thread, for the local stack's side services
(the percentile service) and the CLI's dashboard page.

Both answer a handful of requests from one person or one page; the standard
library's `ThreadingHTTPServer` is enough and adds no dependency.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class BackgroundHttpServer:
    """Serves `handler` on host:port (0: a free port) until `stop()`. Raises OSError
    when the address cannot be bound."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], *, host: str = "127.0.0.1",
                 port: int = 0, name: str = "http") -> None:
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name=name,
                                        daemon=True)

    @property
    def origin(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
