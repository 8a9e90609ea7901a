"""Each consumer queue's depth and oldest message's age over a run, from CloudWatch.

The same metrics the stack's alarms watch (`AWS/SQS`, dimension `QueueName`):
`ApproximateNumberOfMessagesVisible` and `ApproximateAgeOfOldestMessage`, their
maximum per period. A deployed stack's SQS metrics come once a minute; the local
stack's emulation publishes them at its metrics interval (crudops_local/telemetry.py).
The consumer queues are the stack's queues that are no queue's dead-letter queue
(tools/status.py `queue_statuses` tells them apart by the redrive policies).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from tools.load.target import QueueMetrics

DEPTH: Final = "ApproximateNumberOfMessagesVisible"
AGE: Final = "ApproximateAgeOfOldestMessage"
# Datapoints just outside the run still show where the queues stood.
MARGIN_SECONDS: Final = 15.0


@dataclass
class QueueSeries:
    queue: str
    # epoch second → value, ascending
    depth: list[tuple[float, float]] = field(default_factory=list)
    oldest_age_seconds: list[tuple[float, float]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"queue": self.queue, "depth": self.depth,
                "oldest_age_seconds": self.oldest_age_seconds}


def _series(cloudwatch: Any, queue: str, metric: str, start: float, end: float,
            period: int) -> list[tuple[float, float]]:
    datapoints = cloudwatch.get_metric_statistics(
        Namespace="AWS/SQS", MetricName=metric,
        Dimensions=[{"Name": "QueueName", "Value": queue}],
        StartTime=datetime.fromtimestamp(start - MARGIN_SECONDS, UTC),
        EndTime=datetime.fromtimestamp(end + MARGIN_SECONDS, UTC),
        Period=period, Statistics=["Maximum"])["Datapoints"]
    return sorted((point["Timestamp"].timestamp(), float(point["Maximum"]))
                  for point in datapoints)


def consumer_queue_names(source: QueueMetrics) -> list[str]:
    from tools.status import queue_statuses

    now = datetime.now(UTC)
    return [q.name for q in queue_statuses(source.clients, source.resources(), metrics=False,
                                           start=now, end=now) if not q.is_dlq]


def read_queue_series(source: QueueMetrics, start: float, end: float) -> list[QueueSeries]:
    cloudwatch = source.clients("cloudwatch")
    return [QueueSeries(name, _series(cloudwatch, name, DEPTH, start, end, source.period_seconds),
                        _series(cloudwatch, name, AGE, start, end, source.period_seconds))
            for name in consumer_queue_names(source)]
