"""Moving messages from a dead-letter queue back to where they failed.

Never delete before the copy is sent: each batch is received (hidden), sent to the
target queue with its body, message attributes and trace header, and only the
messages SQS confirms as sent are deleted from the DLQ. A message whose send failed
is made visible in the DLQ again; one that was sent but could not be deleted is
reported (it will be redriven twice, which the handlers' idempotency per requestId
makes harmless: docs/adr/0002-idempotency-per-request-id.md). A crash between the
send and the delete has the same outcome: a duplicate, never a loss.

The CLI does this itself rather than with SQS's StartMessageMoveTask so that it can
move only some messages (`--request-id`, `--max`) and works the same on the local
stack (moto has no message move tasks).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from tools.dlq.messages import dead_letter, receive, release


@dataclass
class RedriveReport:
    moved: list[str] = field(default_factory=list)  # message ids now in the target
    # message id → why it is still in the DLQ
    failed: dict[str, str] = field(default_factory=dict)
    # sent to the target but still in the DLQ too: a later redrive sends it again
    not_deleted: dict[str, str] = field(default_factory=dict)
    skipped: int = 0  # received but not selected (`request_ids`)
    # requested ids that no message in the DLQ carried (or none that could be read)
    missing: list[str] = field(default_factory=list)
    # after a redrive of everything: what the DLQ still reports (approximate; messages
    # another reader held hidden, or that arrived meanwhile)
    remaining: int | None = None

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_deleted and not self.missing

    def as_json(self) -> dict[str, Any]:
        return {"moved": len(self.moved), "failed": self.failed,
                "not_deleted": self.not_deleted, "skipped": self.skipped,
                "missing": self.missing, "remaining": self.remaining,
                "moved_message_ids": self.moved}


def _entry(index: int, message: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {"Id": str(index), "MessageBody": message["Body"]}
    attributes = {
        name: {k: v for k, v in value.items()
               if k in ("DataType", "StringValue", "BinaryValue")}
        for name, value in message.get("MessageAttributes", {}).items()}
    if attributes:
        entry["MessageAttributes"] = attributes
    trace = message.get("Attributes", {}).get("AWSTraceHeader")
    if trace:  # keeps the request's X-Ray trace joined up through the redrive
        entry["MessageSystemAttributes"] = {
            "AWSTraceHeader": {"DataType": "String", "StringValue": trace}}
    return entry


def redrive(
    sqs: Any,
    dlq_url: str,
    target_url: str,
    *,
    limit: int | None = None,
    request_ids: Collection[str] | None = None,
    on_moved: Callable[[int], None] | None = None,
) -> RedriveReport:
    """Move up to `limit` messages (all when None), only those of `request_ids` if given.

    A requested id that no message carries is reported `missing` (not ok): a message
    hidden by another reader at the time cannot be told from one that is not there.
    """
    report = RedriveReport()
    seen: set[str] = set()
    skipped_handles: list[str] = []
    wanted = set(request_ids) if request_ids else None
    found: set[str] = set()
    try:
        # A requested id may be on several messages (copies of one command): the whole
        # DLQ is looked through, not only up to the first of each.
        while limit is None or len(report.moved) < limit:
            room = None if limit is None else limit - len(report.moved)
            # Do not hide more than can move (a filtered redrive must look at them all).
            batch = receive(sqs, dlq_url, 10 if room is None or request_ids else room)
            fresh = [m for m in batch if m["MessageId"] not in seen]
            # Seen already (a failed send, or a skipped one whose hiding ran out): back.
            release(sqs, dlq_url, [m["ReceiptHandle"] for m in batch
                                   if m["MessageId"] in seen])
            if not fresh:
                break
            seen.update(m["MessageId"] for m in fresh)
            chosen = [m for m in fresh
                      if wanted is None or dead_letter(m).request_id in wanted]
            chosen = chosen if room is None else chosen[:room]
            chosen_ids = {m["MessageId"] for m in chosen}
            others = [m["ReceiptHandle"] for m in fresh if m["MessageId"] not in chosen_ids]
            skipped_handles.extend(others)
            report.skipped += len(others)
            found.update(str(dead_letter(m).request_id) for m in chosen)
            if chosen:
                _move(sqs, dlq_url, target_url, chosen, report)
                if on_moved is not None:
                    on_moved(len(chosen))
    finally:
        release(sqs, dlq_url, skipped_handles)
    if wanted is not None:
        report.missing = sorted(wanted - found)
    elif limit is None:
        try:
            attributes = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=[
                "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])[
                "Attributes"]
            report.remaining = sum(int(v) for v in attributes.values())
        except Exception:  # only a hint: the report of what moved matters more
            report.remaining = None
    return report


def _move(sqs: Any, dlq_url: str, target_url: str, messages: list[dict[str, Any]],
          report: RedriveReport) -> None:
    by_id = {str(i): m for i, m in enumerate(messages)}
    try:
        sent = sqs.send_message_batch(
            QueueUrl=target_url, Entries=[_entry(i, m) for i, m in enumerate(messages)])
    except Exception as exc:  # nothing was sent: all stay in the DLQ
        release(sqs, dlq_url, [m["ReceiptHandle"] for m in messages])
        for message in messages:
            report.failed[message["MessageId"]] = f"send failed: {exc}"
        return
    unsent = [by_id[f["Id"]] for f in sent.get("Failed", [])]
    for failure in sent.get("Failed", []):
        report.failed[by_id[failure["Id"]]["MessageId"]] = (
            f"send failed: {failure.get('Code')}: {failure.get('Message', '')}")
    release(sqs, dlq_url, [m["ReceiptHandle"] for m in unsent])
    delivered = [by_id[s["Id"]] for s in sent.get("Successful", [])]
    if not delivered:
        return
    try:
        deleted = sqs.delete_message_batch(QueueUrl=dlq_url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
            for i, m in enumerate(delivered)])
    except Exception as exc:
        for message in delivered:
            report.not_deleted[message["MessageId"]] = f"delete failed: {exc}"
        return
    failed_deletes = {f["Id"]: f for f in deleted.get("Failed", [])}
    for index, message in enumerate(delivered):
        failure = failed_deletes.get(str(index))
        if failure is None:
            report.moved.append(message["MessageId"])
        else:
            report.not_deleted[message["MessageId"]] = (
                f"delete failed: {failure.get('Code')}: {failure.get('Message', '')}")
