"""`crudops resource KIND NAME`: one physical id for a runbook's AWS CLI commands."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from tools.cli import app
from tools.errors import UserError
from tools.resource import do_resource

REGION = "us-east-1"
RESOURCES = {
    "WorkersCreateHandlerFunctionBF4B914A": ("AWS::Lambda::Function", "Crudops-create-fn"),
    "WorkersUpdateDeleteHandlerFunction2B2BC078": ("AWS::Lambda::Function", "Crudops-ud-fn"),
    "WorkersCreateHandlerLogsA16B6971": ("AWS::Logs::LogGroup", "/crudops/create"),
    "RestAccessLogs3CF9040E": ("AWS::Logs::LogGroup", "/crudops/rest-access"),
    "MessagingCreateConsumerQueue0AE5C309": ("AWS::SQS::Queue", "http://sqs/create"),
    "MessagingCreateConsumerDlqE57F5DC0": ("AWS::SQS::Queue", "http://sqs/create-dlq"),
}


@pytest.fixture
def state_file(tmp_path: Path) -> Path:
    path = tmp_path / "local-stack.json"
    path.write_text(json.dumps({
        "stack": "Crudops-local", "region": REGION, "aws_endpoint": "http://127.0.0.1:1",
        "resources": {k: {"type": t, "ref": ref} for k, (t, ref) in RESOURCES.items()}}))
    return path


@pytest.mark.parametrize(("kind", "name", "physical_id"), [
    ("function", "create", "Crudops-create-fn"),
    ("function", "update-delete", "Crudops-ud-fn"),
    ("log-group", "rest-access", "/crudops/rest-access"),
    ("log-group", "create", "/crudops/create"),
    ("queue", "create-consumer-dlq", "http://sqs/create-dlq"),
    ("queue", "MessagingCreateConsumerQueue0AE5C309", "http://sqs/create"),
])
def test_one_resource_by_short_name_words_or_id(state_file: Path, kind: str, name: str,
                                                physical_id: str) -> None:
    found = do_resource(kind, name, local=True, local_state_file=state_file)
    assert found.physical_id == physical_id


@pytest.mark.parametrize(("kind", "name", "message"), [
    ("queue", "create", "several queues match"),
    ("function", "notify", "no function matches"),
    ("lambda", "create", "unknown kind"),
])
def test_none_or_several_is_a_user_error_listing_them(state_file: Path, kind: str, name: str,
                                                      message: str) -> None:
    with pytest.raises(UserError, match=message):
        do_resource(kind, name, local=True, local_state_file=state_file)


def test_a_deployed_stack_prints_just_the_id() -> None:
    with mock_aws():
        template = {"Resources": {"MessagingCreateConsumerQueue0AE5C309": {
            "Type": "AWS::SQS::Queue", "Properties": {"QueueName": "create-queue"}}}}
        boto3.client("cloudformation", region_name=REGION).create_stack(
            StackName="Crudops", TemplateBody=json.dumps(template))
        result = CliRunner().invoke(app, ["resource", "queue", "create-consumer-queue",
                                          "--stack", "Crudops", "--region", REGION])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("/create-queue")
    assert len(result.output.strip().splitlines()) == 1
