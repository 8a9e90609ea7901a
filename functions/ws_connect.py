"""Lambda entry point of the `$connect` route: the seed's `?requestId=` subscription.

API Gateway refuses posts to a connection until `$connect` has returned (410 Gone),
both from here and from a Notify that happens to run meanwhile. So every subscribing
connect leaves a replay request on the notifications queue: Notify posts the stored
outcome once the connection is open, putting the request back until it is (see
functions/contracts/replay.py).

The caller is the sub the authorizer put in the connection's context; without one
the connection is refused (401). A subscription to another's request is settled by
that replay too, with the `not_found` error frame (functions/domain/subscribing.py).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions import runtime, websocket
from functions.contracts.replay import ReplayRequest
from functions.domain.notifications import NotificationQueue
from functions.domain.subscribing import validated_request_id
from functions.exceptions import InvalidCommandError

logger, tracer = runtime.logger, runtime.tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    owner = websocket.caller_sub(event)
    if owner is None:
        logger.warning("connection without an authorized caller refused")
        return websocket.response(401, "Unauthorized")
    query = event.get("queryStringParameters") or {}
    if "requestId" not in query:
        return websocket.response(200)
    try:
        request_id = validated_request_id(query["requestId"])
    except InvalidCommandError as exc:
        return websocket.response(400, exc.message)
    logger.set_correlation_id(request_id)
    tracer.put_annotation(key="requestId", value=request_id)
    connection = websocket.connection_id(event)
    lookup = websocket.subscriber().subscribe(request_id, connection, owner)
    settings = runtime.settings()
    settings.require("notifications_queue_url")
    NotificationQueue(runtime.sqs(), settings.notifications_queue_url).send_replay(
        ReplayRequest(request_id, connection, owner),
        delay_seconds=settings.late_subscriber_replay_delay_seconds,
    )
    logger.info("subscribed on connect; replay requested", outcome=lookup.whose.value)
    return websocket.response(200)
