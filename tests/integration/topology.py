"""The crudops request path built in moto, shaped like the stack's template.

Queues, filter policies, redrive policies and table keys come from the same modules
the stack uses (functions.contracts.routing, functions.contracts.tables,
functions.settings), so a routing or key
change shows up here too. The local stack (tests/e2e) builds from the template itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from functions.contracts.routing import Consumer, filter_policy
from functions.contracts.tables import ITEMS_KEY, OUTCOMES_KEY, SUBSCRIPTIONS_KEY, TableKey
from functions.settings import DEFAULTS

MAX_RECEIVE_COUNT = DEFAULTS.max_receive_count


@dataclass
class Topology:
    topic_arn: str = ""
    queue_urls: dict[str, str] = field(default_factory=dict)
    dlq_urls: dict[str, str] = field(default_factory=dict)
    items_table: str = "items"
    outcomes_table: str = "outcomes"
    subscriptions_table: str = "subscriptions"


def _queue_with_dlq(sqs: Any, name: str, visibility_timeout: int) -> tuple[str, str]:
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    url = sqs.create_queue(
        QueueName=name,
        Attributes={
            "VisibilityTimeout": str(visibility_timeout),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVE_COUNT}
            ),
        },
    )["QueueUrl"]
    return url, dlq_url


def _key_schema(key: TableKey) -> dict[str, Any]:
    return {
        "KeySchema": [{"AttributeName": key.partition, "KeyType": "HASH"},
                      {"AttributeName": key.sort, "KeyType": "RANGE"}],
        "AttributeDefinitions": [{"AttributeName": key.partition, "AttributeType": "S"},
                                 {"AttributeName": key.sort, "AttributeType": "S"}],
    }


def build(sqs: Any, sns: Any, dynamodb: Any, visibility_timeout: int = 180) -> Topology:
    topology = Topology()
    topology.topic_arn = sns.create_topic(Name="commands")["TopicArn"]
    for consumer in Consumer:
        url, dlq_url = _queue_with_dlq(sqs, consumer.value, visibility_timeout)
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        sns.subscribe(
            TopicArn=topology.topic_arn,
            Protocol="sqs",
            Endpoint=arn,
            Attributes={
                "RawMessageDelivery": "true",
                "FilterPolicy": json.dumps(filter_policy(consumer)),
            },
        )
        topology.queue_urls[consumer.value] = url
        topology.dlq_urls[consumer.value] = dlq_url
    url, dlq_url = _queue_with_dlq(sqs, "notifications", visibility_timeout)
    topology.queue_urls["notifications"] = url
    topology.dlq_urls["notifications"] = dlq_url

    on_demand = {"BillingMode": "PAY_PER_REQUEST"}
    for table, key in ((topology.items_table, ITEMS_KEY),
                       (topology.outcomes_table, OUTCOMES_KEY)):
        dynamodb.create_table(TableName=table, **_key_schema(key), **on_demand)
    dynamodb.create_table(
        TableName=topology.subscriptions_table,
        **_key_schema(SUBSCRIPTIONS_KEY),
        GlobalSecondaryIndexes=[
            {
                "IndexName": DEFAULTS.subscriptions_by_connection_index,
                "KeySchema": [
                    {"AttributeName": SUBSCRIPTIONS_KEY.sort, "KeyType": "HASH"},
                    {"AttributeName": SUBSCRIPTIONS_KEY.partition, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
        **on_demand,
    )
    return topology
