"""A moto server on 127.0.0.1 (port chosen by the OS), for tests that talk to AWS over
HTTP as the local stack does."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from moto.server import ThreadedMotoServer


@contextmanager
def running_moto_server() -> Iterator[str]:
    """Its endpoint URL while the block runs."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()
