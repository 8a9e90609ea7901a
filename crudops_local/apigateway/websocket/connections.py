"""Live WebSocket connections: what the management API posts to, reads and deletes.

Everything runs on the gateway's event loop (functions post over HTTP into the same
server), so the registry needs no thread lock; sends on one connection are serialized
by its own `asyncio.Lock` because two posts may interleave on the loop.

A connection is usable by the management API only once `$connect` has returned 2xx
(before that, and after it closed, a post answers 410 GoneException, like AWS).
"""

from __future__ import annotations

import asyncio
import secrets
import string
import time
from dataclasses import dataclass, field

from starlette.websockets import WebSocket

# API Gateway's ids look like `Dd2b8cKdoAMCJ0A=`; these avoid `+` and `/`, which a
# client would have to escape in the management API's URL path.
_ID_ALPHABET = string.ascii_letters + string.digits


def new_connection_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(15)) + "="


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Connection:
    connection_id: str
    websocket: WebSocket
    connected_at: int
    source_ip: str
    user_agent: str
    last_active_at: int
    open: bool = False
    closing: bool = False
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def send(self, data: bytes) -> None:
        """One frame: text when `data` is UTF-8 (what clients of this API expect), else binary."""
        async with self.send_lock:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                await self.websocket.send_bytes(data)
            else:
                await self.websocket.send_text(text)


class ConnectionRegistry:
    def __init__(self) -> None:
        self._connections: dict[str, Connection] = {}

    def add(self, connection: Connection) -> None:
        self._connections[connection.connection_id] = connection

    def remove(self, connection_id: str) -> Connection | None:
        return self._connections.pop(connection_id, None)

    def live(self, connection_id: str) -> Connection | None:
        """The connection if it is open and not being closed, else None (Gone)."""
        connection = self._connections.get(connection_id)
        if connection is None or not connection.open or connection.closing:
            return None
        return connection

    def __len__(self) -> int:
        return len(self._connections)

    def ids(self) -> list[str]:
        return list(self._connections)
