"""Partial batch processing that an operator can see: each failed record is logged
and counted.

With `ReportBatchItemFailures` a failing record does not fail the invocation, so
Lambda's `Errors` metric stays 0 while every record fails, and Powertools'
`BatchProcessor` logs the exception at DEBUG only. `ReportingBatchProcessor` adds,
per failed record and attempt:
- one log line, WARNING (ERROR on the last receive, after which SQS moves the
  message to the DLQ), carrying the requestId (the SQS messageId when the body has
  none), the operation, the receive count and the exception with its traceback;
- one `FailedRecords` metric (EMF) with the dimensions `service` and `function`, which
  the failed-records alarm of each consumer watches.

A planned retry (`ItemNotYetCreatedError`: an update that overtook its create) is
not a failure: it has its own INFO line and ends in an outcome, never in the DLQ.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import unquote_plus

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.base import FailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from functions import runtime
from functions.contracts.metrics import FAILED_RECORDS_METRIC, FUNCTION_DIMENSION
from functions.contracts.routing import OPERATION_ATTRIBUTE
from functions.exceptions import ItemNotYetCreatedError

# Failures that are a scheduled retry, not something an operator must look at.
PLANNED_RETRIES: Final = (ItemNotYetCreatedError,)


@dataclass(frozen=True)
class RecordIdentity:
    """What names a record in a log line: its request, or its message if it has none."""

    request_id: str
    operation: str
    message_id: str
    receive_count: int


def identify(record: SQSRecord) -> RecordIdentity:
    """The requestId and operation of a command, outcome or replay request, read
    without trusting the body: a poison record still gets its messageId."""
    request_id = operation = ""
    try:
        document = json.loads(record.body)
    except (TypeError, ValueError):
        document = None
    if isinstance(document, dict):
        # Commands carry their strings URL-encoded (functions/contracts/command.py).
        request_id = unquote_plus(str(document.get("requestId") or ""))
        operation = unquote_plus(str(document.get("operation") or ""))
    if not operation:
        # `[]`, not `.get`: only item access wraps the attribute in its data class.
        attribute = record.message_attributes[OPERATION_ATTRIBUTE]
        operation = (attribute.string_value or "") if attribute else ""
    return RecordIdentity(
        request_id=request_id or record.message_id,
        operation=operation or "unknown",
        message_id=record.message_id,
        receive_count=int(record.attributes.approximate_receive_count or 1),
    )


def report_failed_record(record: SQSRecord, exception: Any) -> None:
    """Log one failed attempt and count it; `exception` is a `sys.exc_info()` tuple."""
    error = exception[1]
    if isinstance(error, PLANNED_RETRIES):
        return
    settings = runtime.settings()
    identity = identify(record)
    last = identity.receive_count >= settings.max_receive_count
    runtime.logger.set_correlation_id(identity.request_id)
    log = runtime.logger.error if last else runtime.logger.warning
    log(
        "record failed on its last receive; SQS moves it to the dead-letter queue"
        if last else "record failed; SQS will deliver it again",
        requestId=identity.request_id,
        operation=identity.operation,
        message_id=identity.message_id,
        receive_count=identity.receive_count,
        max_receive_count=settings.max_receive_count,
        error_code=getattr(error, "code", type(error).__name__),
        exc_info=exception,
    )
    with single_metric(name=FAILED_RECORDS_METRIC, unit=MetricUnit.Count, value=1) as metric:
        metric.add_dimension(name=FUNCTION_DIMENSION, value=settings.function or "unknown")


class ReportingBatchProcessor(BatchProcessor):
    """An SQS `BatchProcessor` that reports every failed record (module docstring).

    Built without Powertools' own `logger=`, whose line names neither the request nor
    the attempt and would only duplicate ours.
    """

    def __init__(self) -> None:
        super().__init__(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    def failure_handler(self, record: Any, exception: Any) -> FailureResponse:
        response = super().failure_handler(record, exception)
        if isinstance(record, SQSRecord):
            report_failed_record(record, exception)
        return response
