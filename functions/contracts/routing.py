"""Which consumer owns which operation: the SNS subscription filter policies.

The stack builds one queue per consumer with a filter policy on the `operation`
message attribute from this table, and each function checks what it receives
against the same table, so a routing mistake parks the command in a DLQ instead of
executing it in the wrong place.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from functions.contracts.command import Operation

OPERATION_ATTRIBUTE: Final = "operation"


class Consumer(StrEnum):
    CREATE = "create"
    READ = "read"
    WRITE = "write"


OPERATIONS_BY_CONSUMER: Final[dict[Consumer, frozenset[Operation]]] = {
    Consumer.CREATE: frozenset({Operation.CREATE}),
    Consumer.READ: frozenset({Operation.GET, Operation.LIST}),
    Consumer.WRITE: frozenset({Operation.UPDATE, Operation.DELETE}),
}


def filter_policy(consumer: Consumer) -> dict[str, list[str]]:
    """The SNS filter policy (message attributes scope) of a consumer's subscription."""
    return {OPERATION_ATTRIBUTE: sorted(op.value for op in OPERATIONS_BY_CONSUMER[consumer])}
