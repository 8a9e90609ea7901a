"""`crudops load` as a Locust master with a worker started on its own, as on another
machine (docs/adr/0022): the worker takes the scenario's options from the master and
its statistics and timeline reach the master's report. Against the echo server of
benchmarks/ (every command answered at once), on 127.0.0.1, so no stack is needed."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.support.waiting import wait_until
from tools.load.options import LOCUSTFILE, LoadOptions
from tools.load.run import do_load
from tools.load.target import LoadTarget, probe


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def echo_server() -> Iterator[str]:
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "benchmarks.echo_server", "--port",
                               str(port)])
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: probe(url), lambda problem: problem is None, timeout=30,
                   describe="the echo server listening")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_worker_started_elsewhere_joins_the_master_and_its_counts_are_merged(
        echo_server: str) -> None:
    master_port = _free_port()
    worker = subprocess.Popen(
        [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--worker", "--master-host",
         "127.0.0.1", "--master-port", str(master_port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        result = do_load(
            LoadOptions(rest_url="", ws_url="", rate=40, users=4, run_time="4s",
                        notify_timeout_seconds=10, locust_args=(
                            "--master", "--master-bind-host", "127.0.0.1",
                            "--master-bind-port", str(master_port), "--expect-workers", "1",
                            "--expect-workers-max-wait", "60")),
            LoadTarget(f"{echo_server}/v1", echo_server.replace("http", "ws") + "/live",
                       "echo server"), on_output=lambda line: None)
        worker.wait(timeout=60)  # the master tells it to quit
    finally:
        if worker.poll() is None:
            worker.kill()
    summary = result.summary
    assert result.exit_code == 0, (summary.failures, summary.errors)
    # the master ran no users itself: every command was the worker's, at the master's rate
    assert summary.workers == 1 and summary.commands >= 120, summary.commands
    assert summary.total("notified") == summary.commands == summary.total("offered")
    assert {row.name for row in summary.notifications} >= {"create"}
