"""Alarm actions, locally: a state change is published to the alarm's SNS topics.

CloudWatch, on a change of an alarm's state and only when its `ActionsEnabled`, runs
the actions of the new state (`AlarmActions` for ALARM, `OKActions` for OK,
`InsufficientDataActions`); for an SNS topic it publishes one JSON document with a
subject like `ALARM: "name" in US East (N. Virginia)`. The emulator never evaluates
alarms, so the local evaluator's changes come here, and a subscriber of the stack's
alarm topic (a queue, an e-mail bridge) gets what it would get from CloudWatch.

The document follows CloudWatch's: the single-metric `Trigger` (`MetricName`,
`Namespace`, `StatisticType`, `Statistic` in capitals or `ExtendedStatistic`, `Unit`,
`Dimensions` as `{value, name}`), or a `Metrics` list for an alarm written in that
form (every CDK alarm), with the template's period, not the local evaluation period
(the reason says which one was used). Actions other than SNS topics (Auto Scaling,
EC2, Lambda, Systems Manager) are not run locally; each is logged once.

A failed publish is logged once per topic until a publish to it succeeds again, and
never stops evaluation.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, Final

from crudops_local.cloudwatch.alarms import (
    ALARM,
    INSUFFICIENT_DATA,
    OK,
    AlarmDefinition,
    AlarmStateChange,
)

log = logging.getLogger("crudops.local.alarm_actions")

# SNS refuses a subject of 100 characters or more.
MAX_SUBJECT_CHARACTERS: Final = 99
_STATISTICS: Final = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")


@dataclass(frozen=True)
class AlarmOrigin:
    """Where the alarms live: what their ARNs and notifications name."""

    account_id: str
    region: str
    partition: str = "aws"

    def alarm_arn(self, name: str) -> str:
        return f"arn:{self.partition}:cloudwatch:{self.region}:{self.account_id}:alarm:{name}"


@cache
def region_name(region: str) -> str:
    """`US East (N. Virginia)` for `us-east-1`, as CloudWatch writes it (botocore's
    endpoint data); the code itself for a region botocore does not describe."""
    import botocore.session

    endpoints: dict[str, Any] = botocore.session.get_session().get_data("endpoints")
    for partition in endpoints.get("partitions", []):
        described = partition.get("regions", {}).get(region, {}).get("description")
        if described:
            return str(described)
    return region


def actions_for(alarm: AlarmDefinition, state: str) -> tuple[str, ...]:
    """The ARNs CloudWatch would notify when the alarm enters `state`."""
    if not alarm.actions_enabled:
        return ()
    return {ALARM: alarm.alarm_actions, OK: alarm.ok_actions,
            INSUFFICIENT_DATA: alarm.insufficient_data_actions}.get(state, ())


def subject(change: AlarmStateChange, region: str) -> str:
    text = f'{change.new_state}: "{change.alarm.name}" in {region_name(region)}'
    return text[:MAX_SUBJECT_CHARACTERS]


def _timestamp(epoch: float) -> str:
    """`2026-12-01T10:00:00.123+0000`, CloudWatch's notification time format."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


def _trigger(alarm: AlarmDefinition) -> dict[str, Any]:
    dimensions = [{"value": value, "name": name} for name, value in alarm.dimensions]
    common: dict[str, Any] = {
        "Period": alarm.period_seconds, "EvaluationPeriods": alarm.evaluation_periods,
        "DatapointsToAlarm": alarm.datapoints_to_alarm,
        "ComparisonOperator": alarm.comparison, "Threshold": alarm.threshold,
        "TreatMissingData": alarm.treat_missing_data, "EvaluateLowSampleCountPercentile": "",
    }
    if alarm.metric_id is not None:
        entry: dict[str, Any] = {"Id": alarm.metric_id}
        if alarm.metric_label is not None:
            entry["Label"] = alarm.metric_label
        entry["MetricStat"] = {
            "Metric": {"Dimensions": dimensions, "MetricName": alarm.metric_name,
                       "Namespace": alarm.namespace},
            "Period": alarm.period_seconds, "Stat": alarm.statistic}
        entry["ReturnData"] = True
        return {**common, "Metrics": [entry]}
    if alarm.statistic in _STATISTICS:
        statistic = {"StatisticType": "Statistic", "Statistic": alarm.statistic.upper()}
    else:
        statistic = {"StatisticType": "ExtendedStatistic", "ExtendedStatistic": alarm.statistic}
    return {"MetricName": alarm.metric_name, "Namespace": alarm.namespace, **statistic,
            "Unit": None, "Dimensions": dimensions, **common}


def notification(change: AlarmStateChange, origin: AlarmOrigin,
                 configured_at: float) -> dict[str, Any]:
    """The JSON document CloudWatch publishes to an alarm's SNS topic."""
    alarm = change.alarm
    return {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description or None,
        "AWSAccountId": origin.account_id,
        "AlarmConfigurationUpdatedTimestamp": _timestamp(configured_at),
        "NewStateValue": change.new_state,
        "NewStateReason": change.reason,
        "StateChangeTime": _timestamp(change.at),
        "Region": region_name(origin.region),
        "AlarmArn": origin.alarm_arn(alarm.name),
        "OldStateValue": change.old_state,
        "OKActions": list(alarm.ok_actions),
        "AlarmActions": list(alarm.alarm_actions),
        "InsufficientDataActions": list(alarm.insufficient_data_actions),
        "Trigger": _trigger(alarm),
    }


class AlarmNotifier:
    """An `AlarmEvaluator` `on_change` callback that publishes to the SNS actions."""

    def __init__(self, sns: Any, origin: AlarmOrigin, configured_at: float) -> None:
        self._sns = sns
        self._origin = origin
        self._configured_at = configured_at
        self._lock = threading.Lock()
        self._failing: set[str] = set()
        self._skipped: set[str] = set()
        self.published = 0

    def __call__(self, change: AlarmStateChange) -> None:
        targets = actions_for(change.alarm, change.new_state)
        if not targets:
            return
        message = json.dumps(notification(change, self._origin, self._configured_at))
        title = subject(change, self._origin.region)
        for arn in targets:
            if arn.split(":")[2:3] != ["sns"]:
                self._once(self._skipped, arn, "%s: action %s is not run locally (SNS only)",
                           change.alarm.name, arn)
                continue
            try:
                self._sns.publish(TopicArn=arn, Subject=title, Message=message)
            except Exception as exc:  # a lost notification must never stop evaluation
                self._once(self._failing, arn, "%s: publishing to %s failed: %s",
                           change.alarm.name, arn, exc)
                continue
            with self._lock:
                self.published += 1
                self._failing.discard(arn)

    def _once(self, seen: set[str], arn: str, message: str, *arguments: object) -> None:
        with self._lock:
            first = arn not in seen
            seen.add(arn)
        if first:
            log.warning(message, *arguments)
        else:
            log.debug(message, *arguments)
