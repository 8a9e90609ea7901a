"""Lambda entry point of the Notify function: delivers outcomes to subscribers.

A closed connection (410 Gone) drops its subscription and counts as handled; any
other delivery failure fails only that record, which SQS retries.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions import runtime, websocket
from functions.batch import ReportingBatchProcessor
from functions.contracts.metrics import (
    NOTIFICATION_DELIVERED_METRIC,
    NOTIFICATION_FAILED_METRIC,
    NOTIFICATION_GONE_METRIC,
    NOTIFICATION_UNSUBSCRIBED_METRIC,
)
from functions.contracts.outcome import Outcome
from functions.contracts.replay import ReplayRequest, is_replay_request
from functions.domain.connections import Delivery
from functions.domain.store import read_outcome

logger, tracer, metrics = runtime.logger, runtime.tracer, runtime.metrics
processor = ReportingBatchProcessor()


def deliver(record: SQSRecord) -> None:
    document = json.loads(record.body, parse_float=Decimal)
    if is_replay_request(document):
        replay(ReplayRequest.from_document(document))
        return
    # Parsing proves the body is an outcome; a record that is not goes to the DLQ.
    outcome = Outcome.from_document(document)
    logger.set_correlation_id(outcome.request_id)
    tracer.put_annotation(key="requestId", value=outcome.request_id)
    tracer.put_annotation(key="operation", value=outcome.operation)
    subscriptions = websocket.subscription_store()
    poster = websocket.poster()
    connections = subscriptions.connections_for(outcome.request_id)
    for connection in connections:
        try:
            delivery = poster.post(connection, record.body)
        except Exception:
            # Counted here because a failed record is only a partial batch failure,
            # invisible in the function's Errors metric.
            metrics.add_metric(name=NOTIFICATION_FAILED_METRIC, unit=MetricUnit.Count, value=1)
            raise
        if delivery is Delivery.GONE:
            subscriptions.remove(outcome.request_id, connection)
            metrics.add_metric(name=NOTIFICATION_GONE_METRIC, unit=MetricUnit.Count, value=1)
        else:
            metrics.add_metric(name=NOTIFICATION_DELIVERED_METRIC, unit=MetricUnit.Count, value=1)
    if not connections:
        metrics.add_metric(name=NOTIFICATION_UNSUBSCRIBED_METRIC, unit=MetricUnit.Count, value=1)
    logger.info("outcome delivered", connections=len(connections))


def replay(request: ReplayRequest) -> None:
    """Post the stored outcome to the one connection that asked on `$connect`."""
    logger.set_correlation_id(request.request_id)
    tracer.put_annotation(key="requestId", value=request.request_id)
    settings = runtime.settings()
    settings.require("outcomes_table")
    stored = read_outcome(runtime.dynamodb(), settings.outcomes_table, request.request_id)
    if stored is None:
        # Not answered yet: the regular notification reaches the (now open) connection.
        logger.info("replay: no outcome yet")
        return
    if websocket.poster().post(request.connection_id, stored.to_json()) is Delivery.GONE:
        metrics.add_metric(name=NOTIFICATION_GONE_METRIC, unit=MetricUnit.Count, value=1)
    else:
        metrics.add_metric(name=NOTIFICATION_DELIVERED_METRIC, unit=MetricUnit.Count, value=1)
    logger.info("replay: stored outcome delivered")


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    deliver(record)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
