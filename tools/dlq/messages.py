"""Reading a dead-letter queue's messages without taking them, and the shared helpers
for receiving and releasing them.

SQS has no peek: a message is read by receiving it, which hides it for a visibility
timeout. Readers here hide what they read while they go on (so that the next receive
returns the next messages), then make every one visible again. The receive count
goes up by one; a DLQ has no maxReceiveCount of its own, so that costs nothing.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

# Long enough that a batch read is not handed out again before the reader is done
# with the whole queue (a reader that takes longer may see a message twice: deduped).
READ_VISIBILITY_SECONDS = 120
RECEIVE_WAIT_SECONDS = 1
SQS_BATCH = 10


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    body: str
    # SQS system attributes: SentTimestamp, ApproximateReceiveCount, AWSTraceHeader, ...
    attributes: dict[str, str]
    message_attributes: dict[str, Any]

    @property
    def command(self) -> dict[str, Any]:
        """The body as a command (requestId, operation, ...), or {} if it is not one."""
        try:
            parsed = json.loads(self.body)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}

    @property
    def request_id(self) -> str | None:
        value = self.command.get("requestId")
        return str(value) if value is not None else None

    def as_json(self) -> dict[str, Any]:
        """JSON-ready: binary attribute values (bytes from boto3) become base64."""
        attributes = {
            name: {key: base64.b64encode(value).decode() if isinstance(value, bytes)
                   else value for key, value in attribute.items()}
            for name, attribute in self.message_attributes.items()}
        return {"message_id": self.message_id, "request_id": self.request_id,
                "operation": self.command.get("operation"), "body": self.body,
                "attributes": self.attributes, "message_attributes": attributes}


def dead_letter(message: dict[str, Any]) -> DeadLetter:
    return DeadLetter(message["MessageId"], message["Body"],
                      dict(message.get("Attributes", {})),
                      dict(message.get("MessageAttributes", {})))


def receive(sqs: Any, url: str, count: int) -> list[dict[str, Any]]:
    return list(sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=max(1, min(SQS_BATCH, count)),
        VisibilityTimeout=READ_VISIBILITY_SECONDS, WaitTimeSeconds=RECEIVE_WAIT_SECONDS,
        AttributeNames=["All"], MessageAttributeNames=["All"],
    ).get("Messages", []))


def _batches(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), SQS_BATCH):
        yield items[start:start + SQS_BATCH]


def release(sqs: Any, url: str, receipt_handles: Sequence[str]) -> None:
    """Make received messages visible again at once (an expired handle is ignored:
    its message is visible already)."""
    for batch in _batches(receipt_handles):
        sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": 0}
            for i, handle in enumerate(batch)])


def peek(sqs: Any, url: str, limit: int | None = None) -> list[DeadLetter]:
    """Up to `limit` messages (all when None), oldest receive first; all stay queued."""
    seen: dict[str, DeadLetter] = {}
    handles: list[str] = []
    try:
        while limit is None or len(seen) < limit:
            wanted = SQS_BATCH if limit is None else limit - len(seen)
            batch = receive(sqs, url, wanted)
            handles.extend(m["ReceiptHandle"] for m in batch)
            fresh = [m for m in batch if m["MessageId"] not in seen]
            if not fresh:
                break
            for message in fresh:
                seen[message["MessageId"]] = dead_letter(message)
    finally:
        release(sqs, url, handles)
    return list(seen.values())
