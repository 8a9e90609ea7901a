"""`crudops local env`: what a shell is told of the running local stack."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tools.cli import app
from tools.local.env import do_local_env, export_lines


def _state(path: Path, **fields: object) -> Path:
    document = {"stack": "Crudops", "region": "eu-west-1",
                "aws_endpoint": "http://127.0.0.1:4566", "resources": {},
                "rest_url": "http://127.0.0.1:3000/v1", "ws_url": "ws://127.0.0.1:3000/live",
                **fields}
    path.write_text(json.dumps(document))
    return path


def test_the_embedded_stack_gives_its_endpoint_region_keys_and_gateways(tmp_path: Path) -> None:
    variables = do_local_env(_state(tmp_path / "local-stack.json"))
    assert variables == {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local", "CRUDOPS_REST_URL": "http://127.0.0.1:3000/v1",
        "CRUDOPS_WS_URL": "ws://127.0.0.1:3000/live"}


def test_a_stack_on_a_real_account_keeps_the_shells_own_credentials(tmp_path: Path) -> None:
    variables = do_local_env(_state(tmp_path / "s.json", aws_endpoint=None, target="account",
                                    placeholder_credentials=False))
    assert "AWS_ENDPOINT_URL" not in variables
    assert "AWS_ACCESS_KEY_ID" not in variables


def test_a_service_sent_elsewhere_gets_its_own_variable(tmp_path: Path) -> None:
    variables = do_local_env(_state(tmp_path / "s.json",
                                    service_endpoints={"dynamodb": "http://127.0.0.1:8000"}))
    assert variables["AWS_ENDPOINT_URL_DYNAMODB"] == "http://127.0.0.1:8000"


def test_the_export_lines_survive_a_shell(tmp_path: Path) -> None:
    """What `eval "$(crudops local env)"` does: the values arrive unchanged."""
    lines = export_lines({"A_URL": "http://x/y?a=1&b='2'", "B": "plain"})
    shown = subprocess.run(["sh", "-c", "\n".join(lines) + '\nprintf "%s|%s" "$A_URL" "$B"'],
                           capture_output=True, text=True, check=True,
                           env={"PATH": os.environ["PATH"]}).stdout
    assert shown == "http://x/y?a=1&b='2'|plain"


def test_without_a_running_stack_it_is_one_line(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the state file is .crudops/local-stack.json here
    result = CliRunner().invoke(app, ["local", "env"], catch_exceptions=False)
    assert result.exit_code == 2
    assert "no running local stack" in result.output
