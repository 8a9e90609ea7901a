"""What the scenario hands to `crudops load`: the final statistics and the timeline.

- The summary file (`--summary-file`) is written when Locust quits, on the master
  (or the only process), after the last user stopped and every worker sent its final
  report: Locust's CSV files are rewritten only once a second and can miss the last
  notifications, which are often the lost ones. A worker writes nothing.
- Each process's `TIMELINE` travels to the master with the worker's reports
  (loadtests/timeline.py) and ends in the summary.
- Percentiles over all operations (`aggregates`: all NOTIFY entries, all E2E, all
  HTTP calls) are Locust's own, from its merged histograms, so they agree with its
  HTML report.
"""

from __future__ import annotations

import json
import time
from typing import Any

from locust import events
from locust.runners import WorkerRunner
from locust.stats import StatsEntry, StatsError

from loadtests.contract import E2E, NOTIFY, TIMELINE_KEY, WS
from loadtests.timeline import Timeline

TIMELINE = Timeline()
PERCENTILES = (0.5, 0.95, 0.99, 0.999)
HTTP = "HTTP"
OWN_TYPES = (NOTIFY, E2E, WS)
_ENVIRONMENT: list[Any] = []
_STARTED: list[float] = []
_STARTED_EPOCH: list[float] = []
# The workers whose reports reached this master (the summary says how many merged).
_REPORTING_WORKERS: set[str] = set()


def run_started_at() -> float:
    """perf_counter() when this process's test started (the schedule's zero)."""
    return _STARTED[0] if _STARTED else time.perf_counter()


@events.init.add_listener  # type: ignore[untyped-decorator]
def _keep_environment(environment: Any, **kwargs: Any) -> None:
    _ENVIRONMENT[:] = [environment]


@events.test_start.add_listener  # type: ignore[untyped-decorator]
def _test_started(environment: Any, **kwargs: Any) -> None:
    _STARTED[:] = [time.perf_counter()]
    _STARTED_EPOCH[:] = [time.time()]


@events.report_to_master.add_listener  # type: ignore[untyped-decorator]
def _send_timeline(client_id: str, data: dict[str, Any]) -> None:
    data[TIMELINE_KEY] = TIMELINE.take()


@events.worker_report.add_listener  # type: ignore[untyped-decorator]
def _merge_timeline(client_id: str, data: dict[str, Any]) -> None:
    if TIMELINE_KEY in data:
        TIMELINE.merge(data[TIMELINE_KEY])
        _REPORTING_WORKERS.add(client_id)


def _percentiles(entry: StatsEntry) -> dict[str, Any]:
    return {
        "count": entry.num_requests, "failures": entry.num_failures,
        **{f"p{round(p * 100, 1):g}_ms": entry.get_response_time_percentile(p)
           if entry.num_requests else None for p in PERCENTILES},
        "max_ms": entry.max_response_time if entry.num_requests else None,
        "per_second": entry.total_rps,
    }


def _aggregate(stats: Any, kind: str) -> dict[str, Any]:
    """All entries of one request type (NOTIFY, E2E), or every HTTP call ("HTTP")."""
    merged = StatsEntry(stats, kind, kind)
    for entry in stats.entries.values():
        if entry.method == kind or (kind == HTTP and entry.method not in OWN_TYPES):
            merged.extend(entry)
    return _percentiles(merged)


def summary_of(environment: Any, exit_code: int) -> dict[str, Any]:
    stats = environment.stats
    runner = environment.runner
    return {
        "exit_code": exit_code,
        "started_at": _STARTED_EPOCH[0] if _STARTED_EPOCH else None,
        "ended_at": time.time(),
        "workers": len(_REPORTING_WORKERS),
        "entries": [{"type": entry.method, "name": entry.name, **_percentiles(entry)}
                    for entry in stats.entries.values()],
        "aggregates": {kind: _aggregate(stats, kind) for kind in (NOTIFY, E2E, HTTP)},
        # `error.error` is the exception itself; Locust's own text of it for the report
        "failures": [{"type": error.method, "name": error.name,
                      "error": StatsError.parse_error(error.error),
                      "occurrences": error.occurrences} for error in stats.errors.values()],
        "exceptions": [{"message": row["msg"], "count": row["count"]}
                       for row in (runner.exceptions.values() if runner else [])],
        TIMELINE_KEY: TIMELINE.as_json(),
    }


@events.quit.add_listener  # type: ignore[untyped-decorator]
def _write_summary(exit_code: int, **kwargs: Any) -> None:
    environment = _ENVIRONMENT[0] if _ENVIRONMENT else None
    options = environment.parsed_options if environment is not None else None
    if environment is None or options is None or not options.summary_file:
        return
    if isinstance(environment.runner, WorkerRunner):
        return  # its statistics went to the master with its last report
    text = json.dumps(summary_of(environment, exit_code), default=str)  # whole first
    with open(options.summary_file, "w") as handle:
        handle.write(text)
