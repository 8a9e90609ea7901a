"""Which queues are dead-letter queues, and where their messages go back to.

A DLQ is named by a queue's RedrivePolicy (its messages failed in that queue's
consumer: they go back to that queue) or by an SNS subscription's (SNS could not
deliver them to the subscription's queue: they go to that queue, which is what the
delivery would have done). Both are read from the endpoint, not the template, so a
policy changed by hand is what counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tools.stacks import (
    QUEUE_TYPE,
    SUBSCRIPTION_TYPE,
    ClientFactory,
    Resource,
    dead_letter_sources,
    match_one,
    queue_name,
)


@dataclass(frozen=True)
class DeadLetterQueue:
    logical_id: str
    name: str
    url: str
    arn: str
    # what put messages here: "queue <name>" or "subscription <arn>"
    source: str
    # where `redrive` sends them (None: no queue of this stack names it)
    redrive_url: str | None
    visible: int
    in_flight: int

    def as_json(self) -> dict[str, Any]:
        return {"logical_id": self.logical_id, "name": self.name, "url": self.url,
                "source": self.source, "redrive_to": self.redrive_url,
                "visible": self.visible, "in_flight": self.in_flight}


def dead_letter_queues(clients: ClientFactory, resources: Iterable[Resource]
                       ) -> list[DeadLetterQueue]:
    """Every DLQ of the stack with its depth and redrive target, by logical id."""
    resources = list(resources)
    sqs = clients("sqs")
    queues = {r.physical_id: r for r in resources if r.type == QUEUE_TYPE and r.physical_id}
    attributes = {url: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])[
        "Attributes"] for url in queues}
    sources = dead_letter_sources(clients("sns"), attributes,
                                  (r for r in resources if r.type == SUBSCRIPTION_TYPE))
    found = []
    for url, queue_attributes in attributes.items():
        arn = queue_attributes["QueueArn"]
        if arn in sources:
            found.append(DeadLetterQueue(
                logical_id=queues[url].logical_id, name=queue_name(url), url=url, arn=arn,
                source=sources[arn].source, redrive_url=sources[arn].redrive_url,
                visible=int(queue_attributes.get("ApproximateNumberOfMessages", 0)),
                in_flight=int(queue_attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
            ))
    return sorted(found, key=lambda q: q.logical_id)


def find_dead_letter_queue(queues: list[DeadLetterQueue], wanted: str) -> DeadLetterQueue:
    """By name, logical id, URL or ARN, or by words that only one DLQ's logical id
    contains (`create-consumer-dlq` finds MessagingCreateConsumerDlqE57F5DC0)."""
    index = match_one([(q.logical_id, (q.name, q.logical_id, q.url, q.arn)) for q in queues],
                   wanted, "DLQ", "`crudops dlq list` shows them")
    return queues[index]


def find_queue_url(resources: Iterable[Resource], wanted: str) -> str:
    """A queue of the stack (`redrive --to`), named the same ways as a DLQ
    (`read-consumer-queue` finds MessagingReadConsumerQueue…)."""
    queues = sorted((r for r in resources if r.type == QUEUE_TYPE and r.physical_id),
                    key=lambda r: r.logical_id)
    index = match_one([(q.logical_id, (queue_name(q.physical_id), q.logical_id, q.physical_id))
                    for q in queues], wanted, "queue", "the stack's queues are")
    return queues[index].physical_id
