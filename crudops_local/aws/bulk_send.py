"""A bulk send into an SQS queue of the embedded server, for a benchmark that owns it.

`crudops bench --backlogs 100000` must queue 100,000 commands before it measures. Sent
through the SQS API, each batch of 10 costs the server its HTTP round trip, request
parsing and response serialization on top of the send itself, and the server's one
interpreter is the bottleneck (docs/emulator-facts.md): ~50 s of server time for
100,000 on an idle machine, while the stack consumes the same queue. This route takes
many messages per request and hands each to moto's own `SQSBackend.send_message` (its
validation, MD5s, sequence and the queue's index), so the queued messages are the ones
SendMessageBatch would have queued; only the HTTP and serialization per batch are
skipped.

`POST /_crudops/sqs/send` with `{"queueUrl": …, "region": …, "messages": [{"body": …,
"attributes": {…}}]}` (attributes as SendMessage's `MessageAttributes`) answers
`{"sent": n}`, or a 400 with `{"error": …}`. Only the embedded server serves it; it is
no AWS API, and no part of the stack calls it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlparse

PATH = "/_crudops/sqs/send"
MAX_MESSAGES = 10_000


class BulkSendRoute:
    """WSGI middleware in front of moto's application: the one path, else moto."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app

    def __call__(self, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST":
            return self._app(environ, start_response)
        answer: dict[str, Any]
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            request = json.loads(environ["wsgi.input"].read(length))
            sent = send(request["queueUrl"], request["region"], request["messages"])
            status, answer = "200 OK", {"sent": sent}
        except Exception as exc:  # the caller's mistake, or moto's refusal: one line
            status, answer = "400 Bad Request", {"error": f"{type(exc).__name__}: {exc}"}
        payload = json.dumps(answer).encode()
        start_response(status, [("Content-Type", "application/json"),
                                ("Content-Length", str(len(payload)))])
        return [payload]


def send(queue_url: str, region: str, messages: list[dict[str, Any]]) -> int:
    """Each message through moto's `send_message`, as SendMessageBatch does; how many."""
    from moto.sqs.models import sqs_backends
    from moto.sqs.utils import validate_message_attributes

    if len(messages) > MAX_MESSAGES:
        raise ValueError(f"at most {MAX_MESSAGES} messages per request")
    parts = urlparse(queue_url).path.strip("/").split("/")
    if len(parts) != 2:
        raise ValueError(f"not a queue URL: {queue_url}")
    account, name = parts
    backend = sqs_backends[account][region]
    backend.get_queue(name)  # QueueDoesNotExist before anything is sent
    for message in messages:
        attributes = message.get("attributes") or {}
        validate_message_attributes(attributes)
        backend.send_message(name, message["body"], message_attributes=attributes)
    return len(messages)
