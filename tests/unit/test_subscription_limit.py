"""The subscription store's counted writes (ADR 0029), against botocore's Stubber."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber

from functions.domain.subscriptions import CONFLICT_ATTEMPTS, SubscriptionStore, counter_key
from functions.exceptions import TooManySubscriptionsError
from functions.settings import EnvVar, FunctionSettings

TABLE = "subscriptions"


@pytest.fixture
def client() -> Any:
    return boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="x",
                        aws_secret_access_key="x")


@pytest.fixture
def stub(client: Any) -> Iterator[Stubber]:
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def store(client: Any, pauses: list[float] | None = None) -> SubscriptionStore:
    return SubscriptionStore(client, TABLE, "byConnection", ttl_seconds=60,
                             limit_per_connection=2,
                             pause=(pauses if pauses is not None else []).append)


def cancelled(stub: Stubber, *codes: str) -> None:
    stub.add_client_error(
        "transact_write_items", "TransactionCanceledException", "cancelled",
        response_meta={}, modeled_fields={"CancellationReasons": [{"Code": c} for c in codes]})


def test_a_subscribe_is_one_transaction_counting_it_under_the_limit(
    client: Any, stub: Stubber
) -> None:
    stub.add_response("transact_write_items", {}, {"TransactItems": ANY})
    assert store(client).add("r1", "c1", "owner") is True


def test_the_transaction_counts_on_the_counter_row_under_the_limit(
    client: Any, stub: Stubber
) -> None:
    expected_update = {
        "TableName": TABLE, "Key": counter_key("c1"),
        "UpdateExpression": "ADD #live :one SET expiresAt = :expires",
        "ConditionExpression": "attribute_not_exists(#live) OR #live < :limit",
        "ExpressionAttributeNames": {"#live": "live"},
        "ExpressionAttributeValues": {":one": {"N": "1"}, ":limit": {"N": "2"},
                                      ":expires": ANY},
    }
    expected_put = {
        "TableName": TABLE,
        "Item": {"requestId": {"S": "r1"}, "connectionId": {"S": "c1"},
                 "owner": {"S": "owner"}, "expiresAt": ANY},
        "ConditionExpression": "attribute_not_exists(requestId)",
    }
    stub.add_response("transact_write_items", {}, {"TransactItems": [
        {"Update": expected_update}, {"Put": expected_put}]})
    store(client).add("r1", "c1", "owner")


def test_a_failed_counter_condition_is_too_many_subscriptions(
    client: Any, stub: Stubber
) -> None:
    cancelled(stub, "ConditionalCheckFailed", "None")
    with pytest.raises(TooManySubscriptionsError) as raised:
        store(client).add("r1", "c1", "owner")
    assert raised.value.code == "too_many_subscriptions"
    assert "2 subscriptions" in raised.value.message


def test_an_existing_subscription_is_not_counted_again_even_at_the_limit(
    client: Any, stub: Stubber
) -> None:
    cancelled(stub, "ConditionalCheckFailed", "ConditionalCheckFailed")
    assert store(client).add("r1", "c1", "owner") is False


def test_a_conflict_with_a_concurrent_subscribe_is_tried_again(
    client: Any, stub: Stubber
) -> None:
    pauses: list[float] = []
    cancelled(stub, "TransactionConflict", "None")
    cancelled(stub, "None", "TransactionConflict")
    stub.add_response("transact_write_items", {})
    assert store(client, pauses).add("r1", "c1", "owner") is True
    assert len(pauses) == 2


def test_a_conflict_that_does_not_clear_raises(client: Any, stub: Stubber) -> None:
    pauses: list[float] = []
    for _ in range(CONFLICT_ATTEMPTS):
        cancelled(stub, "TransactionConflict", "None")
    with pytest.raises(ClientError):
        store(client, pauses).add("r1", "c1", "owner")
    assert len(pauses) == CONFLICT_ATTEMPTS - 1


def test_other_failures_raise_at_once(client: Any, stub: Stubber) -> None:
    stub.add_client_error("transact_write_items", "ProvisionedThroughputExceededException")
    with pytest.raises(ClientError):
        store(client).add("r1", "c1", "owner")


def test_removing_a_subscription_already_gone_says_so(client: Any, stub: Stubber) -> None:
    cancelled(stub, "ConditionalCheckFailed", "ConditionalCheckFailed")
    assert store(client).remove("r1", "c1") is False


def test_removing_without_a_counter_row_deletes_the_subscription_alone(
    client: Any, stub: Stubber
) -> None:
    cancelled(stub, "None", "ConditionalCheckFailed")
    stub.add_response("delete_item", {"Attributes": {"requestId": {"S": "r1"}}},
                      {"TableName": TABLE, "Key": {"requestId": {"S": "r1"},
                                                   "connectionId": {"S": "c1"}},
                       "ReturnValues": "ALL_OLD"})
    assert store(client).remove("r1", "c1") is True


def test_the_limit_is_a_setting_with_a_default() -> None:
    assert FunctionSettings.from_env({}).max_subscriptions_per_connection == 1000
    env = {EnvVar.MAX_SUBSCRIPTIONS_PER_CONNECTION.value: "7"}
    assert FunctionSettings.from_env(env).max_subscriptions_per_connection == 7
