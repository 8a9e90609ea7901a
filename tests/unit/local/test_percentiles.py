"""Percentiles of the local stack's own samples, per period, as its alarms compute them."""

from __future__ import annotations

from typing import Any

import pytest

from crudops_local.cloudwatch.metrics import Datum, MetricSink
from crudops_local.cloudwatch.percentiles import BadRequestError, percentile_series

DIMENSIONS = (("operation", "create"), ("service", "crudops"))


class Discard:
    def put_metric_data(self, **_: Any) -> None:
        pass


def _sink(samples: list[tuple[float, float]]) -> MetricSink:
    # Timestamps near 1970: a retention as long as that keeps them.
    sink = MetricSink(Discard(), retention_seconds=1e12)
    sink.put(Datum("Crudops", "EndToEndAge", DIMENSIONS, value, "Milliseconds", t)
             for t, value in samples)
    return sink


def _request(**overrides: Any) -> dict[str, Any]:
    return {"namespace": "Crudops", "name": "EndToEndAge",
            # Any order: CloudWatch matches the set of dimensions.
            "dimensions": [["service", "crudops"], ["operation", "create"]],
            "stat": "p99", "start": 1000, "end": 1030, "period": 10, **overrides}


def test_each_period_gets_the_nearest_rank_percentile_of_its_samples() -> None:
    # GIVEN a hundred samples 1..100 in the first period, one in the third, none between
    samples = [(1000.0 + i / 100, float(i)) for i in range(1, 101)] + [(1025.0, 7.0)]
    sink = _sink(samples)

    assert percentile_series(sink, _request()) == [[1000.0, 99.0], [1020.0, 7.0]]
    assert percentile_series(sink, _request(stat="p50")) == [[1000.0, 50.0], [1020.0, 7.0]]


def test_other_metrics_are_not_mixed_in() -> None:
    sink = _sink([(1001.0, 5.0)])
    assert percentile_series(sink, _request(dimensions=[["operation", "get"]])) == []


@pytest.mark.parametrize("overrides", [{"stat": "Average"}, {"period": 0},
                                       {"end": 900}, {"start": "soon"}, {"period": 0.001}])
def test_a_request_that_is_not_a_percentile_over_periods_is_refused(
        overrides: dict[str, Any]) -> None:
    with pytest.raises(BadRequestError):
        percentile_series(_sink([]), _request(**overrides))
