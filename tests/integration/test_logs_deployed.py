"""`crudops logs --stack`: a deployed stack in `mock_aws` (CloudFormation, Lambda,
CloudWatch Logs), its function found by short name and its own log group read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from tools.errors import UserError
from tools.logs.cloudwatch import EventPoller, log_group_of
from tools.logs.commands import do_logs
from tools.logs.records import LogRecord
from tools.stacks import Resource

REGION = "us-east-1"
REQUEST_ID = "0b6c3f0e-1111-4c1b-9b7e-3c1d2e4f5a6b"
OTHER_ID = "aaaaaaaa-1111-4c1b-9b7e-3c1d2e4f5a6b"
GROUP = "Crudops-WorkersCreateHandlerLogsA16B6971-x1y2z3"
# The stack's way (infra/lambda_function.py): the function and its own log group side
# by side; Lambda's default /aws/lambda/<name> group is not it.
TEMPLATE = {
    "Resources": {
        "WorkersCreateHandlerRole1F5A9F0D": {
            "Type": "AWS::IAM::Role",
            "Properties": {"AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                               "Principal": {"Service": "lambda.amazonaws.com"}}]}},
        },
        "WorkersCreateHandlerLogsA16B6971": {
            "Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": GROUP},
        },
        "WorkersCreateHandlerFunctionBF4B914A": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "FunctionName": "Crudops-WorkersCreateHandlerFunctionBF4B-abc",
                "Runtime": "python3.13", "Handler": "index.handler",
                "Code": {"ZipFile": "def handler(event, context):\n    return None\n"},
                "Role": {"Fn::GetAtt": ["WorkersCreateHandlerRole1F5A9F0D", "Arn"]},
                "LoggingConfig": {"LogGroup": {"Ref": "WorkersCreateHandlerLogsA16B6971"}},
            },
        },
    }
}


def _powertools(at: datetime, message: str, *, level: str = "INFO",
                request_id: str = REQUEST_ID, **keys: object) -> tuple[datetime, str]:
    """An event as Lambda stores a Powertools record written at `at`."""
    return at, json.dumps({"level": level, "message": message,
                           "timestamp": at.strftime("%Y-%m-%d %H:%M:%S,000+0000"),
                           "service": "crudops", "correlation_id": request_id, **keys})


@pytest.fixture
def now() -> datetime:
    """Now, when the test runs (`--since` is relative to it)."""
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def logs() -> Iterator[Any]:
    with mock_aws():
        boto3.client("cloudformation", region_name=REGION).create_stack(
            StackName="Crudops", TemplateBody=json.dumps(TEMPLATE))
        client = boto3.client("logs", region_name=REGION)
        client.create_log_stream(logGroupName=GROUP, logStreamName="2026/12/01/[$LATEST]a")
        yield client


def _put(logs: Any, *events: tuple[datetime, str]) -> None:
    logs.put_log_events(logGroupName=GROUP, logStreamName="2026/12/01/[$LATEST]a",
                        logEvents=[{"timestamp": int(at.timestamp() * 1000), "message": m}
                                   for at, m in events])


def _shown(**options: Any) -> tuple[list[LogRecord], int]:
    records: list[LogRecord] = []
    report = do_logs(options.pop("function", "create"), stack="Crudops", region=REGION,
                     on_record=records.append, **options)
    return records, report.exit_code


def test_the_function_s_own_log_group_is_read_with_its_platform_lines(
        logs: Any, now: datetime) -> None:
    minute = timedelta(minutes=1)
    _put(logs,
         (now - minute, "START RequestId: 8f5e Version: $LATEST"),
         _powertools(now - minute, "record failed", level="WARNING", receive_count=3,
                     exception="Traceback (most recent call last):\nValueError: no name"),
         _powertools(now - minute, "another request", request_id=OTHER_ID),
         (now - minute, "END RequestId: 8f5e"))
    sources: list[str] = []

    records, exit_code = _shown(on_source=sources.append)

    assert sources == [GROUP]
    assert [r.message for r in records] == [
        "START RequestId: 8f5e Version: $LATEST", "record failed", "another request",
        "END RequestId: 8f5e"]
    assert records[1].detail == "Traceback (most recent call last):\nValueError: no name"
    assert exit_code == 0


def test_request_id_level_and_since_reach_the_deployed_records(
        logs: Any, now: datetime) -> None:
    _put(logs, _powertools(now - timedelta(hours=2), "too old", level="ERROR"),
         _powertools(now - timedelta(minutes=1), "answered"),
         _powertools(now - timedelta(minutes=1), "failed", level="ERROR"),
         _powertools(now - timedelta(minutes=1), "other", level="ERROR",
                     request_id=OTHER_ID))

    assert [r.message for r in _shown(request_id=REQUEST_ID)[0]] == ["answered", "failed"]
    assert [r.message for r in _shown(level="ERROR")[0]] == ["failed", "other"]
    assert [r.message for r in _shown(since="3h", level="ERROR", request_id=REQUEST_ID)[0]
            ] == ["too old", "failed"]
    assert _shown(request_id="bbbbbbbb-1111-4c1b-9b7e-3c1d2e4f5a6b") == ([], 1)


def test_an_unknown_function_lists_the_stack_s_names(logs: Any) -> None:
    with pytest.raises(UserError) as raised:
        _shown(function="notify")
    assert raised.value.hint == "one of create"


def test_follow_shows_each_new_event_once_even_one_that_arrives_late(
        logs: Any, now: datetime) -> None:
    _put(logs, _powertools(now - timedelta(seconds=30), "first"))
    rounds = [
        # the next poll finds a new event ...
        [_powertools(now - timedelta(seconds=10), "second")],
        # ... then one stamped before it that reached CloudWatch late
        [_powertools(now - timedelta(seconds=20), "late")],
        [],
    ]

    def sleep(seconds: float) -> None:
        if rounds:
            events = rounds.pop(0)
            if events:
                _put(logs, *events)

    records, exit_code = _shown(follow=True, sleep=sleep, stop=lambda: not rounds)

    assert [r.message for r in records] == ["first", "second", "late"]
    assert exit_code == 0


def test_a_poll_reads_again_only_a_minute_back_from_the_newest_event(
        logs: Any, now: datetime) -> None:
    _put(logs, _powertools(now - timedelta(minutes=5), "old"), _powertools(now, "new"))
    poller = EventPoller(logs, GROUP, start=now - timedelta(minutes=10))
    assert [r.message for r in poller.poll()] == ["old", "new"]

    # Stamped before the window (newest - 1 min): CloudWatch's lateness is bounded.
    _put(logs, _powertools(now - timedelta(minutes=3), "too late"))

    assert poller.poll() == []


def test_lambda_s_logging_config_names_the_group_when_the_endpoint_gives_it() -> None:
    # moto's Lambda has no LoggingConfig: what AWS answers is stubbed.
    client = boto3.client("lambda", region_name=REGION)
    function = Resource("WorkersCreateHandlerFunctionBF4B914A", "AWS::Lambda::Function", "fn")
    with Stubber(client) as stub:
        stub.add_response("get_function_configuration",
                          {"LoggingConfig": {"LogGroup": "/changed/by/hand"}},
                          {"FunctionName": "fn"})
        assert log_group_of(function, [function], client) == "/changed/by/hand"
        stub.add_response("get_function_configuration", {}, {"FunctionName": "fn"})
        # No LoggingConfig and no group beside it in the stack: Lambda's default.
        assert log_group_of(function, [function], client) == "/aws/lambda/fn"


def test_an_unreachable_endpoint_is_a_user_error() -> None:
    from crudops_local.aws.endpoint import AwsEndpoint

    # Nothing listens on port 1 of this machine.
    clients = AwsEndpoint("http://127.0.0.1:1", REGION).client
    with pytest.raises(UserError, match="cannot reach"):
        do_logs("create", stack="Crudops", clients=clients, on_record=lambda r: None)
