"""The embedded AWS server applies each DynamoDB item write as one step, as DynamoDB
does: concurrent conditional `ADD`s on one counter lose none (ADR 0029), which the
per-connection subscription limit relies on."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
from botocore.exceptions import ClientError

from benchmarks.sqs_depth import running_server
from benchmarks.subscription_writes import create_subscriptions_table
from functions.domain.subscriptions import counter_key

THREADS = 8
ADDS_PER_THREAD = 150


def _client(endpoint: str) -> Any:
    return boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local",
                                 region_name="us-east-1").client("dynamodb", endpoint_url=endpoint)


def test_concurrent_conditional_adds_on_one_item_lose_none() -> None:
    limit = THREADS * ADDS_PER_THREAD - 100  # some of them must be refused
    with running_server("patched") as server:
        create_subscriptions_table(_client(server.endpoint), "counters")

        def add_many(_: int) -> int:
            client, refused = _client(server.endpoint), 0
            for _n in range(ADDS_PER_THREAD):
                try:
                    client.update_item(
                        TableName="counters", Key=counter_key("c"),
                        UpdateExpression="ADD #live :one",
                        ConditionExpression="attribute_not_exists(#live) OR #live < :limit",
                        ExpressionAttributeNames={"#live": "live"},
                        ExpressionAttributeValues={":one": {"N": "1"},
                                                   ":limit": {"N": str(limit)}})
                except ClientError as exc:
                    assert exc.response["Error"]["Code"] == "ConditionalCheckFailedException"
                    refused += 1
            return refused

        with ThreadPoolExecutor(THREADS) as pool:
            refused = sum(pool.map(add_many, range(THREADS)))
        item = _client(server.endpoint).get_item(TableName="counters", Key=counter_key("c"),
                                                 ConsistentRead=True)["Item"]

    # THEN the counter stopped exactly at the limit and every refusal is accounted for
    assert int(item["live"]["N"]) == limit
    assert refused == THREADS * ADDS_PER_THREAD - limit
