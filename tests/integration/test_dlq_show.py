"""`crudops dlq show` against moto: who a message is (from its body or its message
attributes), the error that sent it to the DLQ (from the consumer's logs, local or
CloudWatch, or its attributes), and the note that reading raised its receive count."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.integration.test_dlq import REGION, Stack, stack  # noqa: F401  (fixture)
from tools.dlq.failures import lookup_failures
from tools.dlq.messages import dead_letter
from tools.dlq.output import print_dlq_show
from tools.dlq.show import do_dlq_show
from tools.stacks import FUNCTION_TYPE, Resource, StackTarget

FUNCTION = "crudops-create-fn"


def _failed_record_line(message_id: str, *, receive_count: int, code: str, last: bool,
                        when: str) -> str:
    """A line as functions/batch.py writes it through Powertools' Logger."""
    return json.dumps({
        "level": "ERROR" if last else "WARNING", "timestamp": when,
        "message": "record failed on its last receive; SQS moves it to the dead-letter "
                   "queue" if last else "record failed; SQS will deliver it again",
        "requestId": message_id, "operation": "unknown", "message_id": message_id,
        "receive_count": receive_count, "max_receive_count": 5, "error_code": code,
        "exception": "Traceback (most recent call last):\n  File \"x.py\", line 1\n"
                     f"functions.exceptions.MalformedCommandError: {code} happened",
        "exception_name": "MalformedCommandError"})


def _with_a_function_logging_to(stack: Stack, log_dir: Path) -> None:  # noqa: F811
    state = json.loads(stack.where.local_state_file.read_text())
    state["resources"]["WorkersCreateHandlerFunction0A1B2C3D"] = {"type": FUNCTION_TYPE,
                                                            "ref": FUNCTION}
    state["log_dir"] = str(log_dir)
    stack.where.local_state_file.write_text(json.dumps(state))


def test_show_reads_request_id_and_operation_from_the_message_attributes(
        stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    # GIVEN a body that is no Command: who it is lives only in the message attributes
    stack.sqs.send_message(QueueUrl=stack.dlq, MessageBody="not json at all",
                           MessageAttributes={
                               "operation": {"DataType": "String", "StringValue": "create"},
                               "requestId": {"DataType": "String", "StringValue": "r%2Fattr"}})
    # WHEN it is shown
    report = do_dlq_show(stack.where, "work-dlq", limit=5, errors=False)
    print_dlq_show(report, as_json=False)
    out, err = capsys.readouterr()
    # THEN both are printed (the requestId decoded as the API encodes it)
    assert "requestId=r/attr  operation=create  receives=1" in out
    assert "not json at all" in out
    assert "reading raised each shown message's receive count by 1" in err

    print_dlq_show(do_dlq_show(stack.where, "work-dlq", limit=5, errors=False), as_json=True)
    line = json.loads(capsys.readouterr().out)
    assert (line["requestId"], line["operation"], line["receiveCount"]) == (
        "r/attr", "create", 2)


def test_show_finds_the_error_in_the_local_log_or_says_where_it_looked(
        stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    # GIVEN two parked messages, one whose failures the consumer logged
    _with_a_function_logging_to(stack, tmp_path / "logs")
    stack.dead_letter("logged")
    stack.dead_letter("silent")
    ids = {json.loads(m["Body"])["requestId"]: m["MessageId"] for m in stack.sqs.receive_message(
        QueueUrl=stack.dlq, MaxNumberOfMessages=10, VisibilityTimeout=0)["Messages"]}
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / f"{FUNCTION}.log").write_text("\n".join([
        "START RequestId: 1 Version: $LATEST",
        _failed_record_line(ids["logged"], receive_count=1, code="first_try", last=False,
                            when="2026-12-01 10:00:00,000+0000"),
        _failed_record_line(ids["logged"], receive_count=5, code="malformed_command",
                            last=True, when="2026-12-01 10:00:05,000+0000"),
    ]) + "\n")

    # WHEN the DLQ is shown
    report = do_dlq_show(stack.where, "work-dlq", limit=5)
    print_dlq_show(report, as_json=False)
    out = capsys.readouterr().out

    # THEN the last attempt's error is named, and the other says it was not found
    assert ("error: malformed_command: functions.exceptions.MalformedCommandError: "
            "malformed_command happened (create's log at 2026-12-01T10:00:05.000Z)") in out
    assert f"error: not found in the last 8 MiB of the log files in {tmp_path / 'logs'}" in out
    assert report.failures is not None and set(report.failures.found) == {ids["logged"]}


def test_the_error_is_found_in_a_deployed_function_log_group(stack: Stack) -> None:  # noqa: F811
    # GIVEN a deployed function (not answering with a LoggingConfig: Lambda's default
    # group) that logged a failure of the parked message
    stack.dead_letter("r1")
    message = dead_letter(stack.sqs.receive_message(
        QueueUrl=stack.dlq, AttributeNames=["All"], VisibilityTimeout=0)["Messages"][0])
    logs = boto3.client("logs", region_name=REGION)
    group = f"/aws/lambda/{FUNCTION}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[
        {"timestamp": int(time.time() * 1000), "message": "unrelated"},
        {"timestamp": int(time.time() * 1000), "message": _failed_record_line(
            message.message_id, receive_count=5, code="conflict", last=True,
            when=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S,000+0000"))}])
    target = StackTarget("Crudops", lambda s: boto3.client(s, region_name=REGION), False,
                         True, [Resource("WorkersCreateHandlerFunction0A1B2C3D", FUNCTION_TYPE,
                                         FUNCTION)])
    # WHEN its error is looked up
    lookup = lookup_failures(target, [message])
    # THEN the function's line names it
    failure = lookup.found[message.message_id]
    assert (failure.code, failure.source, failure.receive_count) == ("conflict", "create", 5)
    assert lookup.where.startswith("the functions' CloudWatch logs since ")


def test_an_error_the_message_attributes_record_is_shown(
        stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    attributes: dict[str, Any] = {
        "ErrorCode": {"DataType": "String", "StringValue": "200"},
        "ErrorMessage": {"DataType": "String", "StringValue": "Task timed out"}}
    stack.sqs.send_message(QueueUrl=stack.dlq, MessageBody="{}", MessageAttributes=attributes)
    print_dlq_show(do_dlq_show(stack.where, "work-dlq", limit=1), as_json=False)
    assert "error: 200: Task timed out (its attributes)" in capsys.readouterr().out
