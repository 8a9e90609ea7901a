"""Subscriptions: which WebSocket connections wait for which requestId, and for whom.

Each subscription keeps the subscriber's `owner` (the caller's sub from the
connection's authorizer) so that Notify can tell the request's owner from anyone else
who subscribed to its id.

A connection holds at most `limit_per_connection` live subscriptions (ADR 0029). Its
counter row (functions/contracts/tables.py) is changed in the same transaction as the
subscription it counts: `add` puts the subscription and adds one under the condition
`live < limit`; `remove` deletes it and takes one away. So the count is exact and
costs one row per subscribe, whatever the connection holds. A subscription stays live
until it is delivered, refused, or its connection closes (`remove_connection`, which
takes the counter row with it); the TTL (`expiresAt`, refreshed on the counter at
every subscribe) clears what a lost `$disconnect` left behind.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
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
# Two transactions on one counter row at the same moment (a client's subscribes run
# concurrently) cancel each other with `TransactionConflict`; each tries again after a
# short random pause, this many times in all.
CONFLICT_ATTEMPTS = 6
CONFLICT_BACKOFF_SECONDS = 0.02
_CHECK_FAILED = "ConditionalCheckFailed"
_CONFLICT = "TransactionConflict"


@dataclass(frozen=True)
class Subscription:
    connection_id: str
    # "" for a subscription stored without one: it is nobody's, so it gets no outcome.
    owner: str


def counter_key(connection_id: str) -> dict[str, Any]:
    """The key of a connection's counter row."""
    return SUBSCRIPTIONS_KEY.of(CONNECTION_COUNTER_PREFIX + connection_id, connection_id)


def _cancellation_codes(error: ClientError) -> list[str] | None:
    """Each transaction item's reason code, in order; None: not a cancelled transaction."""
    if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return None
    return [str(reason.get("Code", "None"))
            for reason in error.response.get("CancellationReasons", [])]


class SubscriptionStore:
    def __init__(self, client: Any, table: str, by_connection_index: str, ttl_seconds: int,
                 limit_per_connection: int,
                 pause: Callable[[float], None] = time.sleep) -> None:
        self._client = client
        self._table = table
        self._index = by_connection_index
        self._ttl = ttl_seconds
        self._limit = limit_per_connection
        self._pause = pause

    def add(self, request_id: str, connection_id: str, owner: str) -> bool:
        """Store the subscription and count it; False when the connection held it
        already (nothing changes, it is counted once).

        Raises TooManySubscriptionsError when the connection holds the limit."""
        expires = {"N": str(int(time.time()) + self._ttl)}
        items = [
            {"Update": {
                "TableName": self._table,
                "Key": counter_key(connection_id),
                "UpdateExpression": "ADD #live :one SET expiresAt = :expires",
                "ConditionExpression": "attribute_not_exists(#live) OR #live < :limit",
                "ExpressionAttributeNames": {"#live": LIVE_SUBSCRIPTIONS_ATTRIBUTE},
                "ExpressionAttributeValues": {
                    ":one": {"N": "1"}, ":limit": {"N": str(self._limit)},
                    ":expires": expires},
            }},
            {"Put": {
                "TableName": self._table,
                "Item": {**SUBSCRIPTIONS_KEY.of(request_id, connection_id),
                         OWNER_ATTRIBUTE: {"S": owner}, "expiresAt": expires},
                "ConditionExpression": f"attribute_not_exists({SUBSCRIPTIONS_KEY.partition})",
            }},
        ]
        codes = self._transact(items)
        if codes is None:
            return True
        if codes[1] == _CHECK_FAILED:
            return False
        if codes[0] == _CHECK_FAILED:
            raise TooManySubscriptionsError(
                f"this connection holds {self._limit} subscriptions waiting for an "
                "outcome, the most one may; subscribe again once some are answered, "
                "or on another connection")
        raise AssertionError(f"unexpected cancellation {codes}")  # pragma: no cover

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
        which is how one error frame, not two, reaches another's subscriber. The one
        that removed it also takes it off the connection's count."""
        key = SUBSCRIPTIONS_KEY.of(request_id, connection_id)
        codes = self._transact([
            {"Delete": {
                "TableName": self._table, "Key": key,
                "ConditionExpression": f"attribute_exists({SUBSCRIPTIONS_KEY.partition})",
            }},
            {"Update": {
                "TableName": self._table,
                "Key": counter_key(connection_id),
                "UpdateExpression": "ADD #live :minus_one",
                # Never below zero, and never a new counter row: without one (the
                # connection's `$disconnect` took it) the delete goes alone, below.
                "ConditionExpression": "#live > :zero",
                "ExpressionAttributeNames": {"#live": LIVE_SUBSCRIPTIONS_ATTRIBUTE},
                "ExpressionAttributeValues": {":minus_one": {"N": "-1"}, ":zero": {"N": "0"}},
            }},
        ])
        if codes is None:
            return True
        if codes[0] == _CHECK_FAILED:
            return False
        response = self._client.delete_item(TableName=self._table, Key=key,
                                            ReturnValues="ALL_OLD")
        return bool(response.get("Attributes"))

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

    def _transact(self, items: list[dict[str, Any]]) -> list[str] | None:
        """Run the transaction; None when it was applied, else each item's reason code
        when a condition failed. A conflict with a concurrent transaction is tried
        again; any other failure raises."""
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                self._client.transact_write_items(TransactItems=items)
                return None
            except ClientError as exc:
                codes = _cancellation_codes(exc)
                if codes is None or len(codes) != len(items):
                    raise
                if _CHECK_FAILED in codes:
                    return codes
                if _CONFLICT not in codes or attempt == CONFLICT_ATTEMPTS:
                    raise
            self._pause(random.uniform(0, CONFLICT_BACKOFF_SECONDS * 2 ** attempt))
        raise AssertionError("unreachable")  # pragma: no cover
