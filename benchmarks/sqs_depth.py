"""SQS cost by queue depth on the embedded AWS server, patched and unpatched, side by side.

    .venv/bin/python -m benchmarks.sqs_depth --depths 0,1000,10000 --cycles 50

Each server runs in its own process as the local stack runs it: the patched one is
`crudops_local.aws.server` itself; the unpatched one is the same `ThreadedMotoServer`
without `crudops_local/aws/moto_patches.py`. Both are measured in the same run, so a
comparison does not depend on the machine's mood on another day.

One standard queue per server, one client thread. The queue is filled to each depth
with `SendMessageBatch` of 10 (the fill rate is reported), then `--cycles` cycles are
timed at that depth: send a batch of 10, receive 10, delete them in one batch. The
depth stays where it was, so every cycle sees the same queue. Figures are the p50 of
the cycles in milliseconds (`receive_delete` is the receive and the delete batch
together, the unit a consumer pays per 10 messages).

Unpatched moto gets slower as the queue grows; a depth that would take longer than
`--fill-budget` seconds to reach is reported as not reached rather than waited for.
This is a measurement to read, not a timed test: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
from rich.console import Console
from rich.table import Table

from benchmarks.processes import machine, rss_bytes
from benchmarks.stats import percentile

BATCH = 10
SERVERS = ("patched", "unpatched")
_SERVER_COMMANDS = {
    "patched": [sys.executable, "-m", "crudops_local.aws.server", "--host", "127.0.0.1"],
    "unpatched": [sys.executable, "-m", "benchmarks.sqs_depth", "--serve-unpatched"],
}


@dataclass
class DepthResult:
    """One server at one depth; the p50s are None when the depth was not reached."""

    depth: int
    reached: bool
    fill_seconds: float
    filled: int
    send_batch_ms: float | None = None
    receive_ms: float | None = None
    delete_batch_ms: float | None = None
    receive_delete_ms: float | None = None
    server_rss_bytes: int | None = None  # after the cycles at this depth

    @property
    def fill_rate(self) -> float | None:
        """Messages per second while filling; None when nothing had to be sent."""
        return self.filled / self.fill_seconds if self.filled and self.fill_seconds > 0 else None

    def as_json(self) -> dict[str, Any]:
        def rounded(value: float | None) -> float | None:
            return None if value is None else round(value, 2)

        return {"depth": self.depth, "reached": self.reached,
                "fill_messages": self.filled, "fill_seconds": round(self.fill_seconds, 2),
                "fill_rate_per_second": (None if self.fill_rate is None
                                         else round(self.fill_rate, 1)),
                "send_batch_p50_ms": rounded(self.send_batch_ms),
                "receive_p50_ms": rounded(self.receive_ms),
                "delete_batch_p50_ms": rounded(self.delete_batch_ms),
                "receive_delete_p50_ms": rounded(self.receive_delete_ms),
                "server_rss_bytes": self.server_rss_bytes}


@dataclass
class ServerRun:
    server: str
    depths: list[DepthResult] = field(default_factory=list)


@dataclass(frozen=True)
class RunningServer:
    endpoint: str
    pid: int


@contextmanager
def running_server(kind: str) -> Iterator[RunningServer]:
    """A server (`patched` or `unpatched`) in its own process. Closing stdin stops it."""
    process = subprocess.Popen(_SERVER_COMMANDS[kind], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline() if process.stdout else ""
        if not line:
            raise RuntimeError(f"the {kind} server did not start")
        yield RunningServer(str(json.loads(line)["endpoint"]), process.pid)
    finally:
        if process.stdin:
            process.stdin.close()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        if process.stdout:
            process.stdout.close()


def _sqs_client(endpoint: str) -> Any:
    return boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local",
                                 region_name="us-east-1").client("sqs", endpoint_url=endpoint)


FIFO_GROUPS = 100


def _batch(prefix: str, fifo: bool = False) -> list[dict[str, str]]:
    """Ten entries; on a FIFO queue each with its own deduplication id, spread over
    `FIFO_GROUPS` message groups (a group per consumer key, as an application would)."""
    entries = [{"Id": str(i), "MessageBody": f'{{"n": "{prefix}-{i}"}}'} for i in range(BATCH)]
    if fifo:
        for i, entry in enumerate(entries):
            entry["MessageGroupId"] = f"g{(zlib.crc32(prefix.encode()) + i) % FIFO_GROUPS}"
            entry["MessageDeduplicationId"] = f"{prefix}-{i}"
    return entries


def _cycle(sqs: Any, url: str, number: int, fifo: bool = False) -> tuple[float, float, float]:
    """Seconds of: send a batch, receive up to 10, delete what was received."""
    started = time.perf_counter()
    sqs.send_message_batch(QueueUrl=url, Entries=_batch(f"c{number}", fifo))
    sent = time.perf_counter()
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=BATCH).get("Messages", [])
    received = time.perf_counter()
    if messages:
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
    deleted = time.perf_counter()
    return sent - started, received - sent, deleted - received


def _p50_ms(values: Sequence[float]) -> float | None:
    value = percentile(values, 0.5)
    return None if value is None else value * 1000.0


def measure_server(kind: str, depths: Sequence[int], cycles: int, fill_budget: float,
                   console: Console, fifo: bool = False) -> ServerRun:
    run = ServerRun(kind)
    with running_server(kind) as server:
        sqs = _sqs_client(server.endpoint)
        attributes = {"FifoQueue": "true"} if fifo else {}
        url = sqs.create_queue(QueueName=f"depth-{kind}" + (".fifo" if fifo else ""),
                               Attributes=attributes)["QueueUrl"]
        depth = 0
        for target in sorted(depths):
            fill_started = time.perf_counter()
            filled = 0
            with console.status(f"{kind}: filling to {target:,}") as status:
                while depth < target and time.perf_counter() - fill_started < fill_budget:
                    sqs.send_message_batch(QueueUrl=url, Entries=_batch(f"f{depth}", fifo))
                    depth += BATCH
                    filled += BATCH
                    if depth % 1000 == 0:
                        status.update(f"{kind}: filling to {target:,} ({depth:,})")
            fill_seconds = time.perf_counter() - fill_started
            if depth < target:
                console.print(f"{kind}: depth {target:,} not reached in {fill_budget:.0f} s "
                              f"(stopped at {depth:,})")
                run.depths.append(DepthResult(target, False, fill_seconds, filled))
                break
            with console.status(f"{kind}: {cycles} cycles at depth {target:,}"):
                timings = [_cycle(sqs, url, n, fifo) for n in range(cycles)]
            sends, receives, deletes = zip(*timings, strict=True)
            run.depths.append(DepthResult(
                target, True, fill_seconds, filled,
                send_batch_ms=_p50_ms(sends), receive_ms=_p50_ms(receives),
                delete_batch_ms=_p50_ms(deletes), server_rss_bytes=rss_bytes(server.pid),
                receive_delete_ms=_p50_ms([r + d for r, d in zip(receives, deletes,
                                                                  strict=True)])))
    return run


def _table(runs: Sequence[ServerRun]) -> Table:
    table = Table(title="SQS by queue depth (p50 ms, one standard queue, 1 client)")
    for column in ("server", "depth", "receive 10 + delete batch", "receive", "delete batch",
                   "send batch of 10", "fill rate (msg/s)", "server RSS (MiB)"):
        table.add_column(column, justify="right")

    def cell(value: float | None) -> str:
        return "n/a" if value is None else f"{value:,.1f}"

    for run in runs:
        for result in run.depths:
            depth = f"{result.depth:,}" + ("" if result.reached else " (not reached)")
            table.add_row(run.server, depth, cell(result.receive_delete_ms),
                          cell(result.receive_ms), cell(result.delete_batch_ms),
                          cell(result.send_batch_ms), cell(result.fill_rate),
                          cell(None if result.server_rss_bytes is None
                               else result.server_rss_bytes / 2**20))
    return table


def _serve_unpatched() -> None:
    """The server `crudops_local.aws.server` runs, without the project's patches."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    print(json.dumps({"endpoint": f"http://{host}:{port}"}), flush=True)
    sys.stdin.read()
    server.stop()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--depths", default="0,1000,10000",
                        help="comma-separated queue depths (default 0,1000,10000)")
    parser.add_argument("--cycles", type=int, default=50,
                        help="timed send/receive/delete cycles per depth (default 50)")
    parser.add_argument("--servers", default=",".join(SERVERS),
                        help="which servers, in order (default patched,unpatched)")
    parser.add_argument("--fill-budget", type=float, default=120.0,
                        help="seconds one server may spend filling to one depth (default 120)")
    parser.add_argument("--fifo", action="store_true",
                        help=f"a FIFO queue, messages over {FIFO_GROUPS} groups")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--serve-unpatched", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.serve_unpatched:
        _serve_unpatched()
        return
    depths = [int(value) for value in arguments.depths.split(",") if value.strip()]
    servers = [value.strip() for value in arguments.servers.split(",") if value.strip()]
    unknown = [server for server in servers if server not in SERVERS]
    if unknown or any(depth < 0 or depth % BATCH for depth in depths):
        parser.error(f"servers are {', '.join(SERVERS)}; depths are multiples of {BATCH}")
    console = Console(stderr=True)
    about = machine()
    runs = [measure_server(server, depths, arguments.cycles, arguments.fill_budget, console,
                           fifo=arguments.fifo)
            for server in servers]
    if arguments.json:
        print(json.dumps({"machine": about, "cycles": arguments.cycles, "fifo": arguments.fifo,
                          "servers": {run.server: [r.as_json() for r in run.depths]
                                      for run in runs}}, indent=2))
    else:
        Console().print(_table(runs))
        Console().print(f"{about['nproc']} CPUs ({about['cpu_model']}), Python {about['python']}, "
                        f"moto {about['moto']}, load at start {about['load_average_at_start']}")


if __name__ == "__main__":
    main()
