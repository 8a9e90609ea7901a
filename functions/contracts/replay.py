"""A replay request: "post the stored outcome of this request to this connection".

`$connect` cannot post to its own connection, and a notification posted while the
connection is still being accepted is answered 410 Gone, which drops the
subscription. So `$connect` always leaves a replay request on the notifications
queue. Notify first asks the management API whether the connection is open; while
it is not (the `$connect` has not returned yet), it puts the request back with its
`attempt` counted up. Once it is open, the stored outcome reaches it even if the
regular notification was lost in that window; if none is stored yet, the regular
notification comes later still, to an open connection.

The request carries the subscriber's `owner` (the caller's sub): Notify posts the
outcome only if it is that caller's, and another's request gets the `not_found` error
frame instead (functions/domain/subscribing.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

REPLAY_TYPE = "replay"


@dataclass(frozen=True)
class ReplayRequest:
    request_id: str
    connection_id: str
    owner: str
    # How many times Notify found the connection not open yet and asked again.
    attempt: int = 0

    def to_json(self) -> str:
        return json.dumps({"type": REPLAY_TYPE, "requestId": self.request_id,
                           "connectionId": self.connection_id, "owner": self.owner,
                           "attempt": self.attempt})

    def asked_again(self) -> ReplayRequest:
        return replace(self, attempt=self.attempt + 1)

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> ReplayRequest:
        """Raises KeyError for a request without an owner: it cannot be answered, so
        the record fails and ends in the DLQ."""
        return cls(str(document["requestId"]), str(document["connectionId"]),
                   str(document["owner"]), int(document.get("attempt", 0)))


def is_replay_request(document: dict[str, Any]) -> bool:
    return document.get("type") == REPLAY_TYPE
