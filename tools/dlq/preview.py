"""`redrive --dry-run`: what a redrive would move, changing nothing but what reading must.

SQS has no peek: every message is received once (its receive count goes up by one,
which a DLQ, having no maxReceiveCount of its own, does not act on), kept hidden
while the rest is read so that each is counted once, and made visible again at once
when the reading ends. Nothing is sent, deleted or journaled.

A FIFO DLQ hands out no more messages of a group while some of it are hidden, so a
dry run there sees the first messages of each group (up to ten per receive); the
summary says so, beside the queue's own count.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from tools.dlq.messages import READ_VISIBILITY_SECONDS, RECEIVE_WAIT_SECONDS, SQS_BATCH
from tools.dlq.selection import MessageView, Selection, message_view
from tools.dlq.visibility import change_visibility

SAMPLE_SIZE: Final = 5


@dataclass
class Preview:
    chosen: int = 0
    looked_at: int = 0
    by_operation: Counter[str] = field(default_factory=Counter)
    oldest_sent_ms: int | None = None
    sample: list[MessageView] = field(default_factory=list)
    fifo_heads_only: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"dry_run": True, "would_move": self.chosen, "looked_at": self.looked_at,
                "by_operation": dict(sorted(self.by_operation.items())),
                "oldest_sent_timestamp": self.oldest_sent_ms,
                "oldest_age_seconds": None if self.oldest_sent_ms is None
                else round(time.time() - self.oldest_sent_ms / 1000, 1),
                "fifo_heads_only": self.fifo_heads_only,
                "sample": [{"message_id": v.message_id, "request_id": v.request_id,
                            "operation": v.operation, "receive_count": v.receive_count,
                            "sent_timestamp": v.sent_timestamp,
                            "body": v.body if not isinstance(v.body, str) else v.body[:300]}
                           for v in self.sample]}


def preview(sqs: Any, url: str, selection: Selection, *, fifo: bool = False,
            clock_ms: Callable[[], int] = lambda: int(time.time() * 1000)) -> Preview:
    """Read the whole DLQ once (or until `selection.limit` are chosen) and release it."""
    result = Preview(fifo_heads_only=fifo)
    seen: set[str] = set()
    handles: list[str] = []
    now = clock_ms()
    try:
        while selection.limit is None or result.chosen < selection.limit:
            batch = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=SQS_BATCH,
                VisibilityTimeout=READ_VISIBILITY_SECONDS, WaitTimeSeconds=RECEIVE_WAIT_SECONDS,
                AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])
            handles.extend(m["ReceiptHandle"] for m in batch)
            fresh = [m for m in batch if m["MessageId"] not in seen]
            if not fresh:
                break
            for message in fresh:
                seen.add(message["MessageId"])
                result.looked_at += 1
                view = message_view(message)
                if selection.limit is not None and result.chosen >= selection.limit:
                    break
                if not selection.chooses(view, now_ms=now):
                    continue
                result.chosen += 1
                result.by_operation[view.operation or "(none)"] += 1
                if view.sent_timestamp and (result.oldest_sent_ms is None
                                            or view.sent_timestamp < result.oldest_sent_ms):
                    result.oldest_sent_ms = view.sent_timestamp
                if len(result.sample) < SAMPLE_SIZE:
                    result.sample.append(view)
    finally:
        change_visibility(sqs, url, handles, 0)
    return result
