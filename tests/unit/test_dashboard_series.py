"""A graph's lines: metric math, reading CloudWatch, and which alarms a graph shows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tools.dashboard.body import MetricRow, Widget, parse_metric_rows
from tools.dashboard.expressions import UnsupportedExpressionError, evaluate
from tools.dashboard.series import (
    AlarmBook,
    AlarmState,
    CloudWatchSeries,
    WatchedMetric,
    Window,
    dynamic_label,
    widget_lines,
)

BUCKETS = [0.0, 10.0, 20.0, 30.0]


def test_fill_and_period_make_a_rate_per_second() -> None:
    counts = {0.0: 20.0, 20.0: 5.0}
    rate = evaluate("FILL(requests,0) / PERIOD(requests)", {"requests": counts}.__getitem__,
                    period_seconds=10, buckets=BUCKETS)
    assert rate == {0.0: 2.0, 10.0: 0.0, 20.0: 0.5, 30.0: 0.0}


def test_two_series_combine_where_both_have_a_value_and_zero_divisors_drop() -> None:
    series = {"a": {0.0: 6.0, 10.0: 4.0, 20.0: 1.0}, "b": {0.0: 3.0, 10.0: 0.0}}
    assert evaluate("(a - 0) / b", series.__getitem__, period_seconds=10,
                    buckets=BUCKETS) == {0.0: 2.0}


def test_fill_of_a_metric_without_datapoints_stays_empty() -> None:
    assert evaluate("FILL(m,0)", {"m": {}}.__getitem__, period_seconds=10,
                    buckets=BUCKETS) == {}


@pytest.mark.parametrize("expression", [
    "SEARCH('{AWS/DynamoDB,TableName} MetricName=\"Latency\"', 'Average', 300)",
    "METRICS()", "unknown_id + 1", "a ** 2"])
def test_what_is_not_evaluated_says_so(expression: str) -> None:
    with pytest.raises(UnsupportedExpressionError):
        evaluate(expression, {"a": {0.0: 1.0}}.__getitem__, period_seconds=10,
                 buckets=BUCKETS)


def test_dynamic_labels_are_computed_over_the_drawn_values() -> None:
    assert dynamic_label("TPS (avg: ${AVG}, max: ${MAX})", [1.0, 2.0, 6.0]) == \
        "TPS (avg: 3, max: 6)"
    assert dynamic_label("P99 (avg: ${AVG})", []) == "P99"


def test_a_window_ends_now_on_clock_aligned_periods() -> None:
    window = Window.ending(1_000_005.0, minutes=15)
    assert window.period_seconds == 10
    assert window.start % 10 == 0 and window.start <= 1_000_005.0 - 900
    assert Window.ending(1_000_005.0, minutes=60).period_seconds == 30


class FakeCloudWatch:
    """The calls `CloudWatchSeries` makes, answered as moto answers them."""

    def __init__(self, metrics: dict[tuple[str, str], list[tuple[float, float]]],
                 percentiles: bool = False) -> None:
        self.metrics = metrics
        self.percentiles = percentiles
        self.calls: list[dict[str, Any]] = []

    def get_paginator(self, name: str) -> Any:
        assert name == "list_metrics"
        listed = [{"Namespace": ns, "MetricName": n, "Dimensions": []}
                  for ns, n in self.metrics]
        return type("P", (), {"paginate": lambda _self: [{"Metrics": listed}]})()

    def get_metric_statistics(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        points = self.metrics[(kwargs["Namespace"], kwargs["MetricName"])]
        datapoints = []
        for t, v in points:
            point: dict[str, Any] = {"Timestamp": datetime.fromtimestamp(t, UTC)}
            if "Statistics" in kwargs:
                point[kwargs["Statistics"][0]] = v
            elif self.percentiles:
                point["ExtendedStatistics"] = {kwargs["ExtendedStatistics"][0]: v}
            datapoints.append(point)
        return {"Datapoints": datapoints}


def _widget(*rows: list[Any]) -> Widget:
    return Widget(index=0, type="metric", x=0, y=0, width=6, height=5, title="t",
                  rows=tuple(parse_metric_rows(list(rows), stat="Sum")))


WINDOW = Window(start=1000.0, end=1060.0, period_seconds=10)


def test_datapoints_are_put_on_the_aligned_period_they_start_in() -> None:
    # moto starts its periods at the first datapoint (here 1003 s, 1013 s)
    cloudwatch = FakeCloudWatch({("N", "m"): [(1003.0, 1.0), (1013.0, 2.0)]})
    (line,) = widget_lines(_widget(["N", "m"]), CloudWatchSeries(cloudwatch, WINDOW))
    assert line.points == ((1000.0, 1.0), (1010.0, 2.0))
    assert cloudwatch.calls[0]["Period"] == 10 and cloudwatch.calls[0]["Statistics"] == ["Sum"]


def test_a_metric_cloudwatch_does_not_list_is_not_asked_for() -> None:
    cloudwatch = FakeCloudWatch({})
    (line,) = widget_lines(_widget(["AWS/ApiGateway", "Count"]),
                           CloudWatchSeries(cloudwatch, WINDOW))
    assert line.points == () and line.note == "no datapoints in the window"
    assert cloudwatch.calls == []


def test_a_percentile_the_endpoint_cannot_compute_is_marked_not_drawn() -> None:
    cloudwatch = FakeCloudWatch({("N", "latency"): [(1003.0, 40.0)]})
    row = ["N", "latency", {"stat": "p99", "label": "P99 (avg: ${AVG})"}]
    (line,) = widget_lines(_widget(row), CloudWatchSeries(cloudwatch, WINDOW))
    assert line.points == () and "p99 not available locally" in line.note
    assert line.label == "P99"


def test_a_percentile_the_endpoint_computes_is_drawn() -> None:
    cloudwatch = FakeCloudWatch({("N", "latency"): [(1003.0, 40.0)]}, percentiles=True)
    (line,) = widget_lines(_widget(["N", "latency", {"stat": "p99"}]),
                           CloudWatchSeries(cloudwatch, WINDOW))
    assert line.points == ((1000.0, 40.0),)


def test_hidden_rows_feed_expressions_and_are_not_drawn() -> None:
    cloudwatch = FakeCloudWatch({("N", "count"): [(1000.0, 50.0)]})
    widget = _widget([{"expression": "requests / PERIOD(requests)", "label": "Count/s"}],
                     ["N", "count", {"id": "requests", "visible": False}])
    (line,) = widget_lines(widget, CloudWatchSeries(cloudwatch, WINDOW))
    assert (line.label, line.points) == ("Count/s", ((1000.0, 5.0),))


def test_a_graph_shows_the_alarms_on_the_metrics_it_draws() -> None:
    dlq = ("AWS/SQS", "ApproximateNumberOfMessagesVisible", (("QueueName", "dlq"),))
    book = AlarmBook([WatchedMetric("dlq-not-empty", dlq),
                      WatchedMetric("other", ("AWS/SQS", "X", ()))],
                     {"dlq-not-empty": AlarmState("dlq-not-empty", "ALARM", "1 > 0")})
    drawn = _widget(["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "dlq"])
    hidden = _widget(["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "dlq",
                      {"visible": False}])

    assert [a.state for a in book.of_widget(drawn)] == ["ALARM"]
    assert book.of_widget(hidden) == ()


def test_alarm_states_are_read_by_name_a_hundred_at_a_time() -> None:
    names = [f"alarm-{i:03}" for i in range(150)]

    class Alarms:
        def __init__(self) -> None:
            self.asked: list[list[str]] = []

        def describe_alarms(self, AlarmNames: list[str]) -> dict[str, Any]:
            self.asked.append(AlarmNames)
            return {"MetricAlarms": [{"AlarmName": n, "StateValue": "OK"} for n in AlarmNames]}

    book = AlarmBook([WatchedMetric(n, ("N", n, ())) for n in names])
    cloudwatch = Alarms()
    book.read(cloudwatch)
    assert [len(a) for a in cloudwatch.asked] == [100, 50]
    assert set(book.states) == set(names)


def test_rows_default_to_the_label_cloudwatch_would_show() -> None:
    row = MetricRow("N", "Errors", (), "Sum", None, None)
    assert row.default_label == "Errors Sum"


def test_a_percentile_the_endpoint_cannot_compute_comes_from_the_local_samples() -> None:
    cloudwatch = FakeCloudWatch({("N", "latency"): [(1003.0, 40.0)]})
    asked: list[tuple[Any, str, Window]] = []

    def samples(metric: Any, stat: str, window: Window) -> dict[float, float]:
        asked.append((metric, stat, window))
        return {1000.0: 42.0}

    (line,) = widget_lines(_widget(["N", "latency", {"stat": "p99", "label": "P99"}]),
                           CloudWatchSeries(cloudwatch, WINDOW, samples))
    assert line.points == ((1000.0, 42.0),)
    assert line.note == "computed from the local stack's samples"
    assert asked == [(("N", "latency", ()), "p99", WINDOW)]


def test_an_alarm_widget_shows_the_alarms_it_lists() -> None:
    book = AlarmBook([], {"crudops-api-5xx": AlarmState("crudops-api-5xx", "ALARM")},
                     listed=["crudops-api-5xx"])
    widget = Widget(index=0, type="alarm", x=0, y=0, width=6, height=3, title="Alarms",
                    alarm_arns=("arn:aws:cloudwatch:us-east-1:1:alarm:crudops-api-5xx",))
    assert book.names == ["crudops-api-5xx"]
    assert [(a.name, a.state) for a in book.of_widget(widget)] == [("crudops-api-5xx", "ALARM")]
