"""Handing outcomes to the notifications queue, which Notify drains.

The body of an outcome's message is the outcome document, exactly what a subscriber
receives; whose outcome it is travels beside it, in the `owner` message attribute,
so that Notify delivers it only to that caller's subscriptions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from functions.contracts.outcome import Outcome
from functions.contracts.replay import ReplayRequest

# The message attribute naming the caller an outcome belongs to (its sub).
OWNER_MESSAGE_ATTRIBUTE = "owner"


def current_trace_header() -> str | None:
    """`Root=…;Parent=…;Sampled=…` of the X-Ray entity this code runs in, or None when
    tracing is off or no trace is active (then nothing is propagated)."""
    try:
        from aws_xray_sdk import global_sdk_config
        from aws_xray_sdk.core import xray_recorder
    except ImportError:  # pragma: no cover - the Powertools layer ships the SDK
        return None
    if not global_sdk_config.sdk_enabled():
        return None
    try:
        entity = xray_recorder.get_trace_entity()
    except Exception:  # no active trace is not an error here
        return None
    trace_id = getattr(entity, "trace_id", None)
    entity_id = getattr(entity, "id", None)
    if not trace_id or not entity_id:
        return None
    sampled = 1 if getattr(entity, "sampled", False) else 0
    return f"Root={trace_id};Parent={entity_id};Sampled={sampled}"


class NotificationQueue:
    def __init__(self, sqs_client: Any, queue_url: str,
                 trace_header: Callable[[], str | None] = current_trace_header) -> None:
        self._sqs = sqs_client
        self._url = queue_url
        self._trace_header = trace_header

    def send(self, outcome: Outcome, owner: str, delay_seconds: int = 0) -> None:
        """Raises on failure so the command's record is retried: the outcome is
        already stored, so the retry replays it and nothing is applied twice.

        The current X-Ray trace header travels as the message's `AWSTraceHeader`
        system attribute, so Notify's trace is linked to this one (SQS would also
        take it from the instrumented client's `X-Amzn-Trace-Id` header; saying it
        explicitly works with emulators that ignore that header too)."""
        self._send(outcome.to_json(), delay_seconds, {
            "requestId": {"DataType": "String", "StringValue": outcome.request_id},
            "status": {"DataType": "String", "StringValue": outcome.status.value},
            OWNER_MESSAGE_ATTRIBUTE: {"DataType": "String", "StringValue": owner},
        })

    def send_replay(self, replay: ReplayRequest, delay_seconds: int) -> None:
        """Ask Notify to post the stored outcome to one connection, once it is open."""
        self._send(replay.to_json(), delay_seconds, {
            "requestId": {"DataType": "String", "StringValue": replay.request_id},
        })

    def _send(self, body: str, delay_seconds: int, attributes: dict[str, Any]) -> None:
        request: dict[str, Any] = {
            "QueueUrl": self._url,
            "MessageBody": body,
            "DelaySeconds": delay_seconds,
            "MessageAttributes": attributes,
        }
        header = self._trace_header()
        if header:
            request["MessageSystemAttributes"] = {
                "AWSTraceHeader": {"DataType": "String", "StringValue": header}}
        self._sqs.send_message(**request)
