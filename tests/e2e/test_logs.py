"""`crudops logs` on the running local stack, run as the operator runs it: a process
in a directory whose `.crudops/local-stack.json` is the session stack's."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Api
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

CRUDOPS = [sys.executable, "-m", "tools.cli"]
REPO_ROOT = Path(__file__).resolve().parents[2]


def _environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT)}


def test_logs_of_one_request_show_its_create_records(api: Api, operator_dir: Path) -> None:
    # GIVEN a create that has been answered
    request_id = api.submit("POST", "/items", json={"name": "logged"})
    assert api.stored_outcome(request_id)["status"] == "success"

    # WHEN the operator asks for the create function's records of that request
    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CRUDOPS, "logs", "create", "--local", "--request-id", request_id, "--json"],
            cwd=operator_dir, env=_environment(), text=True, capture_output=True,
            timeout=120)

    # (the worker's stdout reaches the file a moment after the outcome is stored)
    result = wait_until(run, lambda r: r.returncode == 0 and "command answered" in r.stdout,
                        timeout=30, interval=0.5, describe=f"create's records of {request_id}")

    # THEN each is a Powertools record of that request, in time order
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records and all(r["requestId"] == request_id for r in records), records
    assert [r["fields"]["operation"] for r in records] == ["create"] * len(records)
    times = [r["time"] for r in records]
    assert times == sorted(times)
    # and the text form shows the same records one line each
    text = subprocess.run(
        [*CRUDOPS, "logs", "create", "--local", "--request-id", request_id],
        cwd=operator_dir, env=_environment(), text=True, capture_output=True, timeout=120)
    assert text.returncode == 0, text.stderr
    lines = [line for line in text.stdout.splitlines() if not line.startswith("    ")]
    assert len(lines) == len(records)
    assert all(line.split()[2] == request_id for line in lines), lines


def test_an_unknown_function_is_one_line_listing_the_names(operator_dir: Path) -> None:
    result = subprocess.run([*CRUDOPS, "logs", "creat", "--local"], cwd=operator_dir,
                            env=_environment(), text=True, capture_output=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: no function 'creat' in this stack (hint: one of create, notify, read, "
        "update-delete, ws-authorizer, ws-connect, ws-default, ws-disconnect)"]


class _Lines:
    """The lines a process writes to one of its pipes, read as they come."""

    def __init__(self, pipe: Iterator[str]) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self._thread.start()

    def _read(self, pipe: Iterator[str]) -> None:
        for line in pipe:
            self.lines.append(line)

    def snapshot(self) -> list[str]:
        return list(self.lines)


def test_follow_prints_a_request_made_after_it_started_and_stops_on_ctrl_c(
        api: Api, operator_dir: Path) -> None:
    process = subprocess.Popen(
        [*CRUDOPS, "logs", "create", "--local", "--follow", "--since", "0s"],
        cwd=operator_dir, env=_environment(), text=True, bufsize=1,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert process.stdout is not None and process.stderr is not None
        out, err = _Lines(process.stdout), _Lines(process.stderr)
        wait_until(err.snapshot, lambda lines: any("following" in line for line in lines),
                   timeout=60, describe="the follower started")

        # WHEN a create is made after it started
        request_id = api.submit("POST", "/items", json={"name": "followed"})

        # THEN its records appear, and Ctrl-C ends it with one line and exit code 0
        wait_until(out.snapshot, lambda lines: any(request_id in line for line in lines),
                   timeout=60, describe=f"a followed record of {request_id}")
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        wait_until(err.snapshot, lambda lines: "stopped following" in "".join(lines),
                   timeout=10, describe="the stop line")
        assert not any("Traceback" in line for line in err.snapshot())
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
