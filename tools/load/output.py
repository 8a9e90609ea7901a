"""What `crudops load` prints: per operation its 202 → notification times, the SLOs
with what was measured, failures by cause and the generator's CPU (or all as JSON)."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from tools.load.report_page import REPORT_HTML, measured_text
from tools.load.run import LoadResult


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def render_tables(result: LoadResult) -> list[Any]:
    summary = result.summary
    operations = Table(title=f"202 → notification ({result.target})", title_justify="left")
    for header in ("operation", "count", "failed", "p50 ms", "p95 ms", "p99 ms", "max ms",
                   "per s"):
        operations.add_column(header, justify="left" if header == "operation" else "right")
    for row in summary.notifications:
        operations.add_row(row.name, f"{row.count:,}", f"{row.failures:,}", _ms(row.p50_ms),
                           _ms(row.p95_ms), _ms(row.p99_ms), _ms(row.max_ms),
                           f"{row.per_second:.2f}")
    slos = Table(title="SLOs", title_justify="left")
    for header in ("SLO", "measured", "verdict"):
        slos.add_column(header)
    for slo in result.slos:
        slos.add_row(slo.slo.text, measured_text(slo),
                     "[green]met[/green]" if slo.met else "[bold red]missed[/bold red]")
    tables: list[Any] = [operations, slos]
    causes = summary.failures_by_cause()
    if causes or summary.errors:
        failures = Table(title="failures by cause", title_justify="left")
        failures.add_column("cause")
        failures.add_column("count", justify="right")
        for cause, n in [*causes.most_common(), *summary.errors.items()]:
            failures.add_row(cause, f"{n:,}")
        tables.append(failures)
    return tables


def print_load_result(result: LoadResult, as_json: bool, console: Console | None = None) -> int:
    """The run's tables (or JSON) on stdout; its exit code."""
    console = console or Console()
    if as_json:
        # plain, never wrapped to the terminal's width: a script reads it
        typer.echo(json.dumps(result.as_json(), indent=2, default=str))
        return result.exit_code
    for table in render_tables(result):
        console.print(table)
    summary = result.summary
    console.print(f"{summary.commands:,} commands, {summary.lost:,} lost, "
                  f"{summary.failed:,} failed, {summary.conflicts:,} expected conflicts; "
                  f"load generator {result.generator_cpu_seconds:.1f} CPU-s over "
                  f"{result.wall_seconds:.0f} s ({result.generator_cpu_share:.0%} of one core)")
    late = summary.total("late")
    if late:
        console.print(f"{late:,} arrivals fired late: the load generator fell behind its "
                      "schedule (more --processes, or fewer commands per process)")
    for note in result.notes:
        console.print(f"note: {note}")
    page = next((f for f in result.files if f.name == REPORT_HTML), None)
    if page is not None:
        console.print(f"report: {page}")
    return result.exit_code
