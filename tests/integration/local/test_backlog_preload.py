"""`crudops bench`'s preload from processes of its own, against the embedded server."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from benchmarks import backlog
from benchmarks.sqs_depth import RunningServer, running_server
from crudops_local.aws.endpoint import AwsEndpoint


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with running_server("patched") as running:
        yield running


def test_senders_share_the_backlog_without_a_gap_or_a_repeat(server: RunningServer) -> None:
    aws = AwsEndpoint(server.endpoint, "us-east-1")
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="preload")["QueueUrl"]
    seen: list[int] = []

    sent = backlog.preload_in_processes(aws, url, 233, senders=3, progress=seen.append)

    assert sent == 233 and seen[-1] == 233
    assert backlog.depth(sqs, url) == 233
    names = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                       VisibilityTimeout=60).get("Messages", []):
        names += [json.loads(m["Body"])["payload"]["name"] for m in batch]
    assert sorted(names) == sorted(f"backlog {n}" for n in range(233))


def test_a_sender_that_fails_is_reported_in_one_line(server: RunningServer) -> None:
    aws = AwsEndpoint(server.endpoint, "us-east-1")
    missing = f"{server.endpoint}/123456789012/no-such-queue"

    with pytest.raises(RuntimeError, match=r"a preload sender exited with 1: .*NonExistentQueue"):
        backlog.preload_in_processes(aws, missing, 20, senders=2)


def test_the_embedded_server_queues_a_bulk_send_as_send_message_batch_would(
        server: RunningServer) -> None:
    aws = AwsEndpoint(server.endpoint, "us-east-1")
    sqs = aws.client("sqs")
    bulk = sqs.create_queue(QueueName="bulk")["QueueUrl"]
    batched = sqs.create_queue(QueueName="batched")["QueueUrl"]
    seen: list[int] = []

    assert backlog.preload_direct(aws, bulk, 1_234, seen.append) == 1_234
    backlog.preload(sqs, batched, 10)

    assert seen == [1_000, 1_234] and backlog.depth(sqs, bulk) == 1_234

    def first(url: str) -> dict[str, object]:
        (message,) = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"],
                                         AttributeNames=["All"])["Messages"]
        body = json.loads(str(message["Body"]))
        return {"keys": sorted(body), "operation": body["operation"],
                "attributes": sorted(message["MessageAttributes"]),
                "md5_of_attributes": len(str(message["MD5OfMessageAttributes"]))}

    assert first(bulk) == first(batched)


def test_a_bulk_send_to_a_missing_queue_is_refused_in_one_line(server: RunningServer) -> None:
    aws = AwsEndpoint(server.endpoint, "us-east-1")
    missing = f"{server.endpoint}/123456789012/no-such-queue"

    with pytest.raises(RuntimeError, match="the bulk send refused: QueueDoesNotExist"):
        backlog.preload_direct(aws, missing, 10)


def test_another_endpoint_has_no_bulk_route() -> None:
    with running_server("unpatched") as unpatched:
        aws = AwsEndpoint(unpatched.endpoint, "us-east-1")
        url = aws.client("sqs").create_queue(QueueName="plain")["QueueUrl"]
        assert backlog.preload_direct(aws, url, 10) is None
