"""`crudops trace --stack`: the deployed path, against moto where moto can and a
botocore Stubber for X-Ray's annotation search (moto rejects filter expressions)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws

from tools.trace import do_trace

REQUEST_ID = "0b6c3f0e-1111-4c1b-9b7e-3c1d2e4f5a6b"
TRACE_ID = "1-6743a000-0123456789abcdef01234567"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
STACK_TEMPLATE = {
    "Resources": {
        "StorageOutcomesTable": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "TableName": "crudops-outcomes",
                "BillingMode": "PAY_PER_REQUEST",
                "KeySchema": [{"AttributeName": "requestId", "KeyType": "HASH"},
                              {"AttributeName": "owner", "KeyType": "RANGE"}],
                "AttributeDefinitions": [{"AttributeName": "requestId", "AttributeType": "S"},
                                         {"AttributeName": "owner", "AttributeType": "S"}],
            },
        },
        "WorkersCreateLogs": {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"LogGroupName": "/aws/lambda/crudops-create"},
        },
    }
}


def _segment(name: str, start: float, end: float, **extra: Any) -> dict[str, Any]:
    return {
        "Id": name,
        "Document": json.dumps(
            {
                "trace_id": TRACE_ID,
                "id": name,
                "name": name,
                "start_time": start,
                "end_time": end,
                **extra,
            }
        ),
    }


@pytest.fixture
def deployed() -> Iterator[dict[str, Any]]:
    with mock_aws():
        region = "us-east-1"
        boto3.client("cloudformation", region_name=region).create_stack(
            StackName="Crudops", TemplateBody=json.dumps(STACK_TEMPLATE)
        )
        dynamodb = boto3.client("dynamodb", region_name=region)
        dynamodb.put_item(
            TableName="crudops-outcomes",
            Item={
                "requestId": {"S": REQUEST_ID},
                # An operator knows no owner: trace finds the outcome whoever's it is.
                "owner": {"S": "a-caller-sub"},
                "document": {"S": json.dumps({"requestId": REQUEST_ID, "status": "success"})},
            },
        )
        logs = boto3.client("logs", region_name=region)
        logs.create_log_stream(logGroupName="/aws/lambda/crudops-create", logStreamName="s")
        logs.put_log_events(
            logGroupName="/aws/lambda/crudops-create",
            logStreamName="s",
            logEvents=[
                {
                    "timestamp": int(NOW.timestamp() * 1000) - 1000,
                    "message": f'{{"correlation_id": "{REQUEST_ID}"}}',
                },
                {"timestamp": int(NOW.timestamp() * 1000) - 1000, "message": "unrelated"},
            ],
        )
        xray = boto3.client("xray", region_name=region)
        with Stubber(xray) as stub:
            stub.add_response(
                "get_trace_summaries",
                {"TraceSummaries": [{"Id": TRACE_ID}]},
                {
                    "StartTime": ANY,
                    "EndTime": ANY,
                    "FilterExpression": f'annotation.requestId = "{REQUEST_ID}"',
                },
            )
            stub.add_response(
                "batch_get_traces",
                {
                    "Traces": [
                        {
                            "Id": TRACE_ID,
                            "Segments": [
                                _segment(
                                    "crudops-create",
                                    100.0,
                                    100.2,
                                    origin="AWS::Lambda::Function",
                                    subsegments=[
                                        {
                                            "id": "send",
                                            "name": "SQS",
                                            "start_time": 100.1,
                                            "end_time": 100.15,
                                            "aws": {"operation": "SendMessage"},
                                            "annotations": {"requestId": REQUEST_ID},
                                        }
                                    ],
                                ),
                                _segment(
                                    "crudops-notify", 100.5, 100.6, origin="AWS::Lambda::Function"
                                ),
                            ],
                        }
                    ]
                },
                {"TraceIds": [TRACE_ID]},
            )
            clients = {
                "dynamodb": dynamodb,
                "logs": logs,
                "xray": xray,
                "lambda": boto3.client("lambda", region_name=region),
                "cloudformation": boto3.client("cloudformation", region_name=region),
            }
            yield clients
            stub.assert_no_pending_responses()


def test_trace_of_a_deployed_stack_joins_outcome_spans_and_logs(
    deployed: dict[str, Any],
) -> None:
    report = do_trace(REQUEST_ID, stack="Crudops", clients=deployed.__getitem__, now=lambda: NOW)

    assert report.outcome == {"requestId": REQUEST_ID, "status": "success"}
    assert report.trace_ids == [TRACE_ID]
    names = [span.name for span in report.spans]
    # The queue wait sits between the producer's SendMessage and Notify's invocation.
    assert names == ["crudops-create", "SQS", "queue wait", "crudops-notify"]
    assert [(line.source, line.text) for line in report.logs] == [
        ("/aws/lambda/crudops-create", f'{{"correlation_id": "{REQUEST_ID}"}}')
    ]
