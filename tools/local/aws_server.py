"""The embedded AWS endpoint: a moto server in its own process.

Its own process, because moto holds one interpreter lock for every request it serves
(see EMULATOR-FACTS.md): sharing it with the gateways and pollers would serialize the
whole stack on one core.

moto's SQS computes "now" through a datetime-based clock many times per queued
message on every call, which makes receive cost grow steeply with queue depth. This
process swaps that clock for `time.time()` (same values, a fraction of the cost);
see docs/adr/0008-local-stack.md.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from typing import Any


def _fast_unix_time(dt: Any = None) -> float:
    if dt is None:
        return time.time()
    from moto.core.utils import unix_time

    return float(unix_time(dt))


def _fast_unix_time_millis(dt: Any = None) -> float:
    return _fast_unix_time(dt) * 1000.0


def patch_sqs_clock() -> None:
    """Replace the clock moto.sqs.models imported; the values are the same epoch seconds."""
    import moto.sqs.models as sqs_models

    setattr(sqs_models, "unix_time", _fast_unix_time)  # noqa: B010
    setattr(sqs_models, "unix_time_millis", _fast_unix_time_millis)  # noqa: B010


def serve(host: str, port: int) -> None:
    import logging

    from moto.server import ThreadedMotoServer

    # One access-log line per AWS call would drown the stack's own output.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    patch_sqs_clock()
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    bound_host, bound_port = server.get_host_and_port()
    print(json.dumps({"endpoint": f"http://{bound_host}:{bound_port}"}), flush=True)
    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())

    def stop_when_parent_leaves() -> None:
        # The parent holds our stdin; it closes when the parent exits, however it exits.
        sys.stdin.read()
        stopped.set()

    threading.Thread(target=stop_when_parent_leaves, daemon=True).start()
    stopped.wait()
    server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the embedded AWS emulation.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    arguments = parser.parse_args()
    serve(arguments.host, arguments.port)


if __name__ == "__main__":
    main()
