"""A replay request: "post the stored outcome of this request to this connection".

`$connect` cannot post to its own connection, and a notification posted while the
connection is still being accepted is answered 410 Gone, which drops the
subscription. So `$connect` always leaves a delayed replay request on the
notifications queue; by the time Notify handles it the connection is open, and the
outcome, if stored by then, reaches it even if the regular notification was lost in
that window. If the outcome is not stored yet, the regular notification delivers it.

The request carries the subscriber's `owner` (the caller's sub): Notify posts the
outcome only if it is that caller's, and another's request gets the `not_found` error
frame instead (functions/domain/subscribing.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

REPLAY_TYPE = "replay"


@dataclass(frozen=True)
class ReplayRequest:
    request_id: str
    connection_id: str
    owner: str

    def to_json(self) -> str:
        return json.dumps({"type": REPLAY_TYPE, "requestId": self.request_id,
                           "connectionId": self.connection_id, "owner": self.owner})

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> ReplayRequest:
        """Raises KeyError for a request without an owner: it cannot be answered, so
        the record fails and ends in the DLQ."""
        return cls(str(document["requestId"]), str(document["connectionId"]),
                   str(document["owner"]))


def is_replay_request(document: dict[str, Any]) -> bool:
    return document.get("type") == REPLAY_TYPE
