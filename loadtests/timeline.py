"""The run second by second: counts and 202 → notification times per operation.

Locust's statistics hold the run's totals and percentiles, but its history keeps no
per-operation percentiles over time and no offered or lost counts; the plots of
`crudops load --out` need both. Each process keeps a `Timeline`; a Locust worker
sends what it gathered since its last report with each report to its master
(`take`), which `merge`s it, so that the master's summary covers every worker
(Locust's own `report_to_master` / `worker_report` events carry it, as they carry
Locust's statistics, including the final report a worker sends when it quits).

Seconds are epoch seconds (wall clock), so the processes' timelines line up and the
queue metrics of CloudWatch can be drawn on the same axis. Kept free of Locust.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from loadtests.contract import COUNTERS


@dataclass
class Timeline:
    # second → counter → count
    counts: dict[int, dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    # second → operation → notification times (ms) of the commands notified in it
    notify_ms: dict[int, dict[str, list[float]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list)))

    def count(self, at_epoch: float, counter: str, n: int = 1) -> None:
        if counter not in COUNTERS:
            raise ValueError(f"unknown counter {counter!r}")
        self.counts[int(at_epoch)][counter] += n

    def notified(self, at_epoch: float, operation: str, notify_ms: float) -> None:
        self.notify_ms[int(at_epoch)][operation].append(round(notify_ms, 1))

    def as_json(self) -> dict[str, Any]:
        """Keys are strings (JSON), seconds ascending."""
        return {
            "counts": {str(s): dict(self.counts[s]) for s in sorted(self.counts)},
            "notify_ms": {str(s): {op: list(v) for op, v in self.notify_ms[s].items()}
                          for s in sorted(self.notify_ms)},
        }

    def take(self) -> dict[str, Any]:
        """Everything gathered since the last `take`, emptied (a worker's report)."""
        document = self.as_json()
        self.counts.clear()
        self.notify_ms.clear()
        return document

    def merge(self, document: dict[str, Any]) -> None:
        """Add another process's `take` (or `as_json`)."""
        for second, counters in document.get("counts", {}).items():
            for counter, n in counters.items():
                self.counts[int(second)][str(counter)] += int(n)
        for second, operations in document.get("notify_ms", {}).items():
            for operation, values in operations.items():
                self.notify_ms[int(second)][str(operation)].extend(float(v) for v in values)

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> Timeline:
        timeline = cls()
        timeline.merge(document)
        return timeline
