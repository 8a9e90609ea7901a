"""Which messages of a DLQ a command takes: `--filter`, `--request-id`, `--older-than`,
`--max`. Pure: a predicate over one message's view, shared by redrive and export.

`--filter` is a JMESPath expression (the `jmespath` package) evaluated on
`{body, attributes, receiveCount, sentTimestamp}`:
- `body`: the body parsed as JSON when it is JSON, else the body string itself
  (`body.operation == 'create'`, `contains(body, 'timeout')` for a text body);
- `attributes`: the message attributes, name → value (a String or Number attribute's
  StringValue as a string, a Binary one's bytes as base64): `attributes.operation`;
- `receiveCount`: ApproximateReceiveCount as a number (the receive that reads it
  included);
- `sentTimestamp`: SentTimestamp, milliseconds since the epoch, as a number.
A message is chosen when the expression's result is truthy by JMESPath's rules (not
false, null, or an empty string, list or object). An expression that fails on one
message (a function given the wrong type) does not choose it; one that does not parse
is a user error before anything is read.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Final

import jmespath
from jmespath.exceptions import JMESPathError, ParseError

from tools.errors import UserError

_DURATION: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_SECONDS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """`30s`, `15m`, `1h`, `2d` → seconds; a user error otherwise."""
    match = _DURATION.match(text)
    if match is None:
        raise UserError(f"--older-than {text!r} is not a duration",
                        hint="a number and s, m, h or d: 30s, 15m, 1h, 2d")
    return float(match[1]) * _SECONDS[match[2]]


@dataclass(frozen=True)
class MessageView:
    """What a filter sees of one received message (the module docstring's fields)."""

    message_id: str
    body: Any
    attributes: dict[str, str]
    receive_count: int
    sent_timestamp: int
    request_id: str | None
    operation: str | None

    def as_filter_input(self) -> dict[str, Any]:
        return {"body": self.body, "attributes": self.attributes,
                "receiveCount": self.receive_count, "sentTimestamp": self.sent_timestamp}


def message_view(message: Mapping[str, Any]) -> MessageView:
    """The view of one message as `receive_message` returns it (with AttributeNames and
    MessageAttributeNames "All"). The requestId and operation come from the body, or
    from the message attributes when the body does not carry them."""
    raw = message.get("Body", "")
    try:
        body: Any = json.loads(raw)
    except ValueError:
        body = raw
    attributes: dict[str, str] = {}
    for name, value in message.get("MessageAttributes", {}).items():
        if "StringValue" in value:
            attributes[name] = str(value["StringValue"])
        elif "BinaryValue" in value:
            binary = value["BinaryValue"]
            attributes[name] = base64.b64encode(binary).decode() if isinstance(
                binary, bytes) else str(binary)
    system = message.get("Attributes", {})
    command = body if isinstance(body, dict) else {}
    request_id = command.get("requestId", attributes.get("requestId"))
    operation = command.get("operation", attributes.get("operation"))
    return MessageView(
        message_id=str(message.get("MessageId", "")), body=body, attributes=attributes,
        receive_count=int(system.get("ApproximateReceiveCount", 0)),
        sent_timestamp=int(system.get("SentTimestamp", 0)),
        request_id=None if request_id is None else str(request_id),
        operation=None if operation is None else str(operation))


def _truthy(value: Any) -> bool:
    return not (value is None or value is False or value in ("", [], {}))


@dataclass(frozen=True)
class Selection:
    """The chosen messages: all of `expression`, `request_ids`, `older_than_seconds`
    (each None or empty: no condition). `limit` is how many at most a command takes;
    counting is the caller's (it knows what was taken)."""

    expression: str | None = None
    request_ids: frozenset[str] = frozenset()
    older_than_seconds: float | None = None
    limit: int | None = None

    def __post_init__(self) -> None:
        if self.limit is not None and self.limit < 1:
            raise UserError(f"--max {self.limit} must be at least 1")
        if self.older_than_seconds is not None and self.older_than_seconds < 0:
            raise UserError("--older-than must not be negative")
        if self.expression is not None:
            _compiled(self.expression)  # a bad expression fails before any receive

    @property
    def everything(self) -> bool:
        """No condition on a message (`limit` aside): a receive need not look further."""
        return (self.expression is None and not self.request_ids
                and self.older_than_seconds is None)

    def chooses(self, view: MessageView, *, now_ms: int) -> bool:
        if self.request_ids and view.request_id not in self.request_ids:
            return False
        if self.older_than_seconds is not None and (
                now_ms - view.sent_timestamp < self.older_than_seconds * 1000):
            return False
        if self.expression is not None:
            try:
                return _truthy(_compiled(self.expression).search(view.as_filter_input()))
            except JMESPathError:
                return False
        return True

    def as_json(self) -> dict[str, Any]:
        return {"filter": self.expression, "request_ids": sorted(self.request_ids),
                "older_than_seconds": self.older_than_seconds, "max": self.limit}

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> Selection:
        return cls(expression=document.get("filter"),
                   request_ids=frozenset(document.get("request_ids") or ()),
                   older_than_seconds=document.get("older_than_seconds"),
                   limit=document.get("max"))


def selection(*, expression: str | None = None, request_ids: Collection[str] | None = None,
              older_than: str | None = None, limit: int | None = None) -> Selection:
    """The CLI's options as a `Selection` (a user error for a bad one)."""
    return Selection(expression=expression or None, request_ids=frozenset(request_ids or ()),
                     older_than_seconds=None if older_than is None else parse_duration(
                         older_than), limit=limit)


_CACHE: dict[str, Any] = {}


def _compiled(expression: str) -> Any:
    if expression not in _CACHE:
        try:
            _CACHE[expression] = jmespath.compile(expression)
        except ParseError as exc:
            raise UserError(f"--filter {expression!r} is not a JMESPath expression: "
                            f"{str(exc).splitlines()[0]}",
                            hint="e.g. --filter \"body.operation == 'create'\"") from exc
        except JMESPathError as exc:
            raise UserError(f"--filter {expression!r}: {exc}") from exc
    return _CACHE[expression]
