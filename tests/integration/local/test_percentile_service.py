"""The local stack's percentile service over HTTP on 127.0.0.1, as the dashboard reads it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from crudops_local.cloudwatch.metrics import Datum, MetricSink
from crudops_local.cloudwatch.percentiles import PercentileServer
from tools.dashboard.series import PercentileUnavailableError, Window, local_percentiles

METRIC = ("Crudops", "EndToEndAge", (("operation", "create"), ("service", "crudops")))


class Discard:
    def put_metric_data(self, **_: Any) -> None:
        pass


@pytest.fixture
def service() -> Iterator[tuple[PercentileServer, float]]:
    now = time.time()
    sink = MetricSink(Discard())
    sink.put(Datum(METRIC[0], METRIC[1], METRIC[2], float(v), "Milliseconds", now - 5)
             for v in range(1, 101))
    server = PercentileServer(sink).start()
    try:
        yield server, now
    finally:
        server.stop()


def test_the_dashboard_reads_p99_of_the_samples(
        service: tuple[PercentileServer, float]) -> None:
    server, now = service
    assert server.url.startswith("http://127.0.0.1:")
    window = Window.ending(now, minutes=5)

    series = local_percentiles(server.url)(METRIC, "p99", window)

    assert list(series.values()) == [99.0]
    (start,) = series
    assert start <= now - 5 < start + window.period_seconds


def test_a_refused_request_is_a_percentile_the_graph_cannot_show(
        service: tuple[PercentileServer, float]) -> None:
    server, now = service
    assert httpx.post(server.url, json={"stat": "Average"}).status_code == 400
    with pytest.raises(PercentileUnavailableError, match="percentile service"):
        local_percentiles(server.url)(METRIC, "Average", Window.ending(now, minutes=5))


def test_a_stopped_service_is_said_so(service: tuple[PercentileServer, float]) -> None:
    server, now = service
    url = server.url
    server.stop()
    with pytest.raises(PercentileUnavailableError, match="failed"):
        local_percentiles(url, timeout_seconds=2)(METRIC, "p99", Window.ending(now, minutes=5))
