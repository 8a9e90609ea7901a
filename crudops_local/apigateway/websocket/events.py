"""Lambda proxy events of a WebSocket API, shaped as API Gateway sends them.

Samples of the real events live in tests/events/ws_{connect,default,disconnect}.json.
`domainName` is the local gateway's `host:port`, so a function that builds its
callback URL from the event (`http://{domainName}/{stage}`) reaches the local
management API.
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


def event_id() -> str:
    """An id shaped like API Gateway's request and message ids (`Dd2b8GgDoAMF1rw=`)."""
    return base64.b64encode(os.urandom(11)).decode()


@dataclass(frozen=True)
class ConnectionFacts:
    connection_id: str
    connected_at: int
    api_id: str
    stage: str
    domain_name: str
    source_ip: str
    user_agent: str
    # What the `$connect` authorizer allowed the connection as (`principalId` and its
    # context keys): `requestContext.authorizer` of each of its events.
    authorizer: Mapping[str, Any] | None = None


def _request_context(facts: ConnectionFacts, route_key: str, event_type: str,
                     request_id: str, epoch_ms: int) -> dict[str, Any]:
    identity = {"sourceIp": facts.source_ip}
    if facts.user_agent:
        identity["userAgent"] = facts.user_agent
    return {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": request_id,
        "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(epoch_ms / 1000)),
        "messageDirection": "IN",
        "stage": facts.stage,
        "connectedAt": facts.connected_at,
        "requestTimeEpoch": epoch_ms,
        "identity": identity,
        "requestId": request_id,
        "domainName": facts.domain_name,
        "connectionId": facts.connection_id,
        "apiId": facts.api_id,
        **({"authorizer": dict(facts.authorizer)} if facts.authorizer is not None else {}),
    }


def connect_event(facts: ConnectionFacts, request_id: str, headers: Mapping[str, str],
                  query: list[tuple[str, str]]) -> dict[str, Any]:
    event: dict[str, Any] = {
        "headers": dict(headers),
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
    }
    if query:
        multi: dict[str, list[str]] = {}
        for name, value in query:
            multi.setdefault(name, []).append(value)
        event["queryStringParameters"] = {name: values[-1] for name, values in multi.items()}
        event["multiValueQueryStringParameters"] = multi
    event["requestContext"] = _request_context(
        facts, "$connect", "CONNECT", request_id, facts.connected_at)
    event["isBase64Encoded"] = False
    return event


def message_event(facts: ConnectionFacts, route_key: str, request_id: str,
                  body: str | bytes, epoch_ms: int) -> dict[str, Any]:
    context = _request_context(facts, route_key, "MESSAGE", request_id, epoch_ms)
    context["messageId"] = event_id()
    binary = isinstance(body, bytes)
    return {
        "requestContext": context,
        "body": base64.b64encode(body).decode() if isinstance(body, bytes) else body,
        "isBase64Encoded": binary,
    }


def disconnect_event(facts: ConnectionFacts, request_id: str, headers: Mapping[str, str],
                     status_code: int, reason: str, epoch_ms: int) -> dict[str, Any]:
    context = _request_context(facts, "$disconnect", "DISCONNECT", request_id, epoch_ms)
    context["disconnectStatusCode"] = status_code
    context["disconnectReason"] = reason
    kept = {k: v for k, v in headers.items()
            if k == "Host" or k.startswith(("X-Forwarded-", "X-Amzn-"))}
    return {
        "headers": kept,
        "multiValueHeaders": {k: [v] for k, v in kept.items()},
        "requestContext": context,
        "isBase64Encoded": False,
    }
