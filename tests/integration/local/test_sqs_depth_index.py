"""The indexed SQS queues of the embedded server answer as unpatched moto does.

Each scenario runs against two servers in their own processes: the embedded one as
the local stack runs it (`crudops_local.aws.server`, patched) and the same moto server
without the project's patches; the answers must be the same.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from benchmarks.sqs_depth import running_server
from tests.support.waiting import wait_until

Scenario = Callable[[Any, str], list[Any]]


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, Any]]:
    with running_server("patched") as patched, running_server("unpatched") as unpatched:
        yield {name: boto3.session.Session(
            aws_access_key_id="local", aws_secret_access_key="local",
            region_name="us-east-1").client("sqs", endpoint_url=server.endpoint)
            for name, server in (("patched", patched), ("unpatched", unpatched))}


def _same_answers(servers: dict[str, Any], scenario: Scenario, name: str) -> list[Any]:
    patched = scenario(servers["patched"], f"p-{name}")
    unpatched = scenario(servers["unpatched"], f"u-{name}")
    assert patched == unpatched
    return unpatched


def _receive(sqs: Any, url: str, **kwargs: Any) -> list[tuple[str, str]]:
    kwargs.setdefault("MaxNumberOfMessages", 10)
    messages = sqs.receive_message(QueueUrl=url, AttributeNames=["All"], **kwargs)
    return [(m["Body"], m["Attributes"]["ApproximateReceiveCount"])
            for m in messages.get("Messages", [])]


def _handles(sqs: Any, url: str, **kwargs: Any) -> dict[str, str]:
    kwargs.setdefault("MaxNumberOfMessages", 10)
    messages = sqs.receive_message(QueueUrl=url, **kwargs)
    return {m["Body"]: m["ReceiptHandle"] for m in messages.get("Messages", [])}


def _counts(sqs: Any, url: str) -> dict[str, str]:
    return dict(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed"])["Attributes"])


def _error(call: Callable[[], Any]) -> str:
    try:
        call()
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    return "no error"


def _send(sqs: Any, url: str, *bodies: str, **kwargs: Any) -> None:
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body, **kwargs)


def _visibility_and_deletes(sqs: Any, name: str) -> list[Any]:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    _send(sqs, url, *(f"m{i}" for i in range(6)))
    answers: list[Any] = [_counts(sqs, url)]
    first = _handles(sqs, url, MaxNumberOfMessages=2, VisibilityTimeout=30)
    answers += [sorted(first), _counts(sqs, url), _receive(sqs, url, MaxNumberOfMessages=3)]
    # back to visible (in send order), then received again: the old handle still works
    answers.append(_error(lambda: sqs.change_message_visibility(
        QueueUrl=url, ReceiptHandle=first["m0"], VisibilityTimeout=0)))
    answers += [_counts(sqs, url), _receive(sqs, url, VisibilityTimeout=0)]
    answers.append(_error(lambda: sqs.change_message_visibility(
        QueueUrl=url, ReceiptHandle=first["m1"], VisibilityTimeout=43201)))
    answers.append(_error(lambda: sqs.change_message_visibility(
        QueueUrl=url, ReceiptHandle="not-a-handle", VisibilityTimeout=0)))
    # deletes: by an old handle, twice, by an unknown handle, in a batch
    answers.append(_error(lambda: sqs.delete_message(QueueUrl=url, ReceiptHandle=first["m0"])))
    answers.append(_error(lambda: sqs.delete_message(QueueUrl=url, ReceiptHandle=first["m0"])))
    answers.append(_error(lambda: sqs.delete_message(QueueUrl=url, ReceiptHandle="nope")))
    rest = _handles(sqs, url, VisibilityTimeout=30)
    batch = sqs.delete_message_batch(QueueUrl=url, Entries=[
        {"Id": "a", "ReceiptHandle": rest["m5"]}, {"Id": "b", "ReceiptHandle": "nope"}])
    answers += [sorted(rest), [s["Id"] for s in batch.get("Successful", [])],
                [(f["Id"], f["Code"]) for f in batch.get("Failed", [])], _counts(sqs, url)]
    sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
        {"Id": "c", "ReceiptHandle": first["m1"], "VisibilityTimeout": 0}])
    answers += [_counts(sqs, url), _receive(sqs, url, VisibilityTimeout=30)]
    # a timed-out visibility: the message comes back by itself
    url_t = sqs.create_queue(QueueName=f"{name}-t")["QueueUrl"]
    _send(sqs, url_t, "once")
    answers.append(_receive(sqs, url_t, VisibilityTimeout=1))
    answers.append(wait_until(lambda: _receive(sqs, url_t, VisibilityTimeout=30), bool,
                              timeout=10, describe="the message visible again"))
    sqs.purge_queue(QueueUrl=url)
    answers += [_counts(sqs, url), _receive(sqs, url)]
    _send(sqs, url, "after purge")
    answers.append(_receive(sqs, url))
    return answers


def test_visibility_change_visibility_deletes_and_counts(servers: dict[str, Any]) -> None:
    answers = _same_answers(servers, _visibility_and_deletes, "visibility")
    assert answers[3] == [("m2", "1"), ("m3", "1"), ("m4", "1")]
    assert answers[6][:2] == [("m0", "2"), ("m5", "1")]


def _redrive(sqs: Any, name: str) -> list[Any]:
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    url = sqs.create_queue(QueueName=name, Attributes={"RedrivePolicy": (
        f'{{"deadLetterTargetArn": "{dlq_arn}", "maxReceiveCount": "2"}}')})["QueueUrl"]
    _send(sqs, url, "poison", "fine")
    answers: list[Any] = []
    for _ in range(3):  # the third receive finds "poison" at its count and moves it
        answers.append(_receive(sqs, url, MaxNumberOfMessages=1, VisibilityTimeout=0))
    answers += [_counts(sqs, url), _counts(sqs, dlq), _receive(sqs, dlq)]
    return answers


def test_redrive_to_the_dead_letter_queue_after_max_receive_count(
        servers: dict[str, Any]) -> None:
    answers = _same_answers(servers, _redrive, "redrive")
    assert answers[:3] == [[("poison", "1")], [("poison", "2")], [("fine", "1")]]
    assert answers[5] == [("poison", "3")]


def _delays(sqs: Any, name: str) -> list[Any]:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    _send(sqs, url, "soon", DelaySeconds=1)
    _send(sqs, url, "much later", DelaySeconds=900)
    _send(sqs, url, "now")
    answers: list[Any] = [_counts(sqs, url), _receive(sqs, url, VisibilityTimeout=30)]
    answers.append(wait_until(lambda: _receive(sqs, url, VisibilityTimeout=30), bool,
                              timeout=10, describe="the delayed message"))
    answers.append(_counts(sqs, url))
    delayed_queue = sqs.create_queue(QueueName=f"{name}-q",
                                     Attributes={"DelaySeconds": "900"})["QueueUrl"]
    _send(sqs, delayed_queue, "queue delay")
    _send(sqs, delayed_queue, "no delay", DelaySeconds=0)
    answers += [_counts(sqs, delayed_queue), _receive(sqs, delayed_queue)]
    return answers


def test_delay_seconds_of_the_message_and_of_the_queue(servers: dict[str, Any]) -> None:
    answers = _same_answers(servers, _delays, "delays")
    assert answers[1] == [("now", "1")]
    assert answers[2] == [("soon", "1")]


def _fifo(sqs: Any, name: str) -> list[Any]:
    url = sqs.create_queue(QueueName=f"{name}.fifo", Attributes={
        "FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
    for body, group in (("a1", "a"), ("b1", "b"), ("a2", "a"), ("a1", "a"), ("b2", "b")):
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group)
    first = _handles(sqs, url, MaxNumberOfMessages=1)
    answers: list[Any] = [sorted(first), _receive(sqs, url), _counts(sqs, url)]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["a1"])
    answers.append(_receive(sqs, url))
    return answers


def test_fifo_groups_and_deduplication_stay_moto_s(servers: dict[str, Any]) -> None:
    answers = _same_answers(servers, _fifo, "fifo")
    assert answers[0] == ["a1"]


def _long_poll(sqs: Any, name: str) -> list[Any]:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    started = time.monotonic()
    empty = _receive(sqs, url, WaitTimeSeconds=1)
    waited_for_nothing = time.monotonic() - started >= 0.9
    got: list[Any] = []
    poller = threading.Thread(target=lambda: got.append(
        (_receive(sqs, url, WaitTimeSeconds=10), time.monotonic())))
    poller.start()
    sent_at = time.monotonic()
    _send(sqs, url, "wake up")
    poller.join(15)
    received, received_at = got[0]
    return [empty, waited_for_nothing, received, received_at - sent_at < 5]


def test_long_polling_waits_and_returns_as_soon_as_a_message_arrives(
        servers: dict[str, Any]) -> None:
    answers = _same_answers(servers, _long_poll, "poll")
    assert answers == [[], True, [("wake up", "1")], True]
