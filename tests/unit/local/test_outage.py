"""An unreachable endpoint is one warning per outage, not one per alarm, queue or round."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from crudops_local.cloudwatch.alarms import AlarmDefinition, AlarmEvaluator
from crudops_local.cloudwatch.metrics import Datum, MetricSink
from crudops_local.outage import OutageLog, is_unreachable

GONE = EndpointConnectionError(endpoint_url="http://127.0.0.1:1/")


def _alarm(name: str) -> AlarmDefinition:
    return AlarmDefinition(
        name=name, description="", namespace="AWS/SQS",
        metric_name="ApproximateNumberOfMessagesVisible", dimensions=(("QueueName", "q"),),
        statistic="Maximum", period_seconds=60, evaluation_periods=1, datapoints_to_alarm=1,
        threshold=0.0, comparison="GreaterThanThreshold")


class _CloudWatch:
    """Accepts metrics; answers statistics until `gone`, then fails as a dead server."""

    def __init__(self) -> None:
        self.gone = False
        self.broken: Exception | None = None
        self.statistics_calls = 0

    def put_metric_data(self, **_: Any) -> None:
        if self.gone:
            raise GONE

    def get_metric_statistics(self, **_: Any) -> dict[str, Any]:
        self.statistics_calls += 1
        if self.gone:
            raise GONE
        if self.broken is not None:
            raise self.broken
        return {"Datapoints": []}

    def set_alarm_state(self, **_: Any) -> None:
        if self.gone:
            raise GONE


def _evaluator(cloudwatch: _CloudWatch, names: list[str]) -> AlarmEvaluator:
    sink = MetricSink(cloudwatch)
    sink.put([Datum("AWS/SQS", "ApproximateNumberOfMessagesVisible", (("QueueName", "q"),),
                    0.0, "Count", time.time())])
    return AlarmEvaluator(cloudwatch, sink, [_alarm(n) for n in names])


def test_one_warning_when_the_endpoint_goes_and_one_when_it_is_back(
        caplog: pytest.LogCaptureFixture) -> None:
    outage = OutageLog(logging.getLogger("test.outage"), "alarms loop")
    with caplog.at_level(logging.DEBUG, logger="test.outage"):
        for _ in range(5):
            outage.failed(GONE)
        outage.succeeded()
        outage.succeeded()

    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 2, warnings
    assert "unreachable" in warnings[0] and "answers again" in warnings[1]
    assert not outage.down


def test_a_round_against_a_gone_endpoint_stops_at_the_first_alarm(
        caplog: pytest.LogCaptureFixture) -> None:
    # GIVEN three alarms with data, and an endpoint that has just gone away
    cloudwatch = _CloudWatch()
    evaluator = _evaluator(cloudwatch, ["a", "b", "c"])
    cloudwatch.gone = True

    # WHEN a round runs THEN it raises once, for the loop to report, without a line per alarm
    with caplog.at_level(logging.WARNING), pytest.raises(EndpointConnectionError):
        evaluator.evaluate_all()
    assert cloudwatch.statistics_calls == 1
    assert not [r for r in caplog.records if "not evaluated" in r.getMessage()]


def test_an_alarm_that_fails_otherwise_is_still_reported_alone(
        caplog: pytest.LogCaptureFixture) -> None:
    cloudwatch = _CloudWatch()
    evaluator = _evaluator(cloudwatch, ["a", "b"])
    cloudwatch.broken = ValueError("a bad answer")

    with caplog.at_level(logging.WARNING):
        evaluator.evaluate_all()

    assert len([r for r in caplog.records if "not evaluated" in r.getMessage()]) == 2


def test_putting_metrics_to_a_gone_endpoint_raises_for_the_loop_to_report() -> None:
    cloudwatch = _CloudWatch()
    sink = MetricSink(cloudwatch)
    cloudwatch.gone = True
    with pytest.raises(EndpointConnectionError):
        sink.put([Datum("N", "M", (), 1.0, "Count", time.time())])


def test_connection_failures_count_as_unreachable_and_answers_do_not() -> None:
    assert is_unreachable(GONE)
    assert not is_unreachable(ValueError("no"))
