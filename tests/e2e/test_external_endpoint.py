"""`local up --aws-endpoint`: the same gateways, pollers and functions on an AWS
endpoint the stack did not start (here a separate, unpatched moto server standing in
for LocalStack or ElasticMQ)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest

from tests.e2e.conftest import Api, receive_notification
from tests.support.moto_server import running_moto_server
from tools.local.observability import ObservabilitySettings
from tools.local.stack import LocalStack, LocalStackOptions

pytestmark = pytest.mark.e2e


@pytest.fixture
def other_endpoint() -> Iterator[str]:
    with running_moto_server() as endpoint:
        yield endpoint


def test_the_stack_provisions_and_serves_on_another_endpoint(
        e2e_template: Path, other_endpoint: str, tmp_path: Path) -> None:
    options = LocalStackOptions(
        template=e2e_template, aws_endpoint=other_endpoint, log_dir=tmp_path / "logs",
        max_workers_per_function=1, max_pollers_per_mapping=1, state_file=None,
        observability=ObservabilitySettings(metrics=False, alarms=False))
    with LocalStack(options) as stack, httpx.Client(
            base_url=stack.endpoints.rest_url if stack.endpoints else "", timeout=30) as http:
        assert stack.endpoints is not None and stack.aws is not None
        assert stack.endpoints.aws_endpoint == other_endpoint
        # the caller's credentials (the default chain), not the embedded server's keys
        assert stack.aws.access_key_id == os.environ["AWS_ACCESS_KEY_ID"]
        api = Api(stack, http)
        with api.connect() as connection:
            request_id = api.submit("POST", "/items", json={"name": "elsewhere"})
            connection.send(json.dumps({"action": "subscribe", "requestId": request_id}))
            notification = receive_notification(connection, request_id)
        assert notification["status"] == "success"

        # everything lives in the other endpoint
        dynamodb = boto3.client("dynamodb", endpoint_url=other_endpoint, region_name="us-east-1")
        items_table = api.ref("StorageItems", "AWS::DynamoDB::Table")
        assert items_table in dynamodb.list_tables()["TableNames"]
        item = dynamodb.get_item(TableName=items_table,
                                 Key={"id": {"S": notification["result"]["id"]}})
        assert item["Item"]["name"]["S"] == "elsewhere"
