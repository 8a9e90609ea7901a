"""`crudops load`: run the Locust scenario (loadtests/) against a target, gate it on
SLOs and, with `--out`, write its report.

Locust runs in a process of its own: importing it patches the standard library with
gevent, which the CLI (and the tests that import it) must not inherit. Its console
output streams to the caller as it runs. What counts is the summary the scenario
writes when Locust quits (loadtests/reporting.py): Locust's own statistics, merged
over its workers, and the per-second timeline. The run's exit code is the SLOs':
0 every SLO met, 1 one missed (or the scenario itself raised); user errors are 2.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from tools.errors import UserError
from tools.load.options import LoadOptions
from tools.load.queues import QueueSeries, read_queue_series
from tools.load.slo import SloResult, evaluate
from tools.load.summary import LoadSummary, read_summary
from tools.load.target import LoadTarget, QueueMetrics, load_target, require_reachable

SUMMARY_JSON: Final = "summary.json"
LOCUST_HTML: Final = "locust.html"
CSV_PREFIX: Final = "locust"
# Locust's CSV files under a --csv prefix (removed before a run reuses the directory).
CSV_SUFFIXES: Final = ("_stats.csv", "_stats_history.csv", "_failures.csv", "_exceptions.csv")


@dataclass
class LoadResult:
    summary: LoadSummary
    slos: list[SloResult]
    target: str
    wall_seconds: float
    # CPU seconds of Locust and its workers (user + system): the generator's own share
    generator_cpu_seconds: float
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 0 if all(r.met for r in self.slos) and not self.summary.errors else 1

    @property
    def generator_cpu_share(self) -> float:
        """Of one core, over the run (with --processes it can pass 1)."""
        return self.generator_cpu_seconds / self.wall_seconds if self.wall_seconds else 0.0

    def as_json(self) -> dict[str, Any]:
        return {"exit_code": self.exit_code, "target": self.target,
                "slos": [r.as_json() for r in self.slos], **self.summary.as_json(),
                "generator": {"cpu_seconds": round(self.generator_cpu_seconds, 2),
                              "wall_seconds": round(self.wall_seconds, 2),
                              "cpu_share_of_one_core": round(self.generator_cpu_share, 3)},
                "files": [str(f) for f in self.files], "notes": self.notes}


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def _report_dir(out: Path | None) -> Iterator[Path]:
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for suffix in CSV_SUFFIXES:  # an earlier run's, not to be mistaken for these
            (out / f"{CSV_PREFIX}{suffix}").unlink(missing_ok=True)
        (out / SUMMARY_JSON).unlink(missing_ok=True)
        yield out
        return
    with tempfile.TemporaryDirectory(prefix="crudops-load-") as scratch:
        yield Path(scratch)


def run_locust(options: LoadOptions, directory: Path, *, keep_html: bool,
               on_output: Callable[[str], None]) -> tuple[LoadSummary, float, float]:
    """Locust in its own process: the summary, the wall and the CPU seconds it took."""
    summary_file = directory / SUMMARY_JSON
    command = options.command(summary_file=summary_file, csv_prefix=directory / CSV_PREFIX,
                              html=directory / LOCUST_HTML if keep_html else None)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LOCUST_")}
    if options.tokens:
        # In the environment, not on the command line, where `ps` would show them.
        environment["LOCUST_TOKENS"] = ",".join(options.tokens)
    cpu_before, started = _children_cpu_seconds(), time.monotonic()
    process = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    for line in process.stdout:
        on_output(line.rstrip("\n"))
    code = process.wait()
    wall, cpu = time.monotonic() - started, _children_cpu_seconds() - cpu_before
    return read_summary(summary_file, code), wall, cpu


def do_load(options: LoadOptions, target: LoadTarget, *,
            on_output: Callable[[str], None]) -> LoadResult:
    """One run against `target` (already resolved and reachable)."""
    options = replace(options, rest_url=target.rest_url, ws_url=target.ws_url,
                      tokens=target.issue_tokens())
    options.check()
    with _report_dir(options.out) as directory:
        summary, wall, cpu = run_locust(options, directory, keep_html=options.out is not None,
                                        on_output=on_output)
        result = LoadResult(summary, evaluate(options.slos, summary.measure),
                            target.description, wall, cpu)
        if options.out is not None:
            write_report(result, options.out, target.queue_metrics)
    return result


def write_report(result: LoadResult, out: Path, queue_metrics: QueueMetrics | None) -> None:
    """The plots, the page and the JSON summary beside Locust's CSV and HTML files."""
    from tools.load.plots import draw_plots
    from tools.load.report_page import write_report_page

    summary = result.summary
    start = summary.started_at or time.time()
    queues: list[QueueSeries] | None = None
    if queue_metrics is None:
        result.notes.append("no queue metrics: the target is given by URL (use --stack or "
                            "--local for the queues' depth and age)")
    else:
        try:
            queues = read_queue_series(queue_metrics, start, summary.ended_at or time.time())
        except (BotoCoreError, ClientError, UserError) as exc:
            # the run's report matters more than one plot: say why it is missing
            result.notes.append(f"queue metrics could not be read: {exc!r}")
    plots = draw_plots(out, summary.timeline, start, summary.seconds, queues)
    links = sorted(p for p in out.iterdir() if p.suffix == ".csv" or p.name == LOCUST_HTML)
    page = write_report_page(out, summary=summary, results=result.slos,
                             title=result.target, plots=plots, links=links,
                             notes=result.notes)
    result.files = [*plots, page, out / SUMMARY_JSON, *links]
    document = result.as_json()
    document["timeline"] = summary.timeline.as_json()
    document["queues"] = [q.as_json() for q in queues or []]
    (out / SUMMARY_JSON).write_text(json.dumps(document, indent=2, default=str))


def do_load_command(options: LoadOptions, *, rest_url: str | None, ws_url: str | None,
                    stack: str | None, local: bool, region: str | None,
                    on_output: Callable[[str], None],
                    on_status: Callable[[str], None]) -> LoadResult:
    """`crudops load`: the options checked before any stack is looked for, then the
    target (see tools/load/target.py), probed, then the run."""
    options.check()
    with load_target(rest_url=rest_url, ws_url=ws_url, stack=stack, local=local,
                     region=region, on_status=on_status) as target:
        require_reachable(target)
        on_status(f"load on {target.description}")
        return do_load(options, target, on_output=on_output)
