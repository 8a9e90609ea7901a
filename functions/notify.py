"""Lambda entry point of the Notify function: delivers outcomes to subscribers.

A closed connection (410 Gone) drops its subscription and counts as handled; any
other delivery failure fails only that record, which SQS retries. A delivered outcome
removes its subscription too: it waits for nothing more (ADR 0029).

An outcome reaches only the subscriptions of its owner (the message's `owner`
attribute); anyone else subscribed to the requestId gets the `not_found` error frame
once and loses the subscription (functions/domain/subscribing.py).
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
from functions.domain.connections import ConnectionPoster, Delivery
from functions.domain.notifications import OWNER_MESSAGE_ATTRIBUTE, NotificationQueue
from functions.domain.subscribing import Whose, look_up
from functions.domain.subscriptions import SubscriptionStore
from functions.exceptions import MalformedNotificationError
from functions.settings import DEFAULTS

logger, tracer, metrics = runtime.logger, runtime.tracer, runtime.metrics
processor = ReportingBatchProcessor()


def outcome_owner(record: SQSRecord) -> str:
    """Whose outcome a notification carries (the worker's `owner` attribute)."""
    # `[]`, not `.get`: only item access wraps the attribute in its data class.
    attribute = record.message_attributes[OWNER_MESSAGE_ATTRIBUTE]
    owner = attribute.string_value if attribute else None
    if not owner:
        raise MalformedNotificationError("notification names no owner; delivered to nobody")
    return owner


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
    owner = outcome_owner(record)
    subscriptions = websocket.subscription_store()
    poster = websocket.poster()
    subscribed = subscriptions.subscriptions_to(outcome.request_id)
    owners = [s for s in subscribed if s.owner == owner]
    refused = 0
    for subscription in subscribed:
        if subscription.owner == owner:
            _post(subscriptions, poster, outcome.request_id, subscription.connection_id,
                  record.body)
        elif subscriptions.remove(outcome.request_id, subscription.connection_id):
            # Another caller subscribed to this id: one error frame, never the outcome.
            # Removed before the post, so that a racing remover stays silent; if the
            # post fails, that subscriber gets nothing more (but never the outcome).
            refused += 1
            _post(subscriptions, poster, outcome.request_id, subscription.connection_id,
                  websocket.not_yours_message(outcome.request_id), counted=False)
    if not owners:
        metrics.add_metric(name=NOTIFICATION_UNSUBSCRIBED_METRIC, unit=MetricUnit.Count, value=1)
    logger.info("outcome delivered", connections=len(owners), refused=refused)


def _post(subscriptions: SubscriptionStore, poster: ConnectionPoster, request_id: str,
          connection_id: str, data: str, *, counted: bool = True) -> None:
    """Post one frame; `counted`: it is the outcome, which the delivery metrics count."""
    try:
        delivery = poster.post(connection_id, data)
    except Exception:
        # Counted here because a failed record is only a partial batch failure,
        # invisible in the function's Errors metric.
        metrics.add_metric(name=NOTIFICATION_FAILED_METRIC, unit=MetricUnit.Count, value=1)
        raise
    if delivery is Delivery.GONE:
        subscriptions.remove_gone(request_id, connection_id)
    if not counted:
        return
    if delivery is Delivery.DELIVERED:
        # The outcome is the last frame a subscription waits for: removed, it no longer
        # counts against the connection's limit (ADR 0029).
        subscriptions.remove(request_id, connection_id)
    name = NOTIFICATION_GONE_METRIC if delivery is Delivery.GONE else NOTIFICATION_DELIVERED_METRIC
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


def replay(request: ReplayRequest) -> None:
    """Post the stored outcome to the one connection that asked on `$connect`, if it
    is the caller's; another's gets the error frame, unless someone posted it already.

    Not before the connection is open: until its `$connect` has returned, every post
    is a 410, and a regular notification that came meanwhile dropped the subscription.
    Open first, then the lookup: an outcome stored after the lookup is notified after
    it too, to a connection open by then.
    """
    logger.set_correlation_id(request.request_id)
    tracer.put_annotation(key="requestId", value=request.request_id)
    settings = runtime.settings()
    settings.require("outcomes_table")
    if not websocket.poster().is_open(request.connection_id):
        _ask_again(request)
        return
    lookup = look_up(runtime.dynamodb(), settings.outcomes_table, request.request_id,
                     request.owner)
    if lookup.whose is Whose.NONE_YET:
        # Not answered yet: the regular notification reaches the (now open) connection.
        logger.info("replay: no outcome yet")
        return
    if lookup.outcome is None:
        if websocket.subscription_store().remove(request.request_id, request.connection_id):
            websocket.poster().post(request.connection_id,
                                    websocket.not_yours_message(request.request_id))
        logger.info("replay: another's request refused")
        return
    _replay_post(request, lookup.outcome.to_json())
    logger.info("replay: stored outcome delivered", attempts=request.attempt)


def _ask_again(request: ReplayRequest) -> None:
    """The connection is not open: still in `$connect` (ask again shortly), or gone
    (asked often enough: give up)."""
    delays = DEFAULTS.late_subscriber_replay_retry_delays_seconds
    if request.attempt >= len(delays):
        metrics.add_metric(name=NOTIFICATION_GONE_METRIC, unit=MetricUnit.Count, value=1)
        logger.info("replay: the connection never opened, or closed", attempts=request.attempt)
        return
    settings = runtime.settings()
    settings.require("notifications_queue_url")
    NotificationQueue(runtime.sqs(), settings.notifications_queue_url).send_replay(
        request.asked_again(), delay_seconds=delays[request.attempt])
    logger.info("replay: connection not open yet; asked again", attempt=request.attempt + 1)


def _replay_post(request: ReplayRequest, data: str) -> None:
    subscriptions = websocket.subscription_store()
    if websocket.poster().post(request.connection_id, data) is Delivery.GONE:
        subscriptions.remove_gone(request.request_id, request.connection_id)
        metrics.add_metric(name=NOTIFICATION_GONE_METRIC, unit=MetricUnit.Count, value=1)
    else:
        subscriptions.remove(request.request_id, request.connection_id)
        metrics.add_metric(name=NOTIFICATION_DELIVERED_METRIC, unit=MetricUnit.Count, value=1)


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
