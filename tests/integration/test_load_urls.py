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
