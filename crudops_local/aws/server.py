"""The embedded AWS endpoint: a moto server in its own process.

Its own process, because moto holds one interpreter lock for every request it serves
(docs/emulator-facts.md): sharing it with the gateways and pollers would serialize the
whole stack on one core.

moto's costs that grow with queue depth and table size are patched in this process
only (crudops_local/aws/moto_patches.py; docs/adr/0008-local-stack-from-the-template.md).

It also serves one private route, a bulk send into a queue for a benchmark that owns
the server (crudops_local/aws/bulk_send.py).

It ignores SIGINT and SIGTERM (crudops_local/child_signals.py) and stops when its stdin
closes: the stack closes it after everything that calls the endpoint has stopped, and
the system closes it when the stack's process ends, however it ends.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
from typing import Any

from crudops_local.aws import bulk_send, moto_patches
from crudops_local.child_signals import ignore_stop_signals


def port_taken(host: str, port: int) -> str | None:
    """Why `port` cannot be served on `host` (in use, not allowed), or None. Checked
    before moto's server starts: its thread would only log the failure."""
    if port == 0:
        return None
    probe = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as werkzeug binds
        probe.bind((host, port))
    except OSError as exc:
        return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
    finally:
        probe.close()
    return None


def serve(host: str, port: int) -> None:
    import logging

    problem = port_taken(host, port)
    if problem is not None:
        print(json.dumps({"error": problem}), flush=True)
        return

    from moto.server import ThreadedMotoServer

    # One access-log line per AWS call would drown the stack's own output.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto_patches.apply()
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    # werkzeug's request handler reads `server.app` per request
    wsgi_server: Any = server._server
    wsgi_server.app = bulk_send.BulkSendRoute(wsgi_server.app)
    bound_host, bound_port = server.get_host_and_port()
    print(json.dumps({"endpoint": f"http://{bound_host}:{bound_port}"}), flush=True)
    # The parent holds our stdin; it closes it to stop us, or the system does when the
    # parent exits.
    sys.stdin.read()
    server.stop()


def main() -> None:
    ignore_stop_signals()
    parser = argparse.ArgumentParser(description="Serve the embedded AWS emulation.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    arguments = parser.parse_args()
    serve(arguments.host, arguments.port)


if __name__ == "__main__":
    main()
