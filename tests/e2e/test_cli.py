"""The operator's entry points, run as processes: `crudops local up` and `crudops demo`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from tools.local.stack import LocalStack

pytestmark = pytest.mark.e2e

CRUDOPS = [sys.executable, "-m", "tools.cli"]
REPO_ROOT = Path(__file__).resolve().parents[2]


def _environment() -> dict[str, str]:
    environment = dict(os.environ)
    environment["PYTHONPATH"] = str(REPO_ROOT)
    return environment


def _first_line(process: subprocess.Popen[str], timeout: float) -> str:
    """The first stdout line, or fail after `timeout` showing what stderr said."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()),  # type: ignore[union-attr]
                              daemon=True)
    reader.start()
    reader.join(timeout)
    if not lines or not lines[0]:
        process.kill()
        _, errors = process.communicate(timeout=10)
        raise AssertionError(f"no output within {timeout:g} s; stderr: {errors[-2000:]}")
    return lines[0]


def test_local_up_prints_its_endpoints_serves_and_stops_cleanly_on_sigterm(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    # GIVEN the template the session synthesized (no second synth)
    template = local_stack.options.template
    process = subprocess.Popen(
        [*CRUDOPS, "local", "up", "--template", str(template), "--json"],
        cwd=tmp_path, env=_environment(), text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        endpoints = json.loads(_first_line(process, timeout=120))
        assert set(endpoints) >= {"rest_url", "ws_url", "aws_endpoint"}
        assert endpoints["rest_url"].startswith("http://127.0.0.1:")
        assert endpoints["ws_url"].startswith("ws://127.0.0.1:")
        state = json.loads((tmp_path / ".crudops" / "local-stack.json").read_text())
        assert state["rest_url"] == endpoints["rest_url"]

        response = httpx.post(f"{endpoints['rest_url']}/items", json={"name": "via cli"},
                              timeout=30)
        assert response.status_code == 202

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert not (tmp_path / ".crudops" / "local-stack.json").exists()


def test_demo_against_the_running_local_stack_answers_every_step(
        local_stack: LocalStack, tmp_path: Path) -> None:
    # GIVEN the running stack's description where `--local` looks for it
    assert local_stack.options.state_file is not None
    (tmp_path / ".crudops").mkdir()
    (tmp_path / ".crudops" / "local-stack.json").write_text(
        local_stack.options.state_file.read_text())
    result = subprocess.run(
        [*CRUDOPS, "demo", "--local", "--json"], cwd=tmp_path,
        env=_environment(), text=True, capture_output=True, timeout=300,
    )

    steps = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert result.returncode == 0, (result.stdout, result.stderr[-2000:])
    assert [s["step"] for s in steps] == [
        "create", "get", "list", "update", "update (stale version)", "delete", "bad request"]
    assert all(s["ok"] for s in steps), steps
    notified = [s for s in steps if s["status"]]
    assert len(notified) == 6
    assert all(s["latencyMs"] is not None and s["latencyMs"] >= 0 for s in notified)


def test_local_up_with_a_missing_template_is_a_user_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [*CRUDOPS, "local", "up", "--template", str(tmp_path / "nope.json")],
        cwd=tmp_path, env=_environment(), text=True, capture_output=True, timeout=120,
    )
    assert result.returncode == 2
    assert "does not exist" in result.stderr
    assert "Traceback" not in result.stderr
