"""Keeping received messages hidden while a redrive still needs them, and letting them go.

A received message is hidden for its visibility timeout. A redrive holds two kinds:
the batch being sent (if it reappeared before its delete, another thread would send it
again: a duplicate, and in a FIFO group a reordering) and the messages it decided to
leave (not chosen, failed), which must not be received again in the same run. One
thread extends both before their timeout runs out, so neither depends on how long a
send takes (throttling, `--rate`) or how long the run is; at the end, or on Ctrl-C,
everything still held is made visible at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from tools.dlq.messages import SQS_BATCH


def change_visibility(sqs: Any, url: str, handles: Iterable[str], seconds: int) -> int:
    """`ChangeMessageVisibilityBatch` in tens; how many SQS refused (an expired handle:
    its message is visible already, or deleted)."""
    refused = 0
    handles = list(handles)
    for start in range(0, len(handles), SQS_BATCH):
        batch = handles[start:start + SQS_BATCH]
        answer = sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": seconds}
            for i, handle in enumerate(batch)])
        refused += len(answer.get("Failed", []))
    return refused


class VisibilityKeeper:
    """Holds message id → receipt handle, extending each before `timeout_seconds` passes.

    An extension is due a third of the timeout after the receive (or the last
    extension), so a late tick still leaves two thirds of it. `on_extend` hears of an
    extension before it is made (the journal notes it); `on_error` of a failed one
    (the message may then be received again: at worst a duplicate).
    """

    def __init__(self, sqs: Any, url: str, timeout_seconds: int,
                 on_error: Callable[[Exception], None] | None = None,
                 on_extend: Callable[[int], None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._sqs, self._url, self.timeout_seconds = sqs, url, timeout_seconds
        self._on_error = on_error
        self._on_extend = on_extend
        self._clock = clock
        self._held: dict[str, tuple[str, float]] = {}  # id → (handle, hidden until about)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="redrive-visibility",
                                        daemon=True)
        self.extensions = 0  # ChangeMessageVisibility entries sent (for the benchmark)

    def start(self) -> VisibilityKeeper:
        self._thread.start()
        return self

    def hold(self, handles: Mapping[str, str]) -> None:
        """Keep these (message id → the handle of its latest receive) hidden."""
        now = self._clock()
        with self._lock:
            for message_id, handle in handles.items():
                self._held[message_id] = (handle, now)

    def drop(self, message_ids: Iterable[str]) -> None:
        """No longer extend these (deleted, or released by the caller)."""
        with self._lock:
            for message_id in message_ids:
                self._held.pop(message_id, None)

    def holds(self, message_id: str) -> bool:
        with self._lock:
            return message_id in self._held

    @property
    def held(self) -> int:
        with self._lock:
            return len(self._held)

    def release(self, message_ids: Iterable[str] | None = None) -> None:
        """Make these (all when None) visible at once and stop holding them."""
        with self._lock:
            chosen = list(self._held) if message_ids is None else [
                m for m in message_ids if m in self._held]
            handles = [self._held.pop(m)[0] for m in chosen]
        change_visibility(self._sqs, self._url, handles, 0)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        tick = max(0.05, self.timeout_seconds / 6)
        while not self._stop.wait(tick):
            self.extend_due()

    def extend_due(self) -> None:
        """Extend every message held for a third of the timeout or longer."""
        now = self._clock()
        with self._lock:
            due = {m: h for m, (h, since) in self._held.items()
                   if now - since >= self.timeout_seconds / 3}
            for message_id, handle in due.items():
                self._held[message_id] = (handle, now)
        if not due:
            return
        try:
            if self._on_extend is not None:
                self._on_extend(len(due))
            change_visibility(self._sqs, self._url, due.values(), self.timeout_seconds)
            self.extensions += len(due)
        except Exception as exc:  # reported, not fatal: the send goes on
            if self._on_error is not None:
                self._on_error(exc)
