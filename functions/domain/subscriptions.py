"""Subscriptions: which WebSocket connections wait for which requestId."""

from __future__ import annotations

import time
from typing import Any

# BatchWriteItem takes at most 25 requests.
_BATCH_LIMIT = 25


class SubscriptionStore:
    def __init__(self, client: Any, table: str, by_connection_index: str, ttl_seconds: int) -> None:
        self._client = client
        self._table = table
        self._index = by_connection_index
        self._ttl = ttl_seconds

    def add(self, request_id: str, connection_id: str) -> None:
        self._client.put_item(
            TableName=self._table,
            Item={
                "requestId": {"S": request_id},
                "connectionId": {"S": connection_id},
                "expiresAt": {"N": str(int(time.time()) + self._ttl)},
            },
        )

    def connections_for(self, request_id: str) -> list[str]:
        connections: list[str] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "requestId = :r",
            "ExpressionAttributeValues": {":r": {"S": request_id}},
            "ConsistentRead": True,
        }
        while True:
            response = self._client.query(**kwargs)
            connections += [item["connectionId"]["S"] for item in response.get("Items", [])]
            if "LastEvaluatedKey" not in response:
                return connections
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def remove(self, request_id: str, connection_id: str) -> None:
        self._client.delete_item(
            TableName=self._table,
            Key={"requestId": {"S": request_id}, "connectionId": {"S": connection_id}},
        )

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
