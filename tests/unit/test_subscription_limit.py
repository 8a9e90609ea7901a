"""The subscription store's counted writes (ADR 0029), against botocore's Stubber."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber

from functions.domain.subscriptions import SubscriptionStore, counter_key
from functions.exceptions import TooManySubscriptionsError
from functions.settings import EnvVar, FunctionSettings

TABLE = "subscriptions"
LIMIT = 2
SUBSCRIPTION_KEY = {"requestId": {"S": "r1"}, "connectionId": {"S": "c1"}}
TAKE_A_PLACE = {
    "TableName": TABLE, "Key": counter_key("c1"),
    "UpdateExpression": "ADD #live :one SET expiresAt = :expires",
    "ConditionExpression": "attribute_not_exists(#live) OR #live < :limit",
    "ExpressionAttributeNames": {"#live": "live"},
    "ExpressionAttributeValues": {":one": {"N": "1"}, ":limit": {"N": str(LIMIT)},
                                  ":expires": ANY},
}
PUT = {
    "TableName": TABLE,
    "Item": {**SUBSCRIPTION_KEY, "owner": {"S": "owner"}, "expiresAt": ANY},
    "ConditionExpression": "attribute_not_exists(requestId)",
}
GIVE_BACK = {
    "TableName": TABLE, "Key": counter_key("c1"),
    "UpdateExpression": "ADD #live :minus_one",
    "ConditionExpression": "#live > :zero",
    "ExpressionAttributeNames": {"#live": "live"},
    "ExpressionAttributeValues": {":minus_one": {"N": "-1"}, ":zero": {"N": "0"}},
}
DELETE = {"TableName": TABLE, "Key": SUBSCRIPTION_KEY, "ReturnValues": "ALL_OLD"}


@pytest.fixture
def client() -> Any:
    return boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="x",
                        aws_secret_access_key="x")


@pytest.fixture
def stub(client: Any) -> Iterator[Stubber]:
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def store(client: Any) -> SubscriptionStore:
    return SubscriptionStore(client, TABLE, "byConnection", ttl_seconds=60,
                             limit_per_connection=LIMIT)


def check_failed(stub: Stubber, operation: str, params: dict[str, Any]) -> None:
    stub.add_client_error(operation, "ConditionalCheckFailedException",
                          expected_params=params)


def test_a_subscribe_takes_a_place_under_the_limit_then_puts_the_row(
    client: Any, stub: Stubber
) -> None:
    stub.add_response("update_item", {}, TAKE_A_PLACE)
    stub.add_response("put_item", {}, PUT)
    assert store(client).add("r1", "c1", "owner") is True


def test_no_place_left_is_too_many_subscriptions_and_nothing_is_put(
    client: Any, stub: Stubber
) -> None:
    check_failed(stub, "update_item", TAKE_A_PLACE)
    with pytest.raises(TooManySubscriptionsError) as raised:
        store(client).add("r1", "c1", "owner")
    assert raised.value.code == "too_many_subscriptions"
    assert f"{LIMIT} subscriptions" in raised.value.message


def test_a_subscription_held_already_gives_its_new_place_back(
    client: Any, stub: Stubber
) -> None:
    stub.add_response("update_item", {}, TAKE_A_PLACE)
    check_failed(stub, "put_item", PUT)
    stub.add_response("update_item", {}, GIVE_BACK)
    assert store(client).add("r1", "c1", "owner") is False


def test_a_failed_put_gives_the_place_back_and_raises(client: Any, stub: Stubber) -> None:
    stub.add_response("update_item", {}, TAKE_A_PLACE)
    stub.add_client_error("put_item", "ProvisionedThroughputExceededException",
                          expected_params=PUT)
    stub.add_response("update_item", {}, GIVE_BACK)
    with pytest.raises(ClientError):
        store(client).add("r1", "c1", "owner")


def test_other_counter_failures_raise(client: Any, stub: Stubber) -> None:
    stub.add_client_error("update_item", "ProvisionedThroughputExceededException",
                          expected_params=TAKE_A_PLACE)
    with pytest.raises(ClientError):
        store(client).add("r1", "c1", "owner")


def test_removing_gives_the_place_back_only_when_it_removed_the_row(
    client: Any, stub: Stubber
) -> None:
    stub.add_response("delete_item", {"Attributes": SUBSCRIPTION_KEY}, DELETE)
    stub.add_response("update_item", {}, GIVE_BACK)
    stub.add_response("delete_item", {}, DELETE)
    assert store(client).remove("r1", "c1") is True
    assert store(client).remove("r1", "c1") is False


def test_removing_without_a_counter_row_creates_none(client: Any, stub: Stubber) -> None:
    stub.add_response("delete_item", {"Attributes": SUBSCRIPTION_KEY}, DELETE)
    check_failed(stub, "update_item", GIVE_BACK)
    assert store(client).remove("r1", "c1") is True


def test_the_limit_is_a_setting_with_a_default() -> None:
    assert FunctionSettings.from_env({}).max_subscriptions_per_connection == 1000
    env = {EnvVar.MAX_SUBSCRIPTIONS_PER_CONNECTION.value: "7"}
    assert FunctionSettings.from_env(env).max_subscriptions_per_connection == 7
