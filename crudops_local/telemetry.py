"""The local stack's telemetry, started and stopped with it (see docs/adr/0009-tracing.md).

- `XRayDaemon` (xray.py): the functions' X-Ray SDK sends segments to it over UDP;
  the runner adds each invocation's `AWS::Lambda::Function` segment.
- a metrics loop (metrics.py): function log lines in EMF, queue samples and the
  runner's invocation counts → `PutMetricData`.
- an alarm loop (alarms.py): the template's alarms, evaluated locally; each change of
  state is published to the alarm's SNS actions (alarm_actions.py) and handed to the
  caller's `on_change` callbacks.
- a percentile service (percentiles.py): p50/p99 from the samples the metrics loop
  put, for `crudops dashboard --local` (the emulator computes no percentiles).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crudops_local.cloudwatch.alarm_actions import AlarmNotifier, AlarmOrigin
from crudops_local.cloudwatch.alarms import (
    AlarmDefinition,
    AlarmEvaluator,
    AlarmStateChange,
)
from crudops_local.cloudwatch.metrics import (
    Datum,
    LogTail,
    MetricSink,
    QueueAgeTracker,
    lambda_datums,
    parse_emf,
    queue_datums,
)
from crudops_local.cloudwatch.percentiles import PercentileServer
from crudops_local.lambda_.runtime import InvocationRecord
from crudops_local.lambda_.specs import FunctionSpec
from crudops_local.outage import OutageLog, is_unreachable
from crudops_local.state import trace_index_of
from crudops_local.xray.daemon import (
    InvocationTrace,
    XRayDaemon,
    environment_for_workers,
    function_segment,
    invocation_trace,
)
from crudops_local.xray.index import TraceIndex

log = logging.getLogger("crudops.local.observability")


@dataclass(frozen=True)
class ObservabilitySettings:
    """Local telemetry settings (`LocalStackOptions.observability`).

    `alarm_period_seconds` replaces every alarm's period (300 s in the template) for
    local evaluation, so tests can watch an alarm fire within seconds; None keeps the
    template's periods.
    """

    tracing: bool = True
    metrics: bool = True
    alarms: bool = True
    metrics_interval_seconds: float = 10.0
    alarm_interval_seconds: float = 10.0
    alarm_period_seconds: int | None = None


@dataclass(frozen=True)
class WatchedQueue:
    name: str
    url: str
    # The oldest SentTimestamp the queue's pollers saw since the last call (seconds).
    oldest_sent: Callable[[], float | None] | None = None


@dataclass(frozen=True)
class _Begun:
    trace: InvocationTrace | None

    @property
    def trace_header(self) -> str | None:
        return None if self.trace is None else str(self.trace.header)


class LocalObservability:
    """Implements the function pools' `InvocationObserver`."""

    def __init__(self, settings: ObservabilitySettings, client: Callable[[str], Any],
                 log_dir: Path, host: str = "127.0.0.1") -> None:
        self.settings = settings
        self._client = client
        self.log_dir = log_dir
        self.index_path = trace_index_of(log_dir)
        self.daemon: XRayDaemon | None = None
        self.sink: MetricSink | None = None
        self.evaluator: AlarmEvaluator | None = None
        self.notifier: AlarmNotifier | None = None
        self._queues: list[WatchedQueue] = []
        self._ages = QueueAgeTracker()
        self._tail: LogTail | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pending: list[Datum] = []
        self._pending_lock = threading.Lock()
        self._percentiles: PercentileServer | None = None
        self._host = host
        if settings.tracing:
            self.daemon = XRayDaemon(client("xray"), TraceIndex(self.index_path), host)
            self.daemon.start()
        if settings.metrics or settings.alarms:
            self.sink = MetricSink(client("cloudwatch"))
            self._tail = LogTail(log_dir)

    # --- what the functions need -------------------------------------------------------
    def worker_environment(self) -> dict[str, str]:
        if self.daemon is None:
            # No daemon: tracing would only print errors.
            return {"POWERTOOLS_TRACE_DISABLED": "true"}
        return environment_for_workers(self.daemon.address)

    def begin(self, spec: FunctionSpec, event: Any) -> _Begun:
        return _Begun(invocation_trace(event) if self.daemon is not None else None)

    def end(self, spec: FunctionSpec, begun: Any, record: InvocationRecord) -> None:
        try:
            failure = record.error
            error = None if failure is None else f"{type(failure).__name__}: {failure}"
            trace = getattr(begun, "trace", None)
            if self.daemon is not None and trace is not None:
                self.daemon.submit(function_segment(
                    name=spec.name, arn=spec.arn, trace=trace, start=record.started,
                    end=record.ended, request_id=record.request_id, error=error))
            if self.sink is not None:
                with self._pending_lock:
                    self._pending.extend(lambda_datums(
                        spec.name, started=record.started, ended=record.ended,
                        failed=record.error is not None))
        except Exception as exc:  # telemetry must never fail an invocation
            log.warning("%s: telemetry of an invocation lost: %s", spec.name, exc)

    @property
    def percentiles_url(self) -> str | None:
        """Where other processes read percentiles of the samples (None: no metrics)."""
        return None if self._percentiles is None else self._percentiles.url

    # --- loops ----------------------------------------------------------------------
    def start(self, queues: Sequence[WatchedQueue], alarms: Sequence[AlarmDefinition],
              origin: AlarmOrigin | None = None,
              on_change: Sequence[Callable[[AlarmStateChange], None]] = ()) -> None:
        """`origin`: where the alarms live; with it, state changes are published to the
        alarms' SNS actions. `on_change` callbacks see every change too."""
        self._queues = list(queues)
        if self.sink is None:
            return
        if self.settings.metrics:
            self._spawn("metrics", self.settings.metrics_interval_seconds, self.publish_once)
            self._percentiles = PercentileServer(self.sink, self._host).start()
        if self.settings.alarms and alarms:
            callbacks = list(on_change)
            if origin is not None:
                self.notifier = AlarmNotifier(self._client("sns"), origin, time.time())
                callbacks.insert(0, self.notifier)
            self.evaluator = AlarmEvaluator(self._client("cloudwatch"), self.sink, alarms,
                                            self.settings.alarm_period_seconds,
                                            on_change=callbacks)
            self.evaluator.create()
            self._spawn("alarms", self.settings.alarm_interval_seconds,
                        self.evaluator.evaluate_all)

    def _spawn(self, name: str, interval: float, step: Callable[[], object]) -> None:
        outage = OutageLog(log, f"{name} loop")

        def run() -> None:
            while not self._stop.wait(interval):
                try:
                    step()
                except Exception as exc:  # keep the loop alive
                    if self._stop.is_set():
                        return  # a round cut short by the stop says nothing
                    if is_unreachable(exc):
                        outage.failed(exc)
                    else:
                        log.warning("%s loop: %s", name, exc)
                else:
                    outage.succeeded()

        thread = threading.Thread(target=run, name=f"observability:{name}", daemon=True)
        thread.start()
        self._threads.append(thread)

    def publish_once(self) -> int:
        """One metrics cycle: new EMF lines, queue samples, invocation counts."""
        assert self.sink is not None and self._tail is not None
        datums: list[Datum] = []
        for _, line in self._tail.read():
            datums.extend(parse_emf(line))
        now = time.time()
        sqs = self._client("sqs")
        for queue in self._queues:
            try:
                attributes = sqs.get_queue_attributes(
                    QueueUrl=queue.url, AttributeNames=["All"])["Attributes"]
            except Exception as exc:  # a queue deleted by hand
                if is_unreachable(exc):
                    raise  # the whole round waits for the endpoint
                log.debug("%s: no sample: %s", queue.name, exc)
                continue
            total = sum(int(attributes.get(a, 0)) for a in (
                "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed"))
            oldest = queue.oldest_sent() if queue.oldest_sent else None
            age = self._ages.age(queue.name, total=total, oldest_sent_seen=oldest, now=now)
            datums.extend(queue_datums(queue.name, attributes, age, now))
        with self._pending_lock:
            datums.extend(self._pending)
            self._pending.clear()
        self.sink.put(datums)
        return len(datums)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(10)
        if self._percentiles is not None:
            self._percentiles.stop()
        if self.daemon is not None:
            self.daemon.stop()
