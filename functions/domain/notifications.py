"""Handing outcomes to the notifications queue, which Notify drains."""

from __future__ import annotations

from typing import Any

from functions.contracts.outcome import Outcome


class NotificationQueue:
    def __init__(self, sqs_client: Any, queue_url: str) -> None:
        self._sqs = sqs_client
        self._url = queue_url

    def send(self, outcome: Outcome, delay_seconds: int = 0) -> None:
        """Raises on failure so the command's record is retried: the outcome is
        already stored, so the retry replays it and nothing is applied twice."""
        self._sqs.send_message(
            QueueUrl=self._url,
            MessageBody=outcome.to_json(),
            DelaySeconds=delay_seconds,
            MessageAttributes={
                "requestId": {"DataType": "String", "StringValue": outcome.request_id},
                "status": {"DataType": "String", "StringValue": outcome.status.value},
            },
        )
