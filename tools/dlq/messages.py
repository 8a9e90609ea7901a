"""Reading a dead-letter queue's messages without taking them, and the shared helpers
for receiving and releasing them.

SQS has no peek: a message is read by receiving it, which hides it for a visibility
timeout. Readers here hide what they read while they go on (so that the next receive
returns the next messages), then make every one visible again. Each receive raises
the message's receive count by one (`Reading.receives` says how many a read made); a
DLQ has no maxReceiveCount of its own, so that costs nothing but the count.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import unquote_plus

from functions.contracts.routing import OPERATION_ATTRIBUTE

# Long enough that a batch read is not handed out again before the reader is done
# with the whole queue (a reader that takes longer may see a message twice: deduped).
READ_VISIBILITY_SECONDS = 120
RECEIVE_WAIT_SECONDS = 1
SQS_BATCH = 10
# The message attribute the REST API publishes beside `operation`
# (infra/mapping_templates.py), URL-encoded like the Command's own requestId.
REQUEST_ID_ATTRIBUTE: Final = "requestId"


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    body: str
    # SQS system attributes: SentTimestamp, ApproximateReceiveCount, AWSTraceHeader, ...
    attributes: dict[str, str]
    message_attributes: dict[str, Any]
    receipt_handle: str = ""

    @property
    def command(self) -> dict[str, Any]:
        """The body as a JSON object (a Command, an Outcome, ...), or {} if it is not one;
        an SNS envelope (a subscription without raw delivery) is opened."""
        document = _json_object(self.body)
        if document.get("Type") == "Notification" and isinstance(document.get("Message"), str):
            return _json_object(document["Message"])
        return document

    def _attribute(self, name: str) -> str | None:
        """A String message attribute, on the message or inside an SNS envelope."""
        value = self.message_attributes.get(name, {}).get("StringValue")
        if value is None:
            enveloped = _json_object(self.body).get("MessageAttributes")
            if isinstance(enveloped, dict) and isinstance(enveloped.get(name), dict):
                value = enveloped[name].get("Value")
        return str(value) if value is not None else None

    @property
    def request_id(self) -> str | None:
        """From the body (decoded: a Command carries its strings URL-encoded,
        functions/contracts/command.py), else from the `requestId` message attribute."""
        value = self.command.get("requestId") or self._attribute(REQUEST_ID_ATTRIBUTE)
        return unquote_plus(str(value)) if value else None

    @property
    def operation(self) -> str | None:
        """From the body, else from the `operation` message attribute the topic's
        filter policies route on (a body that is no Command still has it)."""
        value = self.command.get("operation") or self._attribute(OPERATION_ATTRIBUTE)
        return unquote_plus(str(value)) if value else None

    @property
    def receive_count(self) -> int | None:
        count = self.attributes.get("ApproximateReceiveCount")
        return int(count) if count is not None else None


def _json_object(text: str) -> dict[str, Any]:
    try:
        parsed = json.loads(text)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def dead_letter(message: dict[str, Any]) -> DeadLetter:
    return DeadLetter(message["MessageId"], message["Body"],
                      dict(message.get("Attributes", {})),
                      dict(message.get("MessageAttributes", {})),
                      message.get("ReceiptHandle", ""))


def receive(sqs: Any, url: str, count: int) -> list[dict[str, Any]]:
    return list(sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=max(1, min(SQS_BATCH, count)),
        VisibilityTimeout=READ_VISIBILITY_SECONDS, WaitTimeSeconds=RECEIVE_WAIT_SECONDS,
        AttributeNames=["All"], MessageSystemAttributeNames=["All"],
        MessageAttributeNames=["All"],
    ).get("Messages", []))


def batches(items: Sequence[str]) -> Iterator[Sequence[str]]:
    """`items` in slices of at most ten, SQS's batch size."""
    for start in range(0, len(items), SQS_BATCH):
        yield items[start:start + SQS_BATCH]


def release(sqs: Any, url: str, receipt_handles: Sequence[str]) -> None:
    """Make received messages visible again at once (an expired handle is ignored:
    its message is visible already)."""
    for batch in batches(receipt_handles):
        sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": 0}
            for i, handle in enumerate(batch)])


@dataclass
class Reading:
    """One pass over a queue: the distinct messages read, batch by batch, while the
    ones read stay hidden; `receives` counts every receive (a message that came back
    during a slow read was received, and counted, twice)."""

    sqs: Any
    url: str
    limit: int | None = None
    receives: int = 0
    seen: set[str] = field(default_factory=set)
    # Receipt handles of messages received again while hidden: released by `close`.
    repeats: list[str] = field(default_factory=list)

    def batches(self) -> Iterator[list[DeadLetter]]:
        """Each receive's fresh messages (never one seen before), until a receive
        brings none or `limit` are read. The caller releases or deletes them."""
        while self.limit is None or len(self.seen) < self.limit:
            wanted = SQS_BATCH if self.limit is None else self.limit - len(self.seen)
            batch = [dead_letter(m) for m in receive(self.sqs, self.url, wanted)]
            self.receives += len(batch)
            fresh = [m for m in batch if m.message_id not in self.seen]
            self.repeats.extend(m.receipt_handle for m in batch if m.message_id in self.seen)
            if not fresh:
                return
            self.seen.update(m.message_id for m in fresh)
            yield fresh

    def close(self) -> None:
        release(self.sqs, self.url, self.repeats)
        self.repeats = []


def peek(sqs: Any, url: str, limit: int | None = None) -> tuple[list[DeadLetter], int]:
    """Up to `limit` messages (all when None), oldest receive first, and how many
    receives that took; all stay queued, visible again."""
    reading = Reading(sqs, url, limit)
    read: list[DeadLetter] = []
    try:
        for batch in reading.batches():
            read.extend(batch)
    finally:
        release(sqs, url, [m.receipt_handle for m in read])
        reading.close()
    return read, reading.receives


def delete(sqs: Any, url: str, messages: Sequence[DeadLetter]
           ) -> tuple[list[str], dict[str, str]]:
    """Delete received messages by their receipt handles: (ids deleted, id → why not)."""
    deleted: list[str] = []
    failed: dict[str, str] = {}
    for start in range(0, len(messages), SQS_BATCH):
        batch = messages[start:start + SQS_BATCH]
        try:
            answer = sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(batch)])
        except Exception as exc:  # none of the batch is known deleted: all reported
            failed.update({m.message_id: f"delete failed: {exc}" for m in batch})
            continue
        failures = {f["Id"]: f for f in answer.get("Failed", [])}
        for index, message in enumerate(batch):
            failure = failures.get(str(index))
            if failure is None:
                deleted.append(message.message_id)
            else:
                failed[message.message_id] = (
                    f"delete failed: {failure.get('Code')}: {failure.get('Message', '')}")
    return deleted, failed
