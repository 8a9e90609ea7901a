"""(a) The emulator budget: the AWS calls one request costs, made directly against
the embedded AWS server (its own process, as the local stack runs it), serially.

Per request: SNS Publish (three filtered subscriptions); the client's subscription
(the `subscribe` route's PutItem, then its GetItem of a not-yet-stored outcome); the
create consumer's share of a 10-message receive and delete batch; the outcome
transaction (item + outcome); the notification send; and Notify's share of its
receive/delete batch plus its subscription query. Every request of the load test
subscribes, so the subscription's two calls belong to the budget as much as the
publish does. No gateway, no worker processes: this is the ceiling the local stack's
throughput is compared with.

A serial loop of client and server taking turns is sensitive to where the scheduler
places the two processes (back-to-back runs of 300 requests differed by 25 % here),
so the budget is the median of several rounds, each reported.
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from dataclasses import dataclass
from typing import Any

from crudops_local.aws.endpoint import AwsEndpoint
from crudops_local.cloudformation.provision import Provisioned
from crudops_local.cloudformation.template import Template
from functions.contracts.tables import ITEMS_KEY, OUTCOMES_KEY

BATCH = 10
# Whose the benchmark's rows are: the tables are keyed by their owner (a caller's sub).
BENCH_OWNER = "bench-emulator-budget"
ROUNDS = 3


@dataclass(frozen=True)
class BudgetResult:
    """`rounds`: seconds of each round of `requests_per_round` requests."""

    requests_per_round: int
    rounds: tuple[float, ...]

    @property
    def requests_per_second(self) -> float:
        return self.requests_per_round / statistics.median(self.rounds)

    def as_json(self) -> dict[str, Any]:
        return {"requests": self.requests_per_round * len(self.rounds),
                "seconds": round(sum(self.rounds), 3),
                "requests_per_second": round(self.requests_per_second, 1),
                "rounds_requests_per_second": [
                    round(self.requests_per_round / seconds, 1) for seconds in self.rounds]}


def physical_ref(template: Template, provisioned: Provisioned, prefix: str,
                 resource_type: str) -> str:
    """`Ref` of the one resource of `resource_type` whose logical id starts with `prefix`."""
    (value,) = [
        provisioned.physical[logical_id].ref
        for logical_id, resource in template.resources.items()
        if logical_id.startswith(prefix) and resource.type == resource_type
    ]
    return value


def measure_budget(template: Template, provisioned: Provisioned, aws: AwsEndpoint,
                   requests: int = 300, rounds: int = ROUNDS) -> BudgetResult:
    """`rounds` rounds of `requests` requests (rounded down to whole batches)."""
    sns, sqs, dynamodb = aws.client("sns"), aws.client("sqs"), aws.client("dynamodb")
    queue, table = "AWS::SQS::Queue", "AWS::DynamoDB::Table"
    topic = physical_ref(template, provisioned, "MessagingCommands", "AWS::SNS::Topic")
    create_queue = physical_ref(template, provisioned, "MessagingCreateConsumerQueue", queue)
    notifications = physical_ref(template, provisioned, "MessagingNotificationsQueue", queue)
    items = physical_ref(template, provisioned, "StorageItems", table)
    outcomes = physical_ref(template, provisioned, "StorageOutcomes", table)
    subscriptions = physical_ref(template, provisioned, "StorageSubscriptions", table)
    connection_id = "budget-connection"

    def publish_and_subscribe() -> None:
        request_id = str(uuid.uuid4())
        command = {"requestId": request_id, "operation": "create", "owner": BENCH_OWNER,
                   "payload": {"name": "bench"}}
        sns.publish(TopicArn=topic, Message=json.dumps(command), MessageAttributes={
            "operation": {"DataType": "String", "StringValue": "create"}})
        dynamodb.put_item(TableName=subscriptions, Item={
            "requestId": {"S": request_id}, "connectionId": {"S": connection_id},
            "expiresAt": {"N": str(int(time.time()) + 3600)}})
        dynamodb.get_item(TableName=outcomes, Key=OUTCOMES_KEY.of(request_id, BENCH_OWNER),
                          ConsistentRead=True)

    def one_round() -> float:
        started = time.perf_counter()
        for _ in range(requests // BATCH):
            for _ in range(BATCH):
                publish_and_subscribe()
            _consume(sqs, create_queue, lambda body: _apply(
                dynamodb, sqs, items, outcomes, notifications, body))
            _consume(sqs, notifications, lambda body: dynamodb.query(
                TableName=subscriptions, KeyConditionExpression="requestId = :r",
                ExpressionAttributeValues={":r": {"S": json.loads(body)["requestId"]}},
                ConsistentRead=True))
        return time.perf_counter() - started

    return BudgetResult(requests // BATCH * BATCH,
                        tuple(one_round() for _ in range(max(1, rounds))))


def _consume(sqs: Any, queue_url: str, handle: Any) -> None:
    remaining = BATCH
    while remaining:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=remaining,
                                       WaitTimeSeconds=1).get("Messages", [])
        for message in messages:
            handle(message["Body"])
        if messages:
            sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(messages)])
        remaining -= len(messages)


def _apply(dynamodb: Any, sqs: Any, items: str, outcomes: str, notifications: str,
           body: str) -> None:
    command = json.loads(body)
    item_id = str(uuid.uuid4())
    outcome = json.dumps({"requestId": command["requestId"], "status": "success"})
    dynamodb.transact_write_items(TransactItems=[
        {"Put": {"TableName": items, "Item": {**ITEMS_KEY.of(command["owner"], item_id),
                                              "name": {"S": "bench"}, "version": {"N": "1"}},
                 "ConditionExpression": "attribute_not_exists(id)"}},
        {"Put": {"TableName": outcomes, "Item": {
                     **OUTCOMES_KEY.of(command["requestId"], command["owner"]),
                     "document": {"S": outcome}},
                 "ConditionExpression": "attribute_not_exists(requestId)"}},
    ])
    sqs.send_message(QueueUrl=notifications, MessageBody=outcome)
