"""The stack's children outlive a terminal's Ctrl-C: the stack stops them, in order.

A terminal sends SIGINT to the whole foreground process group and a service manager
SIGTERM to every process; the embedded AWS server and the function workers must keep
serving until the stack has stopped what calls them (crudops_local/child_signals.py).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from crudops_local.lambda_.runtime import FunctionPool
from crudops_local.lambda_.specs import FunctionSpec
from crudops_local.run import AwsServerProcess

CODE_ROOT = Path(__file__).resolve().parents[2] / "support" / "lambda_code"


def _ignored_signals(pid: int) -> set[int]:
    """The signals a process ignores, from the SigIgn mask in /proc (bit n-1: signal n)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigIgn:"):
            mask = int(line.split()[1], 16)
            return {n for n in range(1, 65) if mask & (1 << (n - 1))}
    raise AssertionError(f"no SigIgn line for {pid}")


@pytest.fixture
def pool(tmp_path: Path) -> Iterator[FunctionPool]:
    spec = FunctionSpec(logical_id="Sample", name="sample", handler="sample.handlers.echo",
                        code_path=CODE_ROOT, environment={"PATH": os.environ.get("PATH", "")},
                        timeout_seconds=30.0)
    pool = FunctionPool(spec, tmp_path / "logs", 1)
    yield pool
    pool.close()


def test_a_worker_keeps_serving_after_sigint_and_sigterm(pool: FunctionPool) -> None:
    pid = pool.invoke({})["pid"]
    assert {signal.SIGINT, signal.SIGTERM} <= _ignored_signals(pid)

    os.kill(pid, signal.SIGINT)
    os.kill(pid, signal.SIGTERM)

    # The same warm worker answers (a worker ended by either would raise here).
    assert pool.invoke({})["pid"] == pid
    assert "KeyboardInterrupt" not in pool.log_path.read_text()


def test_the_aws_server_ignores_stop_signals_and_stops_when_its_stdin_closes() -> None:
    server = AwsServerProcess("127.0.0.1")
    try:
        sqs = boto3.client("sqs", endpoint_url=server.endpoint, region_name="us-east-1",
                           aws_access_key_id="testing", aws_secret_access_key="testing")
        sqs.create_queue(QueueName="still-here")
        assert {signal.SIGINT, signal.SIGTERM} <= _ignored_signals(server.pid)

        os.kill(server.pid, signal.SIGINT)
        os.kill(server.pid, signal.SIGTERM)

        assert sqs.get_queue_url(QueueName="still-here")["QueueUrl"]
    finally:
        server.stop()
    # stop() closed its stdin and waited: the process has exited on its own.
    with pytest.raises(ProcessLookupError):
        os.kill(server.pid, 0)
