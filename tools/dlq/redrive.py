"""Moving messages from a dead-letter queue back to where they failed.

Never delete before the copy is sent: each batch is received (hidden), sent to the
target queue with its body, message attributes and trace header, and only the
messages SQS confirms as sent are deleted from the DLQ. A message whose send failed
stays in the DLQ (made visible when the run ends); one that was sent but could not be
deleted is reported (a later redrive sends it again, which the handlers' idempotency
per requestId makes harmless: docs/adr/0002-idempotency-per-request-id.md). Each step
is written to the run's journal first (tools/dlq/journal.py), so a run stopped
anywhere — Ctrl-C, a crash, kill -9 — is resumed (`--resume RUN`) without sending
again what SQS confirmed, and without it at worst sends a message twice.

`concurrency` threads each run their own receive → send → delete loop over one shared
client (botocore's adaptive retry mode paces them all when SQS throttles), and a
token bucket shared by them (pyrate-limiter) holds them to `rate` messages per second.
One thread keeps every held message hidden (tools/dlq/visibility.py).

FIFO: a message keeps its MessageGroupId and gets a MessageDeduplicationId derived from
the run and its message id. Its old id may be inside the target's 5-minute window (it
was sent there minutes ago, or an earlier redrive sent it) and SQS would then accept
the send and drop the message: a loss once the DLQ copy is deleted. The derived id is
the same when a resumed run sends it again, so that resend is deduplicated. Order
within a group is kept: SQS hands no thread a group another thread holds, a batch is
sent in its order, and once a message of a group is left in the DLQ (not chosen,
failed) no later one of that group moves in this run.

The CLI does this itself rather than with SQS's StartMessageMoveTask so that it can
move only some messages (`--filter`, `--request-id`, `--max`) and works the same on
the local stack (moto has no message move tasks).
"""

from __future__ import annotations

import hashlib
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, Final

from tools.dlq.journal import HELD_MARGIN_SECONDS, Journal, JournalState
from tools.dlq.messages import SQS_BATCH
from tools.dlq.selection import Selection, message_view
from tools.dlq.visibility import VisibilityKeeper

RECEIVE_WAIT_SECONDS: Final = 1
# How long a received batch stays hidden before the keeper extends it: long enough
# that an extension is rare (API calls), short enough that a killed run's messages
# are back in the DLQ soon.
VISIBILITY_SECONDS: Final = 30
# Receives that only brought back messages this run already holds (their hiding ran
# out) before a thread decides the DLQ has nothing new for it.
STALE_RECEIVES: Final = 3
_SEND_ATTRIBUTES: Final = ("DataType", "StringValue", "BinaryValue")


@dataclass(frozen=True)
class RedrivePlan:
    """One run: from where to where, which messages, how fast."""

    source_url: str
    target_url: str
    selection: Selection
    run_id: str
    fifo_target: bool = False
    rate: float | None = None  # messages per second, all threads together
    concurrency: int = 1
    visibility_seconds: int = VISIBILITY_SECONDS


@dataclass
class RedriveReport:
    run_id: str = ""
    moved: int = 0  # now in the target, gone from the DLQ (ids: the journal)
    # message id → why it is still in the DLQ
    failed: dict[str, str] = field(default_factory=dict)
    # sent to the target but still in the DLQ too: a later redrive sends it again
    not_deleted: dict[str, str] = field(default_factory=dict)
    skipped: int = 0  # received but not chosen (the selection, or --max reached)
    # FIFO: left in place behind an earlier message of their group that did not move
    held_back: int = 0
    # sent in an earlier part of the run (the journal) and now deleted from the DLQ
    resumed_deletes: int = 0
    # requested ids that no message in the DLQ carried (or none that could be read)
    missing: list[str] = field(default_factory=list)
    # what the DLQ reported after the run (approximate; messages another reader held
    # hidden, or that arrived meanwhile)
    remaining: int | None = None
    interrupted: bool = False
    seconds: float = 0.0
    # problems that did not stop the run (a visibility extension that failed)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.failed or self.not_deleted or self.missing or self.interrupted)

    @property
    def rate(self) -> float:
        return self.moved / self.seconds if self.seconds > 0 else 0.0

    def as_json(self) -> dict[str, Any]:
        return {"run": self.run_id, "moved": self.moved, "failed": self.failed,
                "not_deleted": self.not_deleted, "skipped": self.skipped,
                "held_back": self.held_back, "resumed_deletes": self.resumed_deletes,
                "missing": self.missing, "remaining": self.remaining,
                "interrupted": self.interrupted, "seconds": round(self.seconds, 3),
                "messages_per_second": round(self.rate, 1), "warnings": self.warnings,
                "ok": self.ok}


Progress = Callable[[RedriveReport], None]


def deduplication_id(run_id: str, message_id: str) -> str:
    return hashlib.sha256(f"{run_id}/{message_id}".encode()).hexdigest()


def send_entry(index: int, message: Mapping[str, Any], *, fifo_target: bool, run_id: str
               ) -> dict[str, Any]:
    """The SendMessageBatch entry that copies `message` (body, message attributes, trace
    header; on a FIFO target its group and a derived deduplication id)."""
    entry: dict[str, Any] = {"Id": str(index), "MessageBody": message["Body"]}
    attributes = {name: {k: v for k, v in value.items() if k in _SEND_ATTRIBUTES}
                  for name, value in message.get("MessageAttributes", {}).items()}
    if attributes:
        entry["MessageAttributes"] = attributes
    system = message.get("Attributes", {})
    trace = system.get("AWSTraceHeader")
    if trace:  # keeps the request's X-Ray trace joined up through the redrive
        entry["MessageSystemAttributes"] = {
            "AWSTraceHeader": {"DataType": "String", "StringValue": trace}}
    if fifo_target:
        entry["MessageGroupId"] = system.get("MessageGroupId", "redrive")
        entry["MessageDeduplicationId"] = deduplication_id(run_id, message["MessageId"])
    return entry


class _Budget:
    """How many messages may still be sent (`--max`), shared by the threads."""

    def __init__(self, limit: int | None, used: int) -> None:
        self._left = None if limit is None else max(0, limit - used)
        self._lock = threading.Lock()

    def take(self, wanted: int) -> int:
        with self._lock:
            if self._left is None:
                return wanted
            granted = min(wanted, self._left)
            self._left -= granted
            return granted

    def give_back(self, count: int) -> None:
        with self._lock:
            if self._left is not None:
                self._left += count

    @property
    def exhausted(self) -> bool:
        with self._lock:
            return self._left == 0


class Redrive:
    """One run over one shared client; `run()` returns its report.

    `limiter` is anything with pyrate-limiter's `try_acquire(name, weight, timeout=…)`
    (None: no rate). `journal` records each step; `prior` is what an interrupted part
    of the same run did (a resume).
    """

    def __init__(self, sqs: Any, plan: RedrivePlan, journal: Journal, *,
                 prior: JournalState | None = None, limiter: Any = None,
                 progress: Progress | None = None,
                 clock_ms: Callable[[], int] = lambda: int(time.time() * 1000)) -> None:
        self._sqs, self.plan, self._journal = sqs, plan, journal
        self._prior = prior
        self._confirmed = (prior.sent - prior.deleted) if prior else set()
        self._limiter = limiter
        self._progress = progress
        self._clock_ms = clock_ms
        self.report = RedriveReport(run_id=plan.run_id)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._budget = _Budget(plan.selection.limit, len(prior.sent) if prior else 0)
        self._stopped_groups: set[str] = set()
        self._found_request_ids: set[str] = set()
        self._keeper = VisibilityKeeper(sqs, plan.source_url, plan.visibility_seconds,
                                        on_error=self._warn,
                                        on_extend=lambda n: journal.note(extended=n))
        # at most this many per send: a batch must fit in one second of `rate`
        self._batch = SQS_BATCH if plan.rate is None else max(1, min(SQS_BATCH,
                                                                      int(plan.rate)))
        self.calls = 0  # receive + send + delete calls (the keeper's are its own)
        # Messages hidden by someone else — a crashed earlier part of this run, or a
        # receive whose answer was lost (the client retried it) — are visible again
        # at most a visibility timeout after they were received. Until then an empty
        # receive does not end the run while the DLQ reports more than this run holds.
        self._wait_until = time.monotonic() + max(
            0.0, prior.held_until() - time.time()) if prior else 0.0

    # --- the run ------------------------------------------------------------------
    def run(self) -> RedriveReport:
        """Move until the DLQ has nothing more for this run, or a Ctrl-C.

        The first Ctrl-C (SIGINT) only asks the threads to stop: each ends the batch in
        hand (its send, then its delete) before the run returns, so the report and the
        journal say exactly what moved. A second Ctrl-C stops at once, as a kill would:
        the journal holds what was in hand and `--resume` settles it.
        """
        started = time.monotonic()
        self._keeper.start()
        threads = [threading.Thread(target=self._worker, name=f"redrive-{n}", daemon=True)
                   for n in range(self.plan.concurrency)]
        failure: list[BaseException] = []
        try:
            with self._first_interrupt_stops():
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
        except KeyboardInterrupt:  # the second Ctrl-C
            self.report.interrupted = True
            self._stop.set()
            self._warn_text("stopped again before the batches in hand ended: --resume "
                            "settles their sends (the journal holds them)")
        except BaseException as exc:  # pragma: no cover - a bug: stop, release, re-raise
            failure.append(exc)
            self._stop.set()
            raise
        finally:
            self._keeper.stop()
            self._keeper.release()
            self.report.seconds = time.monotonic() - started
            if not failure:
                self._finish()
        return self.report

    @contextmanager
    def _first_interrupt_stops(self) -> Iterator[None]:
        """SIGINT sets the stop flag instead of raising, once; the handler before it
        (KeyboardInterrupt) is back for the next one and after the run.

        Not a KeyboardInterrupt caught around `Thread.join`: on CPython before 3.13 one
        that lands inside `join` marks the joined thread dead while it still runs
        (python/cpython#90882), and the run then returned with a batch half-done — sent
        but not yet journaled, or deleted but not counted.
        """
        if threading.current_thread() is not threading.main_thread():
            yield  # signals reach the main thread only: nothing to intercept here
            return
        # None: a handler set outside Python; KeyboardInterrupt is the usual one
        previous = signal.getsignal(signal.SIGINT) or signal.default_int_handler

        def stop(signum: int, frame: FrameType | None) -> None:
            self.report.interrupted = True
            self._stop.set()
            signal.signal(signal.SIGINT, previous)

        signal.signal(signal.SIGINT, stop)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    def _finish(self) -> None:
        wanted = self.plan.selection.request_ids
        # A resumed part cannot know which requestIds the part before it found.
        if wanted and self._prior is None:
            self.report.missing = sorted(wanted - self._found_request_ids)
        try:
            attributes = self._sqs.get_queue_attributes(
                QueueUrl=self.plan.source_url, AttributeNames=[
                    "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])[
                "Attributes"]
            self.report.remaining = sum(int(v) for v in attributes.values())
        except Exception:  # only a hint: the report of what moved matters more
            self.report.remaining = None
        self._journal.note(finished=not self.report.interrupted, **{
            k: v for k, v in self.report.as_json().items()
            if k in ("moved", "skipped", "held_back", "interrupted")})

    def _warn(self, exc: Exception) -> None:
        self._warn_text(f"visibility extension failed: {exc}")

    def _warn_text(self, text: str) -> None:
        with self._lock:
            if len(self.report.warnings) < 10:
                self.report.warnings.append(text)

    def _worker(self) -> None:
        stale = 0
        while not self._stop.is_set() and not self._budget.exhausted:
            # Paced before the receive, so that what is received is journaled at once.
            self._pace(self._batch)
            if self._stop.is_set():
                return
            batch = self._receive()
            if not batch:
                if time.monotonic() < self._wait_until and self._dlq_holds_others():
                    continue
                return
            with self._lock:
                self._wait_until = max(self._wait_until, time.monotonic()
                                       + self.plan.visibility_seconds + HELD_MARGIN_SECONDS)
            fresh = [m for m in batch if not self._keeper.holds(m["MessageId"])]
            # Held already (its hiding ran out between extensions): hold the new handle.
            self._keeper.hold({m["MessageId"]: m["ReceiptHandle"] for m in batch
                               if m not in fresh})
            if not fresh:
                stale += 1
                if stale >= STALE_RECEIVES:
                    return
                continue
            stale = 0
            self._handle(fresh)

    def _dlq_holds_others(self) -> bool:
        """Whether the DLQ reports more messages than this run holds (what it did not
        choose or could not move is held until the end, so it counts as this run's)."""
        if self._budget.exhausted:
            return False
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=self.plan.source_url, AttributeNames=[
                "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])[
            "Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]) > self._keeper.held

    def _receive(self) -> list[dict[str, Any]]:
        # Without a condition on the messages, hide no more than `--max` still allows.
        wanted = self._batch
        if self.plan.selection.everything and self.plan.selection.limit is not None:
            wanted = self._budget.take(self._batch)
            self._budget.give_back(wanted)
            if wanted == 0:
                return []
        with self._lock:
            self.calls += 1
        return list(self._sqs.receive_message(
            QueueUrl=self.plan.source_url, MaxNumberOfMessages=wanted,
            VisibilityTimeout=self.plan.visibility_seconds,
            WaitTimeSeconds=RECEIVE_WAIT_SECONDS,
            AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", []))

    # --- one batch ----------------------------------------------------------------
    def _handle(self, batch: list[dict[str, Any]]) -> None:
        now = self._clock_ms()
        self._keeper.hold({m["MessageId"]: m["ReceiptHandle"] for m in batch})
        to_send: list[dict[str, Any]] = []
        delete_only: list[dict[str, Any]] = []
        left: list[dict[str, Any]] = []  # skipped or held back: held until the end
        skipped = held_back = 0
        with self._lock:
            everything = self.plan.selection.everything
            for message in batch:
                group = message.get("Attributes", {}).get("MessageGroupId")
                if group is not None and group in self._stopped_groups:
                    held_back += 1
                    left.append(message)
                elif message["MessageId"] in self._confirmed:
                    delete_only.append(message)  # sent before the interruption
                elif everything or self.plan.selection.chooses(message_view(message),
                                                               now_ms=now):
                    to_send.append(message)
                else:
                    skipped += 1
                    left.append(message)
                    if group is not None:
                        self._stopped_groups.add(group)
        granted = self._budget.take(len(to_send))
        if granted < len(to_send):
            beyond = to_send[granted:]
            to_send = to_send[:granted]
            skipped += len(beyond)
            left.extend(beyond)
            with self._lock:
                self._stopped_groups.update(
                    g for m in beyond if (g := m.get("Attributes", {}).get("MessageGroupId")))
        with self._lock:
            self.report.skipped += skipped
            self.report.held_back += held_back
            if self.plan.selection.request_ids:
                self._found_request_ids.update(
                    r for m in to_send if (r := message_view(m).request_id) is not None)
        if not to_send and not delete_only:
            self._journal.note(held=len(batch))
        sent = self._send(to_send)
        self._delete(sent + delete_only, resumed={m["MessageId"] for m in delete_only})
        if self._progress is not None:
            self._progress(self.report)

    def _pace(self, count: int) -> None:
        """Wait for `count` messages' worth of `rate` (one receive's at most: what is
        not chosen costs its share too, so a filtered run may go slower than `rate`,
        never faster)."""
        if self._limiter is None or count == 0:
            return
        # Short waits, so that a stop is seen while the bucket fills.
        while not self._limiter.try_acquire("redrive", weight=count, timeout=0.5):
            if self._stop.is_set():
                return

    def _send(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Those SQS confirms as sent; the others are reported and stay held."""
        if not messages:
            return []
        ids = [m["MessageId"] for m in messages]
        self._journal.sending(ids)
        entries = [send_entry(i, m, fifo_target=self.plan.fifo_target, run_id=self.plan.run_id)
                   for i, m in enumerate(messages)]
        try:
            with self._lock:
                self.calls += 1
            answer = self._sqs.send_message_batch(QueueUrl=self.plan.target_url,
                                                  Entries=entries)
        except Exception as exc:  # nothing confirmed: all stay in the DLQ
            self._failed(messages, {m["MessageId"]: f"send failed: {exc}" for m in messages})
            return []
        by_index = dict(enumerate(messages))
        failures = {by_index[int(f["Id"])]["MessageId"]:
                    f"send failed: {f.get('Code')}: {f.get('Message', '')}"
                    for f in answer.get("Failed", [])}
        sent = [by_index[int(s["Id"])] for s in answer.get("Successful", [])]
        sent.sort(key=lambda m: ids.index(m["MessageId"]))
        if sent:
            self._journal.sent(m["MessageId"] for m in sent)
        if failures:
            self._failed([m for m in messages if m["MessageId"] in failures], failures)
        return sent

    def _failed(self, messages: list[dict[str, Any]], reasons: dict[str, str]) -> None:
        with self._lock:
            self.report.failed.update(reasons)
            self._stopped_groups.update(
                g for m in messages if (g := m.get("Attributes", {}).get("MessageGroupId")))

    def _delete(self, messages: list[dict[str, Any]], *, resumed: set[str]) -> None:
        if not messages:
            return
        try:
            with self._lock:
                self.calls += 1
            answer = self._sqs.delete_message_batch(QueueUrl=self.plan.source_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(messages)])
        except Exception as exc:  # in the target and still in the DLQ: held, reported
            with self._lock:
                self.report.not_deleted.update(
                    {m["MessageId"]: f"delete failed: {exc}" for m in messages})
            return
        failures = {messages[int(f["Id"])]["MessageId"]:
                    f"delete failed: {f.get('Code')}: {f.get('Message', '')}"
                    for f in answer.get("Failed", [])}
        deleted = [m["MessageId"] for m in messages if m["MessageId"] not in failures]
        if deleted:
            self._journal.deleted(deleted)
            self._keeper.drop(deleted)
        with self._lock:
            self.report.not_deleted.update(failures)
            self.report.moved += len(deleted)
            self.report.resumed_deletes += len(resumed.intersection(deleted))
