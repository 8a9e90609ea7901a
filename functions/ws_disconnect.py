"""Lambda entry point of the `$disconnect` route: forget the connection's subscriptions."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions import runtime, websocket

logger, tracer = runtime.logger, runtime.tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    removed = websocket.subscription_store().remove_connection(websocket.connection_id(event))
    logger.info("connection closed", subscriptions_removed=removed)
    return websocket.response(200)
