"""The DLQ names the runbooks give `crudops dlq` each find exactly one DLQ of the
synthesized template, so a renamed construct cannot leave a page pointing nowhere."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.helpers import Resources
from tests.unit.test_runbooks import _crudops_commands
from tools.dlq.discovery import DeadLetterQueue, find_dead_letter_queue

QUEUE_COMMANDS = ("show", "export", "redrive")


def _dead_letter_queues(resources: Resources) -> list[DeadLetterQueue]:
    """Queues that a queue's or a subscription's RedrivePolicy names (as `dlq list`
    finds them in an account), with placeholder URLs."""
    targets: set[str] = set()
    for resource in resources.values():
        policy: Any = resource.get("Properties", {}).get("RedrivePolicy", {})
        target = policy.get("deadLetterTargetArn", {}) if isinstance(policy, dict) else {}
        if isinstance(target, dict) and "Fn::GetAtt" in target:
            targets.add(target["Fn::GetAtt"][0])
    return [DeadLetterQueue(logical_id=logical, name=logical, url=f"https://sqs/{logical}",
                            arn=f"arn:aws:sqs:::{logical}", source="", redrive_url=None,
                            visible=0, in_flight=0) for logical in sorted(targets)]


def _named_dlqs() -> list[tuple[str, str]]:
    return [(page, argv[2]) for page, argv in _crudops_commands()
            if argv[:1] == ["dlq"] and len(argv) > 2 and argv[1] in QUEUE_COMMANDS]


def test_the_runbooks_name_dlqs() -> None:
    assert len({name for _, name in _named_dlqs()}) >= 2


@pytest.mark.parametrize(("page", "name"), _named_dlqs())
def test_each_dlq_a_runbook_names_is_exactly_one(resources: Resources, page: str,
                                                 name: str) -> None:
    dlqs = _dead_letter_queues(resources)
    assert len(dlqs) == 7  # the 4 consumer queues' DLQs and the 3 subscriptions'
    found = find_dead_letter_queue(dlqs, name)  # raises when none or several match
    assert "Dlq" in found.logical_id, (page, name, found.logical_id)


@pytest.mark.parametrize("words", ["create-consumer-dlq", "read-consumer-dlq",
                                   "write-consumer-dlq", "notifications-dlq",
                                   "create-subscription-dlq", "read-subscription-dlq",
                                   "write-subscription-dlq"])
def test_the_names_the_dlq_page_lists_are_unambiguous(resources: Resources,
                                                       words: str) -> None:
    found = find_dead_letter_queue(_dead_letter_queues(resources), words)
    assert all(word in found.logical_id.lower() for word in words.split("-"))
