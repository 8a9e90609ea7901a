"""The functions that consume the queues: Create, Read, UpdateDelete and Notify."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from functions.settings import DEFAULTS, EnvVar
from infra.function_names import short_name
from infra.lambda_function import FunctionFactory, ServiceFunction
from infra.messaging import Messaging
from infra.settings import QueueConsumer, StackSettings
from infra.storage import Storage, grant_table
from infra.websocket import SubscriptionsWebSocket


# What each command handler does to the tables, and nothing more (ADR 0024, data part).
# Its item change and its outcome are written in one transaction, which is authorized
# per contained action (a Put needs PutItem, a Delete DeleteItem); reads are GetItem of
# the caller's key, `list` a Query of the caller's partition. Each handler reads its own
# stored outcome back when a redelivery replays it. No Scan, no UpdateItem.
@dataclass(frozen=True)
class TableAccess:
    items: tuple[str, ...]
    outcomes: tuple[str, ...]


OUTCOME_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem")
TABLE_ACCESS: dict[str, TableAccess] = {
    "Create": TableAccess(items=("dynamodb:PutItem",), outcomes=OUTCOME_ACTIONS),
    "Read": TableAccess(items=("dynamodb:GetItem", "dynamodb:Query"), outcomes=OUTCOME_ACTIONS),
    "UpdateDelete": TableAccess(
        items=("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"),
        outcomes=OUTCOME_ACTIONS,
    ),
}


class QueueToFunction(Construct):
    """A function fed by an SQS event source mapping that reports partial failures.

    With `ReportBatchItemFailures` a failing record is retried alone and the rest of
    the batch is deleted; without it one bad command would redeliver its whole batch.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        queue: sqs.IQueue,
        consumer: QueueConsumer,
        factory: FunctionFactory,
        handler: str,
        environment: Mapping[str, str],
        description: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.service_function: ServiceFunction = factory.new(
            self,
            "Handler",
            handler=handler,
            sizing=consumer.function,
            environment=environment,
            description=description,
            name=short_name(construct_id),
        )
        self.function = self.service_function.function
        window = consumer.max_batching_window_seconds
        self.function.add_event_source(
            event_sources.SqsEventSource(
                queue,
                batch_size=consumer.batch_size,
                max_batching_window=Duration.seconds(window) if window else None,
                max_concurrency=consumer.max_concurrency,
                report_batch_item_failures=True,
            )
        )


class Workers(Construct):
    """The command handlers and the notifier, with least-privilege grants."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: StackSettings,
        factory: FunctionFactory,
        storage: Storage,
        messaging: Messaging,
        websocket: SubscriptionsWebSocket,
    ) -> None:
        super().__init__(scope, construct_id)
        notifications_queue = messaging.notifications.queue
        command_environment = {
            EnvVar.ITEMS_TABLE.value: storage.items.table_name,
            EnvVar.OUTCOMES_TABLE.value: storage.outcomes.table_name,
            EnvVar.NOTIFICATIONS_QUEUE_URL.value: notifications_queue.queue_url,
            EnvVar.OUTCOME_TTL_SECONDS.value: str(settings.outcome_ttl_seconds),
            EnvVar.MISSING_ITEM_RETRY_WINDOW_SECONDS.value: str(
                settings.missing_item_retry_window_seconds
            ),
            EnvVar.MISSING_ITEM_RETRY_DELAY_SECONDS.value: str(
                settings.missing_item_retry_delay_seconds
            ),
            # Must equal the queue's redrive maxReceiveCount: the handler turns the last
            # receive of an "item not yet created" retry into a 404 outcome.
            EnvVar.MAX_RECEIVE_COUNT.value: str(settings.max_receive_count),
            EnvVar.LIST_MAX_LIMIT.value: str(settings.list_max_limit),
            EnvVar.NOTIFICATION_MAX_BYTES.value: str(settings.notification_max_bytes),
            EnvVar.SERVICE_NAME.value: settings.service_name,
            EnvVar.METRICS_NAMESPACE.value: settings.metrics_namespace,
        }
        command_handlers = {
            "Create": (messaging.create.queue, settings.create, "functions.create.handler",
                       "Creates items from create commands"),
            "Read": (messaging.read.queue, settings.read, "functions.read.handler",
                     "Answers get and list commands"),
            "UpdateDelete": (messaging.write.queue, settings.write,
                             "functions.update_delete.handler",
                             "Applies update and delete commands"),
        }
        self.command_functions: dict[str, QueueToFunction] = {}
        for name, (queue, consumer, handler, description) in command_handlers.items():
            worker = QueueToFunction(
                self, name, queue=queue, consumer=consumer, factory=factory,
                handler=handler, environment=command_environment, description=description,
            )
            access = TABLE_ACCESS[name]
            grant_table(worker.function, storage.items, *access.items)
            grant_table(worker.function, storage.outcomes, *access.outcomes)
            notifications_queue.grant_send_messages(worker.function)
            # The handler shortens the retry delay of a command whose item does not
            # exist yet (out-of-order delivery across queues).
            queue.grant(worker.function, "sqs:ChangeMessageVisibility")
            self.command_functions[name] = worker

        self.notify = QueueToFunction(
            self,
            "Notify",
            queue=notifications_queue,
            consumer=settings.notify,
            factory=factory,
            handler="functions.notify.handler",
            environment={
                EnvVar.SUBSCRIPTIONS_TABLE.value: storage.subscriptions.table_name,
                EnvVar.OUTCOMES_TABLE.value: storage.outcomes.table_name,
                EnvVar.SUBSCRIPTIONS_BY_CONNECTION_INDEX.value: (
                    DEFAULTS.subscriptions_by_connection_index
                ),
                EnvVar.WEBSOCKET_CALLBACK_URL.value: websocket.callback_url,
                # A replay whose connection is not open yet is put back on the queue.
                EnvVar.NOTIFICATIONS_QUEUE_URL.value: notifications_queue.queue_url,
                # The failed-record log line says which receive is the last.
                EnvVar.MAX_RECEIVE_COUNT.value: str(settings.max_receive_count),
                EnvVar.SERVICE_NAME.value: settings.service_name,
                EnvVar.METRICS_NAMESPACE.value: settings.metrics_namespace,
            },
            description="Posts outcomes to subscribed WebSocket connections",
        )
        # Notify queries the base table by requestId; a delivered outcome, a 410 Gone
        # from the management API (the connection is dead) and another caller's
        # subscription (refused) each delete the subscription, and take it off its
        # connection's counter row in the same transaction (UpdateItem, ADR 0029).
        grant_table(
            self.notify.function,
            storage.subscriptions,
            "dynamodb:Query",
            "dynamodb:DeleteItem",
            "dynamodb:UpdateItem",
        )
        # A replay request from $connect is answered with the stored outcome, found by
        # requestId (a Query: whose it is decides what the connection gets).
        grant_table(self.notify.function, storage.outcomes, "dynamodb:Query")
        # ... once the connection is open (GetConnection); until then it is put back.
        websocket.grant_post_to_connections(self.notify.service_function)
        notifications_queue.grant_send_messages(self.notify.function)
