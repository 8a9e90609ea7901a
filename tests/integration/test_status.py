"""`do_status` against moto: a deployed stack (CloudFormation in `mock_aws`) and a
local stack (a `ThreadedMotoServer` on 127.0.0.1 named in a local-stack.json)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.support.moto_server import running_moto_server
from tools.status import do_status

REGION = "us-east-1"
TEMPLATE = {
    "Resources": {
        "WorkDlq": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "work-dlq"}},
        "Work": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": "work",
                "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["WorkDlq", "Arn"]},
                                  "maxReceiveCount": 5},
            },
        },
    }
}


@pytest.fixture
def deployed() -> Iterator[dict[str, Any]]:
    with mock_aws():
        boto3.client("cloudformation", region_name=REGION).create_stack(
            StackName="Crudops", TemplateBody=json.dumps(TEMPLATE))
        sqs = boto3.client("sqs", region_name=REGION)
        cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        # moto's CloudFormation cannot create alarms; the stack's alarm is put directly,
        # which is all `status` sees of it anyway (it finds alarms by the stack's name);
        # another stack's alarm is not this one's.
        cloudwatch.put_metric_alarm(
            AlarmName="Crudops-work-queue-depth-high", Namespace="AWS/SQS",
            MetricName="ApproximateNumberOfMessagesVisible",
            Dimensions=[{"Name": "QueueName", "Value": "work"}], Statistic="Maximum",
            Period=300, EvaluationPeriods=1, Threshold=1000,
            ComparisonOperator="GreaterThanThreshold")
        cloudwatch.put_metric_alarm(
            AlarmName="Staging-work-queue-depth-high", Namespace="AWS/SQS", MetricName="X",
            Statistic="Maximum", Period=300, EvaluationPeriods=1, Threshold=1,
            ComparisonOperator="GreaterThanThreshold")
        yield {"sqs": sqs, "cloudwatch": cloudwatch,
               "dlq_url": sqs.get_queue_url(QueueName="work-dlq")["QueueUrl"],
               "work_url": sqs.get_queue_url(QueueName="work")["QueueUrl"]}


def test_deployed_stack_all_clear(deployed: dict[str, Any]) -> None:
    # GIVEN a stack whose queues are empty and whose alarm is OK
    report = do_status(stack="Crudops", region=REGION)
    # THEN both queues are found, the one named by a RedrivePolicy is the DLQ
    assert [(q.name, q.is_dlq) for q in report.queues] == [("work", False), ("work-dlq", True)]
    assert [a.name for a in report.alarms] == ["Crudops-work-queue-depth-high"]
    assert report.exit_code == 0


def test_deployed_stack_with_a_dlq_message_and_an_alarm_exits_1(
    deployed: dict[str, Any],
) -> None:
    # GIVEN a message in the work queue and one in its DLQ, and the alarm in ALARM
    deployed["sqs"].send_message(QueueUrl=deployed["work_url"], MessageBody="{}")
    deployed["sqs"].send_message(QueueUrl=deployed["dlq_url"], MessageBody="{}")
    deployed["cloudwatch"].set_alarm_state(
        AlarmName="Crudops-work-queue-depth-high", StateValue="ALARM", StateReason="test")
    # WHEN the status is read
    report = do_status(stack="Crudops", region=REGION)
    # THEN depth is read without receiving, and both problems are reported
    depth = {q.name: q.visible for q in report.queues}
    assert depth == {"work": 1, "work-dlq": 1}
    assert report.problems == ["DLQ work-dlq holds 1 message(s)",
                               "alarm Crudops-work-queue-depth-high is in ALARM"]
    assert report.exit_code == 1
    # Reading the status did not count as a receive.
    attributes = deployed["sqs"].receive_message(
        QueueUrl=deployed["dlq_url"], AttributeNames=["ApproximateReceiveCount"]
    )["Messages"][0]["Attributes"]
    assert attributes["ApproximateReceiveCount"] == "1"


def test_unknown_stack_is_a_user_error(deployed: dict[str, Any]) -> None:
    from tools.errors import UserError

    with pytest.raises(UserError, match="does not exist"):
        do_status(stack="NoSuchStack", region=REGION)


@pytest.fixture
def local_endpoint() -> Iterator[str]:
    with running_moto_server() as endpoint:
        yield endpoint


def test_local_stack_reports_depth_and_says_age_is_not_available(
    local_endpoint: str, tmp_path: Path
) -> None:
    # GIVEN a local stack (queues in the emulator) described in local-stack.json
    sqs = boto3.client("sqs", region_name=REGION, endpoint_url=local_endpoint,
                       aws_access_key_id="x", aws_secret_access_key="x")
    dlq_url = sqs.create_queue(QueueName="local-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    work_url = sqs.create_queue(QueueName="local-work", Attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"})})["QueueUrl"]
    sqs.send_message(QueueUrl=dlq_url, MessageBody="parked")
    state = tmp_path / "local-stack.json"
    state.write_text(json.dumps({
        "rest_url": "http://127.0.0.1:1/v1", "ws_url": "ws://127.0.0.1:1/live",
        "aws_endpoint": local_endpoint, "log_dir": str(tmp_path), "stack": "Crudops",
        "region": REGION, "account_id": "123456789012", "template": "t.json", "pid": 1,
        "resources": {
            "Dlq": {"type": "AWS::SQS::Queue", "ref": dlq_url,
                    "attributes": {"Arn": dlq_arn, "QueueUrl": dlq_url}},
            "Work": {"type": "AWS::SQS::Queue", "ref": work_url, "attributes": {}},
            "Fn": {"type": "AWS::Lambda::Function", "ref": "Crudops-Fn", "attributes": {}},
        },
    }))
    # WHEN the status is read from the file
    report = do_status(local=True, local_state_file=state)
    # THEN depth comes from the emulator; age and errors are n/a, with the reason
    assert [(q.logical_id, q.is_dlq, q.visible) for q in report.queues] == [
        ("Work", False, 0), ("Dlq", True, 1)]
    assert all(q.oldest_age_seconds is None and "n/a" in q.age_note for q in report.queues)
    assert [(f.name, f.errors) for f in report.functions] == [("Crudops-Fn", None)]
    assert report.exit_code == 1


def test_local_stack_that_stopped_is_a_user_error(tmp_path: Path) -> None:
    from tools.errors import UserError

    state = tmp_path / "local-stack.json"
    state.write_text(json.dumps({
        "aws_endpoint": "http://127.0.0.1:9", "region": REGION, "stack": "Crudops",
        "resources": {"Q": {"type": "AWS::SQS::Queue",
                            "ref": "http://127.0.0.1:9/123456789012/q", "attributes": {}}},
    }))
    with pytest.raises(UserError) as caught:
        do_status(local=True, local_state_file=state)
    assert "crudops local up" in caught.value.hint


def test_failed_records_are_summed_per_function_whatever_the_service_name() -> None:
    """Partial batch failures leave Lambda's Errors at 0; status reads FailedRecords."""
    from datetime import UTC, datetime, timedelta

    from tools.status import failed_records

    with mock_aws():
        cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        now = datetime.now(UTC)
        # GIVEN failed records of two functions, under two service names
        for function, service, value in (("create", "crudops", 1), ("create", "crudops", 1),
                                         ("create", "other", 3), ("notify", "crudops", 7)):
            cloudwatch.put_metric_data(Namespace="Crudops", MetricData=[{
                "MetricName": "FailedRecords", "Value": value, "Unit": "Count",
                "Timestamp": now - timedelta(minutes=1),
                "Dimensions": [{"Name": "function", "Value": function},
                               {"Name": "service", "Value": service}]}])
        window = {"start": now - timedelta(minutes=15), "end": now + timedelta(minutes=1)}
        # THEN each function's sum counts only its own, from every service
        assert failed_records(cloudwatch, "create", **window) == 5
        assert failed_records(cloudwatch, "notify", **window) == 7
        assert failed_records(cloudwatch, "read", **window) == 0
