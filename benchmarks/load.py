"""The load client of `crudops bench`: POST /items, subscribe, wait for the notification.

One asyncio loop drives everything over real HTTP and WebSocket, as users would:
- `closed_loop` (saturation): `users` virtual users each submit, subscribe and wait for
  their notification, then start again, for `duration` seconds. With enough users the
  stack, not the client, is the bottleneck, so notifications per second is the
  stack's throughput.
- `open_loop` (latency at a given load): requests start on a precomputed schedule
  (`stats.arrival_offsets`) whatever the stack does, so queueing delay shows up in the
  latency instead of slowing the client down (no coordinated omission).

Subscriptions go over a few shared connections (`{"action": "subscribe"}`), like a
browser tab holding one socket for all its requests. Latency is measured from the
moment the 202 arrived to the moment the notification arrived. After the window,
requests still waiting get a bounded grace period; those that never hear back are
counted as lost, those that hear back after the window as late.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from benchmarks.stats import LatencySummary, rate

OUTSTANDING_LIMIT = 5_000
ERROR_BACKOFF_SECONDS = 0.05
Progress = Callable[[float], None]


@dataclass
class Inbox:
    """First arrival time of each requestId's notification, over all connections.

    Waiters register before they subscribe, so a notification can never arrive
    before anyone waits for it; duplicates (a late subscriber can get the outcome
    twice) are ignored.
    """

    arrived: dict[str, float] = field(default_factory=dict)
    waiters: dict[str, asyncio.Future[float]] = field(default_factory=dict)
    error_frames: int = 0

    def expect(self, request_id: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        if request_id in self.arrived:
            future.set_result(self.arrived[request_id])
        else:
            self.waiters[request_id] = future
        return future

    def deliver(self, frame: str | bytes, at: float) -> None:
        try:
            message = json.loads(frame)
        except ValueError:
            self.error_frames += 1
            return
        if not isinstance(message, dict):
            self.error_frames += 1
            return
        if message.get("type") == "error":
            self.error_frames += 1
            return
        if message.get("type") != "notification":
            return
        request_id = str(message.get("requestId"))
        if request_id in self.arrived:
            return
        self.arrived[request_id] = at
        future = self.waiters.pop(request_id, None)
        if future is not None and not future.done():
            future.set_result(at)

    async def read_forever(self, connection: ClientConnection) -> None:
        with contextlib.suppress(Exception):
            async for frame in connection:
                self.deliver(frame, time.perf_counter())


@dataclass
class PhaseResult:
    """What one load phase saw; times are `time.perf_counter()` seconds."""

    name: str
    duration_seconds: float
    started_at: float = 0.0
    accepted: dict[str, float] = field(default_factory=dict)  # requestId -> 202 time
    accept_ms: list[float] = field(default_factory=list)
    http_errors: dict[str, int] = field(default_factory=dict)
    skipped: int = 0
    offered: int = 0
    inbox_arrived: dict[str, float] = field(default_factory=dict)
    ws_error_frames: int = 0

    @property
    def window_end(self) -> float:
        return self.started_at + self.duration_seconds

    def _notified(self) -> dict[str, float]:
        return {rid: self.inbox_arrived[rid] for rid in self.accepted
                if rid in self.inbox_arrived}

    def as_json(self) -> dict[str, Any]:
        notified = self._notified()
        in_window = sum(1 for at in notified.values() if at <= self.window_end)
        accepted_in_window = sum(1 for at in self.accepted.values() if at <= self.window_end)
        latencies = [(notified[rid] - self.accepted[rid]) * 1000 for rid in notified]
        return {
            "phase": self.name,
            "duration_s": self.duration_seconds,
            "offered": self.offered,
            "accepted": len(self.accepted),
            "accepted_per_s": round(rate(accepted_in_window, self.duration_seconds), 2),
            "notified_in_window": in_window,
            "notifications_per_s": round(rate(in_window, self.duration_seconds), 2),
            "late": len(notified) - in_window,
            "lost": len(self.accepted) - len(notified),
            "http_errors": dict(self.http_errors),
            "http_error_count": sum(self.http_errors.values()),
            "ws_error_frames": self.ws_error_frames,
            "skipped_over_outstanding_limit": self.skipped,
            "accept_latency": LatencySummary.of(self.accept_ms).as_json(),
            "notify_latency": LatencySummary.of(latencies).as_json(),
        }


class Client:
    """HTTP client and shared WebSocket connections to one running stack."""

    def __init__(self, rest_url: str, ws_url: str, connections: int = 4,
                 max_http_connections: int = 256, timeout: float = 30.0,
                 token: str | None = None) -> None:
        self.rest_url, self.ws_url = rest_url, ws_url
        # The API refuses anonymous callers: an ID token of the stack's pool.
        self.headers = {"Authorization": token} if token else {}
        self.connection_count = max(1, connections)
        self.timeout = timeout
        self.max_http_connections = max_http_connections
        self.inbox = Inbox()
        self.http: httpx.AsyncClient | None = None
        self.sockets: list[ClientConnection] = []
        self._readers: list[asyncio.Task[None]] = []
        self._sequence = 0

    async def __aenter__(self) -> Client:
        limits = httpx.Limits(max_connections=self.max_http_connections,
                              max_keepalive_connections=self.max_http_connections)
        self.http = httpx.AsyncClient(base_url=self.rest_url, timeout=self.timeout,
                                      limits=limits, headers=self.headers)
        for _ in range(self.connection_count):
            socket = await connect(self.ws_url, open_timeout=self.timeout, max_queue=None,
                                   additional_headers=self.headers)
            self.sockets.append(socket)
            self._readers.append(asyncio.create_task(self.inbox.read_forever(socket)))
        return self

    async def __aexit__(self, *_: object) -> None:
        for reader in self._readers:
            reader.cancel()
        for socket in self.sockets:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(socket.close(), 5)
        if self.http is not None:
            await self.http.aclose()

    async def submit(self, result: PhaseResult, socket_index: int
                     ) -> tuple[str, asyncio.Future[float]] | None:
        """POST one item and subscribe to its outcome; None when it was not accepted."""
        assert self.http is not None
        self._sequence += 1
        sent_at = time.perf_counter()
        try:
            response = await self.http.post("/items", json={"name": f"bench {self._sequence}"})
        except httpx.HTTPError as exc:
            key = type(exc).__name__
            result.http_errors[key] = result.http_errors.get(key, 0) + 1
            return None
        accepted_at = time.perf_counter()
        if response.status_code != 202:
            key = str(response.status_code)
            result.http_errors[key] = result.http_errors.get(key, 0) + 1
            return None
        request_id = str(response.json()["requestId"])
        result.accepted[request_id] = accepted_at
        result.accept_ms.append((accepted_at - sent_at) * 1000)
        future = self.inbox.expect(request_id)
        socket = self.sockets[socket_index % len(self.sockets)]
        try:
            await socket.send(json.dumps({"action": "subscribe", "requestId": request_id}))
        except Exception:
            result.http_errors["ws_send"] = result.http_errors.get("ws_send", 0) + 1
        return request_id, future

    def finish(self, result: PhaseResult) -> PhaseResult:
        result.inbox_arrived = {rid: self.inbox.arrived[rid] for rid in result.accepted
                                if rid in self.inbox.arrived}
        result.ws_error_frames = self.inbox.error_frames
        return result


async def _wait(future: asyncio.Future[float], deadline: float) -> bool:
    remaining = deadline - time.perf_counter()
    if remaining <= 0:
        return future.done()
    try:
        await asyncio.wait_for(asyncio.shield(future), remaining)
    except TimeoutError:
        return False
    return True


async def _ticker(started: float, total: float, progress: Progress | None) -> None:
    while progress is not None:
        progress(min(1.0, (time.perf_counter() - started) / total))
        await asyncio.sleep(0.5)


async def closed_loop(client: Client, users: int, duration: float, grace: float,
                      name: str = "saturation", progress: Progress | None = None
                      ) -> PhaseResult:
    """`users` virtual users in a submit → subscribe → wait loop for `duration` s."""
    result = PhaseResult(name, duration, started_at=time.perf_counter())
    end = result.window_end
    deadline = end + grace

    async def user(index: int) -> None:
        while time.perf_counter() < end:
            result.offered += 1
            submitted = await client.submit(result, index)
            if submitted is None:
                await asyncio.sleep(ERROR_BACKOFF_SECONDS)
                continue
            if not await _wait(submitted[1], deadline):
                return

    ticker = asyncio.create_task(_ticker(result.started_at, duration + grace, progress))
    try:
        await asyncio.gather(*(user(i) for i in range(users)))
    finally:
        ticker.cancel()
        if progress is not None:
            progress(1.0)
    return client.finish(result)


async def open_loop(client: Client, offsets: Sequence[float], duration: float, grace: float,
                    name: str = "latency", progress: Progress | None = None) -> PhaseResult:
    """Start one request at each offset (seconds from now), whatever the stack does."""
    result = PhaseResult(name, duration, started_at=time.perf_counter())
    deadline = result.window_end + grace
    tasks: set[asyncio.Task[None]] = set()

    async def one(index: int) -> None:
        submitted = await client.submit(result, index)
        if submitted is not None:
            await _wait(submitted[1], deadline)

    ticker = asyncio.create_task(_ticker(result.started_at, duration + grace, progress))
    try:
        for index, offset in enumerate(offsets):
            delay = result.started_at + offset - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            result.offered += 1
            if len(tasks) >= OUTSTANDING_LIMIT:
                result.skipped += 1
                continue
            task = asyncio.create_task(one(index))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.wait(set(tasks), timeout=max(0.0, deadline - time.perf_counter()) + 5)
    finally:
        ticker.cancel()
        if progress is not None:
            progress(1.0)
        for task in tasks:
            task.cancel()
    return client.finish(result)
