"""What each graph shows: its lines read from CloudWatch, and the states of its alarms.

- Every metric row is read with `GetMetricStatistics` (its statistic, the window's
  period). The emulator starts its periods at the first datapoint, not on the clock,
  so each period is put at the clock-aligned period it starts in: every series of a
  window then shares one set of period starts, which metric math needs.
- The window's period replaces the rows' own (300 s in the template), as the local
  alarm evaluation does, so a quarter of an hour is not three points.
- Only metrics `ListMetrics` knows are asked for: most rows (API Gateway, DynamoDB,
  SNS) have no local datapoints at all, and asking for each would cost a call.
- Percentile statistics (`p50`, `p99`) are asked for as `ExtendedStatistics`. An
  endpoint that computes none (moto) answers no datapoint for a metric it has data
  for: the line then comes from the local stack's own samples, the numbers its alarm
  evaluation uses (`samples`, see crudops_local/cloudwatch/percentiles.py), and says
  so in the legend; without them it is marked "not available locally", never drawn
  from another statistic.
- A graph's alarms are the alarms of the template whose metric is one the graph draws
  (a visible row); their states come from `DescribeAlarms` by name.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from tools.dashboard.body import MetricRow, Widget
from tools.dashboard.expressions import Series, UnsupportedExpressionError, evaluate

MetricId = tuple[str, str, tuple[tuple[str, str], ...]]

_BASIC_STATISTICS: Final = ("Sum", "Average", "Maximum", "Minimum", "SampleCount")
_PERCENTILE: Final = re.compile(r"^p\d+(\.\d+)?$")
_DYNAMIC_LABEL: Final = re.compile(r"\$\{(AVG|MAX|MIN|SUM|LAST|FIRST)\}")
# Periods the window may use: the smallest that keeps a graph under MAX_POINTS points.
_PERIODS: Final = (10, 30, 60, 300, 900, 3600)
MAX_POINTS: Final = 120
# DescribeAlarms takes at most 100 names per call.
_ALARM_NAMES_PER_CALL: Final = 100


@dataclass(frozen=True)
class Window:
    """The time range every graph of one refresh shows, on clock-aligned periods."""

    start: float  # epoch seconds, a multiple of period_seconds
    end: float
    period_seconds: int

    @classmethod
    def ending(cls, end: float, *, minutes: int, period_seconds: int | None = None) -> Window:
        span = minutes * 60
        period = period_seconds or next(
            (p for p in _PERIODS if span / p <= MAX_POINTS), _PERIODS[-1])
        start = math.floor((end - span) / period) * period
        return cls(start=float(start), end=end, period_seconds=period)

    @property
    def buckets(self) -> list[float]:
        count = math.ceil((self.end - self.start) / self.period_seconds)
        return [self.start + i * self.period_seconds for i in range(count)]

    def bucket_of(self, timestamp: float) -> float:
        return math.floor(timestamp / self.period_seconds) * self.period_seconds


@dataclass(frozen=True)
class Line:
    """One drawn line of a graph: its points (oldest first), or why it has none."""

    label: str
    points: tuple[tuple[float, float], ...] = ()
    color: str | None = None
    note: str = ""


@dataclass(frozen=True)
class AlarmState:
    name: str
    state: str  # OK, ALARM, INSUFFICIENT_DATA
    reason: str = ""


@dataclass(frozen=True)
class WidgetView:
    """What one refresh shows of a widget."""

    widget: Widget
    lines: tuple[Line, ...] = ()
    alarms: tuple[AlarmState, ...] = ()

    @property
    def in_alarm(self) -> bool:
        return any(a.state == "ALARM" for a in self.alarms)


class PercentileUnavailableError(LookupError):
    """The endpoint holds datapoints for the metric but computes no percentile (the
    message says what the reader of the graph should know)."""


# Percentiles computed elsewhere: (metric, pNN, window) → series.
PercentileSource = Callable[[MetricId, str, "Window"], Series]
FROM_SAMPLES_NOTE: Final = "computed from the local stack's samples"


class CloudWatchSeries:
    """Series from one CloudWatch endpoint for one window (one instance per refresh:
    it remembers which metrics exist and what it already read)."""

    def __init__(self, cloudwatch: Any, window: Window,
                 samples: PercentileSource | None = None) -> None:
        self._cloudwatch = cloudwatch
        self.window = window
        self._samples = samples
        # (metric, stat) whose series came from `samples`, for the legend.
        self.from_samples: set[tuple[MetricId, str]] = set()
        self._known: set[MetricId] | None = None
        self._read: dict[tuple[MetricId, str], Series] = {}

    def _known_metrics(self) -> set[MetricId]:
        if self._known is None:
            known: set[MetricId] = set()
            for page in self._cloudwatch.get_paginator("list_metrics").paginate():
                for metric in page.get("Metrics", []):
                    known.add((metric["Namespace"], metric["MetricName"], tuple(sorted(
                        (d["Name"], d["Value"]) for d in metric.get("Dimensions", [])))))
            self._known = known
        return self._known

    def series(self, metric: MetricId, stat: str) -> Series:
        """The metric's `stat` per period of the window ({} when it has no datapoint)."""
        if (metric, stat) in self._read:
            return self._read[(metric, stat)]
        if stat not in _BASIC_STATISTICS and not _PERCENTILE.match(stat):
            raise UnsupportedExpressionError(f"statistic {stat} is not read locally")
        result: Series = {}
        if metric in self._known_metrics():
            result = self._statistics(metric, stat)
            if not result and _PERCENTILE.match(stat) and self._statistics(
                    metric, "SampleCount"):
                if self._samples is None:
                    raise PercentileUnavailableError(
                        f"{stat} not available locally: the emulator computes no "
                        "percentiles")
                result = self._samples(metric, stat, self.window)
                self.from_samples.add((metric, stat))
        self._read[(metric, stat)] = result
        return result

    def _statistics(self, metric: MetricId, stat: str) -> Series:
        namespace, name, dimensions = metric
        which = ({"ExtendedStatistics": [stat]} if _PERCENTILE.match(stat)
                 else {"Statistics": [stat]})
        datapoints = self._cloudwatch.get_metric_statistics(
            Namespace=namespace, MetricName=name,
            Dimensions=[{"Name": k, "Value": v} for k, v in dimensions],
            StartTime=datetime.fromtimestamp(self.window.start, UTC),
            EndTime=datetime.fromtimestamp(self.window.end, UTC),
            Period=self.window.period_seconds, **which,
        )["Datapoints"]
        series: Series = {}
        for point in datapoints:
            value = (point.get("ExtendedStatistics") or {}).get(stat, point.get(stat))
            if value is None:
                continue
            series[self.window.bucket_of(point["Timestamp"].timestamp())] = float(value)
        return dict(sorted(series.items()))


def widget_lines(widget: Widget, source: CloudWatchSeries) -> tuple[Line, ...]:
    """The visible lines of a graph, its expressions evaluated over the ids it names."""
    window = source.window
    by_id = {row.id: row for row in widget.rows if row.id}
    computed: dict[str, Series] = {}

    def row_series(row: MetricRow, seen: tuple[str, ...] = ()) -> Series:
        if row.expression is not None:
            def lookup(name: str) -> Series:
                if name in seen or name not in by_id:
                    raise KeyError(name)
                return cached(by_id[name], (*seen, name))

            return evaluate(row.expression, lookup, period_seconds=window.period_seconds,
                            buckets=window.buckets)
        assert row.metric is not None
        return source.series(row.metric, row.stat)

    def cached(row: MetricRow, seen: tuple[str, ...]) -> Series:
        if row.id is None:
            return row_series(row, seen)
        if row.id not in computed:
            computed[row.id] = row_series(row, seen)
        return computed[row.id]

    lines = []
    for row in widget.rows:
        if not row.visible:
            continue
        label = row.default_label
        try:
            series = cached(row, (row.id,) if row.id else ())
        except PercentileUnavailableError as exc:
            lines.append(Line(_plain_label(label), color=row.color, note=str(exc)))
            continue
        except UnsupportedExpressionError as exc:
            lines.append(Line(_plain_label(label), color=row.color, note=str(exc)))
            continue
        points = tuple(sorted(series.items()))
        note = "" if points else "no datapoints in the window"
        if row.metric is not None and (row.metric, row.stat) in source.from_samples:
            note = f"{FROM_SAMPLES_NOTE}; {note}" if note else FROM_SAMPLES_NOTE
        lines.append(Line(dynamic_label(label, [v for _, v in points]), points, row.color,
                          note))
    return tuple(lines)


def dynamic_label(label: str, values: Sequence[float]) -> str:
    """CloudWatch's `${AVG}`, `${MAX}`, … in a label, computed over the drawn values."""
    if not values:
        return _plain_label(label)
    figures: Mapping[str, float] = {
        "AVG": sum(values) / len(values), "MAX": max(values), "MIN": min(values),
        "SUM": sum(values), "LAST": values[-1], "FIRST": values[0],
    }
    return _DYNAMIC_LABEL.sub(lambda m: f"{figures[m.group(1)]:.3g}", label)


def _plain_label(label: str) -> str:
    """A label with its dynamic parts dropped: "P99 (avg: ${AVG})" → "P99"."""
    return re.sub(r"\s*\([^)]*\$\{[A-Z]+\}[^)]*\)", "", label).strip() or label


def local_percentiles(url: str, timeout_seconds: float = 5.0) -> PercentileSource:
    """Percentiles from the local stack's percentile service at `url`."""
    import httpx

    def read(metric: MetricId, stat: str, window: Window) -> Series:
        namespace, name, dimensions = metric
        try:
            response = httpx.post(url, timeout=timeout_seconds, json={
                "namespace": namespace, "name": name,
                "dimensions": [list(d) for d in dimensions], "stat": stat,
                "start": window.start, "end": window.end, "period": window.period_seconds})
            response.raise_for_status()
            return {float(t): float(v) for t, v in response.json()["datapoints"]}
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise PercentileUnavailableError(
                f"{stat} not read: the local stack's percentile service at {url} "
                f"failed ({type(exc).__name__})") from exc

    return read


# --- alarms ---------------------------------------------------------------------------
@dataclass(frozen=True)
class WatchedMetric:
    """An alarm of the template and the metric it watches."""

    alarm: str
    metric: MetricId


@dataclass
class AlarmBook:
    """Which widget shows which alarm, and the alarms' states in one refresh.

    `listed`: names that alarm widgets list, read even if the template has no such
    alarm (an alarm widget may show another stack's)."""

    watched: Sequence[WatchedMetric]
    states: dict[str, AlarmState] = field(default_factory=dict)
    listed: Sequence[str] = ()

    @property
    def names(self) -> list[str]:
        return sorted({w.alarm for w in self.watched} | set(self.listed))

    def read(self, cloudwatch: Any) -> None:
        names = self.names
        self.states = {}
        for start in range(0, len(names), _ALARM_NAMES_PER_CALL):
            page = cloudwatch.describe_alarms(
                AlarmNames=names[start:start + _ALARM_NAMES_PER_CALL])
            for alarm in (*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])):
                self.states[alarm["AlarmName"]] = AlarmState(
                    alarm["AlarmName"], alarm["StateValue"], alarm.get("StateReason", ""))

    def of_widget(self, widget: Widget) -> tuple[AlarmState, ...]:
        drawn = {row.metric for row in widget.rows if row.visible and row.metric}
        arns = {arn.rsplit(":", 1)[-1] for arn in widget.alarm_arns}
        names = sorted({w.alarm for w in self.watched if w.metric in drawn} | arns)
        return tuple(self.states.get(name, AlarmState(name, "UNKNOWN",
                                                      "not found in CloudWatch"))
                     for name in names)


def widget_views(widgets: Iterable[Widget], source: CloudWatchSeries | None,
                 alarms: AlarmBook) -> list[WidgetView]:
    """One refresh of every widget (`source` None: no metrics, lines left empty)."""
    views = []
    for widget in widgets:
        drawn = widget_lines(widget, source) if widget.type == "metric" and source else ()
        views.append(WidgetView(widget, drawn, alarms.of_widget(widget)))
    return views
