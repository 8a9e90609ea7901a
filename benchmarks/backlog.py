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

from crudops_local.aws.endpoint import AwsEndpoint

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
            progress: Callable[[int], None] | None = None, start: int = 0) -> int:
    """Send `total` commands, 10 per call, numbered from `start`; returns how many
    SQS accepted."""
    sent = 0
    while sent < total:
        entries = batch_entries(start + sent, total - sent)
        answer = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        accepted = len(answer.get("Successful", []))
        if answer.get("Failed"):
            raise RuntimeError(f"SQS refused backlog messages: {answer['Failed'][:3]}")
        sent += accepted
        if progress is not None:
            progress(sent)
    return sent


DIRECT_CHUNK = 1_000


def preload_direct(aws: AwsEndpoint, queue_url: str, total: int,
                   progress: Callable[[int], None] | None = None) -> int | None:
    """Queue `total` commands through the embedded server's bulk route
    (crudops_local/aws/bulk_send.py: moto's own `send_message` for each, without an
    HTTP round trip per batch of 10), 1,000 per request; how many were queued, or None
    when the endpoint is not the embedded server (it does not serve the route).
    Raises RuntimeError when the route refuses the messages."""
    import urllib.error
    import urllib.request

    from crudops_local.aws.bulk_send import PATH

    if not aws.url:
        return None
    sent = 0
    while sent < total:
        count = min(DIRECT_CHUNK, total - sent)
        messages = [{"body": entry["MessageBody"], "attributes": entry["MessageAttributes"]}
                    for start in range(sent, sent + count, SQS_BATCH)
                    for entry in batch_entries(start, min(SQS_BATCH, sent + count - start))]
        request = urllib.request.Request(
            aws.url.rstrip("/") + PATH, method="POST",
            data=json.dumps({"queueUrl": queue_url, "region": aws.region,
                             "messages": messages}).encode(),
            headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                text = response.read()
            answer = json.loads(text) if text.startswith(b'{"sent"') else None
        except urllib.error.HTTPError as exc:
            body = exc.read()
            if exc.code == 400 and body.startswith(b'{"error"'):
                raise RuntimeError(f"the bulk send refused: {json.loads(body)['error']}") from exc
            if sent == 0:
                return None  # another endpoint: no such route
            raise RuntimeError(f"the bulk send failed after {sent}: HTTP {exc.code}") from exc
        if answer is None:
            if sent == 0:
                return None  # an endpoint that answers something else there
            raise RuntimeError(f"the bulk send answered something else after {sent}")
        sent += int(answer["sent"])
        if progress is not None:
            progress(sent)
    return sent


def preload_in_processes(aws: AwsEndpoint, queue_url: str, total: int, senders: int,
                         progress: Callable[[int], None] | None = None,
                         timeout: float = 600.0) -> int:
    """`preload` from `senders` processes of their own (`python -m benchmarks.backlog`),
    each sending its share with its own client; returns how many SQS accepted.

    Processes, not threads: the bench's process also runs the stack's gateway and
    pollers, and a client's own CPU per batch (request building, signing, parsing)
    would compete with them for its one interpreter lock. The endpoint stays the
    bottleneck (one interpreter serves every call), so a few senders are enough.
    Raises RuntimeError if a sender fails or `timeout` passes (the senders are
    stopped then).
    """
    import subprocess
    import sys

    shares = [total // senders + (1 if n < total % senders else 0) for n in range(senders)]
    starts = [sum(shares[:n]) for n in range(senders)]
    endpoint = json.dumps(aws.to_json())
    children = [subprocess.Popen(
        [sys.executable, "-m", "benchmarks.backlog", "--endpoint", endpoint,
         "--queue-url", queue_url, "--start", str(start), "--count", str(share)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for start, share in zip(starts, shares, strict=True) if share]
    sent = [0] * len(children)
    lock = threading.Lock()

    def follow(number: int, child: subprocess.Popen[str]) -> None:
        assert child.stdout is not None
        for line in child.stdout:  # one line per batch: how many this sender has sent
            with lock:
                sent[number] = int(line)
            if progress is not None:
                progress(sum(sent))

    readers = [threading.Thread(target=follow, args=(n, child), daemon=True)
               for n, child in enumerate(children)]
    for reader in readers:
        reader.start()
    deadline = time.monotonic() + timeout
    try:
        for child in children:
            child.wait(max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"the preload did not finish within {timeout:g} s") from exc
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait(5)
        for reader in readers:
            reader.join(5)
    failed = [child for child in children if child.returncode]
    if failed:
        detail = failed[0].stderr.read().strip().splitlines()[-1:] if failed[0].stderr else []
        raise RuntimeError(f"a preload sender exited with {failed[0].returncode}: "
                           f"{' '.join(detail) or 'no message'}")
    for child in children:
        if child.stderr is not None:
            child.stderr.close()
    return sum(sent)


def _send_share(arguments: list[str] | None = None) -> None:
    """One sender process: its share of a preload, printing its running total after
    every batch."""
    import argparse

    parser = argparse.ArgumentParser(description="Send one share of a bench backlog.")
    parser.add_argument("--endpoint", required=True, help="AwsEndpoint as JSON")
    parser.add_argument("--queue-url", required=True)
    parser.add_argument("--start", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    options = parser.parse_args(arguments)
    sqs = AwsEndpoint.from_json(json.loads(options.endpoint)).client("sqs")
    preload(sqs, options.queue_url, options.count,
            lambda sent: print(sent, flush=True), start=options.start)


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


if __name__ == "__main__":
    _send_share()
