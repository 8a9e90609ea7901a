"""Local CloudWatch metrics: EMF log lines, queue samples and the runner's counts.

moto stores what `PutMetricData` sends but produces no metric of its own, and never
reads a log line. This module supplies, into the stack's AWS endpoint:
- the handlers' own metrics: every Embedded Metric Format document a function prints
  (Powertools Metrics) becomes `PutMetricData` with the namespace, dimension sets,
  values, units and timestamp it declares;
- `AWS/SQS` per queue (dimension `QueueName`): `ApproximateNumberOfMessagesVisible`
  from `GetQueueAttributes`, and `ApproximateAgeOfOldestMessage`, approximated (see
  `QueueAgeTracker`): SQS has no attribute for it, and receiving a message to date
  it would raise its receive count;
- `AWS/Lambda` per function (dimension `FunctionName`): `Invocations`, `Errors`,
  `Throttles` (always 0: the local pool queues instead of throttling) and `Duration`,
  from the function runner.

Every datum put is also kept in memory for a while (`MetricSink.values`), so the
alarm evaluator can compute the percentiles the emulator does not.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from crudops_local.outage import is_unreachable

log = logging.getLogger("crudops.local.metrics")

# PutMetricData takes at most 1,000 datums per call.
MAX_DATUMS_PER_CALL: Final = 1000
SAMPLE_RETENTION_SECONDS: Final = 3 * 3600

Dimensions = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Datum:
    namespace: str
    name: str
    dimensions: Dimensions
    value: float
    unit: str
    timestamp: float  # epoch seconds

    @property
    def key(self) -> MetricKey:
        return metric_key(self.namespace, self.name, self.dimensions)

    def as_metric_data(self) -> dict[str, Any]:
        return {
            "MetricName": self.name,
            "Dimensions": [{"Name": k, "Value": v} for k, v in self.dimensions],
            "Timestamp": datetime.fromtimestamp(self.timestamp, UTC),
            "Value": self.value,
            "Unit": self.unit,
        }


MetricKey = tuple[str, str, Dimensions]


def metric_key(namespace: str, name: str, dimensions: Iterable[tuple[str, str]]) -> MetricKey:
    """Dimensions in a canonical order: CloudWatch matches the set, not the order."""
    return namespace, name, tuple(sorted(dimensions))


# --- Embedded Metric Format -----------------------------------------------------------
def parse_emf(line: str) -> list[Datum]:
    """The datums of one EMF document; [] for any other line (logs, tracebacks) and for
    a document that breaks the format (a missing member value, no namespace)."""
    line = line.strip()
    if not line.startswith("{") or '"_aws"' not in line:
        return []
    try:
        document = json.loads(line)
    except json.JSONDecodeError:
        return []
    metadata = document.get("_aws") if isinstance(document, dict) else None
    if not isinstance(metadata, dict):
        return []
    directives = metadata.get("CloudWatchMetrics")
    timestamp = metadata.get("Timestamp")
    if not isinstance(directives, list) or not isinstance(timestamp, int | float):
        return []
    datums: list[Datum] = []
    for directive in directives:
        with contextlib.suppress(KeyError, TypeError, ValueError):
            datums.extend(_directive(document, directive, float(timestamp) / 1000.0))
    return datums


def _directive(document: dict[str, Any], directive: dict[str, Any],
               timestamp: float) -> Iterator[Datum]:
    namespace = str(directive["Namespace"])
    dimension_sets = directive.get("Dimensions") or [[]]
    for metric in directive["Metrics"]:
        name = str(metric["Name"])
        raw = document[name]
        values = raw if isinstance(raw, list) else [raw]
        for dimension_set in dimension_sets:
            dimensions = tuple((str(k), str(document[k])) for k in dimension_set)
            for value in values:
                yield Datum(namespace, name, dimensions, float(value),
                            str(metric.get("Unit", "None")), timestamp)


class LogTail:
    """New complete lines of the `*.log` files in a directory, file by file.

    Files present when the tail starts are read from their end (earlier runs' lines
    are history); files created later from their start.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._offsets: dict[Path, int] = {
            path: path.stat().st_size for path in directory.glob("*.log")
        } if directory.is_dir() else {}

    def read(self) -> Iterator[tuple[Path, str]]:
        if not self.directory.is_dir():
            return
        for path in sorted(self.directory.glob("*.log")):
            offset = self._offsets.get(path, 0)
            try:
                size = path.stat().st_size
                if size < offset:  # truncated
                    offset = 0
                if size == offset:
                    continue
                with path.open("rb") as file:
                    file.seek(offset)
                    chunk = file.read(size - offset)
            except OSError:
                continue
            complete = chunk.rfind(b"\n") + 1
            self._offsets[path] = offset + complete
            for line in chunk[:complete].decode("utf-8", "replace").splitlines():
                yield path, line


# --- where datums go -----------------------------------------------------------------
class MetricSink:
    """`PutMetricData` into the endpoint, plus a bounded in-memory copy."""

    def __init__(self, cloudwatch: Any,
                 retention_seconds: float = SAMPLE_RETENTION_SECONDS) -> None:
        self._cloudwatch = cloudwatch
        self._retention = retention_seconds
        self._samples: dict[MetricKey, deque[tuple[float, float]]] = defaultdict(deque)
        self._lock = threading.Lock()
        self.put_count = 0

    def put(self, datums: Iterable[Datum]) -> None:
        by_namespace: dict[str, list[Datum]] = defaultdict(list)
        now = time.time()
        with self._lock:
            for datum in datums:
                by_namespace[datum.namespace].append(datum)
                samples = self._samples[datum.key]
                samples.append((datum.timestamp, datum.value))
                while samples and samples[0][0] < now - self._retention:
                    samples.popleft()
        for namespace, group in by_namespace.items():
            for start in range(0, len(group), MAX_DATUMS_PER_CALL):
                chunk = group[start:start + MAX_DATUMS_PER_CALL]
                try:
                    self._cloudwatch.put_metric_data(
                        Namespace=namespace, MetricData=[d.as_metric_data() for d in chunk])
                    self.put_count += len(chunk)
                except Exception as exc:  # metrics must never stop the stack
                    if is_unreachable(exc):
                        raise  # the metrics loop reports it, once per outage
                    log.warning("put_metric_data %s failed: %s", namespace, exc)

    def has(self, key: MetricKey) -> bool:
        with self._lock:
            return bool(self._samples.get(key))

    def values(self, key: MetricKey, start: float, end: float) -> list[float]:
        """Values put for a metric with timestamps in [start, end)."""
        with self._lock:
            return [v for t, v in self._samples.get(key, ()) if start <= t < end]


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (CloudWatch interpolates; close enough for alarms)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100.0 * len(ordered)))
    return ordered[rank - 1]


# --- queue samples --------------------------------------------------------------------
class QueueAgeTracker:
    """`ApproximateAgeOfOldestMessage` without receiving anything.

    - A queue with no message (visible, in flight or delayed): 0.
    - A queue an event source mapping polls: the age of the oldest message its pollers
      received since the last sample (now - its `SentTimestamp`); if they received
      none but the queue holds messages, the previous estimate plus the time since.
    - A queue nothing polls (a DLQ): the time since it was first seen non-empty in
      this run (an underestimate: the message was sent to its source queue earlier).
    """

    def __init__(self) -> None:
        self._estimate: dict[str, tuple[float, float]] = {}  # queue → (age, at)

    def age(self, queue: str, *, total: int, oldest_sent_seen: float | None,
            now: float) -> float:
        if total == 0:
            self._estimate.pop(queue, None)
            return 0.0
        if oldest_sent_seen is not None:
            age = max(0.0, now - oldest_sent_seen)
        elif queue in self._estimate:
            previous, at = self._estimate[queue]
            age = previous + (now - at)
        else:
            age = 0.0
        self._estimate[queue] = (age, now)
        return age


def queue_datums(name: str, attributes: dict[str, str], age_seconds: float,
                 now: float) -> list[Datum]:
    dimensions = (("QueueName", name),)

    def count(attribute: str) -> float:
        return float(attributes.get(attribute, 0))

    return [
        Datum("AWS/SQS", "ApproximateNumberOfMessagesVisible", dimensions,
              count("ApproximateNumberOfMessages"), "Count", now),
        Datum("AWS/SQS", "ApproximateNumberOfMessagesNotVisible", dimensions,
              count("ApproximateNumberOfMessagesNotVisible"), "Count", now),
        Datum("AWS/SQS", "ApproximateNumberOfMessagesDelayed", dimensions,
              count("ApproximateNumberOfMessagesDelayed"), "Count", now),
        Datum("AWS/SQS", "ApproximateAgeOfOldestMessage", dimensions, age_seconds,
              "Seconds", now),
    ]


def lambda_datums(function_name: str, *, started: float, ended: float, failed: bool) -> list[Datum]:
    dimensions = (("FunctionName", function_name),)
    return [
        Datum("AWS/Lambda", "Invocations", dimensions, 1.0, "Count", ended),
        Datum("AWS/Lambda", "Errors", dimensions, 1.0 if failed else 0.0, "Count", ended),
        Datum("AWS/Lambda", "Throttles", dimensions, 0.0, "Count", ended),
        Datum("AWS/Lambda", "Duration", dimensions, (ended - started) * 1000.0,
              "Milliseconds", ended),
    ]
