"""How a name the operator types finds one queue (tools/dlq/addressing.py)."""

from __future__ import annotations

import pytest

from tools.dlq.addressing import (
    Candidate,
    is_queue_arn,
    is_queue_url,
    match_queue,
    queue_short_name,
)
from tools.errors import UserError

# The stack's seven DLQs as CloudFormation names them (hashes as CDK makes them).
LOGICAL_IDS = ("MessagingCreateConsumerDlqE57F5DC0", "MessagingCreateSubscriptionDlq1A2B3C4D",
               "MessagingReadConsumerDlq0F1E2D3C", "MessagingReadSubscriptionDlq99887766",
               "MessagingWriteConsumerDlqAABBCCDD", "MessagingWriteSubscriptionDlq12345678",
               "MessagingNotificationsDlq5E6F7A8B")
CANDIDATES = [Candidate(queue_short_name(i), i, (queue_short_name(i), i)) for i in LOGICAL_IDS]


def _match(wanted: str) -> str:
    return CANDIDATES[match_queue(CANDIDATES, wanted, "DLQ", "listing")].short_name


@pytest.mark.parametrize(("logical_id", "short"), [
    ("MessagingCreateConsumerDlqE57F5DC0", "create-consumer-dlq"),
    ("MessagingReadConsumerQueue4F3E2D1C", "read-consumer-queue"),
    ("MessagingNotificationsDlq5E6F7A8B", "notifications-dlq"),
    ("WorkDlq", "work-dlq"),  # not made the stack's way: its own words
])
def test_a_short_name_is_the_logical_id_without_holder_and_hash(logical_id: str,
                                                                  short: str) -> None:
    assert queue_short_name(logical_id) == short


@pytest.mark.parametrize(("wanted", "found"), [
    ("create-consumer-dlq", "create-consumer-dlq"),  # exact
    ("MessagingReadConsumerDlq0F1E2D3C", "read-consumer-dlq"),  # a logical id
    ("create-sub", "create-subscription-dlq"),  # the start of each word
    ("notif", "notifications-dlq"),  # the start of the only short name
    ("w-c", "write-consumer-dlq"),
    ("consumer-dlq-write", "write-consumer-dlq"),  # every word, in any order
])
def test_names_that_find_exactly_one_dlq(wanted: str, found: str) -> None:
    assert _match(wanted) == found


def test_the_start_of_two_short_names_names_both_and_why() -> None:
    with pytest.raises(UserError) as raised:
        _match("create")
    assert raised.value.message == ("'create' matches 2 DLQs (short names start with "
                                    "'create'): create-consumer-dlq, create-subscription-dlq")


def test_a_word_several_logical_ids_hold_lists_only_those() -> None:
    with pytest.raises(UserError) as raised:
        _match("subscription-dlq")
    assert raised.value.message.endswith(
        ": create-subscription-dlq, read-subscription-dlq, write-subscription-dlq")


def test_no_match_lists_every_short_name() -> None:
    with pytest.raises(UserError, match="no DLQ matches 'delete'") as raised:
        _match("delete")
    assert raised.value.hint.startswith("listing: create-consumer-dlq, create-subscription-dlq")


def test_urls_and_arns_are_told_apart_from_names() -> None:
    assert is_queue_url("https://sqs.eu-west-1.amazonaws.com/123456789012/work-dlq")
    assert is_queue_url("http://127.0.0.1:4566/000000000000/work-dlq")
    assert is_queue_arn("arn:aws:sqs:eu-west-1:123456789012:work-dlq")
    assert not is_queue_url("work-dlq") and not is_queue_arn("work-dlq")
