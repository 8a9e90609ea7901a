"""The SQS consumer shared by the Create, Read and UpdateDelete functions.

Each function owns a set of operations (its subscription filter policy routes only
those to its queue). Records are processed with Powertools' BatchProcessor and
partial batch responses: a failing record is retried alone, the rest are deleted;
each failure is logged and counted (functions/batch.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from functions import runtime
from functions.batch import ReportingBatchProcessor
from functions.contracts.command import Operation, parse_command
from functions.contracts.metrics import (
    COMMAND_FAILED_METRIC,
    COMMAND_REPLAYED_METRIC,
    COMMAND_SUCCEEDED_METRIC,
    END_TO_END_AGE_METRIC,
    OPERATION_DIMENSION,
)
from functions.domain.commands import Attempt, CommandExecutor, Execution
from functions.domain.notifications import NotificationQueue
from functions.domain.store import CommandStore
from functions.exceptions import ItemNotYetCreatedError, MisroutedCommandError

logger, tracer = runtime.logger, runtime.tracer

LambdaHandler = Callable[[dict[str, Any], LambdaContext], PartialItemFailureResponse]


def executor() -> CommandExecutor:
    settings = runtime.settings()
    settings.require("items_table", "outcomes_table")
    store = CommandStore(
        runtime.dynamodb(), settings.items_table, settings.outcomes_table,
        settings.outcome_ttl_seconds,
    )
    return CommandExecutor(store, settings)


def notification_queue() -> NotificationQueue:
    settings = runtime.settings()
    settings.require("notifications_queue_url")
    return NotificationQueue(runtime.sqs(), settings.notifications_queue_url)


def _shorten_visibility(record: SQSRecord, seconds: int) -> None:
    """Bring a waiting record back after `seconds` instead of the full visibility
    timeout. Best effort: if it fails, the normal timeout still brings it back."""
    try:
        runtime.sqs().change_message_visibility(
            QueueUrl=runtime.queue_url_from_arn(record.event_source_arn),
            ReceiptHandle=record.receipt_handle,
            VisibilityTimeout=seconds,
        )
    except (ClientError, BotoCoreError) as exc:
        logger.warning("could not shorten the retry delay", error=str(exc))


def _record_metrics(execution: Execution) -> None:
    outcome = execution.outcome
    name = COMMAND_REPLAYED_METRIC if execution.replayed else (
        COMMAND_SUCCEEDED_METRIC if outcome.status.value == "success" else COMMAND_FAILED_METRIC
    )
    with single_metric(name=name, unit=MetricUnit.Count, value=1) as metric:
        metric.add_dimension(name=OPERATION_DIMENSION, value=outcome.operation or "unknown")
    if outcome.submitted_at_ms and not execution.replayed:
        age_ms = max(0, int(time.time() * 1000) - outcome.submitted_at_ms)
        with single_metric(
            name=END_TO_END_AGE_METRIC, unit=MetricUnit.Milliseconds, value=age_ms
        ) as metric:
            metric.add_dimension(name=OPERATION_DIMENSION, value=outcome.operation)


def handle_command_record(record: SQSRecord, accepts: frozenset[Operation]) -> None:
    command = parse_command(record.body)
    logger.set_correlation_id(command.request_id)
    logger.append_keys(operation=command.operation)
    tracer.put_annotation(key="requestId", value=command.request_id)
    tracer.put_annotation(key="operation", value=command.operation)
    if command.known_operation not in accepts:
        raise MisroutedCommandError(
            f"operation {command.operation!r} is not one of {sorted(accepts)}"
        )
    attempt = Attempt(
        receive_count=int(record.attributes.approximate_receive_count or 1),
        now_ms=int(time.time() * 1000),
    )
    try:
        execution = executor().execute(command, attempt)
    except ItemNotYetCreatedError as waiting:
        logger.info("item not created yet; retrying soon", receive_count=attempt.receive_count)
        _shorten_visibility(record, waiting.retry_delay_seconds)
        raise
    notification_queue().send(execution.outcome, command.owner)
    _record_metrics(execution)
    logger.info(
        "command answered",
        status=execution.outcome.status.value,
        error_code=execution.outcome.error_code,
        replayed=execution.replayed,
    )


def build_handler(accepts: frozenset[Operation]) -> LambdaHandler:
    """A Lambda handler consuming command records for the `accepts` operations."""
    processor = ReportingBatchProcessor()

    @tracer.capture_method
    def record_handler(record: SQSRecord) -> None:
        handle_command_record(record, accepts)

    # No `metrics.log_metrics`: every metric here is a `single_metric` with its own
    # dimensions, so the handler's metric set is always empty and Powertools would
    # warn "No application metrics to publish" into the log on every invocation.
    @logger.inject_lambda_context(clear_state=True)
    @tracer.capture_lambda_handler
    def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )

    return handler
