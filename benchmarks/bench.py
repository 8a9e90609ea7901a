"""`crudops bench`: what the local stack can carry on this machine, measured once.

(a) the emulator budget (benchmarks/emulator_budget.py) on a fresh embedded AWS
server; then, per backlog size, a fresh local stack from the same template:
(b) saturated throughput (closed loop), (c) 202→notify latency at half of the
unloaded (b) (open loop), (d) idle and peak memory of the whole process tree, and
(e) the same with the create queue preloaded. A fresh stack per backlog size, so
tables and queues start empty and one run's leftovers do not slow the next.

The stack runs in this process (gateway and pollers in threads), as `crudops local
up` runs it, and the load client shares the process: its CPU is counted with the
stack's and competes with the gateway for one interpreter lock. The per-process CPU
breakdown in the report shows how much that is.

A measurement, not a test: it always finishes (every loop is bounded by time and
count), and it reports missed targets rather than failing on them.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from benchmarks import backlog, calls, processes
from benchmarks.emulator_budget import ROUNDS, measure_budget, physical_ref
from benchmarks.load import Client, PhaseResult, closed_loop, open_loop
from benchmarks.stats import Pacing, arrival_offsets, ratio

TARGET_THROUGHPUT_RATIO = 0.5
TARGET_P99_MS = 1000.0
TARGET_IDLE_MEMORY_BYTES = 1024**3
# With a backlog, the stack's work rate is its drain: every drained command completes
# and its notification goes through Notify (to nobody). Issue 16's targets: that rate at
# the largest backlog against the notified/s with none, a preload of 100,000 within a
# minute, and the whole tree's peak memory.
TARGET_BACKLOG_RATIO = 0.8
TARGET_PRELOAD_SECONDS_PER_100K = 60.0
TARGET_PEAK_MEMORY_BYTES = 2 * 1024**3
IDLE_SAMPLES = 5
WARM_UP_SECONDS = 3.0


@dataclass(frozen=True)
class BenchOptions:
    users: int = 32
    duration: float = 30.0
    backlogs: tuple[int, ...] = (0, 1000, 10000)
    backlog_duration: float = 10.0
    grace: float = 30.0
    connections: int = 4
    pacing: Pacing = "poisson"
    budget_requests: int = 300
    workers: int = 2
    pollers: int = 2
    drain_timeout: float = 300.0
    seed: int = 1
    # The stack reclaims workers idle this long (one per function stays warm); idle
    # memory is read once that has happened, i.e. the stack at rest.
    idle_worker_seconds: float = 10.0
    template: Path | None = None
    record_calls: bool = False
    # processes sending the backlog (benchmarks/backlog.py preload_in_processes)
    preload_senders: int = 3
    command: str = "crudops bench"

    def as_json(self) -> dict[str, Any]:
        return {"users": self.users, "duration_s": self.duration,
                "backlogs": list(self.backlogs), "backlog_duration_s": self.backlog_duration,
                "grace_s": self.grace, "ws_connections": self.connections,
                "pacing": self.pacing, "budget_requests": self.budget_requests,
                "workers_per_function": self.workers, "pollers_per_mapping": self.pollers,
                "drain_timeout_s": self.drain_timeout, "seed": self.seed,
                "idle_worker_seconds": self.idle_worker_seconds,
                "record_calls": self.record_calls, "preload_senders": self.preload_senders}


@dataclass
class RunResult:
    """One fresh stack: a backlog size and what (b), (c), (d) gave with it."""

    backlog: int
    preload_seconds: float | None = None
    depth_at_load_start: int | None = None
    drained_after_seconds: float | None = None
    depth_at_end: int | None = None
    drain_rate_per_s: float | None = None
    saturation: dict[str, Any] = field(default_factory=dict)
    latency: dict[str, Any] = field(default_factory=dict)
    latency_rate_per_s: float = 0.0
    idle_memory_bytes: int | None = None
    idle_memory_by_process: dict[str, int] = field(default_factory=dict)
    peak_memory_bytes: int = 0
    processes: int = 0
    cpu_seconds_saturation: dict[str, float] = field(default_factory=dict)
    aws_calls_saturation: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "backlog": self.backlog,
            "preload_s": _round(self.preload_seconds),
            "depth_at_load_start": self.depth_at_load_start,
            "drained_after_s": _round(self.drained_after_seconds),
            "depth_at_end": self.depth_at_end,
            "drain_rate_per_s": _round(self.drain_rate_per_s),
            "saturation": self.saturation,
            "latency_rate_per_s": round(self.latency_rate_per_s, 2),
            "latency": self.latency,
            "idle_memory_bytes": self.idle_memory_bytes,
            "idle_memory_by_process": dict(sorted(
                self.idle_memory_by_process.items(), key=lambda kv: -kv[1])),
            "peak_memory_bytes": self.peak_memory_bytes,
            "processes": self.processes,
            "cpu_seconds_saturation": {k: round(v, 2) for k, v in sorted(
                self.cpu_seconds_saturation.items(), key=lambda kv: -kv[1])},
            "aws_calls_saturation": self.aws_calls_saturation,
        }


@dataclass
class BenchReport:
    options: BenchOptions
    machine: dict[str, Any]
    budget: dict[str, Any] = field(default_factory=dict)
    runs: list[RunResult] = field(default_factory=list)
    child_stderr: dict[str, int] = field(default_factory=dict)

    @property
    def baseline(self) -> RunResult | None:
        return next((run for run in self.runs if run.backlog == 0), None)

    def targets(self) -> dict[str, Any]:
        base = self.baseline
        throughput = base.saturation.get("notifications_per_s") if base else None
        share = ratio(throughput, self.budget.get("requests_per_second"))
        p99 = base.latency.get("notify_latency", {}).get("p99_ms") if base else None
        idle = base.idle_memory_bytes if base else None
        largest = max((run for run in self.runs if run.backlog), default=None,
                      key=lambda run: run.backlog)
        backlog_share = ratio(largest.drain_rate_per_s, throughput) if largest else None
        preload = (largest.preload_seconds * 100_000 / largest.backlog
                   if largest and largest.preload_seconds is not None else None)
        peak = max((run.peak_memory_bytes for run in self.runs), default=0) or None
        return {
            "backlog_throughput_ratio": {
                "value": _round(backlog_share, 3), "backlog": largest.backlog if largest else None,
                "target": f">= {TARGET_BACKLOG_RATIO}",
                "met": backlog_share is not None and backlog_share >= TARGET_BACKLOG_RATIO},
            "preload_seconds_per_100k": {
                "value": _round(preload, 1), "target": f"< {TARGET_PRELOAD_SECONDS_PER_100K:g}",
                "met": preload is not None and preload < TARGET_PRELOAD_SECONDS_PER_100K},
            "peak_memory_bytes": {
                "value": peak, "target": f"< {TARGET_PEAK_MEMORY_BYTES}",
                "met": peak is not None and peak < TARGET_PEAK_MEMORY_BYTES},
            "throughput_ratio": {"value": _round(share, 3),
                                 "target": f">= {TARGET_THROUGHPUT_RATIO}",
                                 "met": share is not None and share >= TARGET_THROUGHPUT_RATIO},
            "p99_half_load_ms": {"value": p99, "target": f"<= {TARGET_P99_MS:g}",
                                 "met": p99 is not None and p99 <= TARGET_P99_MS},
            "idle_memory_bytes": {"value": idle, "target": f"<= {TARGET_IDLE_MEMORY_BYTES}",
                                  "met": idle is not None and idle <= TARGET_IDLE_MEMORY_BYTES},
        }

    def as_json(self) -> dict[str, Any]:
        return {"command": self.options.command, "options": self.options.as_json(),
                "machine": self.machine, "budget": self.budget,
                "runs": [run.as_json() for run in self.runs], "targets": self.targets(),
                "child_stderr": self.child_stderr}


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


class Phases:
    """Progress bars on stderr for the long phases (a no-op when `console` is None)."""

    def __init__(self, console: Console | None) -> None:
        self._progress = None if console is None else Progress(
            TextColumn("{task.description:<44}"), BarColumn(), TaskProgressColumn(),
            TimeElapsedColumn(), console=console, transient=False)

    def __enter__(self) -> Phases:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *_: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def bar(self, description: str, total: float = 1.0) -> Callable[[float], None]:
        """A callback taking the completed amount (of `total`)."""
        progress = self._progress
        if progress is None:
            return lambda _: None
        task = progress.add_task(description, total=total)
        return lambda done: progress.update(task, completed=done)

    def note(self, message: str) -> None:
        if self._progress is not None:
            self._progress.console.print(message)


# --- (a) ----------------------------------------------------------------------
def measure_emulator_budget(template_path: Path, requests: int) -> dict[str, Any]:
    """(a) on a fresh embedded AWS server provisioned from the template."""
    from crudops_local.aws.endpoint import AwsEndpoint
    from crudops_local.cloudformation.provision import provision
    from crudops_local.cloudformation.template import Pseudo, Template
    from crudops_local.lambda_.specs import stack_name_of
    from crudops_local.run import AwsServerProcess

    template = Template.load(template_path)
    server = AwsServerProcess("127.0.0.1")
    try:
        aws = AwsEndpoint(server.endpoint, "us-east-1")  # placeholder keys
        pseudo = Pseudo(region="us-east-1", account_id="123456789012",
                        stack_name=stack_name_of(template_path))
        provisioned = provision(template, aws, pseudo)
        return measure_budget(template, provisioned, aws, requests).as_json()
    finally:
        server.stop()


# --- (b)-(e) ------------------------------------------------------------------
@contextmanager
def _stack(template: Path, log_dir: Path, options: BenchOptions) -> Iterator[Any]:
    from crudops_local.run import LocalStack, LocalStackOptions

    stack_options = LocalStackOptions(
        template=template, log_dir=log_dir, state_file=None,
        max_workers_per_function=options.workers, max_pollers_per_mapping=options.pollers,
        idle_worker_seconds=options.idle_worker_seconds)
    with LocalStack(stack_options) as stack:
        yield stack


async def _warm_up(rest_url: str, ws_url: str, options: BenchOptions, token: str) -> None:
    """Every function once, twice at a time (so both workers of a pool exist), then a
    short burst of the benchmark's own traffic."""
    from tools.demo import run_demo

    await asyncio.gather(run_demo(rest_url, ws_url, token=token),
                         run_demo(rest_url, ws_url, token=token))
    async with Client(rest_url, ws_url, options.connections, token=token) as client:
        await closed_loop(client, options.users, WARM_UP_SECONDS, options.grace, "warm-up")


def _wait_until_at_rest(stack: Any, options: BenchOptions) -> None:
    """Until idle workers beyond one per function are reclaimed (bounded wait)."""
    from crudops_local.run import REAPER_INTERVAL_SECONDS

    pools = list(stack.pools.values())
    deadline = time.monotonic() + options.idle_worker_seconds + 3 * REAPER_INTERVAL_SECONDS
    while time.monotonic() < deadline:
        if all(pool.worker_count <= 1 for pool in pools):
            return
        time.sleep(0.5)


def _idle_memory(root: int) -> int:
    readings = []
    for _ in range(IDLE_SAMPLES):
        time.sleep(0.5)
        readings.append(processes.tree_rss_bytes(root))
    return max(readings)


async def _load(rest_url: str, ws_url: str, options: BenchOptions, duration: float,
                half_rate: float | None, phases: Phases, label: str, token: str,
                record_on: str | None = None
                ) -> tuple[PhaseResult, PhaseResult, float, dict[str, float]]:
    """(b) then (c) on one set of connections; (c) runs at `half_rate` or, when None,
    at half of the (b) just measured. With `record_on` (an AWS endpoint), the
    endpoint records the calls made during (b)."""
    root = os.getpid()
    async with Client(rest_url, ws_url, options.connections, token=token) as client:
        if record_on:
            await asyncio.to_thread(calls.set_recording, record_on, True)
        cpu_before = processes.cpu_by_label(root)
        saturation = await closed_loop(
            client, options.users, duration, options.grace, "saturation",
            phases.bar(f"{label} (b) {options.users} users, {duration:g} s"))
        cpu = processes.cpu_delta(cpu_before, processes.cpu_by_label(root))
        if record_on:
            await asyncio.to_thread(calls.set_recording, record_on, False)
        figures = saturation.as_json()
        # Without an unloaded run first, half of this run's throughput; when a backlog
        # held every notification back, half of the accepted rate instead of nothing.
        throughput = figures["notifications_per_s"] or figures["accepted_per_s"]
        latency_rate = half_rate if half_rate is not None else throughput / 2
        offsets = arrival_offsets(latency_rate, duration, options.pacing, options.seed)
        latency = await open_loop(
            client, offsets, duration, options.grace, "latency",
            phases.bar(f"{label} (c) {latency_rate:.1f}/s open loop, {duration:g} s"))
    return saturation, latency, latency_rate, cpu


def _run(template: Path, work: Path, backlog_size: int, options: BenchOptions,
         half_rate: float | None, phases: Phases) -> RunResult:
    result = RunResult(backlog=backlog_size)
    root = os.getpid()
    label = f"backlog {backlog_size:,}:"
    phases.note(f"[bold]{label}[/] starting a fresh local stack")
    with _stack(template, work / f"logs-{backlog_size}", options) as stack:
        endpoints = stack.endpoints
        from tools.tokens import DEFAULT_USER, user_pool_of

        token = user_pool_of(stack.describe(), stack.aws.client).issue(DEFAULT_USER).token
        asyncio.run(_warm_up(endpoints.rest_url, endpoints.ws_url, options, token))
        _wait_until_at_rest(stack, options)
        result.idle_memory_bytes = _idle_memory(root)
        result.idle_memory_by_process = processes.rss_by_label(root)
        result.processes = len(processes.descendants(root))
        sampler = processes.MemorySampler(root).start()
        watcher = None
        try:
            if backlog_size:
                sqs = stack.aws.client("sqs")
                queue_url = physical_ref(stack.template, stack.provisioned,
                                         "MessagingCreateConsumerQueue", "AWS::SQS::Queue")
                bar = phases.bar(f"{label} preloading the create queue", backlog_size)
                started = time.monotonic()
                # the embedded server's bulk route; through the SQS API otherwise
                if backlog.preload_direct(stack.aws, queue_url, backlog_size, bar) is None:
                    backlog.preload_in_processes(stack.aws, queue_url, backlog_size,
                                                 options.preload_senders, bar)
                preloaded = time.monotonic()
                result.preload_seconds = preloaded - started
                result.depth_at_load_start = backlog.depth(sqs, queue_url)
                watcher = backlog.DrainWatcher(sqs, queue_url, preloaded,
                                               options.drain_timeout).start()
            duration = options.duration if backlog_size == 0 else options.backlog_duration
            record_on = stack.aws.url if options.record_calls and backlog_size == 0 else None
            saturation, latency, latency_rate, cpu = asyncio.run(_load(
                endpoints.rest_url, endpoints.ws_url, options, duration, half_rate, phases,
                label, token, record_on))
            if record_on:
                result.aws_calls_saturation = calls.count_actions(
                    Path(os.environ[calls.RECORDER_FILE_VARIABLE]))
            result.saturation, result.latency = saturation.as_json(), latency.as_json()
            result.latency_rate_per_s = latency_rate
            result.cpu_seconds_saturation = cpu
            if watcher is not None:
                remaining = options.drain_timeout - (time.monotonic() - watcher.started_at)
                bar = phases.bar(f"{label} waiting for the backlog to drain", 1.0)
                if watcher.wait(remaining):
                    assert watcher.drained_at is not None
                    result.drained_after_seconds = watcher.drained_at - watcher.started_at
                bar(1.0)
                result.depth_at_end = watcher.last_depth
                result.drain_rate_per_s = watcher.drain_rate()
        finally:
            if watcher is not None:
                watcher.stop()
            sampler.stop()
        result.peak_memory_bytes = sampler.peak_bytes
    return result


def do_bench(options: BenchOptions, show_progress: bool = True,
             synthesize: Callable[[Path], Path] | None = None) -> BenchReport:
    """Run every phase once and return the figures (see the module docstring)."""
    report = BenchReport(options, processes.machine())
    with tempfile.TemporaryDirectory(prefix="crudops-bench-") as directory:
        work = Path(directory)
        stderr_log = work / "children.stderr.log"
        with _children_stderr_to(stderr_log) as console, \
                _environment(calls.RECORDER_FILE_VARIABLE, str(work / "aws-calls.jsonl")), \
                Phases(console if show_progress else None) as phases:
            template = options.template
            if template is None:
                phases.note("synthesizing the template (in a child process)")
                template = (synthesize or _synthesize)(work / "cdk.out")
            phases.note(f"(a) emulator budget: {ROUNDS} rounds of {options.budget_requests} "
                        "requests, serial")
            report.budget = measure_emulator_budget(template, options.budget_requests)
            half_rate: float | None = None
            for size in options.backlogs:
                run = _run(template, work, size, options, half_rate, phases)
                report.runs.append(run)
                if half_rate is None:
                    half_rate = run.latency_rate_per_s
        report.child_stderr = _stderr_summary(stderr_log)
    return report


@contextmanager
def _children_stderr_to(path: Path) -> Iterator[Console]:
    """Point file descriptor 2 at `path` while the bench runs, and hand back a console
    on the original stderr.

    The embedded AWS server inherits stderr and prints a traceback for every 500 it
    answers (see docs/emulator-facts.md: concurrent transactions), which would shred the
    progress display; they are counted into the report instead.
    """
    import sys

    sys.stderr.flush()
    original = os.dup(2)
    with path.open("ab") as log:
        os.dup2(log.fileno(), 2)
    console_file = os.fdopen(os.dup(original), "w", buffering=1)
    try:
        yield Console(file=console_file)
    finally:
        sys.stderr.flush()
        os.dup2(original, 2)
        os.close(original)
        console_file.close()


@contextmanager
def _environment(name: str, value: str) -> Iterator[None]:
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


def _stderr_summary(path: Path) -> dict[str, int]:
    """How noisy the children were: tracebacks, and the known moto transaction race."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return {}
    return {"lines": text.count("\n"), "tracebacks": text.count("Traceback (most recent"),
            "dictionary_changed_size": text.count("dictionary changed size during iteration")}


def _synthesize(out: Path) -> Path:
    """Synthesis in a child process (tools.synth.synthesize): its Node.js kernel would
    otherwise stay in the bench's process tree and count as the stack's memory."""
    from tools.synth import synthesize

    return synthesize(out).template


def parse_backlogs(text: str) -> tuple[int, ...]:
    """`0,1000,10000` → (0, 1000, 10000); 0 is always run first (it sets (c)'s rate)."""
    sizes: list[int] = []
    for part in text.split(","):
        part = part.strip().replace("_", "")
        if not part:
            continue
        if not part.isdigit():
            raise ValueError(f"backlog sizes are whole numbers, not {part!r}")
        value = int(part)
        if value > 100_000:
            raise ValueError(f"backlog {value} is above the bound of 100000")
        if value not in sizes:
            sizes.append(value)
    if not sizes:
        raise ValueError("give at least one backlog size, e.g. 0")
    return tuple(sorted(sizes))


def with_command(options: BenchOptions, command: str) -> BenchOptions:
    return replace(options, command=command)
