"""The embedded AWS endpoint: a moto server in its own process.

Its own process, because moto holds one interpreter lock for every request it serves
(docs/emulator-facts.md): sharing it with the gateways and pollers would serialize the
whole stack on one core.

moto's costs that grow with queue depth and table size are patched in this process
only (crudops_local/aws/moto_patches.py; docs/adr/0008-local-stack-from-the-template.md).

It ignores SIGINT and SIGTERM (crudops_local/child_signals.py) and stops when its stdin
closes: the stack closes it after everything that calls the endpoint has stopped, and
the system closes it when the stack's process ends, however it ends.
"""

from __future__ import annotations

import argparse
import json
import sys

from crudops_local.aws import moto_patches
from crudops_local.child_signals import ignore_stop_signals


def serve(host: str, port: int) -> None:
    import logging

    from moto.server import ThreadedMotoServer

    # One access-log line per AWS call would drown the stack's own output.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto_patches.apply()
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
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
