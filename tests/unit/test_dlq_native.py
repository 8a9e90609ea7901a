"""tools/dlq/native.py against botocore's Stubber: moto 5.2.5 (the local stack's
emulator) does not implement message move tasks, so these tests pin the calls to
SQS's own API model instead (the Stubber checks every parameter against it)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tools.dlq.native import cancel_running_task, list_move_tasks, start_move_task
from tools.errors import UserError

DLQ_ARN = "arn:aws:sqs:us-east-1:123456789012:create-dlq"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:create"


@pytest.fixture
def sqs() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("sqs", region_name="us-east-1", aws_access_key_id="k",
                          aws_secret_access_key="s")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_start_passes_the_rate_and_the_destination(sqs: tuple[Any, Stubber]) -> None:
    client, stubber = sqs
    stubber.add_response("start_message_move_task", {"TaskHandle": "h1"}, {
        "SourceArn": DLQ_ARN, "DestinationArn": QUEUE_ARN, "MaxNumberOfMessagesPerSecond": 50})
    stubber.add_response("start_message_move_task", {"TaskHandle": "h2"},
                         {"SourceArn": DLQ_ARN})
    assert start_move_task(client, DLQ_ARN, destination_arn=QUEUE_ARN,
                           max_per_second=50) == "h1"
    # without either: back to the source queues, at SQS's own pace
    assert start_move_task(client, DLQ_ARN) == "h2"


@pytest.mark.parametrize("rate", [0, 501])
def test_a_rate_sqs_would_refuse_is_a_user_error_before_any_call(
        sqs: tuple[Any, Stubber], rate: int) -> None:
    client, _ = sqs
    with pytest.raises(UserError, match="1 to 500 messages a second"):
        start_move_task(client, DLQ_ARN, max_per_second=rate)


def test_list_reads_each_task(sqs: tuple[Any, Stubber]) -> None:
    client, stubber = sqs
    stubber.add_response("list_message_move_tasks", {"Results": [
        {"TaskHandle": "h", "Status": "RUNNING", "SourceArn": DLQ_ARN,
         "MaxNumberOfMessagesPerSecond": 10, "ApproximateNumberOfMessagesMoved": 40,
         "ApproximateNumberOfMessagesToMove": 100, "StartedTimestamp": 1_764_581_400_000},
        {"Status": "FAILED", "SourceArn": DLQ_ARN, "DestinationArn": QUEUE_ARN,
         "ApproximateNumberOfMessagesMoved": 0, "FailureReason": "AccessDenied",
         "StartedTimestamp": 1_764_500_000_000}]}, {"SourceArn": DLQ_ARN, "MaxResults": 10})
    running, failed = list_move_tasks(client, DLQ_ARN)
    assert (running.status, running.handle, running.moved, running.to_move) == (
        "RUNNING", "h", 40, 100)
    assert running.started is not None and running.started.isoformat() == (
        "2025-12-01T09:30:00+00:00")
    assert (failed.handle, failed.failure_reason, failed.destination_arn) == (
        None, "AccessDenied", QUEUE_ARN)


def test_cancel_takes_the_running_task(sqs: tuple[Any, Stubber]) -> None:
    client, stubber = sqs
    stubber.add_response("list_message_move_tasks", {"Results": [
        {"TaskHandle": "h-run", "Status": "RUNNING", "SourceArn": DLQ_ARN,
         "ApproximateNumberOfMessagesMoved": 7, "StartedTimestamp": 1},
        {"Status": "COMPLETED", "SourceArn": DLQ_ARN, "ApproximateNumberOfMessagesMoved": 9,
         "StartedTimestamp": 0}]}, {"SourceArn": DLQ_ARN, "MaxResults": 10})
    stubber.add_response("cancel_message_move_task", {"ApproximateNumberOfMessagesMoved": 8},
                         {"TaskHandle": "h-run"})
    task, moved = cancel_running_task(client, DLQ_ARN)
    assert task.handle == "h-run" and moved == 8


def test_cancel_without_a_running_task_is_a_user_error(sqs: tuple[Any, Stubber]) -> None:
    client, stubber = sqs
    stubber.add_response("list_message_move_tasks", {"Results": [
        {"Status": "COMPLETED", "SourceArn": DLQ_ARN, "ApproximateNumberOfMessagesMoved": 9,
         "StartedTimestamp": 0}]}, {"SourceArn": DLQ_ARN, "MaxResults": 10})
    with pytest.raises(UserError, match="no message move task is running"):
        cancel_running_task(client, DLQ_ARN)


def test_redrive_native_refuses_what_only_a_message_by_message_run_can_do() -> None:
    """`dlq redrive --native` moves the whole queue: a filter or a dry run would be
    silently ignored by SQS's task, so they are refused before anything is asked."""
    from tools.dlq.commands import Where
    from tools.dlq.redrive_command import run_redrive_command
    from tools.errors import UserError

    with pytest.raises(UserError, match="--filter, --max"):
        run_redrive_command(Where(local=True), "create-consumer-dlq", to=None, dry_run=False,
                            yes=True, filter_expression="receiveCount > `1`",
                            request_ids=None, older_than=None, limit=5, rate=None,
                            concurrency=1, resume=None, as_json=True, native=True)
