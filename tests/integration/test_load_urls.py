"""`crudops load --stack`: the API URLs are the deployed stack's outputs."""

from __future__ import annotations

import json
from collections.abc import Iterator
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


def test_slos_come_from_the_environment_unless_given_as_options(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """CRUDOPS_LOAD_SLO holds several, space-separated; --slo replaces it."""
    from typer.testing import CliRunner

    from tools.cli import app

    port = _closed_port()
    urls = ["--rest-url", f"http://127.0.0.1:{port}/v1", "--ws-url", f"ws://127.0.0.1:{port}/live"]
    environment = {"CRUDOPS_LOAD_SLO": "lost==0 notify.p42<=1s"}
    from_env = CliRunner().invoke(app, ["load", *urls], env=environment)
    assert from_env.exit_code == 2 and "notify.p42" in from_env.output
    # the option wins: the variable's bad SLO is not read, so the run gets as far as
    # the probe of the (closed) port
    given = CliRunner().invoke(app, ["load", *urls, "--slo", "lost==0"], env=environment)
    assert given.exit_code == 2 and "cannot reach the REST API" in given.output


def _state_file(path: Path, rest_url: str, ws_url: str) -> Path:
    path.write_text(json.dumps({"stack": "Crudops", "region": REGION, "aws_endpoint": None,
                                "resources": {}, "rest_url": rest_url, "ws_url": ws_url}))
    return path


def test_without_a_target_load_uses_the_running_local_stack_else_starts_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import contextlib
    import socket

    from tools.load import target as targets

    started: list[str] = []

    @contextlib.contextmanager
    def own_stack(on_status: object) -> Iterator[targets.LoadTarget]:
        started.append("own")
        yield targets.LoadTarget("http://own/v1", "ws://own/live", "own")

    monkeypatch.setattr(targets, "_own_local_stack", own_stack)

    def chosen(state_file: Path) -> str:
        with targets.load_target(rest_url=None, ws_url=None, stack=None, local=False,
                                 region=None, state_file=state_file) as found:
            return found.rest_url

    # no state file: a stack of its own
    assert chosen(tmp_path / "none.json") == "http://own/v1" and started == ["own"]
    # a state file whose stack is gone (its port refuses): a stack of its own too
    port = _closed_port()
    stale = _state_file(tmp_path / "stale.json", f"http://127.0.0.1:{port}/v1",
                        f"ws://127.0.0.1:{port}/live")
    assert chosen(stale) == "http://own/v1" and started == ["own", "own"]
    # a running one (its gateway port answers): that one, nothing started
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        live_port = listening.getsockname()[1]
        running = _state_file(tmp_path / "running.json", f"http://127.0.0.1:{live_port}/v1",
                              f"ws://127.0.0.1:{live_port}/live")
        assert chosen(running) == f"http://127.0.0.1:{live_port}/v1"
    assert started == ["own", "own"]
