"""A `crudops dlq redrive` on the running local stack: how long it takes, and what
bounds it.

    .venv/bin/python -m benchmarks.redrive_stack --depth 10000 --concurrency 1,4

`benchmarks/redrive.py` measures the redrive on the embedded server alone. Here the
whole stack runs (`crudops local up` as `crudops bench` starts it: gateway, pollers,
function workers, the embedded server): the create consumer's DLQ is filled with
`--depth` valid create commands (benchmarks/backlog.py, from sender processes), then
`crudops dlq redrive` runs in its own process (benchmarks/redrive.py's child: the
real `do_dlq_redrive`, journal and threads) and moves them back to the create queue,
while the create function consumes what arrives, as it would during an incident.
Reported per concurrency: the redrive's time and rate, its HTTP requests, the
stack's CPU by process during the redrive (which process bounds it), and how long
the create queue then took to drain (bounded by `--drain-timeout`).

A measurement to read, not a timed test.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from benchmarks import backlog, processes
from benchmarks.emulator_budget import physical_ref
from benchmarks.redrive import _run_child, parse_list

PRELOAD_SENDERS = 3


def _synthesize(out: Path) -> Path:
    from tools.synth import synthesize

    return synthesize(out).template


def measure(template: Path, depth: int, concurrencies: Sequence[int], drain_timeout: float,
            workdir: Path, console: Console) -> dict[str, Any]:
    from crudops_local.run import LocalStack, LocalStackOptions

    root = os.getpid()
    runs = []
    for concurrency in concurrencies:
        console.print(f"concurrency {concurrency}: a fresh local stack")
        options = LocalStackOptions(template=template, log_dir=workdir / f"logs-{concurrency}",
                                    state_file=None)
        with LocalStack(options) as stack:
            aws, provisioned = stack.aws, stack.provisioned
            assert aws is not None and provisioned is not None  # set once started
            sqs = aws.client("sqs")
            kind = "AWS::SQS::Queue"
            target = physical_ref(stack.template, provisioned, "MessagingCreateConsumerQueue",
                                  kind)
            dlq = physical_ref(stack.template, provisioned, "MessagingCreateConsumerDlq", kind)
            started = time.monotonic()
            backlog.preload_in_processes(aws, dlq, depth, PRELOAD_SENDERS)
            fill_seconds = time.monotonic() - started
            console.print(f"  DLQ filled with {depth:,} in {fill_seconds:.1f} s; redriving")
            cpu_before = processes.cpu_by_label(root)
            outcome = _run_child(str(aws.url), dlq, workdir, concurrency)
            cpu = processes.cpu_delta(cpu_before, processes.cpu_by_label(root))
            redrive_done = time.monotonic()
            watcher = backlog.DrainWatcher(sqs, target, redrive_done, drain_timeout).start()
            drained = watcher.wait(drain_timeout + 5)
            watcher.stop()
            runs.append({
                "concurrency": concurrency, "depth": depth, "moved": outcome["moved"],
                "redrive_s": round(float(outcome["seconds"]), 1),
                "messages_per_s": round(int(outcome["moved"]) / float(outcome["moving_seconds"]),
                                        1),
                "requests": outcome["requests"], "redrive_cpu_s": round(
                    float(outcome["cpu_seconds"]), 1),
                "left_in_dlq": backlog.depth(sqs, dlq),
                "create_queue_at_redrive_end": watcher.samples[0][1] if watcher.samples else None,
                "create_queue_drained_after_s": (round(watcher.drained_at - redrive_done, 1)
                                                 if drained and watcher.drained_at else None),
                "create_queue_at_end": watcher.last_depth,
                "cpu_seconds_during_redrive": {k: round(v, 1) for k, v in sorted(
                    cpu.items(), key=lambda kv: -kv[1])[:6]},
            })
            console.print(f"  {json.dumps(runs[-1])}")
    return {"machine": processes.machine(), "runs": runs}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--depth", type=int, default=10_000)
    parser.add_argument("--concurrency", default="1,4")
    parser.add_argument("--drain-timeout", type=float, default=120.0,
                        help="seconds to wait for the create queue to drain after a redrive")
    parser.add_argument("--template", type=Path, help="a synthesized template (default: synth)")
    arguments = parser.parse_args(argv)
    if not 10 <= arguments.depth <= 100_000:
        parser.error("--depth is 10..100000")
    console = Console(stderr=True)
    with tempfile.TemporaryDirectory(prefix="crudops-redrive-stack-") as directory:
        workdir = Path(directory)
        template = arguments.template or _synthesize(workdir / "cdk.out")
        result = measure(template, arguments.depth, parse_list(arguments.concurrency),
                         arguments.drain_timeout, workdir, console)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
