"""Copies of accepted commands sent again: the deployed stack's duplicate delivery.

The local stack sends a received message back into its queue (crudops_local/faults.py,
`duplicates`). Against AWS the harness cannot touch Lambda's pollers, so it plays the
same failure from the client's side: a share of the commands the API accepted is
published once more to the commands topic, as the API's mapping template published it
(functions/contracts/command.py: the same requestId, operation, owner, item and
payload), with the same `operation` and `requestId` message attributes, so the topic's
filter policies route the copy to the same queue. SNS and SQS deliver at least once,
so this is a delivery the system must absorb: one effect and one outcome per
requestId (ADR 0002), which the run's checks then verify.

Only `submittedAt` differs from the original: API Gateway's request time is not in the
202, so the copy carries the time it was made (it feeds the end-to-end age metric, not
the effect). The operator's credentials need `sns:Publish` on the topic and
`kms:GenerateDataKey` on its key.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qs, quote_plus, urlsplit

from functions.contracts.command import Operation
from infra.mapping_templates import COMMAND_SHAPES, LIST_QUERY_PARAMETERS
from tools.errors import UserError
from tools.stacks import Resource, resources_of_type
from tools.verify.conservation import Accepted

TOPIC_TYPE: Final = "AWS::SNS::Topic"
# The commands topic, by the construct ids of infra/messaging.py (`Messaging` / `Commands`).
COMMANDS_TOPIC: Final = "MessagingCommands"


@dataclass(frozen=True)
class SentCommand:
    """What the harness sent for one accepted command: the route and the JSON body."""

    path: str
    body: dict[str, Any] | None


def commands_topic_arn(resources: Iterable[Resource]) -> str:
    found = [r.physical_id for r in resources_of_type(resources, TOPIC_TYPE)
             if r.logical_id.startswith(COMMANDS_TOPIC)]
    if len(found) != 1:
        raise UserError(f"the stack has {len(found)} commands topics, not one",
                        hint="is it a crudops stack? deploy the current version")
    return found[0]


def command_document(accepted: Accepted, sent: SentCommand, *, owner: str,
                     submitted_at_ms: int) -> dict[str, Any]:
    """The Command the API published for `accepted`, field by field as
    infra/mapping_templates.py builds it (client strings URL-encoded)."""
    operation = Operation(accepted.operation)
    shape = COMMAND_SHAPES[operation]
    query = None
    if shape.query:
        given = parse_qs(urlsplit(sent.path).query)
        query = {name: quote_plus(given.get(name, [""])[0]) for name in LIST_QUERY_PARAMETERS}
    return {
        "requestId": quote_plus(accepted.request_id),
        "operation": operation.value,
        "owner": quote_plus(owner),
        "itemId": quote_plus(accepted.item_id or "") if shape.item_id else "",
        "submittedAt": submitted_at_ms,
        "idempotencyKey": "",
        "payload": sent.body if shape.payload else None,
        "query": query,
        "ifMatch": "",
    }


class Duplicator:
    """Publishes a copy of each accepted command with probability `rate` (seeded, so
    the same seed copies the same commands). Thread-safe: the sending threads call it."""

    def __init__(self, sns: Any, topic_arn: str, *, owner: str, rate: float,
                 seed: int) -> None:
        self._sns = sns
        self._topic_arn = topic_arn
        self._owner = owner
        self._rate = rate
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.sent = 0

    def __call__(self, accepted: Accepted, sent: SentCommand) -> None:
        with self._lock:
            if self._random.random() >= self._rate:
                return
        document = command_document(accepted, sent, owner=self._owner,
                                    submitted_at_ms=int(time.time() * 1000))
        self._sns.publish(
            TopicArn=self._topic_arn, Message=json.dumps(document),
            MessageAttributes={
                "operation": {"DataType": "String", "StringValue": accepted.operation},
                "requestId": {"DataType": "String", "StringValue": accepted.request_id},
            })
        with self._lock:
            self.sent += 1
