"""`crudops load --stack`: the API URLs are the deployed stack's outputs."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from tools.errors import UserError
from tools.stacks import stack_urls

REGION = "us-east-1"
TEMPLATE = {
    "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
    "Outputs": {
        "RestApiUrl": {"Value": "https://abc.execute-api.us-east-1.amazonaws.com/v1/"},
        "WebSocketUrl": {"Value": "wss://def.execute-api.us-east-1.amazonaws.com/live"},
    },
}


def test_urls_from_the_stack_outputs() -> None:
    with mock_aws():
        cloudformation = boto3.client("cloudformation", region_name=REGION)
        cloudformation.create_stack(StackName="Crudops", TemplateBody=json.dumps(TEMPLATE))
        cloudformation.create_stack(StackName="Other", TemplateBody=json.dumps(
            {"Resources": TEMPLATE["Resources"]}))
        assert stack_urls(stack="Crudops", local=False, region=REGION) == (
            "https://abc.execute-api.us-east-1.amazonaws.com/v1",
            "wss://def.execute-api.us-east-1.amazonaws.com/live")
        with pytest.raises(UserError, match="no RestApiUrl / WebSocketUrl outputs"):
            stack_urls(stack="Other", local=False, region=REGION)
        with pytest.raises(UserError, match="does not exist"):
            stack_urls(stack="Missing", local=False, region=REGION)


def test_demo_on_a_stack_finds_its_urls_the_same_way(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from tools.cli import app

    monkeypatch.chdir(tmp_path)
    missing = CliRunner().invoke(app, ["demo", "--local"])
    assert missing.exit_code == 2 and "no running local stack" in missing.output
    both = CliRunner().invoke(app, ["demo", "--local", "--rest-url", "http://x",
                                    "--ws-url", "ws://x"])
    assert both.exit_code == 2 and "give one way" in both.output


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when the block ends


def test_load_on_a_refused_connection_is_one_line_and_a_usage_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from tools.cli import app

    monkeypatch.chdir(tmp_path)
    port = _closed_port()
    urls = ["--rest-url", f"http://127.0.0.1:{port}/v1", "--ws-url", f"ws://127.0.0.1:{port}/live"]
    refused = CliRunner().invoke(app, ["load", *urls, "--run-time", "2s"])
    assert refused.exit_code == 2, refused.output
    assert refused.output.strip().splitlines() == [
        f"error: cannot reach the REST API at http://127.0.0.1:{port}/v1: Connection refused "
        "(hint: is the stack up? (crudops local up, or check --stack))"]
    bad_slo = CliRunner().invoke(app, ["load", *urls, "--slo", "p99<1s"])
    assert bad_slo.exit_code == 2 and "unknown measure 'p99'" in bad_slo.output
    own = CliRunner().invoke(app, ["load", *urls, "--", "--users", "5"])
    assert own.exit_code == 2 and "set by crudops load itself" in own.output
