"""The embedded server's speed patches keep moto's transaction semantics."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tests.support.isolated_moto import moto_patched


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with moto_patched(), mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        for name in ("items", "outcomes"):
            client.create_table(
                TableName=name, BillingMode="PAY_PER_REQUEST",
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            )
        yield client


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
    with moto_patched(), mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
        sqs.send_message(QueueUrl=url, MessageBody="now")
        bodies = [m["Body"] for m in sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])]
        assert bodies == ["now"]


def test_the_server_routes_each_host_as_before_and_looks_it_up_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import moto.backends
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    hosts = ["sqs.us-east-1.amazonaws.com", "dynamodb", "sns.eu-west-1.amazonaws.com",
             "monitoring.us-east-1.amazonaws.com", "moto_api", None]
    unpatched = DomainDispatcherApplication(create_backend_app)
    expected = [unpatched.get_backend_for_host(host) for host in hosts]
    assert expected[:4] == ["sqs", "dynamodb", "sns", "cloudwatch"]

    listings: list[int] = []
    real_listing = moto.backends.list_of_moto_modules
    monkeypatch.setattr(moto.backends, "list_of_moto_modules",
                        lambda: listings.append(1) or real_listing())
    with moto_patched():
        dispatcher = DomainDispatcherApplication(create_backend_app)
        assert [dispatcher.get_backend_for_host(host) for host in hosts] == expected
        looked_up = len(listings)
        assert [dispatcher.get_backend_for_host(host) for host in hosts] == expected
        assert len(listings) == looked_up  # answered from memory the second time


def _query_answers(client: Any) -> list[Any]:
    """The same queries, answered by whichever moto is active."""
    client.create_table(
        TableName="subscriptions", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "requestId", "KeyType": "HASH"},
                   {"AttributeName": "connectionId", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "requestId", "AttributeType": "S"},
                              {"AttributeName": "connectionId", "AttributeType": "S"}])
    for request in ("r1", "r2", "r3"):
        for connection in ("c3", "c1", "c2", "c4"):
            client.put_item(TableName="subscriptions", Item={
                "requestId": {"S": request}, "connectionId": {"S": connection},
                "n": {"N": str(len(request + connection))}})
    client.put_item(TableName="items", Item={"id": {"S": "i1"}, "v": {"S": "one"}})

    def query(**kwargs: Any) -> Any:
        response = client.query(TableName="subscriptions", ConsistentRead=True, **kwargs)
        return [response["Items"], response["Count"], response.get("LastEvaluatedKey")]

    by_request = {"KeyConditionExpression": "requestId = :r",
                  "ExpressionAttributeValues": {":r": {"S": "r2"}}}
    return [
        query(**by_request),
        query(**by_request, Limit=2),
        query(**by_request, Limit=2, ExclusiveStartKey={
            "requestId": {"S": "r2"}, "connectionId": {"S": "c2"}}),
        query(**by_request, ScanIndexForward=False),
        query(KeyConditionExpression="requestId = :r AND connectionId > :c",
              ExpressionAttributeValues={":r": {"S": "r3"}, ":c": {"S": "c2"}}),
        query(KeyConditionExpression="requestId = :r",
              ExpressionAttributeValues={":r": {"S": "absent"}}),
        client.query(TableName="items", KeyConditionExpression="id = :i",
                     ExpressionAttributeValues={":i": {"S": "i1"}})["Items"],
    ]


def _fresh_dynamodb() -> Any:
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(
        TableName="items", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    return client


def test_a_query_answers_as_before_without_sorting_the_whole_table(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb.models.table import Table

    with mock_aws():
        unpatched_answers = _query_answers(_fresh_dynamodb())
    with moto_patched(), mock_aws():
        client = _fresh_dynamodb()
        assert _query_answers(client) == unpatched_answers
        whole_table_reads: list[str] = []
        real_all_items = Table.all_items
        monkeypatch.setattr(Table, "all_items", lambda self: whole_table_reads.append(
            self.name) or real_all_items(self))
        client.query(TableName="subscriptions", KeyConditionExpression="requestId = :r",
                     ExpressionAttributeValues={":r": {"S": "r1"}})
        assert whole_table_reads == []
