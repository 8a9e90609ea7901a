"""Lambda entry point of the `$default` route: `{"action": "subscribe", "requestId"}`.

Answers on the connection itself: `{"type": "subscribed"}` once the subscription is
stored, then the outcome at once if it is already known; an `error` message for
anything else the client sends. A subscription to another's request gets only the
`not_found` error frame (functions/domain/subscribing.py); a connection whose event
carries no authorized caller gets an `unauthorized` error.

A connection that already holds its limit of live subscriptions (ADR 0029) gets the
`too_many_subscriptions` error frame, naming the requestId, and the route answers
429; nothing is stored. Once a subscription's outcome is posted it is removed, which
frees its place.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions import runtime, websocket
from functions.domain.connections import Delivery
from functions.domain.subscribing import Whose, validated_request_id
from functions.exceptions import InvalidCommandError, TooManySubscriptionsError

logger, tracer = runtime.logger, runtime.tracer

SUBSCRIBE_ACTION = "subscribe"
UNAUTHORIZED_CODE = "unauthorized"


def _subscribe_request(body: str | None) -> str:
    try:
        message = json.loads(body or "")
    except json.JSONDecodeError as exc:
        raise InvalidCommandError("messages must be JSON") from exc
    if not isinstance(message, dict) or message.get("action") != SUBSCRIBE_ACTION:
        raise InvalidCommandError('send {"action": "subscribe", "requestId": "<id>"}')
    return validated_request_id(message.get("requestId"))


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    connection = websocket.connection_id(event)
    poster = websocket.poster()
    owner = websocket.caller_sub(event)
    if owner is None:
        poster.post(connection, websocket.error_message(
            UNAUTHORIZED_CODE, "this connection has no authorized caller"))
        return websocket.response(401, "Unauthorized")
    try:
        request_id = _subscribe_request(event.get("body"))
    except InvalidCommandError as exc:
        poster.post(connection, websocket.error_message(exc.code, exc.message))
        return websocket.response(400, exc.message)
    logger.set_correlation_id(request_id)
    tracer.put_annotation(key="requestId", value=request_id)
    subscriber = websocket.subscriber()
    try:
        lookup = subscriber.subscribe(request_id, connection, owner)
    except TooManySubscriptionsError as exc:
        poster.post(connection, websocket.error_message(exc.code, exc.message, request_id))
        logger.warning("subscribe refused: the connection holds its limit")
        return websocket.response(429, exc.message)
    if lookup.whose is Whose.ANOTHERS:
        if subscriber.refuse(request_id, connection):
            poster.post(connection, websocket.not_yours_message(request_id))
        logger.info("subscribe to another's request refused")
        return websocket.response(404)
    acknowledgement = json.dumps({"type": "subscribed", "requestId": request_id})
    if poster.post(connection, acknowledgement) is Delivery.GONE:
        websocket.subscription_store().remove_gone(request_id, connection)
        return websocket.response(410)
    if lookup.outcome is not None:
        poster.post(connection, lookup.outcome.to_json())
        subscriber.delivered(request_id, connection)
        logger.info("late subscriber: stored outcome delivered")
    return websocket.response(200)
