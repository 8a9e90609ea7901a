"""`crudops dlq show`: the first messages of a DLQ, who they are (requestId,
operation), why they are there (tools/dlq/failures.py), and what reading them cost
(each receive raises a message's receive count by one: SQS has no peek)."""

from __future__ import annotations

from dataclasses import dataclass

from tools.aws_errors import aws_errors_as_user_errors
from tools.dlq.commands import Where, _one
from tools.dlq.discovery import DeadLetterQueue
from tools.dlq.failures import FailureLookup, lookup_failures
from tools.dlq.messages import DeadLetter, peek
from tools.errors import UserError


@dataclass(frozen=True)
class ShowReport:
    dlq: DeadLetterQueue
    messages: list[DeadLetter]
    # Receives the read made: each raised one message's receive count by one.
    receives: int
    # None when the logs were not searched (`errors=False`).
    failures: FailureLookup | None


def do_dlq_show(where: Where, queue: str, *, limit: int | None,
                errors: bool = True) -> ShowReport:
    """Up to `limit` messages (all when None), left in the DLQ, with the error that
    sent each there when `errors` (a bounded search of the function logs)."""
    if limit is not None and limit < 1:
        raise UserError(f"--max {limit} must be at least 1")
    target, dlq = _one(where, queue, "dlq show")
    with aws_errors_as_user_errors(local=where.local):
        messages, receives = peek(target.clients("sqs"), dlq.url, limit)
        failures = lookup_failures(target, messages) if errors and messages else None
    return ShowReport(dlq, messages, receives, failures)
