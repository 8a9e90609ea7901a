"""The benchmark's (a) makes every call it counts, on the template's own resources."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from benchmarks.emulator_budget import measure_budget, physical_ref
from crudops_local.aws.endpoint import AwsEndpoint
from crudops_local.cloudformation.provision import Provisioned, provision
from crudops_local.cloudformation.template import Pseudo, Template
from tests.support.moto_server import running_moto_server

REGION = "us-east-1"


@pytest.fixture
def provisioned(crudops_template: Template) -> Iterator[tuple[AwsEndpoint, Provisioned]]:
    # Its own server: the budget fills tables and drains queues other tests read.
    with running_moto_server() as endpoint:
        aws = AwsEndpoint(endpoint, REGION)
        yield aws, provision(crudops_template, aws, Pseudo(region=REGION))


def _count(dynamodb: Any, table: str) -> int:
    return int(dynamodb.scan(TableName=table, Select="COUNT")["Count"])


def test_each_request_is_published_subscribed_applied_and_notified(
        crudops_template: Template, provisioned: tuple[AwsEndpoint, Provisioned]) -> None:
    aws, resources = provisioned
    result = measure_budget(crudops_template, resources, aws, requests=25, rounds=2)

    assert result.requests_per_round == 20  # whole batches of 10
    assert len(result.rounds) == 2 and result.requests_per_second > 0
    dynamodb, sqs = aws.client("dynamodb"), aws.client("sqs")

    def ref(prefix: str, kind: str) -> str:
        return physical_ref(crudops_template, resources, prefix, kind)

    table = "AWS::DynamoDB::Table"
    assert _count(dynamodb, ref("StorageItems", table)) == 40
    assert _count(dynamodb, ref("StorageOutcomes", table)) == 40
    assert _count(dynamodb, ref("StorageSubscriptions", table)) == 40
    for queue in ("MessagingCreateConsumerQueue", "MessagingNotificationsQueue"):
        attributes = sqs.get_queue_attributes(
            QueueUrl=ref(queue, "AWS::SQS::Queue"), AttributeNames=["All"])["Attributes"]
        assert attributes["ApproximateNumberOfMessages"] == "0"
        assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
