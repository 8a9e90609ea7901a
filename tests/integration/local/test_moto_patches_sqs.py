"""The embedded server's SQS patches answer as unpatched moto does, without the cost
that grows with the queue's depth."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from crudops_local.aws import moto_patches
from tests.support.isolated_moto import clock_reads_counted, long_poll_waiting, patched

__all__ = ["patched"]  # the fixture, from tests/support/isolated_moto.py

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
_VOLATILE_ATTRIBUTES = {"CreatedTimestamp", "LastModifiedTimestamp"}


def _queue_model(name: str) -> Any:
    from moto.sqs.models import sqs_backends

    return sqs_backends[ACCOUNT][REGION].queues[name]


def _error_code(call: Callable[[], Any]) -> str:
    try:
        call()
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    return "no error"


def _attributes(sqs: Any, url: str) -> dict[str, str]:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return {k: v for k, v in attributes.items() if k not in _VOLATILE_ATTRIBUTES}


def _bodies(sqs: Any, url: str, **kwargs: Any) -> list[str]:
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, **kwargs)
    return [m["Body"] for m in messages.get("Messages", [])]


def _sqs_answers() -> list[Any]:
    """The same calls, answered by whichever moto is active."""
    sqs = boto3.client("sqs", region_name=REGION)
    answers: list[Any] = []

    # FIFO, content-based deduplication: a repeated body within 5 minutes is dropped.
    dedup = sqs.create_queue(QueueName="dedup.fifo", Attributes={
        "FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
    for body in ("a", "b", "a"):
        sqs.send_message(QueueUrl=dedup, MessageBody=body, MessageGroupId="g")
    sqs.send_message_batch(QueueUrl=dedup, Entries=[
        {"Id": "1", "MessageBody": "b", "MessageGroupId": "g"},
        {"Id": "2", "MessageBody": "c", "MessageGroupId": "g"}])
    answers.append(_attributes(sqs, dedup))
    answers.append(_bodies(sqs, dedup))

    # FIFO without it: an explicit id deduplicates; none at all is refused.
    explicit = sqs.create_queue(QueueName="explicit.fifo",
                                Attributes={"FifoQueue": "true"})["QueueUrl"]
    for body, dedup_id in (("x", "1"), ("y", "1"), ("z", "2")):
        sqs.send_message(QueueUrl=explicit, MessageBody=body, MessageGroupId="g",
                         MessageDeduplicationId=dedup_id)
    answers.append(_error_code(lambda: sqs.send_message(
        QueueUrl=explicit, MessageBody="no id", MessageGroupId="g")))
    answers.append(_error_code(lambda: sqs.send_message(
        QueueUrl=explicit, MessageBody="no group", MessageDeduplicationId="3")))
    answers.append(_bodies(sqs, explicit))

    # Standard: delays, in-flight and visible counts, retention.
    standard = sqs.create_queue(QueueName="standard", Attributes={
        "MessageRetentionPeriod": "60"})["QueueUrl"]
    sqs.send_message(QueueUrl=standard, MessageBody="later", DelaySeconds=60)
    for body in ("one", "two", "three"):
        sqs.send_message(QueueUrl=standard, MessageBody=body)
    answers.append(_attributes(sqs, standard))
    answers.append(_bodies(sqs, standard, VisibilityTimeout=0))
    for message in _queue_model("standard")._messages:
        if message.body == "one":
            message.sent_timestamp -= 120_000  # older than the queue's retention period
    answers.append(_bodies(sqs, standard))
    answers.append(_attributes(sqs, standard))
    return answers


def test_sqs_answers_as_unpatched_moto(patched: None) -> None:
    moto_patches.revert()
    with mock_aws():
        unpatched = _sqs_answers()
    moto_patches.apply()
    with mock_aws():
        assert _sqs_answers() == unpatched
    assert unpatched[1] == ["a", "b", "c"]
    assert unpatched[2:5] == ["InvalidParameterValue", "MissingParameter", ["x", "z"]]


def _clock_reads_per_call(depth: int, monkeypatch: pytest.MonkeyPatch) -> tuple[int, int]:
    """Messages' clock reads of one send, then of one receive, at `depth` queued."""
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="deep")["QueueUrl"]
        for start in range(0, depth, 10):
            sqs.send_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "MessageBody": str(start + i)} for i in range(10)])
        reads = clock_reads_counted(monkeypatch)
        sqs.send_message(QueueUrl=url, MessageBody="one more")
        send_reads = len(reads)
        reads.clear()
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        return send_reads, len(reads)


def test_a_send_and_a_receive_cost_the_same_at_any_depth(
        patched: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # Unpatched, a send builds the queue's counts (four clock reads per queued message)
    # and a receive builds the list of visible messages (two per queued message) and
    # the counts three times per message it returns.
    assert _clock_reads_per_call(300, monkeypatch) == _clock_reads_per_call(30, monkeypatch)


def test_a_count_read_where_none_was_expected_fails_loudly(patched: None) -> None:
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        sqs.create_queue(QueueName="q")
        queue = _queue_model("q")
        assert queue.attributes["ApproximateNumberOfMessages"] == 0  # outside: counted
        reads_a_count = moto_patches._counts_not_built.wrap(
            lambda q: q.attributes.get("ApproximateNumberOfMessagesNotVisible"))
        with pytest.raises(RuntimeError, match="ApproximateNumberOfMessagesNotVisible"):
            reads_a_count(queue)


def test_a_long_poll_that_waits_across_a_purge_sees_the_next_message(
        patched: None, monkeypatch: pytest.MonkeyPatch) -> None:
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="purged")["QueueUrl"]
        answer = long_poll_waiting(monkeypatch, lambda: _bodies(sqs, url, WaitTimeSeconds=10))
        sqs.purge_queue(QueueUrl=url)
        sent_at = time.monotonic()
        sqs.send_message(QueueUrl=url, MessageBody="after the purge")
        bodies, received_at = answer()
        assert bodies == ["after the purge"]
        assert received_at - sent_at < 5  # well before the 10 s wait ends
