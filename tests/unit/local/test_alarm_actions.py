"""Alarm actions, locally: the document CloudWatch publishes, who gets it, what prints."""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

import pytest

from crudops_local.cloudwatch.alarm_actions import (
    AlarmNotifier,
    AlarmOrigin,
    actions_for,
    notification,
    subject,
)
from crudops_local.cloudwatch.alarms import (
    ALARM,
    INSUFFICIENT_DATA,
    OK,
    AlarmDefinition,
    AlarmEvaluator,
    AlarmStateChange,
    alarm_definition,
)
from crudops_local.cloudwatch.metrics import Datum, MetricSink
from tools.local.up import alarm_json, alarm_line, worth_printing

TOPIC = "arn:aws:sns:us-east-1:123456789012:Crudops-ObservabilityAlarmsTopic"
ORIGIN = AlarmOrigin(account_id="123456789012", region="us-east-1")
# The form CDK writes (resolved): one returned MetricStat in `Metrics`.
CDK_ALARM = {
    "ActionsEnabled": True, "AlarmActions": [TOPIC], "OKActions": [TOPIC],
    "AlarmDescription": "[critical] A DLQ holds messages.\nRunbook: runbooks/dlq-not-empty.md",
    "AlarmName": "crudops-create-dlq-not-empty", "ComparisonOperator": "GreaterThanThreshold",
    "DatapointsToAlarm": 1, "EvaluationPeriods": 1, "Threshold": 0,
    "TreatMissingData": "notBreaching",
    "Metrics": [{"Id": "m1", "Label": "Visible", "ReturnData": True, "MetricStat": {
        "Metric": {"Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
                   "Dimensions": [{"Name": "QueueName", "Value": "create-dlq"}]},
        "Period": 300, "Stat": "Maximum"}}],
}
CHANGED_AT = 1_764_583_445.123  # 2025-12-01T10:04:05.123Z


def _change(alarm: AlarmDefinition, new: str = ALARM, old: str = OK,
            settling: bool = False) -> AlarmStateChange:
    return AlarmStateChange(alarm, old, new, "Threshold Crossed: 1 out of the last 1 "
                            "datapoints [3] was greater than the threshold (0)", CHANGED_AT,
                            settling)


def test_the_notification_of_a_cdk_alarm_is_cloudwatchs_document() -> None:
    alarm = alarm_definition(CDK_ALARM)

    document = notification(_change(alarm), ORIGIN, configured_at=CHANGED_AT - 60)

    assert document["AlarmName"] == "crudops-create-dlq-not-empty"
    assert document["AlarmDescription"] == CDK_ALARM["AlarmDescription"]
    assert document["AWSAccountId"] == "123456789012"
    assert (document["NewStateValue"], document["OldStateValue"]) == ("ALARM", "OK")
    assert document["NewStateReason"].startswith("Threshold Crossed")
    assert document["StateChangeTime"] == "2025-12-01T10:04:05.123+0000"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000",
                        document["AlarmConfigurationUpdatedTimestamp"])
    assert document["Region"] == "US East (N. Virginia)"
    assert document["AlarmArn"] == (
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:crudops-create-dlq-not-empty")
    assert document["AlarmActions"] == [TOPIC] and document["OKActions"] == [TOPIC]
    assert document["InsufficientDataActions"] == []
    trigger = document["Trigger"]
    assert {k: trigger[k] for k in ("Period", "EvaluationPeriods", "ComparisonOperator",
                                    "Threshold", "TreatMissingData")} == {
        "Period": 300, "EvaluationPeriods": 1, "ComparisonOperator": "GreaterThanThreshold",
        "Threshold": 0.0, "TreatMissingData": "notBreaching"}
    assert trigger["Metrics"] == [{
        "Id": "m1", "Label": "Visible", "ReturnData": True, "MetricStat": {
            "Metric": {"Dimensions": [{"value": "create-dlq", "name": "QueueName"}],
                       "MetricName": "ApproximateNumberOfMessagesVisible",
                       "Namespace": "AWS/SQS"},
            "Period": 300, "Stat": "Maximum"}}]
    json.dumps(document)  # what is published is JSON


def test_a_single_metric_alarm_gets_the_single_metric_trigger() -> None:
    properties = {k: v for k, v in CDK_ALARM.items() if k != "Metrics"}
    alarm = alarm_definition({**properties, "Namespace": "AWS/SQS", "Period": 60,
                              "MetricName": "ApproximateNumberOfMessagesVisible",
                              "Statistic": "Maximum",
                              "Dimensions": [{"Name": "QueueName", "Value": "create-dlq"}]})

    trigger = notification(_change(alarm), ORIGIN, CHANGED_AT)["Trigger"]

    assert {k: trigger[k] for k in ("MetricName", "Namespace", "StatisticType", "Statistic",
                                    "Dimensions", "Period", "Unit")} == {
        "MetricName": "ApproximateNumberOfMessagesVisible", "Namespace": "AWS/SQS",
        "StatisticType": "Statistic", "Statistic": "MAXIMUM",
        "Dimensions": [{"value": "create-dlq", "name": "QueueName"}], "Period": 60,
        "Unit": None}
    assert "Metrics" not in trigger
    percentile = alarm_definition({**properties, "Namespace": "AWS/ApiGateway", "Period": 60,
                                   "MetricName": "Latency", "ExtendedStatistic": "p99"})
    trigger = notification(_change(percentile), ORIGIN, CHANGED_AT)["Trigger"]
    assert (trigger["StatisticType"], trigger["ExtendedStatistic"]) == (
        "ExtendedStatistic", "p99")


def test_the_subject_names_state_alarm_and_region_within_snss_limit() -> None:
    alarm = alarm_definition(CDK_ALARM)
    assert subject(_change(alarm), "us-east-1") == (
        'ALARM: "crudops-create-dlq-not-empty" in US East (N. Virginia)')
    long_name = alarm_definition({**CDK_ALARM, "AlarmName": "x" * 200})
    assert len(subject(_change(long_name), "us-east-1")) < 100


def test_each_state_has_its_actions_and_disabled_actions_have_none() -> None:
    alarm = alarm_definition({**CDK_ALARM, "OKActions": ["arn:aws:sns:us-east-1:1:ok"],
                              "InsufficientDataActions": ["arn:aws:sns:us-east-1:1:data"]})
    assert actions_for(alarm, ALARM) == (TOPIC,)
    assert actions_for(alarm, OK) == ("arn:aws:sns:us-east-1:1:ok",)
    assert actions_for(alarm, INSUFFICIENT_DATA) == ("arn:aws:sns:us-east-1:1:data",)
    assert actions_for(alarm_definition({**CDK_ALARM, "ActionsEnabled": False}), ALARM) == ()


class _Sns:
    def __init__(self, failing: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.failing = failing
        self.published: list[dict[str, Any]] = []

    def publish(self, **request: Any) -> dict[str, str]:
        if request["TopicArn"] in self.failing:
            raise RuntimeError("AuthorizationError")
        self.published.append(request)
        return {"MessageId": str(len(self.published))}


def test_the_notifier_publishes_to_every_topic_and_a_failing_one_is_logged_once(
        caplog: pytest.LogCaptureFixture) -> None:
    broken = "arn:aws:sns:us-east-1:123456789012:gone"
    alarm = alarm_definition({**CDK_ALARM, "AlarmActions": [
        TOPIC, broken, "arn:aws:automate:us-east-1:ec2:stop"]})
    sns = _Sns(failing={broken})
    notifier = AlarmNotifier(sns, ORIGIN, configured_at=CHANGED_AT)

    with caplog.at_level(logging.WARNING):
        notifier(_change(alarm))
        notifier(_change(alarm))

    assert [p["TopicArn"] for p in sns.published] == [TOPIC, TOPIC]
    assert sns.published[0]["Subject"].startswith('ALARM: "crudops-create-dlq-not-empty"')
    assert json.loads(sns.published[0]["Message"])["NewStateValue"] == "ALARM"
    warnings = [r.getMessage() for r in caplog.records]
    assert len([w for w in warnings if "gone failed" in w]) == 1, warnings
    assert len([w for w in warnings if "not run locally" in w]) == 1, warnings


class _CloudWatch:
    def __init__(self) -> None:
        self.value = 0.0

    def get_metric_statistics(self, **_: Any) -> dict[str, Any]:
        return {"Datapoints": [{"Maximum": self.value}]}

    def set_alarm_state(self, **_: Any) -> None:
        pass

    def put_metric_data(self, **_: Any) -> None:
        pass


def test_the_evaluator_hands_on_each_change_once_and_marks_the_first_ok_as_settling() -> None:
    cloudwatch = _CloudWatch()
    sink = MetricSink(cloudwatch)
    alarm = alarm_definition(CDK_ALARM)
    sink.put([Datum("AWS/SQS", "ApproximateNumberOfMessagesVisible",
                    (("QueueName", "create-dlq"),), 0.0, "Count", time.time())])
    changes: list[AlarmStateChange] = []
    evaluator = AlarmEvaluator(cloudwatch, sink, [alarm], on_change=[changes.append])

    evaluator.evaluate_all()  # INSUFFICIENT_DATA → OK: settling
    evaluator.evaluate_all()  # no change
    cloudwatch.value = 3.0
    evaluator.evaluate_all()  # OK → ALARM
    cloudwatch.value = 0.0
    evaluator.evaluate_all()  # ALARM → OK: a recovery, news

    assert [(c.old_state, c.new_state, c.settling) for c in changes] == [
        (INSUFFICIENT_DATA, OK, True), (OK, ALARM, False), (ALARM, OK, False)]
    assert [worth_printing(c) for c in changes] == [False, True, True]


def test_a_change_prints_as_one_line_cut_to_the_terminal_or_as_json() -> None:
    change = _change(alarm_definition(CDK_ALARM))

    line = alarm_line(change, width=60)
    assert len(line) == 60 and "\n" not in line
    assert re.match(r"\d\d:\d\d:\d\d ALARM\s+crudops-create-dlq-not-empty  Th", line)
    assert alarm_line(change, width=500).endswith("the threshold (0)")
    document = alarm_json(change)
    assert {k: document[k] for k in ("type", "alarm", "state", "previous")} == {
        "type": "alarm", "alarm": "crudops-create-dlq-not-empty", "state": "ALARM",
        "previous": "OK"}
