"""Executing a Command: the rules of create/get/list/update/delete.

`CommandExecutor.execute` returns the one Outcome of a command. It is safe to call
again for the same command (a redelivery): the stored outcome is returned and
nothing is applied twice. Business failures become stored `error` outcomes; delivery
failures (`DeliveryError`) propagate so SQS retries the record.

Everything a command reads or writes is the caller's (`Command.owner`): an item of
another owner is not there for it, so getting, changing or deleting it is
`not_found`, never `forbidden` (which would tell that the id exists).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NoReturn

from functions.contracts.command import Command, Operation
from functions.contracts.outcome import Outcome, utc_now_iso
from functions.domain import item_model, paging
from functions.domain.store import CommandStore, ItemPreconditionFailed, OutcomeAlreadyRecorded
from functions.exceptions import (
    BusinessError,
    ConcurrentModificationError,
    DeliveryError,
    InvalidCommandError,
    ItemNotFoundError,
    ItemNotYetCreatedError,
    VersionConflictError,
)
from functions.settings import FunctionSettings

# Optimistic-concurrency attempts for an update/delete without an expected version
# before the record is handed back to SQS.
_WRITE_ATTEMPTS = 3
LIST_DEFAULT_LIMIT = 25


@dataclass(frozen=True)
class Attempt:
    """What the handler knows about this delivery of the command."""

    receive_count: int
    now_ms: int


@dataclass(frozen=True)
class Execution:
    outcome: Outcome
    replayed: bool


def may_retry_missing_item(
    command: Command, attempt: Attempt, settings: FunctionSettings
) -> bool:
    """Retry an update/delete of an absent item only within the window and never on
    the last receives, so the retry itself can never push the record into the DLQ."""
    age_seconds = (attempt.now_ms - command.submitted_at_ms) / 1000
    within_window = age_seconds < settings.missing_item_retry_window_seconds
    receives_left = attempt.receive_count < settings.max_receive_count - 1
    return within_window and receives_left


class CommandExecutor:
    def __init__(self, store: CommandStore, settings: FunctionSettings) -> None:
        self._store = store
        self._settings = settings

    def execute(self, command: Command, attempt: Attempt) -> Execution:
        try:
            return Execution(self._apply(command, attempt), replayed=False)
        except OutcomeAlreadyRecorded:
            return self._replay(command)
        except BusinessError as error:
            outcome = Outcome.failure(
                command.request_id, command.operation, error, command.submitted_at_ms
            )
            try:
                self._store.record_outcome(outcome, command.owner)
            except OutcomeAlreadyRecorded:
                return self._replay(command)
            return Execution(outcome, replayed=False)

    def _replay(self, command: Command) -> Execution:
        stored = self._store.get_outcome(command.request_id, command.owner)
        if stored is None:
            raise DeliveryError(f"outcome of {command.request_id} vanished while replaying")
        return Execution(stored, replayed=True)

    def _success(self, command: Command, result: Any) -> Outcome:
        return Outcome.success(
            command.request_id, command.operation, result, command.submitted_at_ms
        )

    def _apply(self, command: Command, attempt: Attempt) -> Outcome:
        operation = command.known_operation
        if operation is Operation.CREATE:
            return self._create(command)
        if operation is Operation.GET:
            return self._get(command)
        if operation is Operation.LIST:
            return self._list(command)
        if operation is Operation.UPDATE:
            return self._update(command, attempt)
        if operation is Operation.DELETE:
            return self._delete(command, attempt)
        raise InvalidCommandError(f"unknown operation {command.operation!r}")

    def _create(self, command: Command) -> Outcome:
        item = item_model.new_item(command.request_id, command.payload, utc_now_iso())
        outcome = self._success(command, item)
        try:
            self._store.put_new_item(command.owner, item, outcome)
        except ItemPreconditionFailed as failed:
            # The item exists but its outcome does not (it expired): the create was
            # applied long ago; answer with the item as it is.
            outcome = self._success(command, failed.current)
            self._store.record_outcome(outcome, command.owner)
        return outcome

    def _get(self, command: Command) -> Outcome:
        item_id = self._item_id(command)
        item = self._store.get_item(command.owner, item_id)
        if item is None:
            raise ItemNotFoundError(f"item {item_id} does not exist")
        outcome = self._success(command, item)
        self._store.record_outcome(outcome, command.owner)
        return outcome

    def _list(self, command: Command) -> Outcome:
        limit = paging.parse_limit(command.limit, LIST_DEFAULT_LIMIT, self._settings.list_max_limit)
        start = paging.decode_cursor(command.cursor)
        queried = self._store.query_items(command.owner, limit, start["id"] if start else None)
        page = paging.cut_to_budget(
            queried.items, queried.more_after, self._settings.notification_max_bytes
        )
        outcome = self._success(command, page.to_result())
        self._store.record_outcome(outcome, command.owner)
        return outcome

    def _update(self, command: Command, attempt: Attempt) -> Outcome:
        item_id = self._item_id(command)
        changes = item_model.validated_changes(command.payload)
        expected = item_model.parse_expected_version(command.payload, command.if_match)
        for _ in range(_WRITE_ATTEMPTS):
            current = self._current(command, attempt, item_id, expected)
            updated = item_model.updated_item(current, changes, utc_now_iso())
            outcome = self._success(command, updated)
            try:
                self._store.replace_item(command.owner, updated, int(current["version"]),
                                         outcome)
                return outcome
            except ItemPreconditionFailed as failed:
                self._raise_if_conflict(failed, expected, item_id)
        raise ConcurrentModificationError(f"item {item_id} kept changing; retrying later")

    def _delete(self, command: Command, attempt: Attempt) -> Outcome:
        item_id = self._item_id(command)
        expected = item_model.parse_expected_version(command.payload, command.if_match)
        for _ in range(_WRITE_ATTEMPTS):
            current = self._current(command, attempt, item_id, expected)
            version = int(current["version"])
            outcome = self._success(command, {"id": item_id, "deleted": True, "version": version})
            try:
                self._store.delete_item(command.owner, item_id, version, outcome)
                return outcome
            except ItemPreconditionFailed as failed:
                self._raise_if_conflict(failed, expected, item_id)
        raise ConcurrentModificationError(f"item {item_id} kept changing; retrying later")

    def _current(
        self, command: Command, attempt: Attempt, item_id: str, expected: int | None
    ) -> dict[str, Any]:
        current = self._store.get_item(command.owner, item_id)
        if current is None:
            self._missing(command, attempt, item_id)
        if expected is not None and int(current["version"]) != expected:
            raise VersionConflictError(
                f"item {item_id} is at version {current['version']}, not {expected}"
            )
        return current

    @staticmethod
    def _raise_if_conflict(
        failed: ItemPreconditionFailed, expected: int | None, item_id: str
    ) -> None:
        if failed.current is not None and expected is not None:
            raise VersionConflictError(
                f"item {item_id} is at version {failed.current['version']}, not {expected}"
            )

    def _missing(self, command: Command, attempt: Attempt, item_id: str) -> NoReturn:
        if self._store.get_outcome(command.request_id, command.owner) is not None:
            raise OutcomeAlreadyRecorded()
        if may_retry_missing_item(command, attempt, self._settings):
            raise ItemNotYetCreatedError(
                f"item {item_id} does not exist yet; retrying",
                self._settings.missing_item_retry_delay_seconds,
            )
        raise ItemNotFoundError(f"item {item_id} does not exist")

    @staticmethod
    def _item_id(command: Command) -> str:
        if not command.item_id:
            raise InvalidCommandError("the command has no item id")
        return command.item_id
