"""The scenario's final statistics as `crudops load` reads them, and what the SLOs measure.

The summary file is written by the scenario when Locust quits (loadtests/reporting.py):
Locust's entries and failures, merged over every worker by Locust itself, plus the
per-second timeline the workers sent with their reports.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from loadtests.contract import (
    ACCEPTED,
    CONFLICTS,
    E2E,
    EXPECTED_SUFFIX,
    LATE,
    LOST,
    NOTIFIED,
    NOTIFY,
    OFFERED,
    TIMELINE_KEY,
    WS,
)
from loadtests.timeline import Timeline
from tools.errors import UserError
from tools.load.slo import Slo

HTTP: Final = "HTTP"
STAT_KEYS: Final = {"p50": "p50_ms", "p95": "p95_ms", "p99": "p99_ms", "p99.9": "p99.9_ms",
                    "max": "max_ms"}
_LATENCY = re.compile(r"^(?P<kind>notify|e2e|http)(?:\.(?P<operation>[a-z-]+))?\.(?P<stat>.+)$")
_KIND_TYPES: Final = {"notify": NOTIFY, "e2e": E2E}


@dataclass(frozen=True)
class Row:
    """One line of Locust's statistics."""

    type: str
    name: str
    count: int
    failures: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    per_second: float
    p99_9_ms: float | None = None

    def stat(self, key: str) -> float | None:
        return {"p50": self.p50_ms, "p95": self.p95_ms, "p99": self.p99_ms,
                "p99.9": self.p99_9_ms, "max": self.max_ms}[key]


def _row(entry: dict[str, Any]) -> Row:
    def ms(key: str) -> float | None:
        value = entry.get(key)
        return None if value is None else float(value)

    return Row(type=str(entry["type"]), name=str(entry["name"]), count=int(entry["count"]),
               failures=int(entry["failures"]), p50_ms=ms("p50_ms"), p95_ms=ms("p95_ms"),
               p99_ms=ms("p99_ms"), max_ms=ms("max_ms"), p99_9_ms=ms("p99.9_ms"),
               per_second=round(float(entry.get("per_second") or 0), 2))


@dataclass
class LoadSummary:
    rows: list[Row] = field(default_factory=list)
    # over every entry of a type (NOTIFY, E2E) or every HTTP call (HTTP)
    aggregates: dict[str, Row] = field(default_factory=dict)
    # "<type> <name>: <error>" → occurrences
    failures: dict[str, int] = field(default_factory=dict)
    # exceptions the scenario raised (a user that could not even start): message → count
    errors: dict[str, int] = field(default_factory=dict)
    timeline: Timeline = field(default_factory=Timeline)
    started_at: float | None = None
    ended_at: float | None = None
    workers: int = 0
    locust_exit_code: int = 0

    # --- what the run did ----------------------------------------------------------
    @property
    def notifications(self) -> list[Row]:
        return [row for row in self.rows if row.type == NOTIFY]

    @property
    def http_rows(self) -> list[Row]:
        return [row for row in self.rows if row.type not in (NOTIFY, E2E, WS)]

    @property
    def commands(self) -> int:
        """Commands sent (every HTTP call is one)."""
        return sum(row.count for row in self.http_rows)

    @property
    def lost(self) -> int:
        return sum(n for key, n in self.failures.items()
                   if key.startswith(f"{NOTIFY} ") and LOST in key)

    @property
    def failed(self) -> int:
        """HTTP failures and unexpected error outcomes (a loss is counted apart)."""
        http = sum(row.failures for row in self.http_rows)
        outcomes = sum(n for key, n in self.failures.items()
                       if key.startswith(f"{NOTIFY} ") and LOST not in key)
        return http + outcomes

    @property
    def conflicts(self) -> int:
        return sum(row.count - row.failures for row in self.notifications
                   if row.name.endswith(EXPECTED_SUFFIX))

    def failures_by_cause(self) -> Counter[str]:
        """Failures counted by cause over every entry ("HttpStatus('503')": 4, ...)."""
        causes: Counter[str] = Counter()
        for key, n in self.failures.items():
            kind = key.split(" ", 1)[0]
            if kind != E2E:  # the same command as its NOTIFY entry
                causes[key.split(": ", 1)[-1]] += n
        return causes

    @property
    def seconds(self) -> float:
        if self.started_at is None or self.ended_at is None:
            return 0.0
        return max(self.ended_at - self.started_at, 1e-9)

    def total(self, counter: str) -> int:
        return sum(counts.get(counter, 0) for counts in self.timeline.counts.values())

    # --- what an SLO measures -------------------------------------------------------
    def measure(self, slo: Slo) -> float | None:
        latency = _LATENCY.match(slo.measure)
        if latency is not None:
            stat = latency["stat"]
            kind = latency["kind"]
            if latency["operation"]:
                request_type = _KIND_TYPES.get(kind)
                rows = [r for r in (self.rows if request_type else self.http_rows)
                        if (r.type == request_type and r.name == latency["operation"]) or (
                            request_type is None and _operation_of_http(r) == latency[
                                "operation"])]
                values = [v for r in rows if r.count and (v := r.stat(stat)) is not None]
                return max(values) if values else None
            aggregate = self.aggregates.get(_KIND_TYPES.get(kind, HTTP))
            return None if aggregate is None or not aggregate.count else aggregate.stat(stat)
        if slo.measure in ("lost", "errors", "conflicts"):
            count = {"lost": self.lost, "errors": self.failed,
                     "conflicts": self.conflicts}[slo.measure]
            if not slo.share:
                return float(count)
            return count / self.commands if self.commands else None
        counter = {"notified/s": NOTIFIED, "accepted/s": ACCEPTED, "offered/s": OFFERED}[
            slo.measure]
        return self.total(counter) / self.seconds if self.seconds else None

    def as_json(self) -> dict[str, Any]:
        return {
            "commands": self.commands, "lost": self.lost, "errors": self.failed,
            "conflicts": self.conflicts, "failures_by_cause": dict(self.failures_by_cause()),
            "started_at": self.started_at, "ended_at": self.ended_at,
            "workers": self.workers, "rows": [asdict(r) for r in self.rows],
            "aggregates": {k: asdict(v) for k, v in self.aggregates.items()},
            "failures": self.failures, "exceptions": self.errors,
            "totals": {c: self.total(c) for c in (OFFERED, ACCEPTED, NOTIFIED, CONFLICTS,
                                                  LATE)},
        }


# the operation of an HTTP entry, by its name (loadtests/mix.py HTTP_NAMES)
_HTTP_OPERATIONS: Final = {"POST /items": "create", "GET /items/{id}": "get",
                           "GET /items": "list", "PUT /items/{id}": "update",
                           "DELETE /items/{id}": "delete"}


def _operation_of_http(row: Row) -> str | None:
    return _HTTP_OPERATIONS.get(row.name)


def read_summary(summary_file: Path, locust_exit_code: int) -> LoadSummary:
    """The scenario's final statistics (loadtests/reporting.py `summary_of`)."""
    if not summary_file.exists():
        raise UserError("Locust wrote no statistics (see its output above)",
                        hint="check --rest-url / --ws-url and that the stack is up")
    summary = json.loads(summary_file.read_text())
    report = LoadSummary(locust_exit_code=locust_exit_code,
                         started_at=summary.get("started_at"), ended_at=summary.get("ended_at"),
                         workers=int(summary.get("workers") or 0),
                         timeline=Timeline.from_json(summary.get(TIMELINE_KEY) or {}))
    report.rows = [_row(entry) for entry in summary["entries"]]
    report.aggregates = {kind: _row({"type": kind, "name": kind, **entry})
                         for kind, entry in (summary.get("aggregates") or {}).items()}
    for failure in summary["failures"]:
        key = f"{failure['type']} {failure['name']}: {failure['error']}"
        report.failures[key] = report.failures.get(key, 0) + int(failure["occurrences"])
    for exception in summary["exceptions"]:
        report.errors[str(exception["message"])] = int(exception["count"])
    return report
