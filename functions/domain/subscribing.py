"""Subscribing a connection to a requestId without missing an outcome.

The subscription is written first and the stored outcome read second. If the
outcome is stored after our read, Notify (which reads subscriptions after the outcome
was stored) sees our subscription; if before, our read finds it. No window is left,
at the price of a possible duplicate delivery, which clients dedupe by requestId.
"""

from __future__ import annotations

from typing import Any

from functions.contracts.command import REQUEST_ID_PATTERN
from functions.contracts.outcome import Outcome
from functions.domain.store import read_outcome
from functions.domain.subscriptions import SubscriptionStore
from functions.exceptions import InvalidCommandError


def validated_request_id(value: Any) -> str:
    if not isinstance(value, str) or not REQUEST_ID_PATTERN.match(value):
        raise InvalidCommandError("requestId must be the id a 202 answer returned")
    return value


class Subscriber:
    def __init__(
        self, subscriptions: SubscriptionStore, dynamodb_client: Any, outcomes_table: str
    ) -> None:
        self._subscriptions = subscriptions
        self._client = dynamodb_client
        self._outcomes = outcomes_table

    def subscribe(self, request_id: str, connection_id: str) -> Outcome | None:
        """Returns the outcome if it is already stored (the caller delivers it)."""
        self._subscriptions.add(request_id, connection_id)
        return read_outcome(self._client, self._outcomes, request_id)
