"""DynamoDB access for items and outcomes: every write that answers a command is
guarded by `attribute_not_exists(requestId)` on the outcome, in the same transaction
as the item change, which is what makes redelivery harmless.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from functions.contracts.outcome import Outcome

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

CONDITION_FAILED = "ConditionalCheckFailed"


def to_attributes(document: dict[str, Any]) -> dict[str, Any]:
    return {key: _serializer.serialize(value) for key, value in document.items()}


def from_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    return {key: _deserializer.deserialize(value) for key, value in attributes.items()}


def read_outcome(client: Any, outcomes_table: str, request_id: str) -> Outcome | None:
    response = client.get_item(
        TableName=outcomes_table, Key={"requestId": {"S": request_id}}, ConsistentRead=True
    )
    item = response.get("Item")
    return Outcome.from_json(item["document"]["S"]) if item else None


class OutcomeAlreadyRecorded(Exception):
    """The command's outcome exists: it was applied before (a redelivery)."""


class ItemPreconditionFailed(Exception):
    """The item's condition failed; `current` is the item as it is now (None: absent)."""

    def __init__(self, current: dict[str, Any] | None) -> None:
        super().__init__("item precondition failed")
        self.current = current


@dataclass(frozen=True)
class ScanPage:
    items: list[dict[str, Any]]
    more_after: bool


class CommandStore:
    """Items and outcomes tables behind the operations the command domain needs."""

    def __init__(
        self, client: Any, items_table: str, outcomes_table: str, outcome_ttl_seconds: int
    ) -> None:
        self._client = client
        self._items = items_table
        self._outcomes = outcomes_table
        self._ttl = outcome_ttl_seconds

    # --- outcomes -------------------------------------------------------------
    def _outcome_put(self, outcome: Outcome) -> dict[str, Any]:
        return {
            "TableName": self._outcomes,
            "Item": {
                "requestId": {"S": outcome.request_id},
                "document": {"S": outcome.to_json()},
                "status": {"S": outcome.status.value},
                "operation": {"S": outcome.operation},
                "expiresAt": {"N": str(int(time.time()) + self._ttl)},
            },
            "ConditionExpression": "attribute_not_exists(requestId)",
        }

    def get_outcome(self, request_id: str) -> Outcome | None:
        return read_outcome(self._client, self._outcomes, request_id)

    def record_outcome(self, outcome: Outcome) -> None:
        """Store an outcome that changes no item; raises OutcomeAlreadyRecorded."""
        try:
            self._client.put_item(**self._outcome_put(outcome))
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise OutcomeAlreadyRecorded() from exc
            raise

    # --- items ----------------------------------------------------------------
    def get_item(self, item_id: str) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self._items, Key={"id": {"S": item_id}}, ConsistentRead=True
        )
        item = response.get("Item")
        return from_attributes(item) if item else None

    def scan_items(self, limit: int, start_id: str | None) -> ScanPage:
        kwargs: dict[str, Any] = {"TableName": self._items, "Limit": limit}
        if start_id:
            kwargs["ExclusiveStartKey"] = {"id": {"S": start_id}}
        response = self._client.scan(**kwargs)
        items = [from_attributes(item) for item in response.get("Items", [])]
        return ScanPage(items, "LastEvaluatedKey" in response)

    def put_new_item(self, item: dict[str, Any], outcome: Outcome) -> None:
        self._transact(
            {
                "Put": {
                    "TableName": self._items,
                    "Item": to_attributes(item),
                    "ConditionExpression": "attribute_not_exists(id)",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            outcome,
        )

    def replace_item(self, item: dict[str, Any], previous_version: int, outcome: Outcome) -> None:
        """Write the new item state only if nobody changed it since it was read."""
        self._transact(
            {
                "Put": {
                    "TableName": self._items,
                    "Item": to_attributes(item),
                    "ConditionExpression": "attribute_exists(id) AND version = :read_version",
                    "ExpressionAttributeValues": {":read_version": {"N": str(previous_version)}},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            outcome,
        )

    def delete_item(self, item_id: str, previous_version: int, outcome: Outcome) -> None:
        self._transact(
            {
                "Delete": {
                    "TableName": self._items,
                    "Key": {"id": {"S": item_id}},
                    "ConditionExpression": "attribute_exists(id) AND version = :read_version",
                    "ExpressionAttributeValues": {":read_version": {"N": str(previous_version)}},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            outcome,
        )

    def _transact(self, item_change: dict[str, Any], outcome: Outcome) -> None:
        try:
            self._client.transact_write_items(
                TransactItems=[item_change, {"Put": self._outcome_put(outcome)}]
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
                raise ItemPreconditionFailed(from_attributes(old) if old else None) from exc
            raise
