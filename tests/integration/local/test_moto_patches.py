"""The embedded server's speed patches keep moto's transaction semantics."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tools.local import moto_patches


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    moto_patches.apply()
    try:
        with mock_aws():
            client = boto3.client("dynamodb", region_name="us-east-1")
            for name in ("items", "outcomes"):
                client.create_table(
                    TableName=name, BillingMode="PAY_PER_REQUEST",
                    KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                    AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                )
            yield client
    finally:
        moto_patches.revert()


def _put(table: str, item_id: str, value: str, condition: str | None = None) -> dict[str, Any]:
    put: dict[str, Any] = {"TableName": table,
                           "Item": {"id": {"S": item_id}, "v": {"S": value}}}
    if condition:
        put["ConditionExpression"] = condition
    return {"Put": put}


def _value(client: Any, table: str, item_id: str) -> str | None:
    item = client.get_item(TableName=table, Key={"id": {"S": item_id}}).get("Item")
    return item["v"]["S"] if item else None


def test_tables_are_no_longer_deep_copied_per_transaction(dynamodb: Any) -> None:
    import moto.dynamodb.models as models
    from moto.dynamodb.models.table import Table

    table = next(iter(models.dynamodb_backends["123456789012"]["us-east-1"].tables.values()))
    assert isinstance(table, Table)
    assert models.copy.deepcopy(table) is table  # type: ignore[attr-defined]
    assert models.copy.deepcopy({"a": [1]}) == {"a": [1]}  # type: ignore[attr-defined]


def test_a_successful_transaction_writes_every_item(dynamodb: Any) -> None:
    dynamodb.transact_write_items(TransactItems=[
        _put("items", "i1", "new", "attribute_not_exists(id)"),
        _put("outcomes", "r1", "done", "attribute_not_exists(id)"),
    ])
    assert _value(dynamodb, "items", "i1") == "new"
    assert _value(dynamodb, "outcomes", "r1") == "done"


def test_a_cancelled_transaction_leaves_every_item_as_it_was(dynamodb: Any) -> None:
    # GIVEN an existing item and an outcome that already exists (a redelivery)
    dynamodb.put_item(TableName="items", Item={"id": {"S": "old"}, "v": {"S": "before"}})
    dynamodb.put_item(TableName="outcomes", Item={"id": {"S": "r1"}, "v": {"S": "stored"}})

    with pytest.raises(ClientError) as raised:
        dynamodb.transact_write_items(TransactItems=[
            _put("items", "old", "after"),                       # applied, then undone
            _put("items", "fresh", "created"),                   # applied, then undone
            _put("outcomes", "r1", "twice", "attribute_not_exists(id)"),  # fails
        ])

    error = raised.value.response
    assert error["Error"]["Code"] == "TransactionCanceledException"
    assert [r["Code"] for r in error["CancellationReasons"]] == [
        "None", "None", "ConditionalCheckFailed"]
    assert _value(dynamodb, "items", "old") == "before"
    assert _value(dynamodb, "items", "fresh") is None
    assert _value(dynamodb, "outcomes", "r1") == "stored"


def test_two_operations_on_one_item_are_refused_and_change_nothing(dynamodb: Any) -> None:
    with pytest.raises(ClientError):
        dynamodb.transact_write_items(TransactItems=[
            _put("items", "same", "a"), _put("items", "same", "b")])
    assert _value(dynamodb, "items", "same") is None


def test_the_sqs_clock_still_honours_delays() -> None:
    moto_patches.apply()
    try:
        with mock_aws():
            sqs = boto3.client("sqs", region_name="us-east-1")
            url = sqs.create_queue(QueueName="q")["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
            sqs.send_message(QueueUrl=url, MessageBody="now")
            bodies = [m["Body"] for m in sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])]
            assert bodies == ["now"]
    finally:
        moto_patches.revert()
