"""Integration fixtures: the request path in moto's in-process emulation."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from functions import runtime
from functions.settings import EnvVar
from tests.integration import topology as topology_module
from tests.integration.topology import Topology

# Two callers' subs, as the authorizers would hand them over.
OWNER_A = "8f2b6c1e-4a7d-4e0b-9c3f-1d5e7a9b2c4d"
OWNER_B = "2d4f6a8c-0b1e-4c3d-8e5f-7a9b1c3d5e7f"


@dataclass
class Aws:
    sqs: Any
    sns: Any
    dynamodb: Any
    topology: Topology

    def publish_command(self, operation: str, **fields: Any) -> str:
        """Publish a command as the REST API's mapping template does (by OWNER_A
        unless `owner=` says otherwise)."""
        request_id = fields.pop("requestId", str(uuid.uuid4()))
        command = {
            "requestId": request_id,
            "operation": operation,
            "owner": OWNER_A,
            "itemId": "",
            "submittedAt": int(time.time() * 1000),
            "idempotencyKey": "",
            "payload": None,
            **fields,
        }
        self.sns.publish(
            TopicArn=self.topology.topic_arn,
            Message=json.dumps(command),
            MessageAttributes={"operation": {"DataType": "String", "StringValue": operation}},
        )
        return request_id

    def queue(self, name: str) -> str:
        return self.topology.queue_urls[name]

    def dlq(self, name: str) -> str:
        return self.topology.dlq_urls[name]

    def notifications(self) -> list[dict[str, Any]]:
        """Receive and delete everything on the notifications queue."""
        found: list[dict[str, Any]] = []
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=self.queue("notifications"), MaxNumberOfMessages=10
            ).get("Messages", [])
            if not messages:
                return found
            for message in messages:
                found.append(json.loads(message["Body"]))
                self.sqs.delete_message(
                    QueueUrl=self.queue("notifications"), ReceiptHandle=message["ReceiptHandle"]
                )

    def depth(self, queue_url: str) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=queue_url,
            AttributeNames=["All"],
        )["Attributes"]
        return sum(
            int(attributes.get(name, 0))
            for name in (
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            )
        )

    def items(self) -> list[dict[str, Any]]:
        return list(self.dynamodb.scan(TableName=self.topology.items_table)["Items"])

    def outcome_count(self) -> int:
        return int(self.dynamodb.scan(TableName=self.topology.outcomes_table)["Count"])


@dataclass
class RecordingConnections:
    """Stands in for API Gateway's management API: records posts, 410 for gone ids."""

    gone: set[str] = field(default_factory=set)
    failing: set[str] = field(default_factory=set)
    posts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    lookups: list[str] = field(default_factory=list)  # GetConnection of open ones

    def post_to_connection(self, ConnectionId: str, Data: bytes) -> dict[str, Any]:
        if ConnectionId in self.gone:
            raise ClientError(
                {"Error": {"Code": "GoneException", "Message": "gone"},
                 "ResponseMetadata": {"HTTPStatusCode": 410}},
                "PostToConnection",
            )
        if ConnectionId in self.failing:
            raise ClientError(
                {"Error": {"Code": "InternalServerErrorException", "Message": "boom"},
                 "ResponseMetadata": {"HTTPStatusCode": 500}},
                "PostToConnection",
            )
        self.posts.append((ConnectionId, json.loads(Data)))
        return {}

    def get_connection(self, ConnectionId: str) -> dict[str, Any]:
        if ConnectionId in self.gone:
            raise ClientError(
                {"Error": {"Code": "GoneException", "Message": "gone"},
                 "ResponseMetadata": {"HTTPStatusCode": 410}},
                "GetConnection",
            )
        self.lookups.append(ConnectionId)
        return {"ConnectedAt": "2026-12-01T00:00:00Z", "Identity": {"SourceIp": "127.0.0.1"}}

    def messages_to(self, connection_id: str) -> list[dict[str, Any]]:
        return [message for connection, message in self.posts if connection == connection_id]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    with mock_aws():
        region = "us-east-1"
        sqs = boto3.client("sqs", region_name=region)
        sns = boto3.client("sns", region_name=region)
        dynamodb = boto3.client("dynamodb", region_name=region)
        built = topology_module.build(sqs, sns, dynamodb)
        environment = {
            EnvVar.ITEMS_TABLE: built.items_table,
            EnvVar.OUTCOMES_TABLE: built.outcomes_table,
            EnvVar.SUBSCRIPTIONS_TABLE: built.subscriptions_table,
            EnvVar.NOTIFICATIONS_QUEUE_URL: built.queue_urls["notifications"],
            EnvVar.WEBSOCKET_CALLBACK_URL: "https://abcdef1234.execute-api.us-east-1.amazonaws.com/prod",
            EnvVar.MAX_RECEIVE_COUNT: str(topology_module.MAX_RECEIVE_COUNT),
        }
        for name, value in environment.items():
            monkeypatch.setenv(name.value, value)
        runtime.reset()
        yield Aws(sqs, sns, dynamodb, built)
        runtime.reset()


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> RecordingConnections:
    recording = RecordingConnections()
    monkeypatch.setattr(runtime, "management_api", lambda: recording)
    return recording
