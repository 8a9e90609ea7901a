"""A moto server on 127.0.0.1 (port chosen by the OS), for tests that talk to AWS over
HTTP as the local stack does."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from moto.server import ThreadedMotoServer


@contextmanager
def running_moto_server() -> Iterator[str]:
    """Its endpoint URL while the block runs, starting empty.

    A threaded server keeps its state in this process's moto backends, shared with
    every other one: reset first, so that what an earlier test created is not there.
    """
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        httpx.post(f"{endpoint}/moto-api/reset", timeout=30).raise_for_status()
        yield endpoint
    finally:
        server.stop()
