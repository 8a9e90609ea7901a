"""The indexed FIFO queues of the embedded server keep FIFO's rules.

Where unpatched moto follows them, each scenario runs against both servers in their
own processes (`servers`, as in test_sqs_depth_index.py) and the answers must be the
same; where moto breaks one (order within a group after two in-flight messages time
out), the patched server is held to AWS's documented rule instead. A depth test
checks that a send and a receive cost the same at 30 and at 300 queued.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from crudops_local.aws.sqs_fifo_index import FifoIndex
from tests.integration.local.test_sqs_depth_index import (
    _counts,
    _error,
    _handles,
    _receive,
    _same_answers,
    servers,
)
from tests.support.isolated_moto import (
    clock_reads_counted,
    isolated_mock_aws,
    long_poll_waiting,
    patched,
)
from tests.support.waiting import wait_until

# the fixtures, shared with test_sqs_depth_index.py and from tests/support
__all__ = ["patched", "servers"]


def _fifo_queue(sqs: Any, name: str, **attributes: str) -> str:
    return str(sqs.create_queue(QueueName=f"{name}.fifo", Attributes={
        "FifoQueue": "true", **attributes})["QueueUrl"])


def _send(sqs: Any, url: str, body: str, group: str, dedup: str | None = None) -> None:
    extra = {"MessageDeduplicationId": dedup} if dedup else {}
    sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group, **extra)


def _groups_block_while_in_flight(sqs: Any, name: str) -> list[Any]:
    url = _fifo_queue(sqs, name)
    for body, group in (("a1", "a"), ("b1", "b"), ("a2", "a"), ("b2", "b"), ("a3", "a")):
        _send(sqs, url, body, group, dedup=body)
    first = _handles(sqs, url, MaxNumberOfMessages=1, VisibilityTimeout=30)
    answers: list[Any] = [sorted(first), _counts(sqs, url)]
    # group a is blocked by a1; group b hands out both of its messages in order
    b = _handles(sqs, url, VisibilityTimeout=30)
    answers += [sorted(b), _receive(sqs, url), _counts(sqs, url)]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["a1"])
    answers.append(_receive(sqs, url, VisibilityTimeout=30))  # a2, a3: a unblocked
    # b1 visible again, b2 still in flight: b stays blocked
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=b["b1"], VisibilityTimeout=0)
    answers += [_counts(sqs, url), _receive(sqs, url)]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=b["b2"], VisibilityTimeout=0)
    answers.append(_receive(sqs, url, VisibilityTimeout=30))  # b1, b2 again, in order
    return answers


def test_a_group_with_a_message_in_flight_hands_out_nothing_and_order_holds(
        servers: dict[str, Any]) -> None:
    answers = _same_answers(servers, _groups_block_while_in_flight, "groups")
    assert answers[0] == ["a1"]
    assert answers[2:4] == [["b1", "b2"], []]
    assert answers[5] == [("a2", "1"), ("a3", "1")]
    assert answers[7] == []
    assert answers[8] == [("b1", "2"), ("b2", "2")]


def _timed_out_in_flight(sqs: Any, name: str) -> list[Any]:
    url = _fifo_queue(sqs, name, ContentBasedDeduplication="true")
    for body in ("g1", "g2"):
        _send(sqs, url, body, "g")
    answers: list[Any] = [_receive(sqs, url, MaxNumberOfMessages=1, VisibilityTimeout=1),
                          _receive(sqs, url)]
    answers.append(wait_until(lambda: _receive(sqs, url, VisibilityTimeout=30), bool,
                              timeout=10, describe="g1 visible again"))
    return answers


def test_a_timed_out_message_unblocks_its_group_first_in_line(
        servers: dict[str, Any]) -> None:
    answers = _same_answers(servers, _timed_out_in_flight, "timeout")
    assert answers == [[("g1", "1")], [], [("g1", "2"), ("g2", "1")]]


def _deduplication(sqs: Any, name: str) -> list[Any]:
    explicit = _fifo_queue(sqs, f"{name}-id")
    for body, dedup in (("x", "1"), ("y", "1"), ("z", "2")):
        _send(sqs, explicit, body, "g", dedup)
    batch = sqs.send_message_batch(QueueUrl=explicit, Entries=[
        {"Id": "a", "MessageBody": "w", "MessageGroupId": "h", "MessageDeduplicationId": "2"},
        {"Id": "b", "MessageBody": "v", "MessageGroupId": "h", "MessageDeduplicationId": "3"}])
    answers: list[Any] = [sorted(s["Id"] for s in batch["Successful"]), _counts(sqs, explicit)]
    held = _handles(sqs, explicit, VisibilityTimeout=30)
    answers.append(sorted(held))
    _send(sqs, explicit, "again", "g", "1")  # x is in flight: still a duplicate
    sqs.delete_message(QueueUrl=explicit, ReceiptHandle=held["x"])
    _send(sqs, explicit, "after delete", "g", "1")  # moto forgets a deleted message's id
    answers.append(_counts(sqs, explicit))
    by_content = _fifo_queue(sqs, f"{name}-body", ContentBasedDeduplication="true")
    for body, group in (("same", "g"), ("same", "other"), ("different", "g")):
        _send(sqs, by_content, body, group)
    _send(sqs, by_content, "same", "g", "explicit-id")
    answers += [_receive(sqs, by_content, VisibilityTimeout=0), _counts(sqs, by_content)]
    sqs.purge_queue(QueueUrl=by_content)
    _send(sqs, by_content, "same", "g")  # purged: nothing left to be a duplicate of
    answers.append(_receive(sqs, by_content))
    return answers


def test_deduplication_by_id_and_by_content_within_the_window(
        servers: dict[str, Any]) -> None:
    answers = _same_answers(servers, _deduplication, "dedup")
    assert answers[0] == ["a", "b"]
    assert answers[2] == ["v", "x", "z"]  # y and w were duplicates
    assert answers[4] == [("same", "1"), ("different", "1"), ("same", "1")]


def _redrive_in_order(sqs: Any, name: str) -> list[Any]:
    dlq = _fifo_queue(sqs, f"{name}-dlq")
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    url = _fifo_queue(sqs, name, RedrivePolicy=(
        f'{{"deadLetterTargetArn": "{dlq_arn}", "maxReceiveCount": "2"}}'))
    for body in ("p1", "p2", "p3"):
        _send(sqs, url, body, "g", dedup=body)
    answers: list[Any] = []
    for _ in range(6):  # each message twice, then to the DLQ as the next receive meets it
        answers.append(_receive(sqs, url, MaxNumberOfMessages=1, VisibilityTimeout=0))
    answers += [_counts(sqs, url), _counts(sqs, dlq), _receive(sqs, dlq, VisibilityTimeout=0)]
    return answers


def test_redrive_to_the_dead_letter_queue_keeps_the_group_s_order(
        servers: dict[str, Any]) -> None:
    answers = _same_answers(servers, _redrive_in_order, "redrive")
    assert answers[:6] == [[("p1", "1")], [("p1", "2")], [("p2", "1")], [("p2", "2")],
                           [("p3", "1")], [("p3", "2")]]
    assert answers[8] == [("p1", "3"), ("p2", "3")]


def _delays(sqs: Any, name: str) -> list[Any]:
    late = _fifo_queue(sqs, f"{name}-late", DelaySeconds="900", ContentBasedDeduplication="true")
    answers: list[Any] = [_error(lambda: sqs.send_message(
        QueueUrl=late, MessageBody="own delay", MessageGroupId="g", DelaySeconds=5))]
    for body in ("d1", "d2"):
        _send(sqs, late, body, "g")
    answers += [_counts(sqs, late), _receive(sqs, late)]
    # a short queue delay: both come out once it has passed, in order
    soon = _fifo_queue(sqs, f"{name}-soon", DelaySeconds="1", ContentBasedDeduplication="true")
    for body in ("s1", "s2"):
        _send(sqs, soon, body, "g")
    seen: list[str] = []

    def receive_and_delete() -> list[str]:
        for body, handle in _handles(sqs, soon, VisibilityTimeout=30).items():
            seen.append(body)
            sqs.delete_message(QueueUrl=soon, ReceiptHandle=handle)
        return seen

    answers.append(wait_until(receive_and_delete, lambda bodies: len(bodies) >= 2,
                              timeout=10, describe="the delayed messages"))
    return answers


def test_delay_is_the_queue_s_only(servers: dict[str, Any]) -> None:
    answers = _same_answers(servers, _delays, "delays")
    assert answers[0] == "InvalidParameterValue"
    assert answers[1]["ApproximateNumberOfMessagesDelayed"] == "2"
    assert answers[2] == []
    assert answers[3] == ["s1", "s2"]


def test_two_timed_out_messages_of_a_group_come_back_in_send_order(patched: None) -> None:
    # Unpatched moto answers a2, a3 here: it unblocks the group on the first expired
    # message it meets and skips a1 (docs/emulator-facts.md). AWS: "the messages in a
    # message group are received in order" (FIFO queue message ordering).
    with isolated_mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = _fifo_queue(sqs, "order", ContentBasedDeduplication="true")
        for body in ("a1", "a2", "a3"):
            _send(sqs, url, body, "a")
        assert [b for b, _ in _receive(sqs, url, MaxNumberOfMessages=2,
                                       VisibilityTimeout=1)] == ["a1", "a2"]
        again = wait_until(lambda: _receive(sqs, url, VisibilityTimeout=30), bool,
                           timeout=10, describe="a1 and a2 visible again")
        assert again == [("a1", "2"), ("a2", "2"), ("a3", "1")]


def _costs_at(depth: int, monkeypatch: pytest.MonkeyPatch) -> tuple[int, int, int]:
    """Messages' clock reads of one send and of one receive, at `depth` messages in a
    blocked group (one in flight), and how often the whole queue was walked."""
    walks: list[int] = []
    real_ordered: Callable[[FifoIndex], list[Any]] = FifoIndex.ordered
    with isolated_mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = _fifo_queue(sqs, "deep", ContentBasedDeduplication="true")
        for start in range(0, depth, 10):
            sqs.send_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "MessageBody": f"blocked {start + i}", "MessageGroupId": "a"}
                for i in range(10)])
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=30)
        reads = clock_reads_counted(monkeypatch)
        monkeypatch.setattr(FifoIndex, "ordered",
                            lambda self: walks.append(1) or real_ordered(self))
        _send(sqs, url, "free", "b")
        send_reads = len(reads)
        reads.clear()
        assert _receive(sqs, url, VisibilityTimeout=30) == [("free", "1")]
        return send_reads, len(reads), len(walks)


def test_a_send_and_a_receive_cost_the_same_at_any_depth(
        patched: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # Unpatched, the send compares its deduplication id with every message and the
    # receive reads the clock of every message of the blocked group.
    at_300 = _costs_at(300, monkeypatch)
    assert at_300 == _costs_at(30, monkeypatch)
    assert at_300[2] == 0


def test_a_long_poll_gets_the_next_message_once_its_group_is_unblocked(
        patched: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # Unpatched moto decides which groups are blocked once, when the receive starts:
    # a long poll that starts while its only group is blocked returns nothing, and
    # late, even when the group is unblocked a moment later (docs/emulator-facts.md).
    with isolated_mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = _fifo_queue(sqs, "poll", ContentBasedDeduplication="true")
        for body in ("first", "second"):
            _send(sqs, url, body, "g")
        held = _handles(sqs, url, MaxNumberOfMessages=1, VisibilityTimeout=30)
        answer = long_poll_waiting(monkeypatch, lambda: _receive(sqs, url, WaitTimeSeconds=10))
        deleted_at = time.monotonic()
        sqs.delete_message(QueueUrl=url, ReceiptHandle=held["first"])
        received, received_at = answer()
        assert received == [("second", "1")]
        assert received_at - deleted_at < 5  # well before the 10 s wait ends
