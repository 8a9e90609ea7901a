"""The stack's dashboard, its alarms and the topic the alarms notify.

The dashboard follows the request path top to bottom: REST API, commands topic,
each queue with its DLQs, each function, the commands' outcomes, the tables, then
the WebSocket API and the notifications. Alarm definitions (names, thresholds,
runbooks) live in `dashboards/`; this module only wires the stack's resources in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from dashboards.alarms import AlarmSpec, Runbook
from dashboards.monitoring import CrudopsMonitoring
from functions.contracts.command import Operation
from infra.api import STAGE_NAME as REST_STAGE_NAME
from infra.lambda_function import ServiceFunction
from infra.messaging import Messaging, topic_key
from infra.names import STACK_NAME
from infra.settings import SettingsError, StackSettings
from infra.storage import Storage
from infra.websocket import STAGE_NAME as WEBSOCKET_STAGE_NAME
from infra.workers import Workers

ALARM_EMAIL_CONTEXT_KEY: Final = "crudops:alarmEmail"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AlarmTopic(Construct):
    """The SNS topic every alarm notifies: KMS-encrypted, TLS-only, optional e-mail.

    A customer-managed key because CloudWatch cannot use the AWS-managed SNS key
    (`alias/aws/sns`): its key policy cannot grant `cloudwatch.amazonaws.com`, so
    alarm notifications to a topic encrypted with it are silently dropped.
    """

    def __init__(self, scope: Construct, construct_id: str, *, email: str | None) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        alarms_of_this_account = {
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {"aws:SourceArn": stack.format_arn(
                service="cloudwatch", resource="alarm", resource_name="*",
                # arn:…:cloudwatch:region:account:alarm:NAME
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )},
        }
        self.key = topic_key(self, "Key", "Encrypts the crudops alarm notifications topic")
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
                conditions=alarms_of_this_account,
            )
        )
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name="crudops alarms",
            master_key=self.key,
            enforce_ssl=True,
        )
        # The topic policy that `enforce_ssl` creates replaces SNS's default policy,
        # so CloudWatch's right to publish is stated here.
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions=alarms_of_this_account,
            )
        )
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))


def alarm_email(value: object) -> str | None:
    """The context value `crudops:alarmEmail`: absent or empty means no subscription."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _EMAIL.match(value):
        raise SettingsError(f"context {ALARM_EMAIL_CONTEXT_KEY}={value!r} is not an e-mail "
                            "address")
    return value


class Observability(Construct):
    """The dashboard and alarms of the resources it is given, in request-path order.

    It takes the resources it monitors, not the stack: `websocket_functions` are the
    WebSocket API's own handlers ($connect, $default, $disconnect).
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, settings: StackSettings,
        rest_api: apigateway.RestApi, messaging: Messaging, workers: Workers,
        storage: Storage, websocket_api: apigwv2.WebSocketApi,
        websocket_functions: Sequence[ServiceFunction],
    ) -> None:
        super().__init__(scope, construct_id)
        email = alarm_email(self.node.try_get_context(ALARM_EMAIL_CONTEXT_KEY))
        self.alarm_topic = AlarmTopic(self, "Alarms", email=email)
        self.monitoring = (
            CrudopsMonitoring(self, "Monitoring",
                              settings=settings.monitoring(name_prefix=STACK_NAME),
                              alarm_topic=self.alarm_topic.topic)
            .section("1. REST API: requests, 4XX, 5XX, latency")
            .monitor_rest_api(rest_api, stage=REST_STAGE_NAME)
            .section("2. Commands topic: published, failed deliveries")
            .monitor_commands_topic(messaging.topic)
            .section("3. Queues and their dead-letter queues: depth, oldest message")
        )
        for name, route in (("create", messaging.create), ("read", messaging.read),
                            ("write", messaging.write)):
            (self.monitoring
             .monitor_consumer_queue(name, route.queue, route.dead_letter_queue)
             .monitor_subscription_dlq(name, route.subscription_dead_letter_queue))
        self.monitoring.monitor_consumer_queue(
            "notifications", messaging.notifications.queue,
            messaging.notifications.dead_letter_queue,
        )
        self.monitoring.section(
            "4. Functions: invocations, errors, throttles, duration, concurrency"
        )
        consumers = [*workers.command_functions.values(), workers.notify]
        for worker in workers.command_functions.values():
            self.monitoring.monitor_function(worker.service_function.short_name,
                                             worker.function)
        self.monitoring.monitor_function(workers.notify.service_function.short_name,
                                         workers.notify.function,
                                         errors_runbook=Runbook.WEBSOCKET_DELIVERY_FAILURES)
        for function in websocket_functions:
            self.monitoring.monitor_function(function.short_name, function.function)
        (self.monitoring
         .monitor_failed_records([c.service_function.short_name for c in consumers])
         .section("5. Commands: outcome per operation, end-to-end age")
         .monitor_command_outcomes([operation.value for operation in Operation])
         .section("6. Tables: throttles, errors")
         .monitor_table("items", storage.items)
         .monitor_table("outcomes", storage.outcomes)
         .monitor_table("subscriptions", storage.subscriptions)
         .section("7. Notifications: WebSocket API; delivered, gone, failed")
         .monitor_websocket_api(websocket_api.api_id, stage=WEBSOCKET_STAGE_NAME)
         .monitor_notifications(workers.notify.function,
                                messaging.notifications.dead_letter_queue))

    @property
    def alarms(self) -> list[AlarmSpec]:
        return list(self.monitoring.alarms)
