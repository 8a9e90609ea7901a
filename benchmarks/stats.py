"""Statistics and pacing for `crudops bench`: pure functions, unit-tested without a stack.

Percentiles use linear interpolation between closest ranks (numpy's default, "type 7"),
so p50 of an even-sized sample is the mean of the two middle values and results do not
jump when one sample is added. Open-loop arrivals are generated up front from a seeded
generator, so a run can be repeated with the same schedule and the schedule itself can
be tested.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

Pacing = Literal["poisson", "fixed"]


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The `fraction` (0..1) percentile by linear interpolation; None for no values."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be within 0..1, not {fraction}")
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    weight = position - lower
    return ordered[lower] + (ordered[upper] - ordered[lower]) * weight


@dataclass(frozen=True)
class LatencySummary:
    """Latencies in milliseconds; None where there was no sample."""

    count: int
    p50: float | None
    p95: float | None
    p99: float | None
    maximum: float | None
    mean: float | None

    @classmethod
    def of(cls, latencies_ms: Sequence[float]) -> LatencySummary:
        return cls(
            count=len(latencies_ms),
            p50=percentile(latencies_ms, 0.50),
            p95=percentile(latencies_ms, 0.95),
            p99=percentile(latencies_ms, 0.99),
            maximum=max(latencies_ms) if latencies_ms else None,
            mean=sum(latencies_ms) / len(latencies_ms) if latencies_ms else None,
        )

    def as_json(self) -> dict[str, Any]:
        def rounded(value: float | None) -> float | None:
            return None if value is None else round(value, 1)

        return {"count": self.count, "p50_ms": rounded(self.p50), "p95_ms": rounded(self.p95),
                "p99_ms": rounded(self.p99), "max_ms": rounded(self.maximum),
                "mean_ms": rounded(self.mean)}


def rate(count: int, seconds: float) -> float:
    """Events per second; 0 for an empty window rather than a division error."""
    return count / seconds if seconds > 0 else 0.0


def arrival_offsets(rate_per_second: float, duration_seconds: float, pacing: Pacing = "poisson",
                    seed: int = 0, limit: int = 1_000_000) -> list[float]:
    """Start times (seconds from the start) of open-loop arrivals within the duration.

    Open loop, because a closed loop slows down with the system and hides queueing
    delay (coordinated omission); Poisson, because independent users arrive that way;
    `fixed` gives an evenly spaced schedule. `limit` bounds the list whatever the rate.
    """
    if rate_per_second <= 0 or duration_seconds <= 0:
        return []
    offsets: list[float] = []
    if pacing == "fixed":
        interval = 1.0 / rate_per_second
        while len(offsets) < limit:
            at = len(offsets) * interval
            if at >= duration_seconds:
                break
            offsets.append(at)
        return offsets
    if pacing != "poisson":
        raise ValueError(f"unknown pacing {pacing!r}")
    generator = random.Random(seed)
    at = generator.expovariate(rate_per_second)
    while at < duration_seconds and len(offsets) < limit:
        offsets.append(at)
        at += generator.expovariate(rate_per_second)
    return offsets


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator
