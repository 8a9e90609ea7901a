"""The pure parts of local telemetry: EMF, the daemon protocol, trace headers, alarm
evaluation, queue age, and `crudops trace`'s ordering of spans."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from crudops_local.cloudwatch.alarms import (
    ALARM,
    INSUFFICIENT_DATA,
    OK,
    AlarmDefinition,
    UnsupportedAlarmError,
    alarm_definition,
    evaluate,
)
from crudops_local.cloudwatch.metrics import QueueAgeTracker, parse_emf, percentile
from crudops_local.xray.daemon import (
    MAX_DOCUMENTS_PER_CALL,
    SegmentParseError,
    TraceHeader,
    XRayDaemon,
    annotation_values,
    encode_datagram,
    function_segment,
    invocation_trace,
    parse_datagram,
)
from crudops_local.xray.index import TraceIndex
from tests.support.waiting import wait_until
from tools.trace import Span, flatten, with_queue_waits

POWERTOOLS_EMF = {
    "_aws": {"Timestamp": 1_795_000_000_123, "CloudWatchMetrics": [{
        "Namespace": "Crudops", "Dimensions": [["service", "operation"]],
        "Metrics": [{"Name": "EndToEndAge", "Unit": "Milliseconds"},
                    {"Name": "CommandSucceeded", "Unit": "Count"}]}]},
    "service": "crudops", "operation": "create", "EndToEndAge": [120, 80],
    "CommandSucceeded": 1,
}


# --- EMF --------------------------------------------------------------------------------
def test_an_emf_document_becomes_one_datum_per_value_with_its_dimensions() -> None:
    datums = parse_emf(json.dumps(POWERTOOLS_EMF))
    assert [(d.name, d.value, d.unit) for d in datums] == [
        ("EndToEndAge", 120.0, "Milliseconds"), ("EndToEndAge", 80.0, "Milliseconds"),
        ("CommandSucceeded", 1.0, "Count")]
    assert {d.namespace for d in datums} == {"Crudops"}
    assert {d.dimensions for d in datums} == {(("service", "crudops"), ("operation", "create"))}
    assert datums[0].timestamp == pytest.approx(1_795_000_000.123)


def test_every_dimension_set_gets_its_own_datum() -> None:
    document = {**POWERTOOLS_EMF, "_aws": {**POWERTOOLS_EMF["_aws"], "CloudWatchMetrics": [{
        "Namespace": "Crudops", "Dimensions": [["service"], []],
        "Metrics": [{"Name": "CommandSucceeded"}]}]}}
    datums = parse_emf(json.dumps(document))
    assert [d.dimensions for d in datums] == [(("service", "crudops"),), ()]
    assert datums[0].unit == "None"


@pytest.mark.parametrize("line", [
    "", "Traceback (most recent call last):", '{"level":"INFO","message":"x"}',
    '{"_aws": {"Timestamp": 1}}', '{"_aws": "x"', json.dumps({"_aws": {
        "Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "N", "Dimensions": [["missing"]],
                                               "Metrics": [{"Name": "M"}]}]}, "M": 1}),
])
def test_lines_that_are_not_valid_emf_give_no_datum(line: str) -> None:
    assert parse_emf(line) == []


def test_percentile_is_nearest_rank() -> None:
    assert percentile([5, 1, 3, 2, 4], 50) == 3
    assert percentile(list(range(1, 101)), 99) == 99
    assert percentile([7.0], 99) == 7.0


# --- the daemon protocol and trace headers -------------------------------------------------
def test_a_datagram_round_trips() -> None:
    document = {"trace_id": "1-5759e988-bd862e3fe1be46a994272793", "id": "53995c3f42cd8ad8",
                "name": "x", "annotations": {"requestId": "r1"}}
    assert parse_datagram(encode_datagram(document)) == document


@pytest.mark.parametrize("data", [
    b'{"trace_id": "1", "id": "2"}', b'{"format":"json","version":1}\nnot json',
    b'{"format":"xml"}\n{"trace_id": "1", "id": "2"}', b'{"format":"json"}\n[1]',
    b'{"format":"json"}\n{"id": "2"}', b"\xff\xfe",
])
def test_malformed_datagrams_are_rejected(data: bytes) -> None:
    with pytest.raises(SegmentParseError):
        parse_datagram(data)


class _RecordingXRay:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def put_trace_segments(self, TraceSegmentDocuments: list[str]) -> dict[str, Any]:
        self.calls.append(TraceSegmentDocuments)
        return {"UnprocessedTraceSegments": []}


def _documents(count: int) -> list[dict[str, Any]]:
    return [{"trace_id": "1-5759e988-bd862e3fe1be46a994272793", "id": f"{n:016x}",
             "name": "x"} for n in range(count)]


def test_a_full_batch_goes_out_at_once_and_stop_flushes_the_rest(tmp_path: Path) -> None:
    xray = _RecordingXRay()
    daemon = XRayDaemon(xray, TraceIndex(tmp_path / "index.jsonl"), flush_seconds=30)
    daemon.start()
    try:
        for document in _documents(MAX_DOCUMENTS_PER_CALL + 5):
            daemon.submit(document)
        wait_until(lambda: len(xray.calls), lambda n: n >= 1, timeout=10,
                   describe="the full batch uploaded")
    finally:
        daemon.stop()  # without waiting out the 30 s interval
    assert [len(call) for call in xray.calls] == [MAX_DOCUMENTS_PER_CALL, 5]
    assert daemon.forwarded == MAX_DOCUMENTS_PER_CALL + 5


def test_documents_arriving_within_the_interval_share_one_upload(tmp_path: Path) -> None:
    xray = _RecordingXRay()
    daemon = XRayDaemon(xray, TraceIndex(tmp_path / "index.jsonl"), flush_seconds=30)
    daemon.start()
    first, *later = _documents(3)
    try:
        daemon.submit(first)
        # the forwarder has taken the first document and is holding it for company
        wait_until(lambda: daemon._queue.qsize(), lambda n: n == 0, timeout=10,
                   describe="the first document taken")
        for document in later:
            daemon.submit(document)
    finally:
        daemon.stop()
    assert [len(call) for call in xray.calls] == [3]


def test_annotations_are_found_in_nested_subsegments() -> None:
    document = {"id": "a", "trace_id": "t", "annotations": {"requestId": "r1"},
                "subsegments": [{"id": "b", "subsegments": [
                    {"id": "c", "annotations": {"requestId": "r2", "other": 1}}]}]}
    assert annotation_values(document) == {"r1", "r2"}


def test_trace_headers_parse_and_print() -> None:
    text = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    header = TraceHeader.parse(text)
    assert header == TraceHeader("1-5759e988-bd862e3fe1be46a994272793", "53995c3f42cd8ad8")
    assert str(header) == text
    assert TraceHeader.parse("Parent=1;Sampled=1") is None
    assert TraceHeader.parse("Root=1-a-b;Sampled=0") == TraceHeader("1-a-b", None, False)


def test_an_invocation_continues_the_records_trace_or_starts_one() -> None:
    upstream = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    event: dict[str, Any] = {"Records": [{"attributes": {"AWSTraceHeader": upstream}}]}
    continued = invocation_trace(event)
    assert continued.header.root == "1-5759e988-bd862e3fe1be46a994272793"
    assert continued.upstream_parent == "53995c3f42cd8ad8"
    assert continued.header.parent and len(continued.header.parent) == 16
    fresh = invocation_trace({"Records": [{"attributes": {}}]})
    assert fresh.upstream_parent is None
    root = fresh.header.root.split("-")
    assert root[0] == "1" and len(root[1]) == 8 and len(root[2]) == 24


def test_the_function_segment_is_the_parent_the_sdk_was_given() -> None:
    trace = invocation_trace({})
    segment = function_segment(name="fn", arn="arn:fn", trace=trace, start=1.0, end=2.5,
                               request_id="r", error="ValueError: x")
    assert segment["id"] == trace.header.parent and segment["trace_id"] == trace.header.root
    assert segment["origin"] == "AWS::Lambda::Function" and segment["fault"] is True
    assert "parent_id" not in segment


# --- alarms ------------------------------------------------------------------------------------
def _alarm(**changes: Any) -> AlarmDefinition:
    fields: dict[str, Any] = dict(
        name="crudops-create-dlq-not-empty", description="", namespace="AWS/SQS",
        metric_name="ApproximateNumberOfMessagesVisible", dimensions=(("QueueName", "q"),),
        statistic="Maximum", period_seconds=300, evaluation_periods=3, datapoints_to_alarm=2,
        threshold=0.0, comparison="GreaterThanThreshold", treat_missing_data="missing")
    fields.update(changes)
    return AlarmDefinition(**fields)


@pytest.mark.parametrize(("values", "treat", "expected"), [
    ([0, 1, 1], "missing", ALARM),
    ([1, 0, 0], "missing", OK),
    ([None, 1, None], "missing", OK),  # one breaching of the two needed
    ([None, None, None], "missing", INSUFFICIENT_DATA),
    ([None, 1, None], "breaching", ALARM),
    ([None, 1, None], "notBreaching", OK),
    ([None, None, None], "notBreaching", OK),
    ([None, None, None], "ignore", ALARM),  # keeps the current state
])
def test_evaluation_honours_datapoints_to_alarm_and_missing_data(
        values: list[float | None], treat: str, expected: str) -> None:
    result = evaluate(values, _alarm(treat_missing_data=treat), current_state=ALARM)
    assert result.state == expected, result.reason


@pytest.mark.parametrize(("comparison", "value", "expected"), [
    ("GreaterThanThreshold", 5, OK), ("GreaterThanOrEqualToThreshold", 5, ALARM),
    ("LessThanThreshold", 4, ALARM), ("LessThanOrEqualToThreshold", 6, OK),
])
def test_every_comparison_operator(comparison: str, value: float, expected: str) -> None:
    alarm = _alarm(comparison=comparison, threshold=5, evaluation_periods=1,
                   datapoints_to_alarm=1)
    assert evaluate([value], alarm).state == expected


def test_an_alarm_is_read_from_the_template_form_cdk_emits() -> None:
    properties = {
        "AlarmName": "crudops-api-p99-latency-high", "AlarmDescription": "d",
        "ComparisonOperator": "GreaterThanThreshold", "DatapointsToAlarm": 3,
        "EvaluationPeriods": 3, "Threshold": 1000, "TreatMissingData": "notBreaching",
        "Metrics": [{"Id": "m1", "ReturnData": True, "MetricStat": {
            "Metric": {"Namespace": "AWS/ApiGateway", "MetricName": "Latency",
                       "Dimensions": [{"Name": "ApiName", "Value": "Api"}]},
            "Period": 300, "Stat": "p99"}}],
    }
    alarm = alarm_definition(properties)
    assert (alarm.namespace, alarm.metric_name, alarm.statistic, alarm.percentile) == (
        "AWS/ApiGateway", "Latency", "p99", 99.0)
    assert alarm.dimensions == (("ApiName", "Api"),) and alarm.treat_missing_data == "notBreaching"
    properties["Metrics"] = [{"Id": "e1", "Expression": "m1 + m2"}]
    with pytest.raises(UnsupportedAlarmError):
        alarm_definition(properties)


def test_a_single_metric_alarm_is_read_too() -> None:
    alarm = alarm_definition({
        "AlarmName": "a", "Namespace": "N", "MetricName": "M", "Statistic": "Sum",
        "Period": 60, "EvaluationPeriods": 1, "Threshold": 1,
        "ComparisonOperator": "GreaterThanThreshold"})
    assert (alarm.statistic, alarm.datapoints_to_alarm, alarm.treat_missing_data) == (
        "Sum", 1, "missing")


# --- queue age -------------------------------------------------------------------------------
def test_queue_age_follows_the_pollers_then_carries_forward() -> None:
    tracker = QueueAgeTracker()
    assert tracker.age("q", total=0, oldest_sent_seen=None, now=100) == 0
    assert tracker.age("q", total=3, oldest_sent_seen=90, now=100) == 10
    assert tracker.age("q", total=3, oldest_sent_seen=None, now=105) == 15
    assert tracker.age("q", total=0, oldest_sent_seen=None, now=106) == 0
    assert tracker.age("dlq", total=1, oldest_sent_seen=None, now=200) == 0
    assert tracker.age("dlq", total=1, oldest_sent_seen=None, now=260) == 60


# --- crudops trace ------------------------------------------------------------------------------
def _create_then_notify(notify_starts_at: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """Create's segment (its SendMessage from 10.3 to 10.4 s) and Notify's."""
    producer = {"id": "f1", "trace_id": "t", "name": "Create", "origin": "AWS::Lambda::Function",
                "start_time": 10.0, "end_time": 10.5, "subsegments": [
                    {"id": "s1", "name": "sqs", "namespace": "aws", "start_time": 10.3,
                     "end_time": 10.4, "aws": {"operation": "SendMessage"}}]}
    consumer = {"id": "f2", "trace_id": "t", "name": "Notify", "parent_id": "s1",
                "origin": "AWS::Lambda::Function", "start_time": notify_starts_at,
                "end_time": notify_starts_at + 0.2}
    return producer, consumer


def test_spans_are_flattened_ordered_and_queue_waits_inserted() -> None:
    producer, consumer = _create_then_notify(11.0)
    spans = with_queue_waits([*flatten(consumer), *flatten(producer)])
    assert [s.name for s in spans] == ["Create", "sqs", "queue wait", "Notify"]
    wait = spans[2]
    assert isinstance(wait, Span) and wait.duration_ms == pytest.approx(600.0)
    assert spans[1].parent_id == "f1"


def test_a_consumer_that_starts_before_the_send_returns_gets_a_zero_wait() -> None:
    # the poller was already waiting: Notify starts while Create's SendMessage call
    # has not yet seen its answer
    producer, consumer = _create_then_notify(10.35)
    spans = with_queue_waits([*flatten(producer), *flatten(consumer)])
    assert [s.name for s in spans] == ["Create", "sqs", "queue wait", "Notify"]
    assert spans[2].duration_ms == pytest.approx(0.0)
    # a function that started before any send of its trace waited on nothing
    assert [s.name for s in with_queue_waits(flatten(producer))] == ["Create", "sqs"]
