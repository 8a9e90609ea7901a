"""Which queues are dead-letter queues, and where their messages go back to.

A DLQ is named by a queue's RedrivePolicy (its messages failed in that queue's
consumer: they go back to that queue) or by an SNS subscription's (SNS could not
deliver them to the subscription's queue: they go to that queue, which is what the
delivery would have done). Both are read from the endpoint, not the template, so a
policy changed by hand is what counts.

A queue outside any stack (a URL, an ARN or a name with neither --stack nor --local)
has no subscriptions to follow: its sources are what `ListDeadLetterSourceQueues`
answers, and a redrive needs exactly one of them (or `--to`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tools.dlq.addressing import Candidate, match_queue, queue_short_name
from tools.stacks import (
    QUEUE_TYPE,
    SUBSCRIPTION_TYPE,
    ClientFactory,
    Resource,
    dead_letter_sources,
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
    # Every queue whose RedrivePolicy names this one, when there are several (then
    # `redrive_url` is None: a redrive must be told which, with --to).
    source_urls: tuple[str, ...] = ()

    @property
    def short_name(self) -> str:
        """What an operator types and every command prints (tools/dlq/addressing.py)."""
        return queue_short_name(self.logical_id) if self.logical_id else self.name

    @property
    def fifo(self) -> bool:
        return self.name.endswith(".fifo")

    def as_json(self) -> dict[str, Any]:
        return {"short_name": self.short_name, "logical_id": self.logical_id,
                "name": self.name, "url": self.url, "source": self.source,
                "redrive_to": self.redrive_url, "visible": self.visible,
                "in_flight": self.in_flight}


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
    """By short name, name, logical id, URL or ARN, or the start of one short name
    (tools/dlq/addressing.py `match_queue`)."""
    index = match_queue([Candidate(q.short_name, q.logical_id,
                                   (q.short_name, q.name, q.logical_id, q.url, q.arn))
                         for q in queues], wanted, "DLQ", "`crudops dlq list` shows them")
    return queues[index]


def find_queue_url(resources: Iterable[Resource], wanted: str) -> str:
    """A queue of the stack (`redrive --to`), named the same ways as a DLQ
    (`read-consumer-queue` finds MessagingReadConsumerQueue…)."""
    queues = sorted((r for r in resources if r.type == QUEUE_TYPE and r.physical_id),
                    key=lambda r: r.logical_id)
    index = match_queue([Candidate(queue_short_name(q.logical_id), q.logical_id,
                                   (queue_short_name(q.logical_id), queue_name(q.physical_id),
                                    q.logical_id, q.physical_id)) for q in queues],
                        wanted, "queue", "the stack's queues are")
    return queues[index].physical_id


def standalone_dead_letter_queue(sqs: Any, url: str) -> DeadLetterQueue:
    """A queue addressed outside any stack, with the queues whose RedrivePolicy names it
    (paged `ListDeadLetterSourceQueues`): one is where a redrive goes; none or several
    leave `redrive_url` None (the redrive asks for --to, listing `source_urls`)."""
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    sources: list[str] = []
    for page in sqs.get_paginator("list_dead_letter_source_queues").paginate(QueueUrl=url):
        sources.extend(page.get("queueUrls", []))
    sources.sort()
    return DeadLetterQueue(
        logical_id="", name=queue_name(url), url=url, arn=attributes["QueueArn"],
        source=("queue " + ", ".join(queue_name(s) for s in sources)) if sources
        else "no queue names it in its RedrivePolicy",
        redrive_url=sources[0] if len(sources) == 1 else None,
        visible=int(attributes.get("ApproximateNumberOfMessages", 0)),
        in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
        source_urls=tuple(sources))
