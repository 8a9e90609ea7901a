"""Errors of the command domain, each with a stable `code`.

Two families: *business* errors end a command with an `error` outcome (the client
asked for something that cannot be done); *delivery* errors make the record fail so
SQS redelivers it (and, after maxReceiveCount, parks it in the DLQ). A business error
must never be retried and a delivery error must never become an outcome.
"""

from __future__ import annotations

from typing import ClassVar


class CrudopsError(Exception):
    """Base of every error the functions raise on purpose."""

    code: ClassVar[str] = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BusinessError(CrudopsError):
    """The command is understood and answered with an `error` outcome."""


class InvalidCommandError(BusinessError):
    code = "validation_error"


class ItemNotFoundError(BusinessError):
    code = "not_found"


class VersionConflictError(BusinessError):
    code = "conflict"


class DeliveryError(CrudopsError):
    """The record must be retried by SQS; nothing was answered."""


class MalformedCommandError(DeliveryError):
    """The message is not a command at all (no JSON, no requestId): a poison record.

    Without a requestId no outcome can be addressed, so the record is left to the
    redrive policy and ends in the DLQ for an operator to inspect.
    """

    code = "malformed_command"


class MalformedNotificationError(DeliveryError):
    """A notification that names no owner: it cannot be delivered to anyone safely.

    Only the workers publish outcomes, always with their owner, so this is a foreign
    or damaged message; it is parked in the DLQ, not shown to every subscriber.
    """

    code = "malformed_notification"


class MisroutedCommandError(DeliveryError):
    """A function received an operation it does not own: a subscription filter bug.

    Parked in the DLQ (not answered) so it can be redriven once routing is fixed.
    """

    code = "misrouted_command"


class ItemNotYetCreatedError(DeliveryError):
    """An update/delete arrived before the item's create; retry soon, within a window."""

    code = "item_not_yet_created"

    def __init__(self, message: str, retry_delay_seconds: int) -> None:
        super().__init__(message)
        self.retry_delay_seconds = retry_delay_seconds


class ConcurrentModificationError(DeliveryError):
    """The item kept changing under an unconditional update; let SQS retry it later."""

    code = "concurrent_modification"


class TooManySubscriptionsError(CrudopsError):
    """A connection already holds as many live subscriptions as one may
    (`max_subscriptions_per_connection`): the subscribe is refused and nothing is
    stored. Not a command's error: no outcome, no retry; the client is told on its
    connection and may subscribe again once some of its requests were answered."""

    code = "too_many_subscriptions"
