"""Local telemetry against a real moto server: the X-Ray daemon, EMF → CloudWatch,
alarm evaluation and trace propagation through SQS."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import boto3

from crudops_local.cloudwatch.alarm_actions import AlarmNotifier, AlarmOrigin
from crudops_local.cloudwatch.alarms import AlarmDefinition, AlarmEvaluator
from crudops_local.cloudwatch.metrics import Datum, MetricSink
from crudops_local.lambda_.event_source_mapping.poller import to_record
from crudops_local.telemetry import LocalObservability, ObservabilitySettings, WatchedQueue
from crudops_local.xray.daemon import (
    XRayDaemon,
    new_segment_id,
    new_trace_id,
    segments_of,
    send_datagrams,
    upstream_header,
)
from crudops_local.xray.index import TraceIndex, read_index
from functions.contracts.outcome import Outcome
from functions.domain.notifications import NotificationQueue
from tests.support.waiting import wait_until

REGION = "us-east-1"


def _client(endpoint: str, service: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id="local", aws_secret_access_key="local")


def test_the_daemon_forwards_segments_and_indexes_them_by_request_id(
        moto_endpoint: str, tmp_path: Path) -> None:
    xray = _client(moto_endpoint, "xray")
    daemon = XRayDaemon(xray, TraceIndex(tmp_path / "index.jsonl"))
    daemon.start()
    try:
        trace_id, now = new_trace_id(), time.time()
        parent = {"trace_id": trace_id, "id": new_segment_id(), "name": "Create",
                  "start_time": now, "end_time": now + 0.1}
        child = {"trace_id": trace_id, "id": new_segment_id(), "type": "subsegment",
                 "parent_id": parent["id"], "name": "## record_handler",
                 "start_time": now, "end_time": now + 0.05,
                 "annotations": {"requestId": "req-42", "operation": "create"}}
        send_datagrams(daemon.address, [parent, child])
        wait_until(lambda: read_index(tmp_path / "index.jsonl", "req-42"),
                   lambda ids: ids == [trace_id], timeout=10, describe="indexed trace")
        documents = wait_until(
            lambda: list(segments_of(xray.batch_get_traces(TraceIds=[trace_id])["Traces"])),
            lambda docs: len(docs) == 2, timeout=10, describe="segments in the endpoint")
        assert {d["id"] for d in documents} == {parent["id"], child["id"]}
        assert read_index(tmp_path / "index.jsonl", "other") == []
    finally:
        daemon.stop()


def test_emf_lines_and_queue_samples_become_cloudwatch_metrics(
        moto_endpoint: str, tmp_path: Path) -> None:
    sqs, cloudwatch = _client(moto_endpoint, "sqs"), _client(moto_endpoint, "cloudwatch")
    url = sqs.create_queue(QueueName="observed-queue")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="waiting")
    observability = LocalObservability(
        ObservabilitySettings(tracing=False, alarms=False),
        lambda service: _client(moto_endpoint, service), tmp_path)
    observability.start([WatchedQueue("observed-queue", url)], [])
    try:
        now_ms = int(time.time() * 1000)
        emf = {"_aws": {"Timestamp": now_ms, "CloudWatchMetrics": [{
            "Namespace": "CrudopsIntegration", "Dimensions": [["service"]],
            "Metrics": [{"Name": "CommandFailed", "Unit": "Count"}]}]},
            "service": "crudops", "CommandFailed": 3}
        (tmp_path / "fn.log").write_text('{"level":"INFO"}\nnot json\n' + json.dumps(emf) + "\n")
        assert observability.publish_once() > 0
    finally:
        observability.stop()

    def statistic(namespace: str, name: str, dimensions: list[dict[str, str]],
                  stat: str) -> list[float]:
        return [d[stat] for d in cloudwatch.get_metric_statistics(
            Namespace=namespace, MetricName=name, Dimensions=dimensions,
            StartTime=time.time() - 600, EndTime=time.time() + 60, Period=60,
            Statistics=[stat])["Datapoints"]]

    assert statistic("CrudopsIntegration", "CommandFailed",
                     [{"Name": "service", "Value": "crudops"}], "Sum") == [3.0]
    assert statistic("AWS/SQS", "ApproximateNumberOfMessagesVisible",
                     [{"Name": "QueueName", "Value": "observed-queue"}], "Maximum") == [1.0]


def test_an_alarm_goes_to_alarm_in_the_endpoint_when_its_metric_breaches(
        moto_endpoint: str) -> None:
    cloudwatch = _client(moto_endpoint, "cloudwatch")
    sink = MetricSink(cloudwatch)
    alarm = AlarmDefinition(
        name="integration-dlq-not-empty", description="Runbook: runbooks/dlq-not-empty.md",
        namespace="AWS/SQS", metric_name="ApproximateNumberOfMessagesVisible",
        dimensions=(("QueueName", "integration-dlq"),), statistic="Maximum",
        period_seconds=300, evaluation_periods=1, datapoints_to_alarm=1, threshold=0,
        comparison="GreaterThanThreshold", treat_missing_data="missing")
    evaluator = AlarmEvaluator(cloudwatch, sink, [alarm], period_seconds=30)
    evaluator.create()
    assert evaluator.evaluate_all() == {alarm.name: "INSUFFICIENT_DATA"}
    sink.put([Datum("AWS/SQS", "ApproximateNumberOfMessagesVisible",
                    (("QueueName", "integration-dlq"),), 2.0, "Count", time.time() - 1)])
    assert evaluator.evaluate_all() == {alarm.name: "ALARM"}
    (described,) = cloudwatch.describe_alarms(AlarmNames=[alarm.name],
                                              StateValue="ALARM")["MetricAlarms"]
    assert "local evaluation, period 30 s" in described["StateReason"]


def test_the_notification_carries_the_trace_header_to_the_consumer(moto_endpoint: str) -> None:
    sqs = _client(moto_endpoint, "sqs")
    url = sqs.create_queue(QueueName="traced-notifications")["QueueUrl"]
    header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    outcome = Outcome.from_json(json.dumps({
        "requestId": "req-7", "operation": "get", "status": "error",
        "error": {"code": "NOT_FOUND", "message": "no item"}}))
    NotificationQueue(sqs, url, trace_header=lambda: header).send(outcome, "owner-sub")
    (message,) = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
    event = {"Records": [to_record(message, "arn:aws:sqs:us-east-1:1:traced", REGION)]}
    upstream = upstream_header(event)
    assert upstream is not None and str(upstream) == header


def test_a_change_to_alarm_reaches_a_queue_subscribed_to_the_alarm_topic(
        moto_endpoint: str) -> None:
    # GIVEN an alarm topic with a queue subscribed, and an alarm notifying it
    sns, sqs = _client(moto_endpoint, "sns"), _client(moto_endpoint, "sqs")
    topic = sns.create_topic(Name="integration-alarms")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="integration-alarm-subscriber")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    cloudwatch = _client(moto_endpoint, "cloudwatch")
    sink = MetricSink(cloudwatch)
    alarm = AlarmDefinition(
        name="integration-actions-dlq-not-empty", description="Runbook: runbooks/x.md",
        namespace="AWS/SQS", metric_name="ApproximateNumberOfMessagesVisible",
        dimensions=(("QueueName", "integration-actions-dlq"),), statistic="Maximum",
        period_seconds=300, evaluation_periods=1, datapoints_to_alarm=1, threshold=0,
        comparison="GreaterThanThreshold", treat_missing_data="notBreaching",
        alarm_actions=(topic,), ok_actions=(topic,))
    notifier = AlarmNotifier(sns, AlarmOrigin("123456789012", REGION), time.time())
    evaluator = AlarmEvaluator(cloudwatch, sink, [alarm], period_seconds=30,
                               on_change=[notifier])
    evaluator.create()

    # WHEN its metric breaches
    sink.put([Datum("AWS/SQS", "ApproximateNumberOfMessagesVisible",
                    (("QueueName", "integration-actions-dlq"),), 4.0, "Count", time.time() - 1)])
    assert evaluator.evaluate_all() == {alarm.name: "ALARM"}

    # THEN the subscriber gets CloudWatch's notification in SNS's envelope
    def received() -> list[dict[str, Any]]:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                       WaitTimeSeconds=1).get("Messages", [])
        return [json.loads(m["Body"]) for m in messages]

    (envelope,) = wait_until(received, lambda found: bool(found), timeout=30,
                             describe="the alarm notification in the subscriber queue")
    assert envelope["Subject"] == (
        'ALARM: "integration-actions-dlq-not-empty" in US East (N. Virginia)')
    message = json.loads(envelope["Message"])
    assert (message["AlarmName"], message["NewStateValue"], message["OldStateValue"]) == (
        alarm.name, "ALARM", "INSUFFICIENT_DATA")
    assert message["Trigger"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert message["AlarmArn"].endswith(":alarm:integration-actions-dlq-not-empty")
