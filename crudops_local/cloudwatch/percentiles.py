"""The percentiles the emulator cannot compute, served from the local stack's samples.

moto answers `GetMetricStatistics` with `ExtendedStatistics` without a value, and
`GetMetricData` with a `p99` with a 500. The local stack keeps every datum it puts
(`MetricSink`, for `SAMPLE_RETENTION_SECONDS`), and its alarm evaluator computes
percentiles from them; this small read-only HTTP service lets another process
(`crudops dashboard --local`) ask for the same numbers, so a p99 line and the alarm on
it agree:

    POST /percentiles
    {"namespace": "Crudops", "name": "EndToEndAge", "dimensions": [["operation", "create"]],
     "stat": "p99", "start": 1700000000, "end": 1700000900, "period": 10}
    → {"datapoints": [[1700000000, 412.0], ...]}

Periods are [start + k·period, start + (k+1)·period); a period without a sample is
left out. Nearest-rank percentiles (`metrics.percentile`), as the alarms use; older
than the retention, nothing is left to compute from. It listens on the stack's host
(127.0.0.1 unless told otherwise), port chosen by the system; the state file names it.
"""

from __future__ import annotations

import json
import logging
import re
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any, Final

from crudops_local.cloudwatch.metrics import MetricSink, metric_key, percentile
from crudops_local.http_thread import BackgroundHttpServer

log = logging.getLogger("crudops.local.percentiles")

PATH: Final = "/percentiles"
_PERCENTILE: Final = re.compile(r"^p(\d+(?:\.\d+)?)$")
# A request may not ask for more periods than this (a day of 10 s periods is 8,640).
MAX_PERIODS: Final = 10_000


class BadRequestError(ValueError):
    pass


def percentile_series(sink: MetricSink, request: dict[str, Any]) -> list[list[float]]:
    """[[period start, value], …] for one request body (see the module docstring)."""
    try:
        match = _PERCENTILE.match(str(request["stat"]))
        start, end, period = (float(request["start"]), float(request["end"]),
                              float(request["period"]))
        key = metric_key(str(request["namespace"]), str(request["name"]),
                         ((str(k), str(v)) for k, v in request.get("dimensions", [])))
    except (KeyError, TypeError, ValueError) as exc:
        raise BadRequestError(f"not a percentile request: {exc!r}") from exc
    if match is None or period <= 0 or end <= start:
        raise BadRequestError("stat must be pNN, period > 0 and end after start")
    if (end - start) / period > MAX_PERIODS:
        raise BadRequestError(f"more than {MAX_PERIODS} periods")
    rank = float(match.group(1))
    datapoints = []
    bucket = start
    while bucket < end:
        values = sink.values(key, bucket, min(bucket + period, end))
        if values:
            datapoints.append([bucket, percentile(values, rank)])
        bucket += period
    return datapoints


class PercentileServer:
    """`POST /percentiles` over a `MetricSink`, in a background thread."""

    def __init__(self, sink: MetricSink, host: str = "127.0.0.1") -> None:
        self._server = BackgroundHttpServer(_handler(sink), host=host,
                                            name="observability:percentiles")

    @property
    def url(self) -> str:
        return f"{self._server.origin}{PATH}"

    def start(self) -> PercentileServer:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()


def _handler(sink: MetricSink) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path != PATH:
                self._answer(HTTPStatus.NOT_FOUND, {"message": "not found"})
                return
            try:
                length = int(self.headers.get("Content-Length", "0"))
                request = json.loads(self.rfile.read(length) or b"{}")
                if not isinstance(request, dict):
                    raise BadRequestError("the body is not a JSON object")
                answer = {"datapoints": percentile_series(sink, request)}
            except (BadRequestError, json.JSONDecodeError, ValueError) as exc:
                self._answer(HTTPStatus.BAD_REQUEST, {"message": str(exc)})
                return
            self._answer(HTTPStatus.OK, answer)

        def _answer(self, status: HTTPStatus, document: dict[str, Any]) -> None:
            data = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            log.debug(format, *args)

    return Handler
