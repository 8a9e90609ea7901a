"""The WebSocket API clients subscribe on, and its three route functions."""

from __future__ import annotations

import json

import jsii
from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from functions.settings import DEFAULTS, EnvVar
from infra.identity import Identity
from infra.lambda_function import FunctionFactory, ServiceFunction, log_retention
from infra.messaging import Messaging
from infra.nag import acknowledge, nag_finding_id
from infra.settings import StackSettings
from infra.storage import Storage, grant_table

STAGE_NAME = "live"

# Fields of one WebSocket access-log line; REST uses API Gateway's standard JSON fields.
_ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "connectionId": "$context.connectionId",
    "eventType": "$context.eventType",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "requestTime": "$context.requestTimeEpoch",
    "error": "$context.error.message",
    "integrationError": "$context.integration.error",
}


class SubscriptionsWebSocket(Construct):
    """`$connect` / `$disconnect` / `$default` routes, each to its own function.

    A client subscribes with `?requestId=` on connect or `{"action": "subscribe"}`
    messages; `$default` takes every message so unknown actions get a clear error
    instead of API Gateway's generic "Forbidden".

    `$connect` is authorized by the `ws-authorizer` function (a token of `identity`'s
    pool); API Gateway authorizes only that route of a WebSocket API, and every later
    message of the connection carries what the authorizer answered.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: StackSettings,
        factory: FunctionFactory,
        storage: Storage,
        messaging: Messaging,
        identity: Identity,
    ) -> None:
        super().__init__(scope, construct_id)
        self.api = apigwv2.WebSocketApi(self, "Api", description="crudops notifications")
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=log_retention(settings.log_retention_days),
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.stage = apigwv2.WebSocketStage(
            self,
            "Stage",
            web_socket_api=self.api,
            stage_name=STAGE_NAME,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=settings.websocket_throttle.rate_limit,
                burst_limit=settings.websocket_throttle.burst_limit,
            ),
            access_log_settings=_AccessLogSettings(self.access_logs),
        )
        self.callback_url: str = self.stage.callback_url
        self.connections_arn = Stack.of(self).format_arn(
            service="execute-api",
            resource=self.api.api_id,
            resource_name=f"{STAGE_NAME}/*/@connections/*",
        )
        notifications_queue = messaging.notifications.queue
        subscribe_environment = {
            EnvVar.SUBSCRIPTIONS_TABLE.value: storage.subscriptions.table_name,
            EnvVar.OUTCOMES_TABLE.value: storage.outcomes.table_name,
            EnvVar.NOTIFICATIONS_QUEUE_URL.value: notifications_queue.queue_url,
            EnvVar.WEBSOCKET_CALLBACK_URL.value: self.callback_url,
            EnvVar.SUBSCRIPTION_TTL_SECONDS.value: str(settings.subscription_ttl_seconds),
            EnvVar.MAX_SUBSCRIPTIONS_PER_CONNECTION.value: str(
                settings.max_subscriptions_per_connection
            ),
            EnvVar.LATE_SUBSCRIBER_REPLAY_DELAY_SECONDS.value: str(
                settings.late_subscriber_replay_delay_seconds
            ),
            EnvVar.SERVICE_NAME.value: settings.service_name,
            EnvVar.METRICS_NAMESPACE.value: settings.metrics_namespace,
        }
        sizing = settings.websocket_function
        self.connect = factory.new(
            self, "WsConnect", handler="functions.ws_connect.handler", sizing=sizing,
            environment=subscribe_environment,
            description="Accepts a WebSocket connection, optionally subscribing it",
        )
        self.default = factory.new(
            self, "WsDefault", handler="functions.ws_default.handler", sizing=sizing,
            environment=subscribe_environment,
            description="Handles subscribe messages on an open WebSocket connection",
        )
        self.disconnect = factory.new(
            self, "WsDisconnect", handler="functions.ws_disconnect.handler", sizing=sizing,
            environment={
                EnvVar.SUBSCRIPTIONS_TABLE.value: storage.subscriptions.table_name,
                EnvVar.SUBSCRIPTIONS_BY_CONNECTION_INDEX.value: (
                    DEFAULTS.subscriptions_by_connection_index
                ),
                EnvVar.SERVICE_NAME.value: settings.service_name,
                EnvVar.METRICS_NAMESPACE.value: settings.metrics_namespace,
            },
            description="Removes the subscriptions of a closed WebSocket connection",
        )
        self.authorizer = self._add_authorizer(factory, identity, settings)
        connect_authorizer = authorizers.WebSocketLambdaAuthorizer(
            "ConnectAuthorizer", self.authorizer.function,
            # No identity source: the token may be a header or `?token=` (browsers
            # cannot set headers on a WebSocket), so API Gateway must not refuse a
            # handshake without the header itself. That also turns its cache off.
            identity_source=[],
        )
        for route_key, service_function, authorizer in (
            ("$connect", self.connect, connect_authorizer),
            ("$disconnect", self.disconnect, None),
            ("$default", self.default, None),
        ):
            route = self.api.add_route(
                route_key,
                integration=integrations.WebSocketLambdaIntegration(
                    f"{service_function.node.id}Integration", service_function.function
                ),
                authorizer=authorizer,
            )
            if authorizer is connect_authorizer:
                # CDK writes the empty list as `IdentitySource: []`; leave the property
                # out, as the contract (and API Gateway's own console) spells "none".
                cfn_authorizer = self.api.node.find_child("ConnectAuthorizer").node
                assert isinstance(cfn_authorizer.default_child, apigwv2.CfnAuthorizer)
                cfn_authorizer.default_child.add_property_deletion_override("IdentitySource")
            else:
                acknowledge(
                    route, "AwsSolutions-APIG4",
                    "A WebSocket API authorizes only its $connect route; $default and "
                    "$disconnect run on a connection whose $connect the ws-authorizer "
                    "allowed, and see its caller in requestContext.authorizer.")

        subscriptions = storage.subscriptions
        for subscriber in (self.connect, self.default):
            # A subscription is put and counted on its connection's counter row in one
            # transaction (PutItem + UpdateItem): the per-connection limit (ADR 0029).
            grant_table(subscriber.function, subscriptions, "dynamodb:PutItem",
                        "dynamodb:UpdateItem")
            # A late subscriber gets the stored outcome (the subscribe race), found by
            # requestId: a Query, since whose it is decides what the subscriber gets.
            grant_table(subscriber.function, storage.outcomes, "dynamodb:Query")
        # $connect cannot post to its own connection before it returns, so the replay
        # goes through the notifications queue with a delay.
        notifications_queue.grant_send_messages(self.connect.function)
        # A subscription that closed before its ack, or to another caller's request,
        # is removed again, as is one whose stored outcome it was just sent.
        grant_table(self.default.function, subscriptions, "dynamodb:DeleteItem")
        self.grant_post_to_connections(self.default)
        grant_table(
            self.disconnect.function,
            subscriptions,
            "dynamodb:Query",
            index_name=DEFAULTS.subscriptions_by_connection_index,
        )
        grant_table(
            self.disconnect.function, subscriptions, "dynamodb:DeleteItem",
            "dynamodb:BatchWriteItem",
        )

    def _add_authorizer(self, factory: FunctionFactory, identity: Identity,
                        settings: StackSettings) -> ServiceFunction:
        """The `$connect` authorizer function: it reads the pool's public keys over
        HTTPS and needs no AWS data access, so its role holds logs and X-Ray only."""
        return factory.new(
            self, "WsAuthorizer", handler="functions.ws_authorizer.handler",
            sizing=settings.websocket_authorizer_function,
            environment={
                EnvVar.USER_POOL_ID.value: identity.user_pool_id,
                EnvVar.USER_POOL_CLIENT_ID.value: identity.user_pool_client_id,
                EnvVar.TOKEN_ISSUER.value: identity.issuer,
                EnvVar.SERVICE_NAME.value: settings.service_name,
                EnvVar.METRICS_NAMESPACE.value: settings.metrics_namespace,
            },
            description="Authorizes a WebSocket $connect with a token of the user pool",
        )

    def grant_post_to_connections(self, target: ServiceFunction) -> None:
        """Allow `execute-api:ManageConnections` on this stage's `@connections/*` only.

        The connection ids are created at run time, so the ARN must end in a wildcard.
        """
        iam.Grant.add_to_principal(
            grantee=target.function,
            actions=["execute-api:ManageConnections"],
            resource_arns=[self.connections_arn],
        )
        acknowledge(
            target,
            nag_finding_id(
                "AwsSolutions-IAM5", "Resource", Stack.of(self).resolve(self.connections_arn)
            ),
            "WebSocket connection ids exist only at run time; the ARN is scoped to this "
            "API's stage and its @connections path.",
        )

    @property
    def functions(self) -> tuple[ServiceFunction, ...]:
        return (self.connect, self.disconnect, self.default)


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogSettings:
    """JSON access log lines into a log group."""

    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigateway.AccessLogFormat:
        return apigateway.AccessLogFormat.custom(json.dumps(_ACCESS_LOG_FIELDS))
