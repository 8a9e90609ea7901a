"""Posting to WebSocket connections through API Gateway's management API."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError


class Delivery(StrEnum):
    DELIVERED = "delivered"
    GONE = "gone"


class ConnectionPoster:
    def __init__(self, management_client: Any) -> None:
        self._client = management_client

    def is_open(self, connection_id: str) -> bool:
        """Whether posts reach the connection now: API Gateway answers 410 both for a
        closed one and for one whose `$connect` has not returned yet. Any other
        failure raises so the record is retried."""
        try:
            self._client.get_connection(ConnectionId=connection_id)
        except ClientError as exc:
            if _gone(exc):
                return False
            raise
        return True

    def post(self, connection_id: str, data: str) -> Delivery:
        """`GONE` for a connection that closed (410); any other failure raises so the
        notification is retried."""
        try:
            self._client.post_to_connection(ConnectionId=connection_id, Data=data.encode())
        except ClientError as exc:
            if _gone(exc):
                return Delivery.GONE
            raise
        return Delivery.DELIVERED


def _gone(exc: ClientError) -> bool:
    error = exc.response.get("Error", {})
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return bool(error.get("Code") == "GoneException" or status == 410)
