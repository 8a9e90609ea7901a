"""Subscriptions: which WebSocket connections wait for which requestId, and for whom.

Each subscription keeps the subscriber's `owner` (the caller's sub from the
connection's authorizer) so that Notify can tell the request's owner from anyone else
who subscribed to its id.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from functions.contracts.tables import OWNER_ATTRIBUTE, SUBSCRIPTIONS_KEY

# BatchWriteItem takes at most 25 requests.
_BATCH_LIMIT = 25


@dataclass(frozen=True)
class Subscription:
    connection_id: str
    # "" for a subscription stored without one: it is nobody's, so it gets no outcome.
    owner: str


class SubscriptionStore:
    def __init__(self, client: Any, table: str, by_connection_index: str, ttl_seconds: int) -> None:
        self._client = client
        self._table = table
        self._index = by_connection_index
        self._ttl = ttl_seconds

    def add(self, request_id: str, connection_id: str, owner: str) -> None:
        self._client.put_item(
            TableName=self._table,
            Item={
                **SUBSCRIPTIONS_KEY.of(request_id, connection_id),
                OWNER_ATTRIBUTE: {"S": owner},
                "expiresAt": {"N": str(int(time.time()) + self._ttl)},
            },
        )

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
        which is how one error frame, not two, reaches another's subscriber."""
        response = self._client.delete_item(
            TableName=self._table,
            Key=SUBSCRIPTIONS_KEY.of(request_id, connection_id),
            ReturnValues="ALL_OLD",
        )
        return bool(response.get("Attributes"))

    def remove_connection(self, connection_id: str) -> int:
        """Delete every subscription of a closed connection; returns how many."""
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
            ]
            if "LastEvaluatedKey" not in response:
                break
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        for start in range(0, len(keys), _BATCH_LIMIT):
            requests = [{"DeleteRequest": {"Key": key}} for key in keys[start:start + _BATCH_LIMIT]]
            pending: dict[str, Any] = {self._table: requests}
            while pending:
                response = self._client.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}
        return len(keys)
