"""Subscriptions: which WebSocket connections wait for which requestId, and for whom.

Each subscription keeps the subscriber's `owner` (the caller's sub from the
connection's authorizer) so that Notify can tell the request's owner from anyone else
who subscribed to its id.

A connection holds at most `limit_per_connection` live subscriptions (ADR 0029),
counted on its counter row (functions/contracts/tables.py) by single-row conditional
writes, O(1) whatever the connection holds: `add` first takes a place (`ADD live 1`
if `live < limit`, atomic in DynamoDB), then puts the subscription, and gives the
place back if the connection held that subscription already; `remove` deletes the
subscription and, if it was there, gives its place back (`ADD live -1` if
`live > 0`). So the counter never falls below the connection's live subscriptions
and the limit is never passed, also under concurrent subscribes; a function dying
between its two writes leaves the count one too high until the connection closes.
A subscription stays live until it is delivered, refused, or its connection closes
(`remove_connection`, which takes the counter row with it); the TTL (`expiresAt`,
refreshed on the counter at every subscribe) clears what a lost `$disconnect` left.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from functions.contracts.tables import (
    CONNECTION_COUNTER_PREFIX,
    LIVE_SUBSCRIPTIONS_ATTRIBUTE,
    OWNER_ATTRIBUTE,
    SUBSCRIPTIONS_KEY,
)
from functions.exceptions import TooManySubscriptionsError

# BatchWriteItem takes at most 25 requests.
_BATCH_LIMIT = 25
_CHECK_FAILED = "ConditionalCheckFailedException"


@dataclass(frozen=True)
class Subscription:
    connection_id: str
    # "" for a subscription stored without one: it is nobody's, so it gets no outcome.
    owner: str


def counter_key(connection_id: str) -> dict[str, Any]:
    """The key of a connection's counter row."""
    return SUBSCRIPTIONS_KEY.of(CONNECTION_COUNTER_PREFIX + connection_id, connection_id)


def _condition_failed(error: ClientError) -> bool:
    return bool(error.response.get("Error", {}).get("Code") == _CHECK_FAILED)


class SubscriptionStore:
    def __init__(self, client: Any, table: str, by_connection_index: str, ttl_seconds: int,
                 limit_per_connection: int) -> None:
        self._client = client
        self._table = table
        self._index = by_connection_index
        self._ttl = ttl_seconds
        self._limit = limit_per_connection

    def add(self, request_id: str, connection_id: str, owner: str) -> bool:
        """Store the subscription and count it; False when the connection held it
        already (it stays counted once).

        Raises TooManySubscriptionsError, storing nothing, when the connection holds
        the limit (also for a subscription it holds already: the place is taken
        before the row is looked at)."""
        expires = {"N": str(int(time.time()) + self._ttl)}
        try:
            self._client.update_item(
                TableName=self._table,
                Key=counter_key(connection_id),
                UpdateExpression="ADD #live :one SET expiresAt = :expires",
                ConditionExpression="attribute_not_exists(#live) OR #live < :limit",
                ExpressionAttributeNames={"#live": LIVE_SUBSCRIPTIONS_ATTRIBUTE},
                ExpressionAttributeValues={":one": {"N": "1"},
                                           ":limit": {"N": str(self._limit)},
                                           ":expires": expires},
            )
        except ClientError as exc:
            if not _condition_failed(exc):
                raise
            raise TooManySubscriptionsError(
                f"this connection holds {self._limit} subscriptions waiting for an "
                "outcome, the most one may; subscribe again once some are answered, "
                "or on another connection") from exc
        try:
            self._client.put_item(
                TableName=self._table,
                Item={**SUBSCRIPTIONS_KEY.of(request_id, connection_id),
                      OWNER_ATTRIBUTE: {"S": owner}, "expiresAt": expires},
                ConditionExpression=f"attribute_not_exists({SUBSCRIPTIONS_KEY.partition})",
            )
        except ClientError as exc:
            self._give_back(connection_id)
            if not _condition_failed(exc):
                raise
            return False
        return True

    def subscriptions_to(self, request_id: str) -> list[Subscription]:
        subscriptions: list[Subscription] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "requestId = :r",
            "ExpressionAttributeValues": {":r": {"S": request_id}},
            "ConsistentRead": True,
        }
        while True:
            response = self._client.query(**kwargs)
            subscriptions += [
                Subscription(item[SUBSCRIPTIONS_KEY.sort]["S"],
                             item.get(OWNER_ATTRIBUTE, {}).get("S", ""))
                for item in response.get("Items", [])
            ]
            if "LastEvaluatedKey" not in response:
                return subscriptions
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def remove(self, request_id: str, connection_id: str) -> bool:
        """Whether the subscription was still there: of callers racing to remove the
        same one, exactly one learns it did (DynamoDB applies one delete to the row),
        which is how one error frame, not two, reaches another's subscriber. That one
        also gives its place on the connection's counter back."""
        response = self._client.delete_item(
            TableName=self._table,
            Key=SUBSCRIPTIONS_KEY.of(request_id, connection_id),
            ReturnValues="ALL_OLD",
        )
        removed = bool(response.get("Attributes"))
        if removed:
            self._give_back(connection_id)
        return removed

    def _give_back(self, connection_id: str) -> None:
        """One place back on the counter: never below zero, and never a new counter
        row (without one, the connection's `$disconnect` took it: nothing to count)."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=counter_key(connection_id),
                UpdateExpression="ADD #live :minus_one",
                ConditionExpression="#live > :zero",
                ExpressionAttributeNames={"#live": LIVE_SUBSCRIPTIONS_ATTRIBUTE},
                ExpressionAttributeValues={":minus_one": {"N": "-1"}, ":zero": {"N": "0"}},
            )
        except ClientError as exc:
            if not _condition_failed(exc):
                raise

    def remove_gone(self, request_id: str, connection_id: str) -> None:
        """Forget a subscription whose connection answered 410 Gone, and the
        connection's counter: a closed connection subscribes no more, and a subscribe
        that landed after its `$disconnect` would leave the counter behind."""
        self.remove(request_id, connection_id)
        self._client.delete_item(TableName=self._table, Key=counter_key(connection_id))

    def remove_connection(self, connection_id: str) -> int:
        """Delete every subscription of a closed connection and its counter; returns
        how many subscriptions."""
        counter = counter_key(connection_id)
        keys: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": self._index,
            "KeyConditionExpression": "connectionId = :c",
            "ExpressionAttributeValues": {":c": {"S": connection_id}},
        }
        while True:
            response = self._client.query(**kwargs)
            keys += [
                {"requestId": item["requestId"], "connectionId": item["connectionId"]}
                for item in response.get("Items", [])
                if item["requestId"] != counter[SUBSCRIPTIONS_KEY.partition]
            ]
            if "LastEvaluatedKey" not in response:
                break
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        # The counter goes whether or not the (eventually consistent) index shows it.
        deletions = [*keys, counter]
        for start in range(0, len(deletions), _BATCH_LIMIT):
            requests = [{"DeleteRequest": {"Key": key}}
                        for key in deletions[start:start + _BATCH_LIMIT]]
            pending: dict[str, Any] = {self._table: requests}
            while pending:
                response = self._client.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}
        return len(keys)
