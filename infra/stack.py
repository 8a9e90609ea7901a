"""`CrudopsStack`: the whole system in one environment-agnostic stack.

No account or region is set: every ARN and URL is built from `AWS::Region`,
`AWS::Partition` and `AWS::URLSuffix`, so one template deploys anywhere and the
local stack can run it unchanged.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from dashboards.alarms import AlarmNames
from infra.api import CommandsApi
from infra.fault_injection import ConsumersToFaultExperiment
from infra.identity import Identity
from infra.lambda_function import FunctionFactory
from infra.messaging import Messaging
from infra.names import STACK_NAME as STACK_NAME_TOKEN
from infra.observability import Observability
from infra.settings import StackSettings
from infra.storage import Storage
from infra.websocket import SubscriptionsWebSocket
from infra.workers import Workers

STACK_NAME = "Crudops"


class CrudopsStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str = STACK_NAME,
        *,
        settings: StackSettings,
        lambda_source: Path,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description="crudops: event-driven serverless CRUD (REST -> SNS -> SQS -> Lambda)",
            # The metadata resource carries a region list, which would be the only
            # hard-coded regions in the template.
            analytics_reporting=False,
        )
        self.settings = settings
        self.identity = Identity(self, "Identity", settings=settings)
        self.storage = Storage(self, "Storage")
        self.messaging = Messaging(self, "Messaging", settings=settings)
        factory = FunctionFactory(self, lambda_source=lambda_source, settings=settings)
        self.websocket = SubscriptionsWebSocket(
            self, "WebSocket", settings=settings, factory=factory,
            storage=self.storage, messaging=self.messaging, identity=self.identity,
        )
        self.workers = Workers(
            self, "Workers", settings=settings, factory=factory, storage=self.storage,
            messaging=self.messaging, websocket=self.websocket,
        )
        self.api = CommandsApi(
            self, "Rest", settings=settings, topic=self.messaging.topic,
            topic_key=self.messaging.topic_key, outcomes=self.storage.outcomes,
            user_pool=self.identity.user_pool,
        )
        # WebSocket access logging needs the account's API Gateway CloudWatch role too,
        # which the REST API sets (AWS::ApiGateway::Account) in a first deployment.
        api_gateway_account = self.api.api.node.try_find_child("Account")
        if api_gateway_account is not None:
            self.websocket.stage.node.add_dependency(api_gateway_account)
        self.observability = Observability(
            self, "Observability", settings=settings, rest_api=self.api.api,
            messaging=self.messaging, workers=self.workers, storage=self.storage,
            websocket_api=self.websocket.api,
            websocket_functions=(self.websocket.connect, self.websocket.default,
                                 self.websocket.disconnect))
        self.fault_injection: ConsumersToFaultExperiment | None = None
        if settings.fault_injection.enabled:
            self.fault_injection = self._add_fault_injection()
        self._add_outputs()

    def _add_fault_injection(self) -> ConsumersToFaultExperiment:
        """The FIS experiment on every queue consumer (opt-in, ADR 0028)."""
        messaging, workers = self.messaging, self.workers
        consumers = [*workers.command_functions.values(), workers.notify]
        return ConsumersToFaultExperiment(
            self, "FaultInjection", settings=self.settings.fault_injection,
            consumers=[c.service_function for c in consumers],
            dead_letter_queues=[messaging.create.dead_letter_queue,
                                messaging.read.dead_letter_queue,
                                messaging.write.dead_letter_queue,
                                messaging.notifications.dead_letter_queue],
            api_alarm_name=AlarmNames(STACK_NAME_TOKEN).api_5xx().name,
            alarms=self.observability,
            runbook_base_url=self.settings.runbook_base_url,
            log_retention_days=self.settings.log_retention_days)

    def _add_outputs(self) -> None:
        """What the CLI, the load tests and an operator need to find the resources."""
        messaging = self.messaging
        outputs = {
            "RestApiUrl": self.api.api.url,
            "WebSocketUrl": self.websocket.stage.url,
            "WebSocketCallbackUrl": self.websocket.callback_url,
            "CommandsTopicArn": messaging.topic.topic_arn,
            "ItemsTableName": self.storage.items.table_name,
            "OutcomesTableName": self.storage.outcomes.table_name,
            "SubscriptionsTableName": self.storage.subscriptions.table_name,
            "NotificationsQueueUrl": messaging.notifications.queue.queue_url,
            "NotificationsDlqUrl": messaging.notifications.dead_letter_queue.queue_url,
            "AlarmTopicArn": self.observability.alarm_topic.topic.topic_arn,
            "UserPoolId": self.identity.user_pool_id,
            "UserPoolClientId": self.identity.user_pool_client_id,
            "UserPoolIssuer": self.identity.issuer,
        }
        for name, route in (("Create", messaging.create), ("Read", messaging.read),
                            ("Write", messaging.write)):
            outputs[f"{name}QueueUrl"] = route.queue.queue_url
            outputs[f"{name}DlqUrl"] = route.dead_letter_queue.queue_url
            outputs[f"{name}SubscriptionDlqUrl"] = (
                route.subscription_dead_letter_queue.queue_url
            )
        if self.fault_injection is not None:
            outputs["FaultExperimentTemplateId"] = self.fault_injection.template.attr_id
        for output_id, value in outputs.items():
            CfnOutput(self, output_id, value=value)

