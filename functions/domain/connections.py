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

    def post(self, connection_id: str, data: str) -> Delivery:
        """`GONE` for a connection that closed (410); any other failure raises so the
        notification is retried."""
        try:
            self._client.post_to_connection(ConnectionId=connection_id, Data=data.encode())
        except ClientError as exc:
            error = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if error.get("Code") == "GoneException" or status == 410:
                return Delivery.GONE
            raise
        return Delivery.DELIVERED
