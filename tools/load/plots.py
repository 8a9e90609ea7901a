"""The PNG plots of `crudops load --out`, drawn with matplotlib from the run's timeline.

- `notify_latency.png`: 202 → notification p50 / p95 / p99 over time, one panel per
  operation (percentiles over windows of `window_seconds`, wide enough to hold a
  few samples each on a long run);
- `throughput.png`: commands offered, accepted (202) and notified per second: under
  overload offered keeps its pace while notified falls behind;
- `lost.png`: lost notifications and failed commands per second, and lost in all;
- `queues.png`: each consumer queue's depth and its oldest message's age, from
  CloudWatch (a spike fills the buffer, then it drains).

The series are plain functions of the timeline (tested without drawing). matplotlib
draws with its Agg backend: no display, no window.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from loadtests.contract import ACCEPTED, ERRORS, LOST_COUNT, NOTIFIED, OFFERED
from loadtests.timeline import Timeline
from tools.load.queues import QueueSeries

PERCENTILES: Final = (50, 95, 99)
# Latency windows are at least this wide, and there are at most MAX_WINDOWS of them.
MAX_WINDOWS: Final = 120
NOTIFY_LATENCY_PNG: Final = "notify_latency.png"
THROUGHPUT_PNG: Final = "throughput.png"
LOST_PNG: Final = "lost.png"
QUEUES_PNG: Final = "queues.png"


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (the value below which p % of the samples fall)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def window_seconds(seconds: float) -> int:
    return max(1, math.ceil(seconds / MAX_WINDOWS))


@dataclass(frozen=True)
class LatencySeries:
    operation: str
    at: list[float]  # seconds since the start, the middle of each window
    by_percentile: dict[int, list[float]]  # p → ms per window


def latency_series(timeline: Timeline, start: float, seconds: float) -> list[LatencySeries]:
    """Per operation, its 202 → notification percentiles over each window with samples."""
    width = window_seconds(seconds)
    windows: dict[str, dict[int, list[float]]] = {}
    for second, operations in timeline.notify_ms.items():
        index = int((second - int(start)) // width)
        for operation, values in operations.items():
            windows.setdefault(operation, {}).setdefault(index, []).extend(values)
    series = []
    for operation in sorted(windows):
        indices = sorted(windows[operation])
        series.append(LatencySeries(
            operation, [i * width + width / 2 for i in indices],
            {p: [percentile(windows[operation][i], p) for i in indices] for p in PERCENTILES}))
    return series


def per_second(timeline: Timeline, counter: str, start: float, seconds: float
               ) -> tuple[list[float], list[int]]:
    """Seconds since the start and the counter in each, zeros included, through the
    last second that counted anything (the drain after the window shows too)."""
    first = int(start)
    last = max([int(start + seconds), *(s for s, c in timeline.counts.items() if c)])
    xs = list(range(first, last + 1))
    return [float(x - first) for x in xs], [timeline.counts.get(x, {}).get(counter, 0)
                                            for x in xs]


def draw_plots(out: Path, timeline: Timeline, start: float, seconds: float,
               queues: list[QueueSeries] | None) -> list[Path]:
    """Write the plots into `out`; the files written (no queue plot without metrics)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    series = latency_series(timeline, start, seconds)
    figure, axes = plt.subplots(max(1, len(series)), 1, sharex=True, squeeze=False,
                                figsize=(10, 2.2 * max(1, len(series)) + 0.8))
    for axis, one in zip(axes[:, 0], series, strict=False):
        # p95 and p99 often nearly meet: dashes keep each line visible
        for p, style in zip(PERCENTILES, ("-", "--", ":"), strict=True):
            axis.plot(one.at, one.by_percentile[p], linestyle=style, linewidth=1.6,
                      label=f"p{p}")
        axis.set_ylabel(f"{one.operation}\nms")
        axis.grid(alpha=0.3)
        axis.legend(loc="upper left", fontsize="small")
    if not series:
        axes[0, 0].text(0.5, 0.5, "no notification arrived", ha="center",
                        transform=axes[0, 0].transAxes)
    axes[0, 0].set_title(f"202 → notification per operation "
                         f"(percentiles over {window_seconds(seconds)} s windows)")
    axes[-1, 0].set_xlabel("seconds since the start")
    written.append(_save(figure, out / NOTIFY_LATENCY_PNG))

    figure, axis = plt.subplots(figsize=(10, 3.6))
    for counter, label in ((OFFERED, "offered"), (ACCEPTED, "accepted (202)"),
                           (NOTIFIED, "notified")):
        xs, ys = per_second(timeline, counter, start, seconds)
        axis.plot(xs, ys, label=label, drawstyle="steps-post")
    axis.set_title("commands per second")
    axis.set_xlabel("seconds since the start")
    axis.set_ylabel("per second")
    axis.grid(alpha=0.3)
    axis.legend(loc="upper left")
    written.append(_save(figure, out / THROUGHPUT_PNG))

    figure, axis = plt.subplots(figsize=(10, 3.2))
    xs, lost = per_second(timeline, LOST_COUNT, start, seconds)
    _, errors = per_second(timeline, ERRORS, start, seconds)
    axis.bar(xs, lost, width=1.0, align="edge", label="lost per second", color="tab:red")
    axis.plot(xs, errors, label="failed per second", color="tab:orange",
              drawstyle="steps-post")
    total = axis.twinx()
    running = [sum(lost[: i + 1]) for i in range(len(lost))]
    total.plot(xs, running, label="lost in all", color="black", linestyle="--")
    total.set_ylabel("lost in all")
    for scale in (axis, total):
        scale.set_ylim(bottom=0, top=max(1, *lost, *errors, *running) * 1.1)
    axis.set_title(f"lost notifications: {sum(lost)} · failed commands: {sum(errors)}")
    axis.set_xlabel("seconds since the start")
    axis.set_ylabel("per second")
    axis.grid(alpha=0.3)
    axis.legend(loc="upper left")
    written.append(_save(figure, out / LOST_PNG))

    if queues is not None:
        figure, (depth, age) = plt.subplots(2, 1, sharex=True, figsize=(10, 5.6))
        for queue in queues:
            depth.plot([t - start for t, _ in queue.depth], [v for _, v in queue.depth],
                       marker=".", label=queue.queue)
            age.plot([t - start for t, _ in queue.oldest_age_seconds],
                     [v for _, v in queue.oldest_age_seconds], marker=".", label=queue.queue)
        depth.set_title("consumer queues (CloudWatch AWS/SQS, maximum per period)")
        depth.set_ylabel("messages visible")
        age.set_ylabel("oldest message, s")
        age.set_xlabel("seconds since the start")
        for axis in (depth, age):
            axis.axvspan(0, seconds, color="grey", alpha=0.08)
            axis.grid(alpha=0.3)
        depth.legend(loc="upper left", fontsize="small")
        written.append(_save(figure, out / QUEUES_PNG))
    return written


def _save(figure: object, path: Path) -> Path:
    import matplotlib.pyplot as plt

    figure.tight_layout()  # type: ignore[attr-defined]
    figure.savefig(path, dpi=90)  # type: ignore[attr-defined]
    plt.close(figure)  # type: ignore[arg-type]
    return path
