"""`crudops dlq` with SQS's message move tasks: the DLQ, its ARN and the destination
found in moto as for any `dlq` command, the move-task calls themselves answered by
botocore's Stubber, since moto 5.2.5 does not implement them (HTTP 500)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tests.integration.test_dlq import (  # noqa: F401  (fixture)
    REGION,
    Stack,
    _where_with,
    stack,
)
from tools.dlq.native import do_dlq_cancel, do_dlq_native_move, do_dlq_tasks
from tools.dlq.output import print_dlq_tasks
from tools.errors import UserError

MOVE_TASK_CALLS = ("start_message_move_task", "list_message_move_tasks",
                   "cancel_message_move_task")


class MoveTasksStubbed:
    """moto's SQS, except the move-task calls, which go to a stubbed client."""

    def __init__(self, sqs: Any, stubbed: Any) -> None:
        self._sqs, self._stubbed = sqs, stubbed

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stubbed if name in MOVE_TASK_CALLS else self._sqs, name)


@pytest.fixture
def stubber(stack: Stack) -> Iterator[tuple[Stubber, Any]]:  # noqa: F811
    client = boto3.client("sqs", region_name=REGION)
    with Stubber(client) as stubbed:
        yield stubbed, _where_with(stack, MoveTasksStubbed(stack.sqs, client))
        stubbed.assert_no_pending_responses()


def _arn(world: Stack, url: str) -> str:
    return str(world.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"])


def test_the_move_starts_from_the_dlq_to_the_chosen_queue_at_the_rate(
        stack: Stack, stubber: tuple[Stubber, Any]) -> None:  # noqa: F811
    stubbed, where = stubber
    stubbed.add_response("start_message_move_task", {"TaskHandle": "h1"}, {
        "SourceArn": _arn(stack, stack.dlq), "MaxNumberOfMessagesPerSecond": 25})
    stubbed.add_response("start_message_move_task", {"TaskHandle": "h2"}, {
        "SourceArn": _arn(stack, stack.dlq), "DestinationArn": _arn(stack, stack.work)})
    started = do_dlq_native_move(where, "work-dlq", max_per_second=25)
    assert (started.handle, started.destination_arn, started.dlq.name) == ("h1", None, "work-dlq")
    assert do_dlq_native_move(where, "work-dlq", to="work").destination_arn == _arn(
        stack, stack.work)


def test_a_subscription_dlq_and_the_dlq_itself_are_refused_before_any_call(
        stubber: tuple[Stubber, Any]) -> None:
    _, where = stubber
    with pytest.raises(UserError, match="DLQ of an SNS subscription"):
        do_dlq_native_move(where, "delivery-dlq")
    with pytest.raises(UserError, match="itself"):
        do_dlq_native_move(where, "work-dlq", to="work-dlq")


def test_what_sqs_refuses_is_one_line(stubber: tuple[Stubber, Any]) -> None:
    stubbed, where = stubber
    stubbed.add_client_error("start_message_move_task", service_error_code="UnsupportedOperation",
                             service_message="a task is already running", http_status_code=400)
    with pytest.raises(UserError, match="StartMessageMoveTask failed: UnsupportedOperation: "
                                        "a task is already running"):
        do_dlq_native_move(where, "work-dlq")


def test_tasks_lists_and_cancel_stops_the_running_one(
        stack: Stack, stubber: tuple[Stubber, Any],  # noqa: F811
        capsys: pytest.CaptureFixture[str]) -> None:
    stubbed, where = stubber
    source = _arn(stack, stack.dlq)
    listing = {"Results": [
        {"TaskHandle": "h-run", "Status": "RUNNING", "SourceArn": source,
         "MaxNumberOfMessagesPerSecond": 25, "ApproximateNumberOfMessagesMoved": 40,
         "ApproximateNumberOfMessagesToMove": 100, "StartedTimestamp": 1_764_581_400_000},
        {"Status": "FAILED", "SourceArn": source, "ApproximateNumberOfMessagesMoved": 0,
         "FailureReason": "KMS.AccessDenied", "StartedTimestamp": 1_764_500_000_000}]}
    stubbed.add_response("list_message_move_tasks", listing,
                         {"SourceArn": source, "MaxResults": 10})
    dlq, tasks = do_dlq_tasks(where, "work-dlq")
    assert print_dlq_tasks(dlq, tasks, as_json=False) == 1  # one failed
    out = capsys.readouterr().out
    assert "RUNNING" in out and "KMS.AccessDenied" in out and "40" in out

    stubbed.add_response("list_message_move_tasks", listing,
                         {"SourceArn": source, "MaxResults": 10})
    stubbed.add_response("cancel_message_move_task", {"ApproximateNumberOfMessagesMoved": 41},
                         {"TaskHandle": "h-run"})
    cancelled = do_dlq_cancel(where, "work-dlq")
    assert cancelled.task.handle == "h-run" and cancelled.moved == 41


def test_an_endpoint_without_move_tasks_is_one_line_not_its_error_page(
        stubber: tuple[Stubber, Any]) -> None:
    # moto answers these calls with HTTP 500 and an HTML page
    stubbed, where = stubber
    stubbed.add_client_error("list_message_move_tasks", service_error_code="500",
                             service_message="<!doctype html><title>500</title>",
                             http_status_code=500)
    with pytest.raises(UserError, match=r"ListMessageMoveTasks failed: HTTP 500 from the "
                                        r"endpoint$"):
        do_dlq_tasks(where, "work-dlq")
