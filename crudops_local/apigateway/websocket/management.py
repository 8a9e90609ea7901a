"""The WebSocket management API (`@connections`), with the errors botocore maps.

`apigatewaymanagementapi` is a rest-json service: botocore takes the error code from
the `x-amzn-ErrorType` header, so `client.exceptions.GoneException` is raised for a
410 with `x-amzn-ErrorType: GoneException`. Bodies and codes are AWS's:
POST 200 (empty), GET 200 (connectedAt, identity, lastActiveAt), DELETE 204;
410 GoneException for a connection that is unknown, closed or still in `$connect`;
413 PayloadTooLargeException above 128 KB.
"""

from __future__ import annotations

import json
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocketDisconnect

from crudops_local.apigateway.exceptions import (
    GoneError,
    ManagementApiError,
    PayloadTooLargeError,
)
from crudops_local.apigateway.websocket.connections import Connection, ConnectionRegistry
from crudops_local.apigateway.websocket.server import DELETED_CLOSE_CODE, MESSAGE_LIMIT_BYTES


def error_response(error: ManagementApiError) -> Response:
    return Response(
        json.dumps({"message": error.message}),
        error.status,
        headers={"x-amzn-ErrorType": error.code, "Content-Type": "application/json"},
    )


def _iso8601(epoch_ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch_ms / 1000)) + (
        f".{epoch_ms % 1000:03d}Z")


def _info(connection: Connection) -> dict[str, Any]:
    # The wire names are camelCase (botocore maps them to ConnectedAt, Identity, ...).
    identity = {"sourceIp": connection.source_ip}
    if connection.user_agent:
        identity["userAgent"] = connection.user_agent
    return {
        "connectedAt": _iso8601(connection.connected_at),
        "identity": identity,
        "lastActiveAt": _iso8601(connection.last_active_at),
    }


class ManagementApi:
    def __init__(self, registry: ConnectionRegistry) -> None:
        self.registry = registry

    async def __call__(self, request: Request) -> Response:
        try:
            return await self._answer(request)
        except ManagementApiError as refused:
            return error_response(refused)

    async def _answer(self, request: Request) -> Response:
        connection_id = str(request.path_params["connection_id"])
        connection = self.registry.live(connection_id)
        if request.method == "POST":
            data = await request.body()
            if len(data) > MESSAGE_LIMIT_BYTES:
                raise PayloadTooLargeError()
            if connection is None:
                raise GoneError()
            try:
                await connection.send(data)
            except (RuntimeError, OSError, WebSocketDisconnect) as exc:
                raise GoneError() from exc
            return Response(status_code=200)
        if connection is None:
            raise GoneError()
        if request.method == "GET":
            return Response(json.dumps(_info(connection)), 200,
                            media_type="application/json")
        connection.closing = True
        try:
            await connection.websocket.close(DELETED_CLOSE_CODE)
        except (RuntimeError, OSError) as exc:
            raise GoneError() from exc
        return Response(status_code=204)
