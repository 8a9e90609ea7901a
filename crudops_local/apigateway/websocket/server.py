"""The WebSocket side of the API: handshake via `$connect`, messages, `$disconnect`.

Functions run through the caller's blocking `invoke_function` in a worker thread, so
the event loop keeps serving while a handler runs — a `$default` handler that posts
back to its own connection over the management API is served by this same loop.

Each message is handled in a task of its own (API Gateway invokes concurrently and
does not order the invocations of one connection), with bounded work per connection so
that one client cannot starve the others: at most `IN_FLIGHT_PER_CONNECTION`
invocations run for a connection at a time, the rest wait their turn, and beyond
`QUEUED_PER_CONNECTION` waiting a message is not invoked but answered with
`{"message": "Too Many Requests", ...}` (1,000 subscribes on one connection made
another client's `POST /items` take 15 s before). A message over 128 KiB closes the
connection with 1009, a binary frame (which API Gateway does not take) with 1003,
and neither is invoked. A handler failure on a message
route sends API Gateway's `{"message": "Internal server error", ...}` frame; a message
with no route and no `$default` gets `{"message": "Forbidden", ...}`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.websockets import WebSocket, WebSocketDisconnect

from crudops_local.apigateway.websocket import events
from crudops_local.apigateway.websocket.authorizer import (
    UNAUTHORIZED_MESSAGE,
    RequestAuthorizer,
    Verdict,
    authorizer_event,
    decide,
    identity_present,
    method_arn,
)
from crudops_local.apigateway.websocket.connections import (
    Connection,
    ConnectionRegistry,
    new_connection_id,
    now_ms,
)
from crudops_local.apigateway.websocket.routes import CONNECT, DISCONNECT, WebSocketApi
from crudops_local.lambda_.runtime import FunctionHandlerError, FunctionInvocationError

log = logging.getLogger("crudops.local.websocket")

MESSAGE_LIMIT_BYTES = 128 * 1024
# Work one connection may hold at once (the gateway's threads and the function pools
# are shared by every client), and how many of its messages may wait for it.
IN_FLIGHT_PER_CONNECTION = 4
QUEUED_PER_CONNECTION = 100
CLOSE_MESSAGE_TOO_BIG = 1009
CLOSE_UNSUPPORTED_DATA = 1003
DELETED_CLOSE_CODE = 1000
_CLOSE_REASONS = {
    1000: "Connection Closed Normally",
    1001: "Going away",
    1003: "Unsupported data",
    1005: "Client-side close frame status not set",
    1006: "Connection closed abnormally",
    1009: "Message too big",
}

InvokeFunction = Callable[[str, dict[str, Any]], Any]
# What uvicorn's websockets-sansio protocol logs after every denial response (its
# handshake flag is set only by an accept or a close), i.e. after each 401/403/500 by
# which the gateway refuses a handshake on purpose.
SPURIOUS_DENIAL_ERROR = "ASGI callable returned without completing handshake."


class DenialLogFilter(logging.Filter):
    """Drops uvicorn's `SPURIOUS_DENIAL_ERROR`: every handshake this gateway does not
    accept is refused by a denial response or a close, never left half done, so the
    line would only say "a client was refused" as an ERROR."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != SPURIOUS_DENIAL_ERROR


@dataclass(frozen=True)
class WebSocketStage:
    api: WebSocketApi
    stage: str
    public_host: str
    # What a route's `methodArn` (the authorizer's event) is made of.
    region: str = "us-east-1"
    account_id: str = "123456789012"
    partition: str = "aws"


def _headers(websocket: WebSocket) -> dict[str, str]:
    def canonical(name: str) -> str:
        return "-".join("WebSocket" if p == "websocket" else p.capitalize()
                        for p in name.split("-"))

    return {canonical(k): v for k, v in websocket.headers.items()}


def _status_of(result: Any) -> int:
    """A Lambda proxy result's status; a result without one counts as 200, like AWS."""
    if isinstance(result, dict) and "statusCode" in result:
        try:
            return int(result["statusCode"])
        except (TypeError, ValueError):
            return 500
    return 200


class WebSocketEndpoint:
    def __init__(self, stage: WebSocketStage, registry: ConnectionRegistry,
                 invoke_function: InvokeFunction) -> None:
        self.stage = stage
        self.registry = registry
        self.invoke_function = invoke_function

    async def _invoke(self, function_arn: str, event: dict[str, Any]) -> Any:
        return await run_in_threadpool(self.invoke_function, function_arn, event)

    async def __call__(self, websocket: WebSocket) -> None:
        api = self.stage.api
        headers = _headers(websocket)
        connection = Connection(
            connection_id=new_connection_id(),
            websocket=websocket,
            connected_at=now_ms(),
            source_ip=websocket.client.host if websocket.client else "127.0.0.1",
            user_agent=headers.get("User-Agent", ""),
            last_active_at=now_ms(),
        )
        facts = events.ConnectionFacts(
            connection_id=connection.connection_id,
            connected_at=connection.connected_at,
            api_id=api.api_id,
            stage=self.stage.stage,
            domain_name=self.stage.public_host,
            source_ip=connection.source_ip,
            user_agent=connection.user_agent,
        )
        self.registry.add(connection)
        try:
            accepted, subprotocol, facts = await self._connect(websocket, facts, headers)
            if not accepted:
                return
            connection.open = True
            try:
                await websocket.accept(subprotocol=subprotocol)
            except OSError:
                # The client left while `$connect` ran (uvicorn's ClientDisconnected):
                # `$connect` accepted, so `$disconnect` runs, as API Gateway's does —
                # else what `$connect` stored (a subscription) would stay for good.
                code, reason = 1006, _CLOSE_REASONS[1006]
            else:
                code, reason = await self._serve(connection, facts)
        finally:
            self.registry.remove(connection.connection_id)
        route = api.routes.get(DISCONNECT)
        if route is not None:
            event = events.disconnect_event(facts, events.event_id(), headers, code, reason,
                                            now_ms())
            try:
                await self._invoke(route.function_arn, event)
            except FunctionInvocationError as exc:
                log.error("%s %s: $disconnect failed: %s", self.stage.stage,
                          connection.connection_id, exc)

    async def _connect(self, websocket: WebSocket, facts: events.ConnectionFacts,
                       headers: dict[str, str],
                       ) -> tuple[bool, str | None, events.ConnectionFacts]:
        """Whether the authorizer and `$connect` accept, the subprotocol `$connect`'s
        response names, and the connection's facts (with what the authorizer allowed)."""
        route = self.stage.api.routes.get(CONNECT)
        if route is None:
            return True, None, facts
        query = urllib.parse.parse_qsl(websocket.url.query, keep_blank_values=True)
        if route.authorizer is not None:
            allowed = await self._authorize(websocket, route.authorizer, facts, headers, query)
            if allowed is None:
                return False, None, facts
            facts = replace(facts, authorizer=allowed)
        event = events.connect_event(facts, events.event_id(), headers, query)
        try:
            result = await self._invoke(route.function_arn, event)
        except FunctionInvocationError as exc:
            log.error("%s %s: $connect failed: %s", self.stage.stage, facts.connection_id, exc)
            await self._deny(websocket, 500, "Internal server error")
            return False, None, facts
        status = _status_of(result)
        if not 200 <= status < 300:
            # API Gateway refuses the handshake with 403 whatever non-2xx the route gave.
            await websocket.close()
            return False, None, facts
        response_headers = result.get("headers") if isinstance(result, dict) else None
        subprotocol = (response_headers or {}).get("Sec-WebSocket-Protocol")
        return True, str(subprotocol) if subprotocol else None, facts

    async def _authorize(self, websocket: WebSocket, authorizer: RequestAuthorizer,
                         facts: events.ConnectionFacts, headers: dict[str, str],
                         query: list[tuple[str, str]]) -> dict[str, Any] | None:
        """`requestContext.authorizer` of the connection when its authorizer allows it;
        None after refusing the handshake (401, 403 or 500) when it does not."""
        stage = self.stage
        if not authorizer.function_arn:
            await self._deny(websocket, 500, "Internal server error")
            return None
        if not identity_present(authorizer, headers, dict(query)):
            await self._deny(websocket, 401, UNAUTHORIZED_MESSAGE)
            return None
        arn = method_arn(partition=stage.partition, region=stage.region,
                         account_id=stage.account_id, api_id=stage.api.api_id,
                         stage=stage.stage, route_key=CONNECT)
        event = authorizer_event(events.connect_event(facts, events.event_id(), headers,
                                                      query), arn)
        try:
            answer = await self._invoke(authorizer.function_arn, event)
        except FunctionHandlerError as exc:
            if exc.error_message == UNAUTHORIZED_MESSAGE:
                await self._deny(websocket, 401, UNAUTHORIZED_MESSAGE)
            else:
                log.error("%s %s: the $connect authorizer failed: %s", stage.stage,
                          facts.connection_id, exc)
                await self._deny(websocket, 500, "Internal server error")
            return None
        except FunctionInvocationError as exc:
            log.error("%s %s: the $connect authorizer failed: %s", stage.stage,
                      facts.connection_id, exc)
            await self._deny(websocket, 500, "Internal server error")
            return None
        decision = decide(answer, arn)
        if decision.verdict is Verdict.ALLOW:
            return decision.authorizer_context
        if decision.verdict is Verdict.DENY:
            await self._deny(websocket, 403, "Forbidden")
        else:
            log.error("%s %s: the $connect authorizer answered no policy: %.200r",
                      stage.stage, facts.connection_id, answer)
            await self._deny(websocket, 500, "Internal server error")
        return None

    async def _deny(self, websocket: WebSocket, status: int, message: str) -> None:
        if "websocket.http.response" in websocket.scope.get("extensions", {}):
            await websocket.send_denial_response(Response(
                json.dumps({"message": message}), status, media_type="application/json"))
        else:
            await websocket.close()

    async def _serve(self, connection: Connection,
                     facts: events.ConnectionFacts) -> tuple[int, str]:
        """Dispatch messages until the connection closes; (close code, reason)."""
        tasks: set[asyncio.Task[None]] = set()
        turns = asyncio.Semaphore(IN_FLIGHT_PER_CONNECTION)
        websocket = connection.websocket
        while True:
            try:
                message = await websocket.receive()
            except WebSocketDisconnect as exc:
                return exc.code, exc.reason or _CLOSE_REASONS.get(exc.code, "")
            if message["type"] == "websocket.disconnect":
                code = int(message.get("code", 1005))
                reason = str(message.get("reason") or _CLOSE_REASONS.get(code, ""))
                return code, reason
            body: str | bytes = (message["text"] if message.get("text") is not None
                                 else message.get("bytes") or b"")
            size = len(body.encode() if isinstance(body, str) else body)
            refusal = (CLOSE_MESSAGE_TOO_BIG if size > MESSAGE_LIMIT_BYTES
                       else CLOSE_UNSUPPORTED_DATA if isinstance(body, bytes) else None)
            if refusal is not None:
                connection.closing = True
                await websocket.close(refusal, _CLOSE_REASONS[refusal])
                return refusal, _CLOSE_REASONS[refusal]
            connection.last_active_at = now_ms()
            if len(tasks) >= IN_FLIGHT_PER_CONNECTION + QUEUED_PER_CONNECTION:
                await self._reply(connection, "Too Many Requests", events.event_id())
                continue
            task = asyncio.create_task(self._message(connection, facts, body, turns))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    async def _message(self, connection: Connection, facts: events.ConnectionFacts,
                       body: str | bytes, turns: asyncio.Semaphore) -> None:
        async with turns:
            await self._handle(connection, facts, body)

    async def _handle(self, connection: Connection, facts: events.ConnectionFacts,
                      body: str | bytes) -> None:
        request_id = events.event_id()
        route = self.stage.api.select(body if isinstance(body, str) else None)
        if route is None:
            await self._reply(connection, "Forbidden", request_id)
            return
        event = events.message_event(facts, route.key, request_id, body, now_ms())
        try:
            await self._invoke(route.function_arn, event)
        except FunctionInvocationError as exc:
            log.error("%s %s: %s failed: %s", self.stage.stage, connection.connection_id,
                      route.key, exc)
            await self._reply(connection, "Internal server error", request_id)

    async def _reply(self, connection: Connection, message: str, request_id: str) -> None:
        if self.registry.live(connection.connection_id) is None:
            return
        frame = {"message": message, "connectionId": connection.connection_id,
                 "requestId": request_id}
        try:
            await connection.send(json.dumps(frame).encode())
        except (RuntimeError, OSError, WebSocketDisconnect):
            log.info("%s: gone before the error frame was sent", connection.connection_id)
