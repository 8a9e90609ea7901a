"""Local alarm evaluation: the emulator stores alarms but never evaluates them.

The template's `AWS::CloudWatch::Alarm` resources are created in the endpoint with
`PutMetricAlarm` (so `DescribeAlarms` and `crudops status --local` list them), then
evaluated every few seconds against the metrics the local stack puts:
- one value per period, for the last `EvaluationPeriods` periods ending now
  (CloudWatch aligns periods to the clock and evaluates once a minute; locally the
  windows slide with each evaluation), from `GetMetricStatistics` with the alarm's
  statistic and period; percentiles (`p99`), which the emulator cannot compute, come
  from the local samples (`MetricSink.values`);
- `DatapointsToAlarm` of them breaching → ALARM, otherwise OK; missing periods are
  treated as `TreatMissingData` says (`missing`: left out, and all missing is
  INSUFFICIENT_DATA; `ignore`: left out, and all missing keeps the state;
  `breaching` / `notBreaching`: counted as such);
- a change of state is written with `SetAlarmState`, with the reason, and handed to
  the `on_change` callbacks (alarm_actions.py publishes it to the alarm's actions,
  `crudops local up` prints it).

`period_seconds` (a local setting) replaces every alarm's period, so a 300 s alarm
can be seen firing in a test: the thresholds stay those of the template.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from crudops_local.cloudformation.template import Resolver, Template
from crudops_local.cloudwatch.metrics import MetricKey, MetricSink, metric_key, percentile
from crudops_local.outage import is_unreachable

log = logging.getLogger("crudops.local.alarms")

ALARM: Final = "ALARM"
OK: Final = "OK"
INSUFFICIENT_DATA: Final = "INSUFFICIENT_DATA"
_COMPARISONS: Final[dict[str, Callable[[float, float], bool]]] = {
    "GreaterThanThreshold": lambda v, t: v > t,
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}
_PERCENTILE = re.compile(r"^p(\d+(?:\.\d+)?)$")


@dataclass(frozen=True)
class AlarmDefinition:
    name: str
    description: str
    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: str  # Sum, Average, Maximum, Minimum, SampleCount or pNN
    period_seconds: int
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float
    comparison: str
    treat_missing_data: str = "missing"
    # What CloudWatch notifies per new state, when `actions_enabled` (resolved ARNs).
    actions_enabled: bool = True
    alarm_actions: tuple[str, ...] = ()
    ok_actions: tuple[str, ...] = ()
    insufficient_data_actions: tuple[str, ...] = ()
    # The `Metrics` entry of an alarm written in that form (its Id and Label); None for
    # the single-metric form. CloudWatch's notification differs between the two.
    metric_id: str | None = None
    metric_label: str | None = None

    @property
    def key(self) -> MetricKey:
        return metric_key(self.namespace, self.metric_name, self.dimensions)

    @property
    def percentile(self) -> float | None:
        match = _PERCENTILE.match(self.statistic)
        return float(match.group(1)) if match else None


class UnsupportedAlarmError(ValueError):
    pass


def alarm_definition(properties: dict[str, Any]) -> AlarmDefinition:
    """An alarm's resolved template properties, single-metric form or a `Metrics`
    list with one returned `MetricStat` (what CDK emits); metric math is unsupported."""
    if "Metrics" in properties:
        returned = [m for m in properties["Metrics"] if m.get("ReturnData", True)]
        if len(returned) != 1 or "MetricStat" not in returned[0]:
            raise UnsupportedAlarmError("metric math alarms are not evaluated locally")
        stat = returned[0]["MetricStat"]
        metric = stat["Metric"]
        namespace, name = metric["Namespace"], metric["MetricName"]
        dimensions = metric.get("Dimensions", [])
        statistic, period = stat["Stat"], stat["Period"]
        metric_id, label = str(returned[0].get("Id", "m1")), returned[0].get("Label")
    else:
        metric_id, label = None, None
        namespace, name = properties["Namespace"], properties["MetricName"]
        dimensions = properties.get("Dimensions", [])
        statistic = properties.get("Statistic") or properties["ExtendedStatistic"]
        period = properties["Period"]
    evaluation_periods = int(properties["EvaluationPeriods"])
    return AlarmDefinition(
        name=str(properties["AlarmName"]),
        description=str(properties.get("AlarmDescription", "")),
        namespace=str(namespace), metric_name=str(name),
        dimensions=tuple((str(d["Name"]), str(d["Value"])) for d in dimensions),
        statistic=str(statistic), period_seconds=int(period),
        evaluation_periods=evaluation_periods,
        datapoints_to_alarm=int(properties.get("DatapointsToAlarm", evaluation_periods)),
        threshold=float(properties["Threshold"]),
        comparison=str(properties["ComparisonOperator"]),
        treat_missing_data=str(properties.get("TreatMissingData", "missing")),
        actions_enabled=properties.get("ActionsEnabled", True) not in (False, "false"),
        alarm_actions=tuple(str(a) for a in properties.get("AlarmActions", ())),
        ok_actions=tuple(str(a) for a in properties.get("OKActions", ())),
        insufficient_data_actions=tuple(
            str(a) for a in properties.get("InsufficientDataActions", ())),
        metric_id=metric_id, metric_label=None if label is None else str(label),
    )


def template_alarms(template: Template, resolver: Resolver) -> list[AlarmDefinition]:
    alarms = []
    for resource in template.of_type("AWS::CloudWatch::Alarm"):
        try:
            alarms.append(alarm_definition(resolver.resolve(resource.properties)))
        except UnsupportedAlarmError as exc:
            log.warning("%s: %s", resource.logical_id, exc)
    return sorted(alarms, key=lambda a: a.name)


@dataclass(frozen=True)
class Evaluation:
    state: str
    reason: str


@dataclass(frozen=True)
class AlarmStateChange:
    """One alarm leaving one state for another, as its actions and the console see it.

    `settling` marks an alarm's first OK since the stack started (out of the
    INSUFFICIENT_DATA every alarm is created in): CloudWatch runs its OK actions, but
    it is no news for whoever watches the console.
    """

    alarm: AlarmDefinition
    old_state: str
    new_state: str
    reason: str
    at: float  # epoch seconds
    settling: bool = False


def evaluate(values: Sequence[float | None], alarm: AlarmDefinition,
             current_state: str = INSUFFICIENT_DATA) -> Evaluation:
    """The state for one value per period (oldest first, None = no datapoint)."""
    if alarm.comparison not in _COMPARISONS:
        raise UnsupportedAlarmError(f"comparison {alarm.comparison} is not evaluated locally")
    breaches = _COMPARISONS[alarm.comparison]
    treat = alarm.treat_missing_data
    considered: list[bool] = []
    for value in values[-alarm.evaluation_periods:]:
        if value is None:
            if treat == "breaching":
                considered.append(True)
            elif treat == "notBreaching":
                considered.append(False)
            continue
        considered.append(breaches(value, alarm.threshold))
    shown = ", ".join("missing" if v is None else f"{v:g}" for v in values)
    if not considered:
        state = current_state if treat == "ignore" else INSUFFICIENT_DATA
        return Evaluation(state, f"no datapoint in the last {len(values)} period(s)")
    breaching = sum(considered)
    state = ALARM if breaching >= alarm.datapoints_to_alarm else OK
    verb = "was" if breaching == 1 else "were"
    return Evaluation(state, (
        f"Threshold Crossed: {breaching} out of the last {len(considered)} datapoints "
        f"[{shown}] {verb} {_words(alarm.comparison)} the threshold ({alarm.threshold:g}) "
        f"(minimum {alarm.datapoints_to_alarm} for ALARM)"))


def _words(comparison: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r" \1", comparison.removesuffix("Threshold")).lower()


class AlarmEvaluator:
    """Creates the alarms in the endpoint and evaluates them on demand (`evaluate_all`)."""

    def __init__(self, cloudwatch: Any, sink: MetricSink, alarms: Sequence[AlarmDefinition],
                 period_seconds: int | None = None,
                 clock: Callable[[], float] = time.time,
                 on_change: Sequence[Callable[[AlarmStateChange], None]] = ()) -> None:
        self._cloudwatch = cloudwatch
        self._sink = sink
        self.alarms = list(alarms)
        self._period_override = period_seconds
        self._clock = clock
        self._on_change = list(on_change)
        self.states: dict[str, str] = {}
        # Alarms that have been OK or ALARM since the start (their next OK is news).
        self._decided: set[str] = set()

    def period_of(self, alarm: AlarmDefinition) -> int:
        return self._period_override or alarm.period_seconds

    def create(self) -> None:
        for alarm in self.alarms:
            statistic: dict[str, str] = (
                {"ExtendedStatistic": alarm.statistic} if alarm.percentile is not None
                else {"Statistic": alarm.statistic})
            self._cloudwatch.put_metric_alarm(
                AlarmName=alarm.name, AlarmDescription=alarm.description,
                AlarmActions=list(alarm.alarm_actions), OKActions=list(alarm.ok_actions),
                InsufficientDataActions=list(alarm.insufficient_data_actions),
                Namespace=alarm.namespace, MetricName=alarm.metric_name,
                Dimensions=[{"Name": k, "Value": v} for k, v in alarm.dimensions],
                Period=alarm.period_seconds, EvaluationPeriods=alarm.evaluation_periods,
                DatapointsToAlarm=alarm.datapoints_to_alarm, Threshold=alarm.threshold,
                ComparisonOperator=alarm.comparison, TreatMissingData=alarm.treat_missing_data,
                # The local evaluator runs the actions; an emulator that evaluates
                # alarms itself (LocalStack) must not notify a second time.
                ActionsEnabled=False, **statistic,
            )

    def values(self, alarm: AlarmDefinition, now: float) -> list[float | None]:
        period = self.period_of(alarm)
        windows = [(now - (i + 1) * period, now - i * period)
                   for i in reversed(range(alarm.evaluation_periods))]
        if not self._sink.has(alarm.key):
            return [None] * len(windows)
        return [self._value(alarm, start, end, period) for start, end in windows]

    def _value(self, alarm: AlarmDefinition, start: float, end: float,
               period: int) -> float | None:
        if alarm.percentile is not None:
            samples = self._sink.values(alarm.key, start, end)
            return percentile(samples, alarm.percentile) if samples else None
        datapoints = self._cloudwatch.get_metric_statistics(
            Namespace=alarm.namespace, MetricName=alarm.metric_name,
            Dimensions=[{"Name": k, "Value": v} for k, v in alarm.dimensions],
            StartTime=datetime.fromtimestamp(start, UTC),
            EndTime=datetime.fromtimestamp(end, UTC),
            Period=period, Statistics=[alarm.statistic],
        )["Datapoints"]
        found = [float(d[alarm.statistic]) for d in datapoints if alarm.statistic in d]
        if not found:
            return None
        if alarm.statistic in ("Sum", "SampleCount"):
            return sum(found)
        if alarm.statistic == "Minimum":
            return min(found)
        if alarm.statistic == "Average":
            return sum(found) / len(found)
        return max(found)

    def evaluate_all(self) -> dict[str, str]:
        """Evaluate every alarm once; write the changed states. Returns name → state."""
        now = self._clock()
        for alarm in self.alarms:
            try:
                current = self.states.get(alarm.name, INSUFFICIENT_DATA)
                result = evaluate(self.values(alarm, now), alarm, current)
            except Exception as exc:  # one broken alarm must not stop the rest
                if is_unreachable(exc):
                    raise  # no alarm can be evaluated: the loop says so once
                log.warning("%s: not evaluated: %s", alarm.name, exc)
                continue
            if self.states.get(alarm.name) != result.state:
                period = self.period_of(alarm)
                reason = (result.reason + f" (local evaluation, period {period} s)")[:1023]
                self._cloudwatch.set_alarm_state(
                    AlarmName=alarm.name, StateValue=result.state, StateReason=reason)
                old = self.states.get(alarm.name, INSUFFICIENT_DATA)
                self.states[alarm.name] = result.state
                if old != result.state:
                    self._changed(AlarmStateChange(
                        alarm, old, result.state, reason, now,
                        settling=result.state == OK and alarm.name not in self._decided))
                if result.state != INSUFFICIENT_DATA:
                    self._decided.add(alarm.name)
        return dict(self.states)

    def _changed(self, change: AlarmStateChange) -> None:
        for callback in self._on_change:
            try:
                callback(change)
            except Exception as exc:  # an action or a printer must not stop evaluation
                log.warning("%s: state change not handed on: %s", change.alarm.name, exc)
