"""`crudops bench redrive`: what a redrive costs and how fast it moves, on the embedded
SQS server, beside what that server does with the same calls and nothing else.

    crudops bench redrive --depth 10000 --concurrency 1,4,8

One server in its own process (`crudops_local.aws.server`, as the local stack runs it;
`benchmarks/sqs_depth.py` starts it). For each concurrency, two fresh DLQ/target pairs
filled to `--depth`:
- the redrive: `crudops dlq redrive` in its own process (its journal, selection,
  visibility keeper and threads included), counting every HTTP request its client
  sends (botocore's `before-send` event: retries count) and reading its peak RSS
  (VmHWM) as it ends;
- the bare loop: the same threads doing only receive 10 → send batch → delete batch,
  the emulator's own rate for these calls at this depth, measured in the same run.
Then (d): each target is drained and every requestId counted: none missing, none
twice, the DLQ empty. (c): the redrive once more at `--memory-depths` (one thread),
so that its peak memory can be compared across depths.

A measurement to read, not a timed test: nothing here passes or fails, and it takes
minutes (filling 10,000 messages takes ~10 s; draining them for (d) as long again).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

import boto3
from botocore.config import Config
from rich.console import Console
from rich.table import Table

from benchmarks.processes import machine
from benchmarks.sqs_depth import running_server

BATCH: Final = 10
REGION: Final = "us-east-1"
REPO_ROOT: Final = Path(__file__).resolve().parents[1]


@dataclass
class RunResult:
    """One run (the redrive or the bare loop) at one concurrency and depth."""

    kind: str  # "redrive" or "bare"
    concurrency: int
    depth: int
    moved: int
    seconds: float
    requests: int | None = None  # HTTP requests sent by the redrive's client
    peak_rss_bytes: int | None = None
    # CPU the redrive's process used (user + system): what caps one process on AWS
    cpu_seconds: float | None = None
    lost: int | None = None  # requestIds filled but not in the target
    duplicated: int | None = None  # requestIds in the target more than once
    left_in_dlq: int | None = None

    @property
    def rate(self) -> float:
        return self.moved / self.seconds if self.seconds > 0 else 0.0

    @property
    def requests_per_message(self) -> float | None:
        return None if self.requests is None or not self.moved else self.requests / self.moved

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "messages_per_second": round(self.rate, 1),
                "requests_per_message": None if self.requests_per_message is None
                else round(self.requests_per_message, 4)}


@dataclass
class RedriveBench:
    depth: int
    concurrencies: list[int]
    runs: list[RunResult] = field(default_factory=list)
    machine: dict[str, Any] = field(default_factory=dict)

    def ratio(self, concurrency: int) -> float | None:
        """The redrive's rate over the bare loop's, at one concurrency and `depth`."""
        redrive = self._find("redrive", concurrency, self.depth)
        bare = self._find("bare", concurrency, self.depth)
        if redrive is None or bare is None or not bare.rate:
            return None
        return redrive.rate / bare.rate

    def _find(self, kind: str, concurrency: int, depth: int) -> RunResult | None:
        return next((r for r in self.runs if (r.kind, r.concurrency, r.depth)
                     == (kind, concurrency, depth)), None)

    def as_json(self) -> dict[str, Any]:
        return {"depth": self.depth, "concurrencies": self.concurrencies,
                "machine": self.machine, "runs": [r.as_json() for r in self.runs],
                "ratios": {str(c): None if (v := self.ratio(c)) is None else round(v, 3)
                           for c in self.concurrencies}}


def _client(endpoint: str, concurrency: int = 1) -> Any:
    return boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local",
                                 region_name=REGION).client(
        "sqs", endpoint_url=endpoint,
        config=Config(max_pool_connections=max(10, concurrency + 2)))


def _queues(sqs: Any, name: str) -> tuple[str, str]:
    """A DLQ and the queue whose RedrivePolicy names it: (dlq url, target url)."""
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    target = sqs.create_queue(QueueName=name, Attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": arn, "maxReceiveCount": 5})})["QueueUrl"]
    return dlq, target


def _fill(sqs: Any, url: str, count: int) -> None:
    for first in range(0, count, BATCH):
        sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(n - first), "MessageBody": json.dumps(
                {"requestId": f"r{n:06}", "operation": "create", "payload": {"n": n}}),
             "MessageAttributes": {"operation": {"DataType": "String",
                                                 "StringValue": "create"}}}
            for n in range(first, min(first + BATCH, count))])


def _check(sqs: Any, dlq: str, target: str, count: int, result: RunResult) -> None:
    """(d): drain the target, count each requestId; what the DLQ still holds."""
    seen: Counter[str] = Counter()
    while batch := sqs.receive_message(QueueUrl=target, MaxNumberOfMessages=BATCH,
                                       WaitTimeSeconds=1).get("Messages", []):
        seen.update(json.loads(m["Body"])["requestId"] for m in batch)
        sqs.delete_message_batch(QueueUrl=target, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])
    expected = {f"r{n:06}" for n in range(count)}
    result.lost = len(expected - set(seen))
    result.duplicated = sum(1 for v in seen.values() if v > 1)
    attributes = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    result.left_in_dlq = sum(int(v) for v in attributes.values())


def bare_loop(endpoint: str, dlq: str, target: str, concurrency: int) -> tuple[int, float]:
    """The emulator's own rate for receive 10 → send batch → delete batch (the same
    attributes asked for and sent as the redrive's), in `concurrency` threads until the
    DLQ is empty: (messages, seconds)."""
    sqs = _client(endpoint, concurrency)
    moved = [0] * concurrency

    def loop(index: int) -> None:
        while batch := sqs.receive_message(
                QueueUrl=dlq, MaxNumberOfMessages=BATCH, VisibilityTimeout=30,
                WaitTimeSeconds=1, AttributeNames=["All"],
                MessageAttributeNames=["All"]).get("Messages", []):
            sqs.send_message_batch(QueueUrl=target, Entries=[
                {"Id": str(i), "MessageBody": m["Body"],
                 "MessageAttributes": m.get("MessageAttributes", {})}
                for i, m in enumerate(batch)])
            sqs.delete_message_batch(QueueUrl=dlq, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(batch)])
            moved[index] += len(batch)

    started = time.perf_counter()
    threads = [threading.Thread(target=loop, args=(n,)) for n in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Each thread's last receive waited a second for nothing: not part of the moving.
    return sum(moved), time.perf_counter() - started - 1.0


def _run_child(endpoint: str, dlq: str, workdir: Path, concurrency: int) -> dict[str, Any]:
    """The redrive in its own process (`--child`), as an operator runs it."""
    command = [sys.executable, "-m", "benchmarks.redrive", "--child", "--endpoint", endpoint,
               "--queue", dlq, "--concurrency", str(concurrency)]
    finished = subprocess.run(command, cwd=workdir, capture_output=True, text=True,
                              check=True, env=_child_environment(endpoint))
    return dict(json.loads(finished.stdout.splitlines()[-1]))


def _child_environment(endpoint: str) -> dict[str, str]:
    import os

    return {**os.environ, "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local", "AWS_REGION": REGION,
            "PYTHONPATH": str(REPO_ROOT)}


def child(endpoint: str, queue: str, concurrency: int) -> None:
    """In the child: `do_dlq_redrive` with boto3's standard configuration (the queue by
    URL, no stack), counting the HTTP requests of its client; one JSON line out."""
    from tools.dlq.addressing import Where
    from tools.dlq.commands import do_dlq_redrive, redrive_client_config
    from tools.stacks import deployed_stack_clients

    requests = [0]
    lock = threading.Lock()

    def count(**_: Any) -> None:
        with lock:
            requests[0] += 1

    factory = deployed_stack_clients(REGION, redrive_client_config(concurrency))
    factory("sqs").meta.events.register("before-send.sqs", count)
    started = time.perf_counter()
    _, report = do_dlq_redrive(Where(clients=factory), queue, concurrency=concurrency,
                               journal_dir=Path(".crudops") / "redrive")
    seconds = time.perf_counter() - started
    peak = 0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1]) * 1024
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"moved": report.moved, "ok": report.ok, "seconds": seconds,
                      "cpu_seconds": usage.ru_utime + usage.ru_stime,
                      # the last receive of each thread waits a second for nothing
                      "moving_seconds": seconds - 1.0, "requests": requests[0],
                      "peak_rss_bytes": peak}))


def measure(depth: int, concurrencies: Sequence[int], memory_depths: Sequence[int],
            workdir: Path, console: Console) -> RedriveBench:
    result = RedriveBench(depth=depth, concurrencies=list(concurrencies), machine=machine())
    with running_server("patched") as server:
        sqs = _client(server.endpoint)
        plans = [(c, depth) for c in concurrencies] + [(1, d) for d in memory_depths
                                                        if d != depth or 1 not in concurrencies]
        for number, (concurrency, size) in enumerate(plans):
            console.print(f"[{number + 1}/{len(plans)}] depth {size:,}, "
                          f"concurrency {concurrency}: filling, redriving, checking")
            dlq, target = _queues(sqs, f"bench-{number}")
            _fill(sqs, dlq, size)
            outcome = _run_child(server.endpoint, dlq, workdir, concurrency)
            run = RunResult("redrive", concurrency, size, int(outcome["moved"]),
                            float(outcome["moving_seconds"]), requests=int(outcome["requests"]),
                            peak_rss_bytes=int(outcome["peak_rss_bytes"]),
                            cpu_seconds=float(outcome["cpu_seconds"]))
            _check(sqs, dlq, target, size, run)
            result.runs.append(run)
            if size != depth:
                continue
            bare_dlq, bare_target = _queues(sqs, f"bare-{number}")
            _fill(sqs, bare_dlq, size)
            moved, seconds = bare_loop(server.endpoint, bare_dlq, bare_target, concurrency)
            bare = RunResult("bare", concurrency, size, moved, seconds)
            _check(sqs, bare_dlq, bare_target, size, bare)
            result.runs.append(bare)
    return result


def print_bench(result: RedriveBench, console: Console) -> None:
    table = Table("run", "threads", "depth", "moved", "msg/s", "÷ bare", "requests/msg",
                  "peak RSS", "CPU ms/msg", "lost", "twice", "left")
    for run in result.runs:
        ratio = result.ratio(run.concurrency) if run.kind == "redrive" and (
            run.depth == result.depth) else None
        table.add_row(run.kind, str(run.concurrency), f"{run.depth:,}", str(run.moved),
                      f"{run.rate:.0f}", "" if ratio is None else f"{ratio:.2f}",
                      "" if run.requests_per_message is None
                      else f"{run.requests_per_message:.3f}",
                      "" if run.peak_rss_bytes is None
                      else f"{run.peak_rss_bytes / 2**20:.0f} MiB",
                      "" if run.cpu_seconds is None or not run.moved
                      else f"{run.cpu_seconds * 1000 / run.moved:.2f}",
                      str(run.lost), str(run.duplicated), str(run.left_in_dlq))
    console.print(table)
    about = result.machine
    console.print(f"{about.get('nproc')} CPUs ({about.get('cpu_model')}), Python "
                  f"{about.get('python')}, moto {about.get('moto')}, load at start "
                  f"{about.get('load_average_at_start')}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--depth", type=int, default=10_000)
    parser.add_argument("--concurrency", default="1,4,8")
    parser.add_argument("--memory-depths", default="1000,10000")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--queue", help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.child:
        child(arguments.endpoint, arguments.queue, int(arguments.concurrency))
        return
    # `crudops bench redrive` (tools/bench.py) is the front door, with its bounds
    # checked; this entry runs the same measurement for the benchmark's own use.
    import tempfile

    from rich.console import Console

    with tempfile.TemporaryDirectory(prefix="crudops-bench-redrive-") as workdir:
        result = measure(arguments.depth, parse_list(arguments.concurrency),
                         parse_list(arguments.memory_depths), Path(workdir),
                         Console(stderr=True))
    if arguments.json:
        print(json.dumps(result.as_json()))
    else:
        print_bench(result, Console())


def parse_list(text: str) -> list[int]:
    return [int(value) for value in text.split(",") if value.strip()]


if __name__ == "__main__":
    main()
