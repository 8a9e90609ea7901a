"""DynamoDB access for items and outcomes: every write that answers a command is
guarded by `attribute_not_exists(requestId)` on the outcome, in the same transaction
as the item change, which is what makes redelivery harmless.

Every row belongs to an owner (the caller's sub, functions/contracts/tables.py): item
reads and writes are keyed by (owner, id), so another's item is simply absent, and
the `owner` key attribute never leaves this module (items are returned without it,
as the API answers them).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from functions.contracts.outcome import Outcome
from functions.contracts.tables import ITEMS_KEY, OUTCOMES_KEY, OWNER_ATTRIBUTE

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

CONDITION_FAILED = "ConditionalCheckFailed"
# `owner` is one of DynamoDB's reserved words: expressions name it through this.
_OWNER_NAME = {"#owner": OWNER_ATTRIBUTE}


def to_attributes(document: dict[str, Any]) -> dict[str, Any]:
    return {key: _serializer.serialize(value) for key, value in document.items()}


def from_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    return {key: _deserializer.deserialize(value) for key, value in attributes.items()}


def _item_of(attributes: dict[str, Any]) -> dict[str, Any]:
    """An item as the API answers it: without its owner key."""
    item = from_attributes(attributes)
    item.pop(OWNER_ATTRIBUTE, None)
    return item


@dataclass(frozen=True)
class StoredOutcome:
    """An outcome with the caller it belongs to."""

    outcome: Outcome
    owner: str


def read_outcome(client: Any, outcomes_table: str, request_id: str,
                 owner: str) -> Outcome | None:
    """The outcome of `request_id` if it is `owner`'s (None: none, or another's)."""
    response = client.get_item(
        TableName=outcomes_table, Key=OUTCOMES_KEY.of(request_id, owner), ConsistentRead=True
    )
    item = response.get("Item")
    return Outcome.from_json(item["document"]["S"]) if item else None


def outcomes_of(client: Any, outcomes_table: str, request_id: str) -> list[StoredOutcome]:
    """Every stored outcome of `request_id`, whoever's it is: a Query of its partition.

    For a caller who knows no owner (a subscriber checking whether the request is its
    own, an operator tool). The API issues each requestId once, so this is at most one
    outcome unless something outside the API published a command under the same id.
    """
    kwargs: dict[str, Any] = {
        "TableName": outcomes_table,
        "KeyConditionExpression": f"{OUTCOMES_KEY.partition} = :r",
        "ExpressionAttributeValues": {":r": {"S": request_id}},
        "ConsistentRead": True,
    }
    found: list[StoredOutcome] = []
    while True:
        response = client.query(**kwargs)
        found += [StoredOutcome(Outcome.from_json(row["document"]["S"]),
                                row[OWNER_ATTRIBUTE]["S"])
                  for row in response.get("Items", [])]
        if "LastEvaluatedKey" not in response:
            return found
        kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]


class OutcomeAlreadyRecorded(Exception):
    """The command's outcome exists: it was applied before (a redelivery)."""


class ItemPreconditionFailed(Exception):
    """The item's condition failed; `current` is the item as it is now (None: absent)."""

    def __init__(self, current: dict[str, Any] | None) -> None:
        super().__init__("item precondition failed")
        self.current = current


@dataclass(frozen=True)
class ItemPage:
    items: list[dict[str, Any]]
    more_after: bool


class CommandStore:
    """Items and outcomes tables behind the operations the command domain needs; each
    operation names the owner it acts for."""

    def __init__(
        self, client: Any, items_table: str, outcomes_table: str, outcome_ttl_seconds: int
    ) -> None:
        self._client = client
        self._items = items_table
        self._outcomes = outcomes_table
        self._ttl = outcome_ttl_seconds

    # --- outcomes -------------------------------------------------------------
    def _outcome_put(self, outcome: Outcome, owner: str) -> dict[str, Any]:
        return {
            "TableName": self._outcomes,
            "Item": {
                **OUTCOMES_KEY.of(outcome.request_id, owner),
                "document": {"S": outcome.to_json()},
                "status": {"S": outcome.status.value},
                "operation": {"S": outcome.operation},
                "expiresAt": {"N": str(int(time.time()) + self._ttl)},
            },
            "ConditionExpression": f"attribute_not_exists({OUTCOMES_KEY.partition})",
        }

    def get_outcome(self, request_id: str, owner: str) -> Outcome | None:
        return read_outcome(self._client, self._outcomes, request_id, owner)

    def record_outcome(self, outcome: Outcome, owner: str) -> None:
        """Store an outcome that changes no item; raises OutcomeAlreadyRecorded."""
        try:
            self._client.put_item(**self._outcome_put(outcome, owner))
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise OutcomeAlreadyRecorded() from exc
            raise

    # --- items ----------------------------------------------------------------
    def get_item(self, owner: str, item_id: str) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self._items, Key=ITEMS_KEY.of(owner, item_id), ConsistentRead=True
        )
        item = response.get("Item")
        return _item_of(item) if item else None

    def query_items(self, owner: str, limit: int, start_id: str | None) -> ItemPage:
        """One page of `owner`'s items in id order, after `start_id`."""
        kwargs: dict[str, Any] = {
            "TableName": self._items,
            "KeyConditionExpression": "#owner = :owner",
            "ExpressionAttributeNames": _OWNER_NAME,
            "ExpressionAttributeValues": {":owner": {"S": owner}},
            "Limit": limit,
        }
        if start_id:
            kwargs["ExclusiveStartKey"] = ITEMS_KEY.of(owner, start_id)
        response = self._client.query(**kwargs)
        items = [_item_of(item) for item in response.get("Items", [])]
        return ItemPage(items, "LastEvaluatedKey" in response)

    def put_new_item(self, owner: str, item: dict[str, Any], outcome: Outcome) -> None:
        self._transact(
            {
                "Put": {
                    "TableName": self._items,
                    "Item": to_attributes({**item, OWNER_ATTRIBUTE: owner}),
                    "ConditionExpression": f"attribute_not_exists({ITEMS_KEY.sort})",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            outcome,
            owner,
        )

    def replace_item(self, owner: str, item: dict[str, Any], previous_version: int,
                     outcome: Outcome) -> None:
        """Write the new item state only if nobody changed it since it was read."""
        self._transact(
            {
                "Put": {
                    "TableName": self._items,
                    "Item": to_attributes({**item, OWNER_ATTRIBUTE: owner}),
                    "ConditionExpression": "attribute_exists(id) AND version = :read_version",
                    "ExpressionAttributeValues": {":read_version": {"N": str(previous_version)}},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            outcome,
            owner,
        )

    def delete_item(self, owner: str, item_id: str, previous_version: int,
                    outcome: Outcome) -> None:
        self._transact(
            {
                "Delete": {
                    "TableName": self._items,
                    "Key": ITEMS_KEY.of(owner, item_id),
                    "ConditionExpression": "attribute_exists(id) AND version = :read_version",
                    "ExpressionAttributeValues": {":read_version": {"N": str(previous_version)}},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            outcome,
            owner,
        )

    def _transact(self, item_change: dict[str, Any], outcome: Outcome, owner: str) -> None:
        try:
            self._client.transact_write_items(
                TransactItems=[item_change, {"Put": self._outcome_put(outcome, owner)}]
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = exc.response.get("CancellationReasons") or []
            codes = [reason.get("Code") for reason in reasons]
            # The outcome guard is checked first: a redelivered command usually fails
            # both conditions, and "already applied" is the answer that matters.
            if len(codes) > 1 and codes[1] == CONDITION_FAILED:
                raise OutcomeAlreadyRecorded() from exc
            if codes and codes[0] == CONDITION_FAILED:
                old = reasons[0].get("Item")
                raise ItemPreconditionFailed(_item_of(old) if old else None) from exc
            raise
