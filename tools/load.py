"""`crudops load`: Locust's crudops scenario (loadtests/) against a stack, summarized
as the time from each `202 Accepted` to its WebSocket notification.

Locust runs in a process of its own: importing it patches the standard library with
gevent, which the CLI (and the tests that import it) must not inherit. Its console
output goes to stderr as it runs. The summary is Locust's own final statistics,
written by the scenario when Locust quits (`--summary-file`, after the last user
stopped); Locust's CSV files (kept with `--csv`) are rewritten only once a second and
can miss the last notifications, which are often the lost ones.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import loadtests
from loadtests.contract import HTTP_TIMEOUT_SECONDS, LOST, NOTIFY
from tools.errors import UserError

LOCUSTFILE = Path(loadtests.__file__).resolve().parent / "locustfile.py"
# `--shape NAME`: a Locust LoadTestShape file loaded beside the scenario.
SHAPES = {"step": Path(loadtests.__file__).resolve().parent / "shapes.py"}
# Locust's --run-time: "90", "90s", "5m", "1h30m", "1h30m20s"
_RUN_TIME = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$|^(\d+)$")
# Locust's CSV files under a --csv prefix (removed before a run reuses the prefix).
CSV_SUFFIXES = ("_stats.csv", "_stats_history.csv", "_failures.csv", "_exceptions.csv")


@dataclass(frozen=True)
class LoadOptions:
    rest_url: str
    ws_url: str
    users: int = 10
    spawn_rate: float = 5.0
    run_time: str = "60s"
    notify_timeout_seconds: float = 30.0
    csv_prefix: Path | None = None  # keep Locust's CSV files here
    html: Path | None = None  # and its HTML report
    # A load shape instead of users/spawn rate/run time: "step" (loadtests/shapes.py)
    shape: str | None = None
    step_users: int = 5
    step_seconds: float = 30.0
    steps: int = 4

    def command(self, csv_prefix: Path, summary_file: Path) -> list[str]:
        files = ",".join(str(f) for f in (LOCUSTFILE, *(
            [SHAPES[self.shape]] if self.shape else [])))
        load = (["--step-users", str(self.step_users), "--step-seconds",
                 str(self.step_seconds), "--steps", str(self.steps)] if self.shape else
                ["--users", str(self.users), "--spawn-rate", str(self.spawn_rate),
                 "--run-time", self.run_time])
        arguments = [
            sys.executable, "-m", "locust", "-f", files, "--headless",
            "--host", self.rest_url, "--ws-url", self.ws_url, *load,
            "--notify-timeout", str(self.notify_timeout_seconds),
            "--csv", str(csv_prefix), "--only-summary", "--summary-file", str(summary_file),
            # After the window, the last commands get their chance to finish: a 202 and
            # then its notification, each within its own timeout.
            "--stop-timeout",
            str(HTTP_TIMEOUT_SECONDS + int(self.notify_timeout_seconds) + 5),
        ]
        if self.html is not None:
            arguments += ["--html", str(self.html)]
        return arguments

    def check(self) -> None:
        if self.shape is not None and self.shape not in SHAPES:
            raise UserError(f"--shape {self.shape!r} is not one of {', '.join(SHAPES)}")
        if self.shape and (self.step_users < 1 or self.step_seconds <= 0 or self.steps < 1):
            raise UserError("--step-users, --step-seconds and --steps must be positive")
        if self.users < 1 or self.spawn_rate <= 0:
            raise UserError("--users must be at least 1 and --spawn-rate above 0")
        match = _RUN_TIME.match(self.run_time)
        if not self.run_time or match is None or not any(
                int(part) for part in match.groups() if part):
            # 0 would be "no limit" to Locust: a run that never ends.
            raise UserError(f"--run-time {self.run_time!r} is not a duration above 0",
                            hint="e.g. 90s, 5m, 1h30m")


@dataclass(frozen=True)
class Row:
    """One line of Locust's statistics."""

    type: str
    name: str
    count: int
    failures: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    per_second: float


@dataclass
class LoadReport:
    rows: list[Row] = field(default_factory=list)
    # Locust's failures: "<type> <name>: <error>" → occurrences
    failures: dict[str, int] = field(default_factory=dict)
    # exceptions the scenario raised (a user that could not even connect): message → count
    errors: dict[str, int] = field(default_factory=dict)
    exit_code: int = 0

    @property
    def notifications(self) -> list[Row]:
        return [row for row in self.rows if row.type == NOTIFY]

    @property
    def lost(self) -> int:
        return sum(n for key, n in self.failures.items()
                   if key.startswith(NOTIFY) and LOST in key)

    def as_json(self) -> dict[str, Any]:
        return {"rows": [asdict(r) for r in self.rows], "failures": self.failures,
                "errors": self.errors, "lost": self.lost, "exit_code": self.exit_code}


def read_report(summary_file: Path, exit_code: int) -> LoadReport:
    """The scenario's final statistics (loadtests/users.py `_write_summary`)."""
    if not summary_file.exists():
        raise UserError("Locust wrote no statistics (see its output above)",
                        hint="check --rest-url / --ws-url and that the stack is up")
    summary = json.loads(summary_file.read_text())
    report = LoadReport(exit_code=exit_code)
    for entry in summary["entries"]:
        report.rows.append(Row(
            type=str(entry["type"]), name=str(entry["name"]), count=int(entry["count"]),
            failures=int(entry["failures"]), p50_ms=float(entry["p50_ms"] or 0),
            p95_ms=float(entry["p95_ms"] or 0), p99_ms=float(entry["p99_ms"] or 0),
            per_second=round(float(entry["per_second"] or 0), 2)))
    for failure in summary["failures"]:
        key = f"{failure['type']} {failure['name']}: {failure['error']}"
        report.failures[key] = report.failures.get(key, 0) + int(failure["occurrences"])
    for exception in summary["exceptions"]:
        report.errors[str(exception["message"])] = int(exception["count"])
    return report


def do_load(options: LoadOptions, *, on_output: Callable[[str], None]) -> LoadReport:
    """Run the scenario; exit code 0 when nothing failed and nothing was lost, else 1."""
    options.check()
    with tempfile.TemporaryDirectory(prefix="crudops-load-") as scratch:
        prefix = options.csv_prefix or Path(scratch) / "load"
        if options.csv_prefix is not None:
            options.csv_prefix.parent.mkdir(parents=True, exist_ok=True)
            for suffix in CSV_SUFFIXES:  # an earlier run's, not to be mistaken for these
                prefix.with_name(prefix.name + suffix).unlink(missing_ok=True)
        summary_file = Path(scratch) / "summary.json"
        # Every option is on the command line: a LOCUST_* variable in the caller's
        # environment (say LOCUST_EXIT_CODE_ON_ERROR=0) must not change the run.
        environment = {k: v for k, v in os.environ.items() if not k.startswith("LOCUST_")}
        process = subprocess.Popen(options.command(prefix, summary_file), env=environment,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True)
        assert process.stdout is not None
        for line in process.stdout:
            on_output(line.rstrip("\n"))
        code = process.wait()
        report = read_report(summary_file, code)
    report.exit_code = 0 if code == 0 and not report.failures and not report.errors else 1
    return report


def print_load_report(report: LoadReport, as_json: bool) -> int:
    """The 202 → notification table per operation and the lost count (failures on
    stderr), or the summary as JSON; the run's exit code."""
    import typer

    if as_json:
        typer.echo(json.dumps(report.as_json()))
    else:
        typer.echo(f"{'202 → notification':<20} {'count':>7} {'failed':>7} {'p50 ms':>8} "
                   f"{'p95 ms':>8} {'p99 ms':>8} {'per s':>7}")
        for row in report.notifications:
            typer.echo(f"{row.name:<20} {row.count:>7} {row.failures:>7} {row.p50_ms:>8.0f} "
                       f"{row.p95_ms:>8.0f} {row.p99_ms:>8.0f} {row.per_second:>7.2f}")
        typer.echo(f"lost notifications: {report.lost}")
        for failure, count in {**report.failures, **report.errors}.items():
            typer.echo(f"  {count} x {failure}", err=True)
    return report.exit_code
