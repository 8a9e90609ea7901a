"""A trivial stand-in for the stack: every command gets its 202 and, once subscribed, its
notification at once. What `crudops load` can generate is measured against it
(benchmarks/load_generator.py): the stack's own cost is gone, only the generator's
and this server's remain.

`python -m benchmarks.echo_server --port 8765` serves `/v1/items...` over HTTP and
`/live` over WebSocket on 127.0.0.1 (uvicorn, one process) until stopped. A created
item's result carries an id and version 1, so the mixes find items to work on.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

# requestId → operation, until its subscriber is told (bounded by the run's commands)
_ACCEPTED: dict[str, str] = {}


async def command(request: Request) -> JSONResponse:
    request_id = uuid.uuid4().hex
    operation = {"POST": "create", "GET": "get", "PUT": "update", "DELETE": "delete"}[
        request.method]
    if request.method == "GET" and "id" not in request.path_params:
        operation = "list"
    await request.body()
    _ACCEPTED[request_id] = operation
    return JSONResponse({"requestId": request_id}, status_code=202)


async def live(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            message = json.loads(await websocket.receive_text())
            request_id = str(message.get("requestId"))
            operation = _ACCEPTED.pop(request_id, "get")
            result: dict[str, Any] = {"id": uuid.uuid4().hex, "version": 1}
            await websocket.send_text(json.dumps({
                "type": "notification", "requestId": request_id, "operation": operation,
                "status": "success", "result": result, "completedAt": time.time()}))
    except WebSocketDisconnect:
        return


app = Starlette(routes=[
    Route("/v1/items", command, methods=["POST", "GET"]),
    Route("/v1/items/{id}", command, methods=["GET", "PUT", "DELETE"]),
    WebSocketRoute("/live", live),
])


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    arguments = parser.parse_args()
    uvicorn.run(app, host="127.0.0.1", port=arguments.port, log_level="warning",
                access_log=False)


if __name__ == "__main__":
    main()
