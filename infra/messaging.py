"""The commands topic, the queues it fans out to, and the notifications queue.

Why a topic and not one queue with filtered event source mappings: Lambda deletes
SQS records that do not match a mapping's filter, so three filtered mappings on one
queue would drop about two thirds of the commands (see docs/adr).
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_xray as xray
from constructs import Construct

from functions.contracts.routing import OPERATION_ATTRIBUTE, OPERATIONS_BY_CONSUMER, Consumer
from infra.nag import acknowledge
from infra.settings import QueueConsumer, StackSettings


class QueueWithDlq(Construct):
    """An SQS queue with its own DLQ, SQS-managed SSE and a TLS-only policy.

    SQS-managed SSE (not a KMS key) because SNS can deliver to it without a key policy
    granting the SNS service principal, and it costs no KMS calls per message.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: StackSettings,
        visibility_timeout_seconds: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letter_queue = secure_queue(
            self, "Dlq", retention_seconds=settings.dlq_retention_seconds
        )
        self.queue = secure_queue(
            self,
            "Queue",
            retention_seconds=settings.queue_retention_seconds,
            visibility_timeout_seconds=visibility_timeout_seconds,
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letter_queue, max_receive_count=settings.max_receive_count
            ),
        )


def secure_queue(
    scope: Construct,
    construct_id: str,
    *,
    retention_seconds: int,
    visibility_timeout_seconds: int | None = None,
    dead_letter_queue: sqs.DeadLetterQueue | None = None,
) -> sqs.Queue:
    """A queue with the defaults every crudops queue shares (SSE, TLS only)."""
    return sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=Duration.seconds(retention_seconds),
        visibility_timeout=(
            Duration.seconds(visibility_timeout_seconds)
            if visibility_timeout_seconds is not None
            else None
        ),
        dead_letter_queue=dead_letter_queue,
        removal_policy=RemovalPolicy.DESTROY,
    )


class TopicToQueue(Construct):
    """A filtered, raw-delivery subscription of a queue (with DLQ) to a topic.

    The subscription has its own DLQ too: a message SNS cannot deliver (queue deleted,
    policy broken) lands there instead of being dropped after SNS's retries.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topic: sns.ITopic,
        operations: Sequence[str],
        consumer: QueueConsumer,
        settings: StackSettings,
    ) -> None:
        super().__init__(scope, construct_id)
        queue_with_dlq = QueueWithDlq(
            self,
            "Consumer",
            settings=settings,
            visibility_timeout_seconds=consumer.visibility_timeout_seconds,
        )
        self.queue = queue_with_dlq.queue
        self.dead_letter_queue = queue_with_dlq.dead_letter_queue
        self.subscription_dead_letter_queue = secure_queue(
            self, "SubscriptionDlq", retention_seconds=settings.dlq_retention_seconds
        )
        acknowledge(
            self.subscription_dead_letter_queue,
            "AwsSolutions-SQS3",
            "This queue is the SNS subscription's dead-letter queue (the subscription's "
            "RedrivePolicy, which cdk-nag does not follow); a DLQ has no DLQ of its own.",
        )
        topic.add_subscription(
            subscriptions.SqsSubscription(
                self.queue,
                # The handler reads the Command JSON from the body and the operation
                # from the message attributes; no SNS envelope to unwrap.
                raw_message_delivery=True,
                filter_policy={
                    OPERATION_ATTRIBUTE: sns.SubscriptionFilter.string_filter(
                        allowlist=list(operations)
                    )
                },
                dead_letter_queue=self.subscription_dead_letter_queue,
            )
        )


def topic_key(scope: Construct, construct_id: str, description: str) -> kms.Key:
    """A customer-managed key for an SNS topic's SSE: rotated yearly, and deleted with
    the stack (after a 7-day window) since it protects messages in flight, not data."""
    return kms.Key(
        scope,
        construct_id,
        description=description,
        enable_key_rotation=True,
        removal_policy=RemovalPolicy.DESTROY,
        pending_window=Duration.days(7),
    )


def allow_sns_tracing(scope: Construct, construct_id: str, topic: sns.ITopic) -> None:
    """The X-Ray resource policy without which an actively traced topic writes no
    segments: SNS sends them as the service principal, not as the publisher."""
    stack = Stack.of(scope)
    document = {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "SNSActiveTracing",
            "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"},
            "Action": ["xray:PutTraceSegments", "xray:GetSamplingRules",
                       "xray:GetSamplingTargets"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnLike": {"aws:SourceArn": topic.topic_arn},
            },
        }],
    }
    xray.CfnResourcePolicy(
        scope, construct_id,
        # Unique per account: the stack's name keeps two stacks apart.
        policy_name=f"{stack.stack_name}-sns-active-tracing",
        policy_document=stack.to_json_string(document),
    )


def _operations(consumer: Consumer) -> list[str]:
    return sorted(operation.value for operation in OPERATIONS_BY_CONSUMER[consumer])


class Messaging(Construct):
    """Topic "commands", its three consumer queues and the notifications queue."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: StackSettings) -> None:
        super().__init__(scope, construct_id)
        # SNS SSE needs a KMS key; a customer key (not alias/aws/sns) so its policy can
        # be extended when another AWS service must publish to the topic.
        self.topic_key = topic_key(self, "TopicKey", "Encrypts the crudops commands topic")
        self.topic = sns.Topic(
            self,
            "Commands",
            master_key=self.topic_key,
            enforce_ssl=True,
            tracing_config=sns.TracingConfig.ACTIVE,
        )
        allow_sns_tracing(self, "TopicTracing", self.topic)
        self.create = TopicToQueue(
            self, "Create", topic=self.topic, operations=_operations(Consumer.CREATE),
            consumer=settings.create, settings=settings,
        )
        self.read = TopicToQueue(
            self, "Read", topic=self.topic, operations=_operations(Consumer.READ),
            consumer=settings.read, settings=settings,
        )
        self.write = TopicToQueue(
            self, "Write", topic=self.topic, operations=_operations(Consumer.WRITE),
            consumer=settings.write, settings=settings,
        )
        self.notifications = QueueWithDlq(
            self,
            "Notifications",
            settings=settings,
            visibility_timeout_seconds=settings.notify.visibility_timeout_seconds,
        )
