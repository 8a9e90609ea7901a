"""Subscribing a connection to a requestId without missing an outcome, and without
showing anyone an outcome that is not theirs.

The subscription is written first and the stored outcome read second. If the
outcome is stored after our read, Notify (which reads subscriptions after the outcome
was stored) sees our subscription; if before, our read finds it. No window is left,
at the price of a possible duplicate delivery, which clients dedupe by requestId.

The read is a Query by requestId (the subscriber does not know whose request it is):
- the subscriber's own outcome is delivered, as above;
- another's: the subscriber gets one `not_found` error frame and nothing else, and
  its subscription is removed. Whoever removes the subscription posts that frame
  (`SubscriptionStore.remove` tells exactly one of them), so the subscribe handler,
  Notify and a `$connect` replay racing for it post it once between them;
- none yet: the usual ack. If the request turns out to be another's, Notify posts the
  error frame when its outcome is stored, never the outcome (ADR 0024, data part).

Once its outcome is posted a subscription is removed (`delivered`), so that what a
connection holds, and is counted against its limit (ADR 0029), is what still waits.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from functions.contracts.command import REQUEST_ID_PATTERN
from functions.contracts.outcome import Outcome
from functions.domain.store import outcomes_of
from functions.domain.subscriptions import SubscriptionStore
from functions.exceptions import InvalidCommandError

NOT_YOURS_CODE = "not_found"
NOT_YOURS_MESSAGE = "no request of yours has this id"


def validated_request_id(value: Any) -> str:
    if not isinstance(value, str) or not REQUEST_ID_PATTERN.match(value):
        raise InvalidCommandError("requestId must be the id a 202 answer returned")
    return value


class Whose(StrEnum):
    """Whose the stored outcome of a requestId is, seen from one caller."""

    NONE_YET = "none_yet"
    OWN = "own"
    ANOTHERS = "anothers"


@dataclass(frozen=True)
class Lookup:
    whose: Whose
    # Set only when `whose` is OWN: another's outcome never leaves the store.
    outcome: Outcome | None = None


def look_up(dynamodb_client: Any, outcomes_table: str, request_id: str, owner: str) -> Lookup:
    stored = outcomes_of(dynamodb_client, outcomes_table, request_id)
    own = [s.outcome for s in stored if s.owner == owner]
    if own:
        return Lookup(Whose.OWN, own[0])
    return Lookup(Whose.ANOTHERS) if stored else Lookup(Whose.NONE_YET)


def not_yours_frame(request_id: str) -> dict[str, Any]:
    """The one frame a subscriber to another's requestId receives."""
    return {"type": "error", "requestId": request_id,
            "error": {"code": NOT_YOURS_CODE, "message": NOT_YOURS_MESSAGE}}


class Subscriber:
    def __init__(
        self, subscriptions: SubscriptionStore, dynamodb_client: Any, outcomes_table: str
    ) -> None:
        self._subscriptions = subscriptions
        self._client = dynamodb_client
        self._outcomes = outcomes_table

    def subscribe(self, request_id: str, connection_id: str, owner: str) -> Lookup:
        """Store the subscription, then look the outcome up (module docstring). On
        ANOTHERS the caller settles it with `refuse`, now or (`$connect`, which cannot
        post yet) through the replay.

        Raises TooManySubscriptionsError, storing nothing, when the connection holds
        its limit of live subscriptions."""
        self._subscriptions.add(request_id, connection_id, owner)
        return look_up(self._client, self._outcomes, request_id, owner)

    def refuse(self, request_id: str, connection_id: str) -> bool:
        """Remove a subscription to another's request; True: post the error frame (no
        one else has)."""
        return self._subscriptions.remove(request_id, connection_id)

    def delivered(self, request_id: str, connection_id: str) -> None:
        """The outcome reached the connection: its subscription waits no more."""
        self._subscriptions.remove(request_id, connection_id)
