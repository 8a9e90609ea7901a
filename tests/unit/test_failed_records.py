"""A failed record is logged once per attempt and counted, though the invocation
succeeds (partial batch response): what an operator reads when records fail."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from functions import create, notify, runtime
from functions.batch import report_failed_record
from functions.exceptions import ItemNotYetCreatedError, MalformedCommandError
from tests.support.events import load_event
from tests.support.lambda_context import FakeLambdaContext


@pytest.fixture(autouse=True)
def function_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("MAX_RECEIVE_COUNT", "5")
    runtime.reset()
    yield
    runtime.reset()


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """What the functions' logger writes (its handler keeps the stream it was made
    with, so capsys does not see it)."""
    handler = runtime.logger.registered_handler
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


def _batch(body: str, receive_count: int, operation: str = "create") -> dict[str, Any]:
    event = load_event("sqs_batch")
    record = event["Records"][0]
    record["body"] = body
    record["attributes"]["ApproximateReceiveCount"] = str(receive_count)
    record["messageAttributes"]["operation"]["stringValue"] = operation
    return event


def _emitted(capsys: pytest.CaptureFixture[str], logs: io.StringIO
             ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(log records, EMF documents) the handler wrote."""
    records = [json.loads(line) for line in logs.getvalue().splitlines()]
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines()
               if line.startswith('{"_aws"')]
    return records, metrics


def _failed_records(metrics: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in metrics if "FailedRecords" in m]


def test_a_poison_record_is_logged_with_its_message_id_and_the_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    logs: io.StringIO,
) -> None:
    # GIVEN the Create function and a body that is not a command, on its first receive
    monkeypatch.setenv("CRUDOPS_FUNCTION", "create")
    event = _batch("this is not a command", receive_count=1)
    message_id = event["Records"][0]["messageId"]

    response = create.handler(event, FakeLambdaContext())

    # THEN the invocation succeeds with the record reported as failed ...
    assert response == {"batchItemFailures": [{"itemIdentifier": message_id}]}
    records, metrics = _emitted(capsys, logs)
    # ... and one WARNING names the message (no requestId in the body), the
    # operation from the message attribute, the attempt and the error with its traceback
    (line,) = [r for r in records if r["level"] in ("WARNING", "ERROR")]
    assert line["level"] == "WARNING"
    assert line["requestId"] == line["correlation_id"] == message_id
    assert line["operation"] == "create"
    assert (line["receive_count"], line["max_receive_count"]) == (1, 5)
    assert line["error_code"] == "malformed_command"
    assert line["exception_name"] == "MalformedCommandError"
    assert "Traceback" in line["exception"] and "command body is not JSON" in line["exception"]
    # ... and one FailedRecords datum for this function
    (datum,) = _failed_records(metrics)
    assert datum["FailedRecords"] == [1.0]
    assert datum["function"] == "create"
    assert datum["service"] == "crudops-test"


def test_the_last_receive_is_logged_as_an_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    logs: io.StringIO,
) -> None:
    monkeypatch.setenv("CRUDOPS_FUNCTION", "create")
    body = json.dumps({"requestId": "req%2F1", "operation": "delete", "owner": "o",
                       "payload": {}})

    create.handler(_batch(body, receive_count=5), FakeLambdaContext())

    records, metrics = _emitted(capsys, logs)
    (line,) = [r for r in records if r["level"] in ("WARNING", "ERROR")]
    # THEN the line says the message goes to the DLQ, with the command's own ids
    assert line["level"] == "ERROR"
    assert "dead-letter queue" in line["message"]
    assert line["requestId"] == "req/1"
    assert line["operation"] == "delete"
    assert line["error_code"] == "misrouted_command"
    assert len(_failed_records(metrics)) == 1


def test_notify_reports_its_failed_records_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    logs: io.StringIO,
) -> None:
    monkeypatch.setenv("CRUDOPS_FUNCTION", "notify")

    response = notify.handler(_batch("{}", receive_count=2), FakeLambdaContext())

    assert len(response["batchItemFailures"]) == 1
    records, metrics = _emitted(capsys, logs)
    (line,) = [r for r in records if r["level"] == "WARNING"]
    assert line["receive_count"] == 2
    assert line["exception"]
    (datum,) = _failed_records(metrics)
    assert datum["function"] == "notify"


def test_a_planned_retry_is_neither_logged_as_a_failure_nor_counted(
    capsys: pytest.CaptureFixture[str],
    logs: io.StringIO,
) -> None:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    record = SQSRecord(_batch("{}", receive_count=1)["Records"][0])
    try:
        raise ItemNotYetCreatedError("item not created yet", retry_delay_seconds=1)
    except ItemNotYetCreatedError:
        report_failed_record(record, sys.exc_info())
    records, metrics = _emitted(capsys, logs)
    assert records == [] and metrics == []

    # while any other failure of the same record is reported
    try:
        raise MalformedCommandError("not a command")
    except MalformedCommandError:
        report_failed_record(record, sys.exc_info())
    records, metrics = _emitted(capsys, logs)
    assert [r["error_code"] for r in records] == ["malformed_command"]
    assert len(_failed_records(metrics)) == 1


def test_a_command_invocation_writes_no_empty_metrics_warning(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Powertools warns when a handler flushes an empty metric set; the command
    functions' metrics are all single metrics, so such a warning would be noise in
    every invocation's log."""
    import warnings

    monkeypatch.setenv("CRUDOPS_FUNCTION", "create")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        create.handler(_batch("not a command", receive_count=1), FakeLambdaContext())
    assert [str(w.message) for w in caught] == []
