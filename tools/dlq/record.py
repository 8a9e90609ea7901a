"""A dumped message: the one JSON Lines record `dlq export`, `dlq delete`, `dlq purge`
and `dlq show --json` write, and `dlq replay` reads back.

One JSON object per line (UTF-8, no newline inside: JSON escapes it):
- `format`: `crudops.dlq.message/1`;
- `queue`, `messageId`: where it was read, and SQS's id of it;
- `requestId`, `operation`: who it is (read from the body or the message attributes,
  tools/dlq/messages.py), for a person and for filters; replay does not use them;
- `body`: the body, as a JSON string: the exact text SQS held, whatever it is (JSON,
  not JSON, any Unicode);
- `messageAttributes`: name → `{DataType, StringValue}` or `{DataType, BinaryValue}`
  with the bytes in base64; the DataType as sent (`Number.float`, `Binary.gzip`, ...),
  a Number's text as sent (`1.50` stays `1.50`);
- `attributes`: SQS's system attributes as it returned them (all strings):
  `SentTimestamp`, `ApproximateFirstReceiveTimestamp`, `ApproximateReceiveCount`,
  `AWSTraceHeader`, and for FIFO queues `MessageGroupId`, `MessageDeduplicationId`,
  `SequenceNumber`;
- `receiveCount`, `sentTimestamp`, `firstReceiveTimestamp` (epoch milliseconds),
  `exportedAt` (ISO time, UTC): the same facts typed, for `jq` and filters.

Files written before this format (`message_id`, `body`, `attributes`,
`message_attributes`) are read too.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from tools.dlq.messages import DeadLetter

FORMAT: Final = "crudops.dlq.message/1"
ATTRIBUTE_VALUE_KEYS: Final = ("StringValue", "BinaryValue")


class DumpFormatError(ValueError):
    """A line that is not a dumped message; the message names the line."""


@dataclass(frozen=True)
class DumpedMessage:
    queue: str
    message_id: str
    body: str
    # JSON-ready: BinaryValue in base64
    message_attributes: dict[str, dict[str, str]]
    attributes: dict[str, str]
    request_id: str | None = None
    operation: str | None = None
    exported_at: str = ""

    @classmethod
    def of(cls, message: DeadLetter, queue: str, *, now: datetime | None = None
           ) -> DumpedMessage:
        return cls(queue=queue, message_id=message.message_id, body=message.body,
                   message_attributes={name: _encoded(value) for name, value in
                                       message.message_attributes.items()},
                   attributes=dict(message.attributes), request_id=message.request_id,
                   operation=message.operation,
                   exported_at=(now or datetime.now(UTC)).isoformat(timespec="milliseconds"))

    def _millis(self, name: str) -> int | None:
        value = self.attributes.get(name)
        return int(value) if value is not None and value.isdigit() else None

    @property
    def receive_count(self) -> int | None:
        return self._millis("ApproximateReceiveCount")

    @property
    def trace_header(self) -> str | None:
        return self.attributes.get("AWSTraceHeader")

    @property
    def group_id(self) -> str | None:
        return self.attributes.get("MessageGroupId")

    def send_attributes(self) -> dict[str, dict[str, Any]]:
        """The message attributes as SendMessage takes them (BinaryValue as bytes)."""
        return {name: {"DataType": value["DataType"],
                       **({"BinaryValue": base64.b64decode(value["BinaryValue"])}
                          if "BinaryValue" in value else {"StringValue": value["StringValue"]})}
                for name, value in self.message_attributes.items()}

    def as_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "queue": self.queue, "messageId": self.message_id,
                "requestId": self.request_id, "operation": self.operation,
                "body": self.body, "messageAttributes": self.message_attributes,
                "attributes": self.attributes, "receiveCount": self.receive_count,
                "sentTimestamp": self._millis("SentTimestamp"),
                "firstReceiveTimestamp": self._millis("ApproximateFirstReceiveTimestamp"),
                "exportedAt": self.exported_at}

    def line(self) -> str:
        """The record as one line, newline included."""
        return json.dumps(self.as_json()) + "\n"

    @classmethod
    def from_line(cls, text: str, number: int) -> DumpedMessage:
        """The record on line `number` of a file; `DumpFormatError` naming the line."""
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise DumpFormatError(f"line {number} is not JSON: {exc}") from None
        if not isinstance(document, dict):
            raise DumpFormatError(f"line {number} is not a JSON object")
        legacy = "format" not in document and "message_id" in document
        if not legacy and document.get("format") != FORMAT:
            raise DumpFormatError(f"line {number} is not a dumped message "
                                  f"(format {document.get('format')!r}, expected {FORMAT})")
        message_id = document.get("message_id" if legacy else "messageId")
        body = document.get("body")
        attributes = document.get("attributes") or {}
        message_attributes = document.get(
            "message_attributes" if legacy else "messageAttributes") or {}
        if not isinstance(message_id, str) or not isinstance(body, str):
            raise DumpFormatError(f"line {number} has no messageId or body string")
        if not isinstance(attributes, dict) or not all(
                isinstance(v, str) for v in attributes.values()):
            raise DumpFormatError(f"line {number}: attributes must map names to strings")
        if not isinstance(message_attributes, dict):
            raise DumpFormatError(f"line {number}: messageAttributes must be an object")
        for name, value in message_attributes.items():
            _check_attribute(name, value, number)
        return cls(queue=str(document.get("queue") or ""), message_id=message_id, body=body,
                   message_attributes={n: {k: v for k, v in value.items()
                                           if k in ("DataType", *ATTRIBUTE_VALUE_KEYS)}
                                       for n, value in message_attributes.items()},
                   attributes=dict(attributes),
                   request_id=document.get("request_id" if legacy else "requestId"),
                   operation=document.get("operation"),
                   exported_at=str(document.get("exportedAt") or ""))


def _encoded(attribute: dict[str, Any]) -> dict[str, str]:
    """A message attribute as boto3 returns it, JSON-ready (bytes → base64)."""
    encoded = {"DataType": str(attribute["DataType"])}
    if "BinaryValue" in attribute:
        encoded["BinaryValue"] = base64.b64encode(attribute["BinaryValue"]).decode("ascii")
    else:
        encoded["StringValue"] = str(attribute.get("StringValue", ""))
    return encoded


def _check_attribute(name: str, value: Any, number: int) -> None:
    if not isinstance(value, dict) or not isinstance(value.get("DataType"), str):
        raise DumpFormatError(f"line {number}: message attribute {name!r} has no DataType")
    kinds = [k for k in ATTRIBUTE_VALUE_KEYS if isinstance(value.get(k), str)]
    if len(kinds) != 1:
        raise DumpFormatError(f"line {number}: message attribute {name!r} needs one of "
                              "StringValue or BinaryValue")
    if kinds == ["BinaryValue"]:
        try:
            base64.b64decode(value["BinaryValue"], validate=True)
        except (binascii.Error, ValueError):
            raise DumpFormatError(f"line {number}: message attribute {name!r} is not "
                                  "base64") from None


# Whether a command acts on a message, seen as its record: the one view of a message
# that selections (`--filter`, `--older-than`, ...) read, from a queue (`export`) as
# from a file (`replay`); `as_json()` is what a JMESPath expression sees.
Select = Callable[[DumpedMessage], bool]
