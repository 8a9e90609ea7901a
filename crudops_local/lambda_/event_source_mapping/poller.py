"""SQS event source mappings, as Lambda runs them: the poller threads of one mapping.

Per mapping, `concurrency` poller threads long-poll the queue, gather up to
`batch_size` records (waiting at most the batching window), drop records that match
none of the mapping's filters (Lambda *deletes* those), invoke the function and apply
the answer:
- success: delete every record, except the `batchItemFailures` when the mapping has
  `ReportBatchItemFailures`;
- any invocation failure (handler error, timeout, crashed worker): delete nothing;
  the records reappear after the queue's visibility timeout and, after
  maxReceiveCount receives, SQS moves them to the DLQ.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from crudops_local.faults import FaultSource
from crudops_local.lambda_.event_source_mapping.filtering import record_passes_filters
from crudops_local.lambda_.event_source_mapping.specs import MappingSpec
from crudops_local.lambda_.runtime import FunctionInvocationError
from crudops_local.outage import OutageLog, is_unreachable

log = logging.getLogger("crudops.local.event_sources")

# SQS returns at most 10 messages per receive and waits at most 20 s.
SQS_MAX_MESSAGES_PER_RECEIVE = 10
LONG_POLL_SECONDS = 20


@dataclass
class MappingStats:
    batches: int = 0
    records: int = 0
    failed_records: int = 0
    filtered_out: int = 0
    invocation_errors: int = 0
    last_error: str = ""
    # The oldest `SentTimestamp` (epoch ms) received since `take_oldest_sent` last ran:
    # how the local stack estimates the queue's ApproximateAgeOfOldestMessage.
    oldest_sent_ms: int | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def take_oldest_sent(self) -> float | None:
        """The oldest `SentTimestamp` seen since the last call, in epoch seconds."""
        with self.lock:
            oldest, self.oldest_sent_ms = self.oldest_sent_ms, None
        return None if oldest is None else oldest / 1000.0


def to_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """An SQS message as Lambda's SQS event shapes it."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value["DataType"],
            }
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


Invoke = Callable[[dict[str, Any]], Any]


class QueuePoller:
    """The threads of one event source mapping."""

    def __init__(self, spec: MappingSpec, sqs: Any, invoke: Invoke, region: str,
                 faults: FaultSource | None = None) -> None:
        self.spec = spec
        self._faults = faults  # crudops_local/faults.py: `duplicates`, `pause`
        self._visibility_timeout: float | None = None
        self.stats = MappingStats()
        self._sqs = sqs
        self._invoke = invoke
        self._region = region
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._outage = OutageLog(log, spec.logical_id)

    def start(self) -> None:
        if not self.spec.enabled:
            return
        for index in range(max(1, self.spec.max_concurrency)):
            thread = threading.Thread(
                target=self._run, name=f"esm:{self.spec.logical_id}:{index}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def request_stop(self) -> None:
        """Ask the threads to stop after their current cycle (see `stop` to wait)."""
        self._stop.set()

    def stop(self, timeout: float = LONG_POLL_SECONDS + 5) -> None:
        self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except (ClientError, BotoCoreError) as exc:
                with self.stats.lock:
                    self.stats.last_error = str(exc)
                if self._stop.is_set():
                    return
                if is_unreachable(exc):
                    self._outage.failed(exc)
                else:
                    log.warning("%s: polling failed: %s", self.spec.logical_id, exc)
                self._stop.wait(1.0)
            else:
                self._outage.succeeded()

    def _receive(self, count: int, wait_seconds: int) -> list[dict[str, Any]]:
        response = self._sqs.receive_message(
            QueueUrl=self.spec.queue_url,
            MaxNumberOfMessages=min(count, SQS_MAX_MESSAGES_PER_RECEIVE),
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return list(response.get("Messages", []))

    def _gather(self) -> list[dict[str, Any]]:
        # Short long-polls so that stop() is honoured within a couple of seconds.
        messages = self._receive(self.spec.batch_size, wait_seconds=2)
        if not messages:
            return []
        window_ends = time.monotonic() + self.spec.batching_window_seconds
        while len(messages) < self.spec.batch_size and time.monotonic() < window_ends:
            remaining = max(0, int(window_ends - time.monotonic()))
            more = self._receive(self.spec.batch_size - len(messages), wait_seconds=remaining)
            if not more and remaining == 0:
                break
            messages += more
        return messages

    def poll_once(self) -> int:
        """One receive-invoke-delete cycle; returns how many records were received."""
        messages = self._gather()
        if not messages:
            return 0
        if self._faults is not None:
            self._inject_faults(messages)
        records = [to_record(m, self.spec.queue_arn, self._region) for m in messages]
        self._note_sent_timestamps(records)
        wanted = [r for r in records if record_passes_filters(r, self.spec.filters)]
        unwanted = [r for r in records if r not in wanted]
        self._delete(unwanted)
        with self.stats.lock:
            self.stats.filtered_out += len(unwanted)
        if not wanted:
            return len(records)
        failed_ids = self._invoke_batch(wanted)
        self._delete([r for r in wanted if r["messageId"] not in failed_ids])
        with self.stats.lock:
            self.stats.batches += 1
            self.stats.records += len(wanted)
            self.stats.failed_records += len(failed_ids)
        return len(records)

    def _inject_faults(self, messages: list[dict[str, Any]]) -> None:
        """The plan's `duplicates` (a copy sent back: delivered again later) and
        `pause` (the batch held past its visibility timeout: another poller gets it)."""
        assert self._faults is not None
        for message in messages:
            if self._faults.strikes("duplicates"):
                copy: dict[str, Any] = {"QueueUrl": self.spec.queue_url,
                                        "MessageBody": message["Body"]}
                if message.get("MessageAttributes"):
                    copy["MessageAttributes"] = message["MessageAttributes"]
                self._sqs.send_message(**copy)
        if self._faults.strikes("pause"):
            if self._visibility_timeout is None:
                self._visibility_timeout = float(self._sqs.get_queue_attributes(
                    QueueUrl=self.spec.queue_url, AttributeNames=["VisibilityTimeout"])[
                    "Attributes"]["VisibilityTimeout"])
            self._stop.wait(self._visibility_timeout + 1.0)

    def _note_sent_timestamps(self, records: list[dict[str, Any]]) -> None:
        sent = [int(r["attributes"]["SentTimestamp"]) for r in records
                if str(r["attributes"].get("SentTimestamp", "")).isdigit()]
        if not sent:
            return
        with self.stats.lock:
            current = self.stats.oldest_sent_ms
            self.stats.oldest_sent_ms = min(sent) if current is None else min(current, *sent)

    def _invoke_batch(self, records: list[dict[str, Any]]) -> set[str]:
        every_id = {r["messageId"] for r in records}
        try:
            response = self._invoke({"Records": records})
        except FunctionInvocationError as exc:
            with self.stats.lock:
                self.stats.invocation_errors += 1
                self.stats.last_error = str(exc)
            log.warning("%s: invocation failed, %d record(s) left for retry: %s",
                        self.spec.logical_id, len(records), exc)
            return every_id
        if not self.spec.report_batch_item_failures:
            return set()
        return _failed_ids(response, every_id)

    def _delete(self, records: list[dict[str, Any]]) -> None:
        for start in range(0, len(records), SQS_MAX_MESSAGES_PER_RECEIVE):
            chunk = records[start:start + SQS_MAX_MESSAGES_PER_RECEIVE]
            self._sqs.delete_message_batch(
                QueueUrl=self.spec.queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": r["receiptHandle"]}
                    for index, r in enumerate(chunk)
                ],
            )


def _failed_ids(response: Any, every_id: set[str]) -> set[str]:
    """Lambda's reading of a partial batch response: a malformed one fails everything."""
    if response is None:
        return set()
    if not isinstance(response, dict):
        return every_id
    failures = response.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return every_id
    failed: set[str] = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in every_id:
            return every_id
        failed.add(identifier)
    return failed
