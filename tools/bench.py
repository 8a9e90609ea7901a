"""The CLI side of `crudops bench`: its options checked into a `BenchOptions`, and the
report printed or written. The measurement itself is benchmarks/bench.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from tools.errors import UserError

if TYPE_CHECKING:
    from benchmarks.bench import BenchOptions
    from benchmarks.redrive import RedriveBench


def bench_options(*, users: int, duration: float, backlogs: str, backlog_duration: float,
                  grace: float, connections: int, pacing: str, budget_requests: int,
                  workers: int, drain_timeout: float, idle_worker_seconds: float,
                  template: Path | None, record_calls: bool, command: str) -> BenchOptions:
    """The options of one run; a `UserError` for a value outside its bounds (each
    bound keeps a run finite and the machine usable)."""
    from benchmarks.bench import BenchOptions, parse_backlogs

    try:
        sizes = parse_backlogs(backlogs)
    except ValueError as exc:
        raise UserError(str(exc), hint="e.g. --backlogs 0,1000,10000") from exc
    if pacing not in ("poisson", "fixed"):
        raise UserError(f"unknown pacing {pacing!r}", hint="poisson or fixed")
    bounds = {"--users": (users, 1, 1000), "--duration": (duration, 1, 600),
              "--backlog-duration": (backlog_duration, 1, 600), "--grace": (grace, 0, 600),
              "--connections": (connections, 1, 64),
              "--budget-requests": (budget_requests, 10, 10_000),
              "--workers": (workers, 1, 16), "--drain-timeout": (drain_timeout, 0, 3600),
              "--idle-worker-seconds": (idle_worker_seconds, 1, 3600)}
    for name, (value, low, high) in bounds.items():
        if not low <= value <= high:
            raise UserError(f"{name} {value:g} is outside {low:g}..{high:g}")
    if template is not None and not template.is_file():
        raise UserError(f"template {template} does not exist", hint="drop --template")
    return BenchOptions(
        users=users, duration=duration, backlogs=sizes, backlog_duration=backlog_duration,
        grace=grace, connections=connections,
        pacing="fixed" if pacing == "fixed" else "poisson",
        budget_requests=budget_requests, workers=workers, drain_timeout=drain_timeout,
        idle_worker_seconds=idle_worker_seconds,
        template=template, record_calls=record_calls, command=command)


def print_bench(document: dict[str, Any], *, write: bool, as_json: bool) -> None:
    """The report as JSON or tables; with `write`, benchmarks/RESULTS.md rewritten too."""
    from benchmarks.report import print_report, write_results

    if write:
        path = write_results(document)
        typer.echo(f"{path} written", err=True)
    if as_json:
        typer.echo(json.dumps(document))
    else:
        print_report(document)


def do_bench_redrive(*, depth: int, concurrency: str, memory_depths: str) -> RedriveBench:
    """`crudops bench redrive`'s options checked, then the measurement
    (benchmarks/redrive.py); a `UserError` for a value outside its bounds."""
    import tempfile

    from rich.console import Console

    from benchmarks.redrive import measure, parse_list

    try:
        threads, depths = parse_list(concurrency), parse_list(memory_depths)
    except ValueError as exc:
        raise UserError(f"not a list of whole numbers: {exc}",
                        hint="e.g. --concurrency 1,4,8 --memory-depths 1000,10000") from exc
    if not 10 <= depth <= 100_000:
        raise UserError(f"--depth {depth} is outside 10..100000")
    if not threads or any(not 1 <= t <= 32 for t in threads):
        raise UserError("--concurrency takes thread counts in 1..32", hint="e.g. 1,4,8")
    if any(not 10 <= d <= 100_000 for d in depths):
        raise UserError("--memory-depths takes depths in 10..100000")
    with tempfile.TemporaryDirectory(prefix="crudops-bench-redrive-") as workdir:
        return measure(depth, threads, depths, Path(workdir), Console(stderr=True))


def print_bench_redrive(result: RedriveBench, *, as_json: bool) -> None:
    from rich.console import Console

    from benchmarks.redrive import print_bench

    if as_json:
        typer.echo(json.dumps(result.as_json()))
    else:
        print_bench(result, Console())
