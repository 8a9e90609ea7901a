"""Topic, subscriptions and queues: routing, delivery, encryption, redrive."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from infra.settings import StackSettings
from tests.infra.helpers import Resources, logical_id_of, of_type, props

QUEUE = "AWS::SQS::Queue"
SUBSCRIPTION = "AWS::SNS::Subscription"
FOURTEEN_DAYS = 14 * 24 * 3600

ROUTES = {
    "Create": ["create"],
    "Read": ["get", "list"],
    "Write": ["delete", "update"],
}


def _consumer_queue(resources: Resources, route: str) -> dict[str, Any]:
    return resources[logical_id_of(resources, QUEUE, f"Messaging{route}ConsumerQueue")]


def test_topic_is_kms_encrypted_with_rotating_key_and_traced(
    template: Template, resources: Resources
) -> None:
    key_id = logical_id_of(resources, "AWS::KMS::Key", "TopicKey")
    template.has_resource_properties(
        "AWS::SNS::Topic",
        {"KmsMasterKeyId": {"Fn::GetAtt": [key_id, "Arn"]}, "TracingConfig": "Active"},
    )
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_topic_policy_denies_insecure_transport(template: Template) -> None:
    template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            }
        },
    )


@pytest.mark.parametrize(("route", "operations"), ROUTES.items())
def test_subscription_filters_exactly_its_operations_raw_with_dlq(
    resources: Resources, route: str, operations: list[str]
) -> None:
    queue_id = logical_id_of(resources, QUEUE, f"Messaging{route}ConsumerQueue")
    dlq_id = logical_id_of(resources, QUEUE, f"Messaging{route}SubscriptionDlq")
    (subscription,) = [
        props(s)
        for s in of_type(resources, SUBSCRIPTION).values()
        if props(s)["Endpoint"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    ]
    assert subscription["Protocol"] == "sqs"
    assert subscription["FilterPolicy"] == {"operation": operations}
    assert subscription.get("FilterPolicyScope", "MessageAttributes") == "MessageAttributes"
    assert subscription["RawMessageDelivery"] is True
    assert subscription["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]}}


def test_only_the_three_consumer_subscriptions_exist(resources: Resources) -> None:
    assert len(of_type(resources, SUBSCRIPTION)) == len(ROUTES)


def test_every_queue_has_sse_and_a_tls_only_policy(resources: Resources) -> None:
    queues = of_type(resources, QUEUE)
    assert len(queues) == 11  # 4 consumer queues, their 4 DLQs, 3 subscription DLQs
    policies = of_type(resources, "AWS::SQS::QueuePolicy")
    tls_only: set[str] = set()
    for policy in policies.values():
        for statement in props(policy)["PolicyDocument"]["Statement"]:
            if statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}:
                assert statement["Effect"] == "Deny"
                assert statement["Action"] == "sqs:*"
                tls_only.update(q["Ref"] for q in props(policy)["Queues"])
    for logical_id, queue in queues.items():
        assert props(queue)["SqsManagedSseEnabled"] is True, logical_id
        assert logical_id in tls_only, logical_id


@pytest.mark.parametrize("route", [*ROUTES, "Notifications"])
def test_each_queue_redrives_to_its_own_dlq(
    resources: Resources, settings: StackSettings, route: str
) -> None:
    name = route if route == "Notifications" else f"{route}Consumer"
    queue = props(resources[logical_id_of(resources, QUEUE, f"Messaging{name}Queue")])
    dlq_id = logical_id_of(resources, QUEUE, f"Messaging{name}Dlq")
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
        "maxReceiveCount": settings.max_receive_count,
    }
    assert settings.max_receive_count >= 5


def test_dead_letter_queues_keep_messages_fourteen_days(resources: Resources) -> None:
    dlqs = {k: v for k, v in of_type(resources, QUEUE).items() if "Dlq" in k}
    assert len(dlqs) == 7
    for logical_id, dlq in dlqs.items():
        assert props(dlq)["MessageRetentionPeriod"] == FOURTEEN_DAYS, logical_id
        assert "RedrivePolicy" not in props(dlq), logical_id


@pytest.mark.parametrize(
    ("route", "consumer"),
    [("CreateConsumer", "create"), ("ReadConsumer", "read"), ("WriteConsumer", "write"),
     ("Notifications", "notify")],
)
def test_visibility_timeout_covers_six_function_timeouts_plus_window(
    resources: Resources, settings: StackSettings, route: str, consumer: str
) -> None:
    sizing = settings.consumers[consumer]
    queue = props(resources[logical_id_of(resources, QUEUE, f"Messaging{route}Queue")])
    function_timeout = sizing.function.timeout_seconds
    assert queue["VisibilityTimeout"] >= 6 * function_timeout + sizing.max_batching_window_seconds
    assert queue["VisibilityTimeout"] == sizing.visibility_timeout_seconds
