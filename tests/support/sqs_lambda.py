"""A minimal SQS event source mapping for integration tests.

Receives from a queue, builds the Lambda SQS event exactly as AWS shapes it, invokes a
handler and applies the partial batch response (delete what succeeded, leave the
failures). `expire_failures=True` makes failed records visible again at once instead
of after the visibility timeout, so retries need no waiting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crudops_local.lambda_.event_source_mapping.poller import to_record
from tests.support.lambda_context import FakeLambdaContext

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass(frozen=True)
class BatchResult:
    received: list[str]
    failed: list[str]

    @property
    def succeeded(self) -> list[str]:
        return [m for m in self.received if m not in self.failed]


def deliver_batch(
    sqs: Any,
    queue_url: str,
    handler: Handler,
    *,
    batch_size: int = 10,
    expire_failures: bool = True,
) -> BatchResult:
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    messages = sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=batch_size,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    ).get("Messages", [])
    if not messages:
        return BatchResult([], [])
    region = sqs.meta.region_name
    event = {"Records": [to_record(m, queue_arn, region) for m in messages]}
    response = handler(event, FakeLambdaContext()) or {}
    failed = [f["itemIdentifier"] for f in response.get("batchItemFailures", [])]
    handles = {m["MessageId"]: m["ReceiptHandle"] for m in messages}
    for message_id, handle in handles.items():
        if message_id not in failed:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=handle)
        elif expire_failures:
            sqs.change_message_visibility(
                QueueUrl=queue_url, ReceiptHandle=handle, VisibilityTimeout=0
            )
    return BatchResult([m["MessageId"] for m in messages], failed)


def drain(sqs: Any, queue_url: str, handler: Handler, max_batches: int = 50) -> list[BatchResult]:
    """Deliver batches until the queue returns nothing (bounded, never loops forever)."""
    results: list[BatchResult] = []
    for _ in range(max_batches):
        result = deliver_batch(sqs, queue_url, handler)
        if not result.received:
            return results
        results.append(result)
    raise AssertionError(f"queue {queue_url} still had messages after {max_batches} batches")
