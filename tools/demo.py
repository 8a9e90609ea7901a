"""`crudops demo`: every operation once against a running stack, over real HTTP and
WebSocket, showing each 202, its notification and the latency from 202 to notify.

Two subscription styles are exercised: `{"action": "subscribe"}` on one long-lived
connection (its token in the `Authorization` header), and the seed's
connect-with-`?requestId=` for the get (its token in `?token=`, as a browser must send
it). The token is the stack's own user's (tools/tokens.py); with bare URLs, the
`CRUDOPS_TOKEN` variable's.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

DEFAULT_TIMEOUT_SECONDS = 30.0


@dataclass
class StepResult:
    name: str
    http_status: int
    request_id: str | None
    outcome: dict[str, Any] | None
    latency_ms: float | None
    expected: str
    ok: bool
    detail: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "step": self.name, "httpStatus": self.http_status, "requestId": self.request_id,
            "status": (self.outcome or {}).get("status"),
            "errorCode": ((self.outcome or {}).get("error") or {}).get("code"),
            "latencyMs": None if self.latency_ms is None else round(self.latency_ms, 1),
            "expected": self.expected, "ok": self.ok, "detail": self.detail,
        }


@dataclass
class _Inbox:
    """Notifications received on the shared connection, by requestId."""

    outcomes: dict[str, tuple[dict[str, Any], float]] = field(default_factory=dict)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def read_forever(self, connection: ClientConnection) -> None:
        async for frame in connection:
            message = json.loads(frame)
            if message.get("type") == "notification":
                self.outcomes.setdefault(message["requestId"], (message, time.perf_counter()))
                self.arrived.set()

    async def wait_for(self, request_id: str, timeout: float) -> tuple[dict[str, Any], float]:
        deadline = time.monotonic() + timeout
        while request_id not in self.outcomes:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no notification for {request_id} within {timeout:g} s")
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), remaining)
            except TimeoutError:
                continue
        return self.outcomes[request_id]


@dataclass(frozen=True)
class _Step:
    name: str
    method: str
    path: Callable[[dict[str, Any]], str]
    body: Callable[[dict[str, Any]], Any] | None = None
    headers: Callable[[dict[str, Any]], dict[str, str]] | None = None
    expect_http: int = 202
    expect_status: str | None = "success"
    expect_error: str | None = None
    subscribe_on_connect: bool = False


STEPS: tuple[_Step, ...] = (
    _Step("create", "POST", lambda s: "/items",
          body=lambda s: {"name": "demo widget", "description": "made by crudops demo",
                          "attributes": {"color": "teal", "size": 3, "fragile": False}}),
    _Step("get", "GET", lambda s: f"/items/{s['id']}", subscribe_on_connect=True),
    _Step("list", "GET", lambda s: "/items?limit=5"),
    _Step("update", "PUT", lambda s: f"/items/{s['id']}",
          body=lambda s: {"name": "demo widget v2", "expectedVersion": 1}),
    _Step("update (stale version)", "PUT", lambda s: f"/items/{s['id']}",
          body=lambda s: {"description": "lost update", "expectedVersion": 1},
          expect_status="error", expect_error="conflict"),
    _Step("delete", "DELETE", lambda s: f"/items/{s['id']}",
          headers=lambda s: {"If-Match": '"2"'}),
    _Step("bad request", "POST", lambda s: "/items",
          body=lambda s: {"name": "", "colour": "typo"}, expect_http=400, expect_status=None),
)


def _expected(step: _Step) -> str:
    if step.expect_status is None:
        return str(step.expect_http)
    if step.expect_error:
        return f"{step.expect_http} then error/{step.expect_error}"
    return f"{step.expect_http} then {step.expect_status}"


def connect_url(ws_url: str, token: str | None, **query: str) -> str:
    """`ws_url` with `query` and, when there is one, `?token=` (a browser cannot set
    the `Authorization` header of a WebSocket)."""
    parameters = {**query, **({"token": token} if token else {})}
    if not parameters:
        return ws_url
    separator = "&" if "?" in ws_url else "?"
    return f"{ws_url}{separator}{urllib.parse.urlencode(parameters)}"


def auth_headers(token: str | None) -> dict[str, str]:
    return {"Authorization": token} if token else {}


async def _run_step(step: _Step, state: dict[str, Any], http: httpx.AsyncClient,
                    connection: ClientConnection, inbox: _Inbox, ws_url: str,
                    timeout: float, token: str | None) -> StepResult:
    headers = step.headers(state) if step.headers else {}
    body = step.body(state) if step.body else None
    response = await http.request(step.method, step.path(state), json=body, headers=headers)
    accepted_at = time.perf_counter()
    result = StepResult(step.name, response.status_code, None, None, None, _expected(step),
                        ok=response.status_code == step.expect_http)
    if not result.ok or step.expect_status is None:
        result.detail = response.text[:300]
        return result
    result.request_id = response.json()["requestId"]
    if step.subscribe_on_connect:
        async with connect(connect_url(ws_url, token, requestId=result.request_id)) as own:
            message = json.loads(await asyncio.wait_for(own.recv(), timeout))
            outcome, received_at = message, time.perf_counter()
    else:
        await connection.send(json.dumps({"action": "subscribe",
                                          "requestId": result.request_id}))
        outcome, received_at = await inbox.wait_for(result.request_id, timeout)
    result.outcome = outcome
    result.latency_ms = (received_at - accepted_at) * 1000
    error_code = (outcome.get("error") or {}).get("code")
    result.ok = outcome.get("status") == step.expect_status and error_code == step.expect_error
    if step.name == "create" and result.ok:
        state["id"] = outcome["result"]["id"]
    return result


async def run_demo(rest_url: str, ws_url: str, timeout: float = DEFAULT_TIMEOUT_SECONDS,
                   on_step: Callable[[StepResult], None] | None = None,
                   token: str | None = None) -> list[StepResult]:
    results: list[StepResult] = []
    state: dict[str, Any] = {}
    inbox = _Inbox()
    async with httpx.AsyncClient(base_url=rest_url, timeout=timeout,
                                 headers=auth_headers(token)) as http, \
            connect(ws_url, additional_headers=auth_headers(token)) as connection:
        reader = asyncio.create_task(inbox.read_forever(connection))
        try:
            for step in STEPS:
                if step.name != "create" and "id" not in state and step.expect_status:
                    result = StepResult(step.name, 0, None, None, None, _expected(step),
                                        False, "skipped: create did not succeed")
                else:
                    try:
                        result = await _run_step(step, state, http, connection, inbox,
                                                 ws_url, timeout, token)
                    except (TimeoutError, httpx.HTTPError) as exc:
                        result = StepResult(step.name, 0, None, None, None, _expected(step),
                                            False, str(exc))
                results.append(result)
                if on_step:
                    on_step(result)
        finally:
            reader.cancel()
    return results


def do_demo(rest_url: str, ws_url: str, timeout: float = DEFAULT_TIMEOUT_SECONDS,
            on_step: Callable[[StepResult], None] | None = None,
            token: str | None = None) -> list[StepResult]:
    return asyncio.run(run_demo(rest_url, ws_url, timeout, on_step, token))


# --- the command ------------------------------------------------------------------
def print_step(result: StepResult, as_json: bool) -> None:
    """One step as a JSON line or `ok|FAIL name HTTP status answer latency detail`."""
    import typer

    if as_json:
        typer.echo(json.dumps(result.as_json()))
        return
    latency = "" if result.latency_ms is None else f"{result.latency_ms:7.1f} ms"
    outcome = result.outcome or {}
    answer = outcome.get("status", "")
    if outcome.get("error"):
        answer += f"/{outcome['error']['code']}"
    mark = "ok " if result.ok else "FAIL"
    typer.echo(f"{mark} {result.name:<24} HTTP {result.http_status:<4} "
               f"{answer:<18} {latency}  {result.detail}".rstrip())


def print_demo(rest_url: str, ws_url: str, as_json: bool, token: str | None = None) -> bool:
    """Run the demo, printing each step as it ends; True when every step was ok."""
    results = do_demo(rest_url, ws_url, on_step=lambda result: print_step(result, as_json),
                      token=token)
    return all(r.ok for r in results)


def do_demo_command(*, stack: str | None, local: bool, region: str | None,
                    rest_url: str | None, ws_url: str | None, as_json: bool) -> int:
    """`crudops demo`: against the given URLs, `--stack`, `--local`, or, with none of
    these, a local stack of its own (stopped afterwards, also on Ctrl-C or SIGTERM:
    then exit code 130). Exit code 1 when a step did not answer as expected."""
    from tools.stacks import gateway_urls
    from tools.tokens import api_tokens, given_token

    urls = gateway_urls(rest_url=rest_url, ws_url=ws_url, stack=stack, local=local,
                        region=region, neither_allowed=True,
                        both_hint="without them, demo starts its own local stack")
    if urls is not None:
        token = (given_token(os.environ) if rest_url is not None
                 else api_tokens(stack=stack, local=local, region=region)[0])
        ok = print_demo(*urls, as_json, token)
    else:
        from tools.errors import interrupted
        from tools.local.up import own_local_stack
        from tools.tokens import DEFAULT_USER, user_pool_of

        try:
            with own_local_stack() as own:
                assert own.endpoints is not None and own.aws is not None
                own_token = user_pool_of(own.describe(), own.aws.client).issue(
                    DEFAULT_USER).token
                ok = print_demo(own.endpoints.rest_url, own.endpoints.ws_url, as_json,
                                own_token)
        except KeyboardInterrupt:
            raise interrupted() from None
    return 0 if ok else 1
