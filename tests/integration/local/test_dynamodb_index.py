"""Queries on a global secondary index answer as unpatched moto does, without walking
the table: after puts, updates and deletes of the indexed attribute (directly, in a
batch, in a transaction and its rollback), on a sparse index, with limits, paging,
sort order and the key conditions the functions use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from crudops_local.aws import dynamodb_index, moto_patches
from tests.support.isolated_moto import isolated_mock_aws, patched
from tests.support.tables import subscriptions_table

__all__ = ["patched"]  # the fixture, from tests/support/isolated_moto.py

REGION = "us-east-1"


def _tables(client: Any) -> None:
    client.create_table(**subscriptions_table())
    # a sparse index on an attribute that is not part of the table's key
    client.create_table(
        TableName="things", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"},
                              {"AttributeName": "colour", "AttributeType": "S"},
                              {"AttributeName": "size", "AttributeType": "N"}],
        GlobalSecondaryIndexes=[{
            "IndexName": "byColour",
            "KeySchema": [{"AttributeName": "colour", "KeyType": "HASH"},
                          {"AttributeName": "size", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"}}])


def _by_connection(client: Any, connection: str, **kwargs: Any) -> list[Any]:
    response = client.query(
        TableName="subscriptions", IndexName="byConnection",
        KeyConditionExpression=kwargs.pop("condition", "connectionId = :c"),
        ExpressionAttributeValues={":c": {"S": connection}, **kwargs.pop("values", {})},
        **kwargs)
    return [response["Items"], response["Count"], response.get("LastEvaluatedKey")]


def _by_colour(client: Any, colour: str, **kwargs: Any) -> list[Any]:
    response = client.query(TableName="things", IndexName="byColour",
                            KeyConditionExpression="colour = :c",
                            ExpressionAttributeValues={":c": {"S": colour}}, **kwargs)
    return [response["Items"], response.get("LastEvaluatedKey")]


def _error(call: Callable[[], Any]) -> str:
    try:
        call()
    except ClientError as error:
        return f"{error.response['Error']['Code']}: {error.response['Error']['Message']}"
    return "no error"


def _subscribe(client: Any, request: str, connection: str) -> None:
    client.put_item(TableName="subscriptions", Item={
        "requestId": {"S": request}, "connectionId": {"S": connection},
        "owner": {"S": "o"}})


def _thing(client: Any, thing: str, colour: str | None, size: int) -> None:
    item = {"id": {"S": thing}, "size": {"N": str(size)}}
    if colour is not None:
        item["colour"] = {"S": colour}
    client.put_item(TableName="things", Item=item)


def _answers() -> list[Any]:
    """The same writes and queries, answered by whichever moto is active."""
    client = boto3.client("dynamodb", region_name=REGION)
    _tables(client)
    for n in range(12):
        _subscribe(client, f"r{n:02d}", f"c{n % 3}")
    answers: list[Any] = [
        _by_connection(client, "c1"),
        _by_connection(client, "c1", Limit=2),
        _by_connection(client, "c1", Limit=2, ExclusiveStartKey={
            "connectionId": {"S": "c1"}, "requestId": {"S": "r04"}}),
        _by_connection(client, "c1", ScanIndexForward=False, Limit=3),
        _by_connection(client, "c2", condition="connectionId = :c AND requestId > :r",
                       values={":r": {"S": "r05"}}),
        _by_connection(client, "c2", condition="connectionId = :c AND begins_with(requestId, :p)",
                       values={":p": {"S": "r1"}}),
        _by_connection(client, "nobody"),
        _error(lambda: _by_connection(client, "c1", ConsistentRead=True)),
        _error(lambda: client.query(
            TableName="subscriptions", IndexName="noSuchIndex",
            KeyConditionExpression="connectionId = :c",
            ExpressionAttributeValues={":c": {"S": "c1"}})),
    ]
    # $disconnect of c1: its subscriptions deleted in a batch, then one deleted alone
    client.batch_write_item(RequestItems={"subscriptions": [
        {"DeleteRequest": {"Key": {"requestId": {"S": f"r{n:02d}"},
                                   "connectionId": {"S": "c1"}}}} for n in (1, 4, 7)]})
    client.delete_item(TableName="subscriptions", Key={
        "requestId": {"S": "r10"}, "connectionId": {"S": "c1"}})
    answers += [_by_connection(client, "c1"), _by_connection(client, "c0")]

    # the sparse index: no colour, no entry; the colour changed, removed, deleted
    for thing, colour, size in (("t1", "red", 3), ("t2", "red", 1), ("t3", None, 2),
                                ("t4", "blue", 5), ("t5", "red", 2)):
        _thing(client, thing, colour, size)
    answers.append(_by_colour(client, "red"))
    client.update_item(TableName="things", Key={"id": {"S": "t1"}},
                       UpdateExpression="SET colour = :b",
                       ExpressionAttributeValues={":b": {"S": "blue"}})
    client.update_item(TableName="things", Key={"id": {"S": "t3"}},
                       UpdateExpression="SET colour = :r",
                       ExpressionAttributeValues={":r": {"S": "red"}})
    client.update_item(TableName="things", Key={"id": {"S": "t5"}},
                       UpdateExpression="REMOVE colour")
    client.update_item(TableName="things", Key={"id": {"S": "t6"}},  # created by update
                       UpdateExpression="SET colour = :r, #s = :s",
                       ExpressionAttributeNames={"#s": "size"},
                       ExpressionAttributeValues={":r": {"S": "red"}, ":s": {"N": "9"}})
    _thing(client, "t2", "green", 1)  # overwritten with another colour
    answers += [_by_colour(client, "red"), _by_colour(client, "blue"),
                _by_colour(client, "green"), _by_colour(client, "red", Limit=1)]
    _error(lambda: client.update_item(  # a failed condition changes nothing
        TableName="things", Key={"id": {"S": "t4"}}, UpdateExpression="SET colour = :r",
        ConditionExpression="#s = :zero", ExpressionAttributeNames={"#s": "size"},
        ExpressionAttributeValues={":r": {"S": "red"}, ":zero": {"N": "0"}}))
    # a transaction that applies, and one cancelled after its first two writes
    client.transact_write_items(TransactItems=[
        {"Put": {"TableName": "things", "Item": {
            "id": {"S": "t7"}, "colour": {"S": "blue"}, "size": {"N": "7"}}}},
        {"Delete": {"TableName": "things", "Key": {"id": {"S": "t4"}}}}])
    answers.append(_error(lambda: client.transact_write_items(TransactItems=[
        {"Update": {"TableName": "things", "Key": {"id": {"S": "t7"}},
                    "UpdateExpression": "SET colour = :g",
                    "ExpressionAttributeValues": {":g": {"S": "green"}}}},
        {"Put": {"TableName": "things", "Item": {
            "id": {"S": "t8"}, "colour": {"S": "green"}, "size": {"N": "8"}}}},
        {"Put": {"TableName": "things", "ConditionExpression": "attribute_not_exists(id)",
                 "Item": {"id": {"S": "t1"}, "colour": {"S": "green"}, "size": {"N": "1"}}}},
    ])))
    answers += [_by_colour(client, "blue"), _by_colour(client, "green"),
                _by_colour(client, "red")]
    client.delete_item(TableName="things", Key={"id": {"S": "t6"}})
    answers.append(_by_colour(client, "red"))
    return answers


def test_index_queries_answer_as_unpatched_moto(patched: None) -> None:
    moto_patches.revert()
    with isolated_mock_aws():
        unpatched = _answers()
    moto_patches.apply()
    with isolated_mock_aws():
        assert _answers() == unpatched
    ids = [[item["requestId"]["S"] for item in answer[0]] for answer in unpatched[:6]]
    assert ids[0] == ["r01", "r04", "r07", "r10"]
    assert ids[1:4] == [["r01", "r04"], ["r07", "r10"], ["r10", "r07", "r04"]]
    assert ids[4:6] == [["r08", "r11"], ["r11"]]
    assert unpatched[7].startswith("ValidationException")
    assert unpatched[9][0] == [] and len(unpatched[10][0]) == 4
    colours = [[item["id"]["S"] for item in answer[0]] for answer in unpatched[11:15]]
    assert colours == [["t2", "t5", "t1"], ["t3", "t6"], ["t1", "t4"], ["t2"]]
    assert unpatched[16].startswith("TransactionCanceledException")
    assert [[item["id"]["S"] for item in answer[0]] for answer in unpatched[17:21]] == [
        ["t1", "t7"], ["t2"], ["t3", "t6"], ["t3"]]


def test_an_index_query_reads_only_the_items_under_its_key(
        patched: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb.models.table import Table

    walks: list[str] = []
    real_all_items, real_every_item = Table.all_items, dynamodb_index._every_item
    monkeypatch.setattr(Table, "all_items",
                        lambda self: walks.append("all_items") or real_all_items(self))
    monkeypatch.setattr(dynamodb_index, "_every_item",
                        lambda table: walks.append("build") or real_every_item(table))
    with isolated_mock_aws() as account:
        client = boto3.client("dynamodb", region_name=REGION)
        _tables(client)
        for n in range(300):
            _subscribe(client, f"r{n}", f"c{n % 100}")
        assert _by_connection(client, "c7")[1] == 3
        assert walks == ["build"]  # one walk, on the index's first query
        _subscribe(client, "late", "c7")
        client.delete_item(TableName="subscriptions", Key={
            "requestId": {"S": "r7"}, "connectionId": {"S": "c7"}})
        assert [i["requestId"]["S"] for i in _by_connection(client, "c7")[0]] == [
            "late", "r107", "r207"]
        assert walks == ["build"]
        from moto.dynamodb.models import dynamodb_backends

        table = dynamodb_backends[account][REGION].tables["subscriptions"]
        key_index = dynamodb_index._indexes.of(table, "byConnection", "connectionId")
        assert key_index is not None
        assert len(key_index._value_of) == 300  # the deleted one is gone from it


def test_an_index_gives_up_on_a_table_whose_write_it_cannot_follow(patched: None) -> None:
    with isolated_mock_aws() as account:
        client = boto3.client("dynamodb", region_name=REGION)
        _tables(client)
        _thing(client, "t1", "red", 1)
        assert [i["id"]["S"] for i in _by_colour(client, "red")[0]] == ["t1"]
        from moto.dynamodb.models import dynamodb_backends

        table = dynamodb_backends[account][REGION].tables["things"]
        dynamodb_index._indexes.changed(table, None)
        _thing(client, "t2", "red", 2)
        assert [i["id"]["S"] for i in _by_colour(client, "red")[0]] == ["t1", "t2"]
