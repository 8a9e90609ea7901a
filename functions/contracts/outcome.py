"""The Outcome: the one answer every accepted command ends with.

The same document is stored in the outcomes table (for `GET /requests/{id}` and late
subscribers) and sent as the WebSocket notification, in the seed's format plus
`error` and `completedAt`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from functions.contracts.exact_json import dumps
from functions.exceptions import BusinessError

NOTIFICATION_TYPE = "notification"


class Status(StrEnum):
    SUCCESS = "success"
    ERROR = "error"


@dataclass(frozen=True)
class Outcome:
    request_id: str
    operation: str
    status: Status
    result: Any
    error_code: str | None
    error_message: str | None
    completed_at: str
    submitted_at_ms: int = 0

    @classmethod
    def success(
        cls, request_id: str, operation: str, result: Any, submitted_at_ms: int = 0
    ) -> Outcome:
        return cls(request_id, operation, Status.SUCCESS, result, None, None, utc_now_iso(),
                   submitted_at_ms)

    @classmethod
    def failure(
        cls, request_id: str, operation: str, error: BusinessError, submitted_at_ms: int = 0
    ) -> Outcome:
        return cls(request_id, operation, Status.ERROR, None, error.code, error.message,
                   utc_now_iso(), submitted_at_ms)

    def to_document(self) -> dict[str, Any]:
        error = (
            {"code": self.error_code, "message": self.error_message}
            if self.status is Status.ERROR
            else None
        )
        document: dict[str, Any] = {
            "requestId": self.request_id,
            "operation": self.operation,
            "status": self.status.value,
            "result": self.result,
            "error": error,
            "type": NOTIFICATION_TYPE,
            "completedAt": self.completed_at,
        }
        if self.submitted_at_ms:
            document["submittedAt"] = self.submitted_at_ms
        return document

    def to_json(self) -> str:
        return dumps(self.to_document())

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> Outcome:
        error = document.get("error") or {}
        return cls(
            request_id=str(document["requestId"]),
            operation=str(document.get("operation", "")),
            status=Status(document["status"]),
            result=document.get("result"),
            error_code=error.get("code"),
            error_message=error.get("message"),
            completed_at=str(document.get("completedAt", "")),
            submitted_at_ms=int(document.get("submittedAt") or 0),
        )

    @classmethod
    def from_json(cls, text: str) -> Outcome:
        return cls.from_document(json.loads(text, parse_float=Decimal))


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
