"""Backlogs for `crudops bench`: valid create commands put straight into the create
consumer's queue, and a watcher that times how long the queue takes to drain.

The commands have the shape the REST integration publishes (functions/contracts/
command.py) and the message attributes SNS raw delivery adds, so the create function
handles them exactly like real traffic. They go into the queue while the stack runs
(the stack has no way to pause its pollers), so the consumer starts on them during
preloading: the depth actually reached is measured and reported next to the nominal
size.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SQS_BATCH = 10
# The caller the backlog's items belong to: the API would put a user's Cognito sub here.
BACKLOG_OWNER = "bench-backlog"


def create_command(name: str, now_ms: int | None = None) -> dict[str, Any]:
    """A create command as the REST API's SNS integration would publish it."""
    return {
        "requestId": f"bench-backlog-{uuid.uuid4()}",
        "operation": "create",
        "owner": BACKLOG_OWNER,
        "itemId": "",
        "submittedAt": int(time.time() * 1000) if now_ms is None else now_ms,
        "idempotencyKey": "",
        "payload": {"name": name},
        "query": None,
        "ifMatch": "",
    }


def batch_entries(start: int, count: int) -> list[dict[str, Any]]:
    """Up to 10 `send_message_batch` entries, numbered from `start`."""
    entries = []
    for offset in range(min(count, SQS_BATCH)):
        command = create_command(f"backlog {start + offset}")
        entries.append({
            "Id": str(offset),
            "MessageBody": json.dumps(command),
            "MessageAttributes": {
                "operation": {"DataType": "String", "StringValue": "create"},
                "requestId": {"DataType": "String", "StringValue": command["requestId"]},
            },
        })
    return entries


def preload(sqs: Any, queue_url: str, total: int,
            progress: Callable[[int], None] | None = None) -> int:
    """Send `total` commands, 10 per call; returns how many SQS accepted."""
    sent = 0
    while sent < total:
        entries = batch_entries(sent, total - sent)
        answer = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        accepted = len(answer.get("Successful", []))
        if answer.get("Failed"):
            raise RuntimeError(f"SQS refused backlog messages: {answer['Failed'][:3]}")
        sent += accepted
        if progress is not None:
            progress(sent)
    return sent


def depth(sqs: Any, queue_url: str) -> int:
    """Visible + in flight + delayed: everything not yet consumed."""
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed"])["Attributes"]
    return sum(int(value) for value in attributes.values())


@dataclass
class DrainWatcher:
    """Polls the queue depth once a second from a thread until it reaches zero.

    A thread, so the load phases run meanwhile; polling is cheap next to the
    consumer's own receives, and bounded by `timeout`.
    """

    sqs: Any
    queue_url: str
    started_at: float
    timeout: float
    interval: float = 1.0
    samples: list[tuple[float, int]] = field(default_factory=list)
    drained_at: float | None = None
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def start(self) -> DrainWatcher:
        self._thread = threading.Thread(target=self._run, name="bench-drain", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set() and time.monotonic() - self.started_at < self.timeout:
            try:
                current = depth(self.sqs, self.queue_url)
            except Exception:
                current = -1
            now = time.monotonic()
            self.samples.append((now, current))
            if current == 0:
                self.drained_at = now
                return
            self._stop.wait(self.interval)

    def wait(self, timeout: float) -> bool:
        """Block until drained, the watcher's own timeout, or `timeout`; True if drained."""
        if self._thread is not None:
            self._thread.join(max(0.0, timeout))
        return self.drained_at is not None

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    @property
    def last_depth(self) -> int | None:
        return self.samples[-1][1] if self.samples else None

    def drain_rate(self) -> float | None:
        """Messages consumed per second between the first and the last sample (net of
        what the load phases added meanwhile, so a lower bound of the consumer's rate)."""
        valid = [(t, d) for t, d in self.samples if d >= 0]
        if len(valid) < 2 or valid[-1][0] <= valid[0][0]:
            return None
        return (valid[0][1] - valid[-1][1]) / (valid[-1][0] - valid[0][0])
