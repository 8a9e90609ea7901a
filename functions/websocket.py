"""Wiring shared by the WebSocket route handlers and Notify."""

from __future__ import annotations

import json
from typing import Any

from functions import runtime
from functions.domain.connections import ConnectionPoster
from functions.domain.subscribing import Subscriber, not_yours_frame
from functions.domain.subscriptions import SubscriptionStore


def subscription_store() -> SubscriptionStore:
    settings = runtime.settings()
    settings.require("subscriptions_table")
    return SubscriptionStore(
        runtime.dynamodb(),
        settings.subscriptions_table,
        settings.subscriptions_by_connection_index,
        settings.subscription_ttl_seconds,
        settings.max_subscriptions_per_connection,
    )


def subscriber() -> Subscriber:
    settings = runtime.settings()
    settings.require("outcomes_table")
    return Subscriber(subscription_store(), runtime.dynamodb(), settings.outcomes_table)


def poster() -> ConnectionPoster:
    runtime.settings().require("websocket_callback_url")
    return ConnectionPoster(runtime.management_api())


def connection_id(event: dict[str, Any]) -> str:
    return str(event["requestContext"]["connectionId"])


def caller_sub(event: dict[str, Any]) -> str | None:
    """The caller's sub, which the `$connect` authorizer put in the connection's
    context (API Gateway hands it to every route of that connection); None when the
    event carries none, which only a route without the authorizer can see."""
    authorizer = event.get("requestContext", {}).get("authorizer")
    sub = authorizer.get("sub") if isinstance(authorizer, dict) else None
    return sub if isinstance(sub, str) and sub else None


def error_message(code: str, message: str, request_id: str | None = None) -> str:
    """An error frame; `request_id` names the subscribe it answers, when one is known."""
    frame: dict[str, object] = {"type": "error"}
    if request_id is not None:
        frame["requestId"] = request_id
    frame["error"] = {"code": code, "message": message}
    return json.dumps(frame)


def not_yours_message(request_id: str) -> str:
    return json.dumps(not_yours_frame(request_id))


def response(status_code: int, body: str = "") -> dict[str, Any]:
    return {"statusCode": status_code, "body": body}
