"""`CrudopsMonitoring`: the stack's dashboard and alarms, one chained call per resource.

It reads like cdk-monitoring-constructs' `MonitoringFacade` (which it wraps) and adds
what crudops needs on top: every alarm gets its deterministic name from
`dashboards.alarms.AlarmNames`, its threshold from `MonitoringSettings.thresholds` (keyed by
severity), a description that starts with its severity and ends with its runbook link,
and is recorded in `alarms` so tests and the runbook index can list them.

Resources the library has a monitor for (REST API, SNS topic, SQS queue with DLQ,
Lambda function, DynamoDB table) use it; the WebSocket API and the functions' own EMF
metrics (functions/contracts/metrics.py) are custom
metric groups. Call the methods in request-path order: the dashboard is laid out top
to bottom in call order, each resource's widgets left to right.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Self

import cdk_monitoring_constructs as monitoring
import jsii
from aws_cdk import Aspects, Duration, IAspect
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct

from dashboards.alarms import AlarmNames, AlarmSpec, Runbook, Severity
from dashboards.thresholds import MonitoringSettings
from functions.contracts.metrics import (
    COMMAND_OUTCOME_METRICS,
    END_TO_END_AGE_METRIC,
    FAILED_RECORDS_METRIC,
    FUNCTION_DIMENSION,
    NOTIFICATION_FAILED_METRIC,
    NOTIFICATION_METRICS,
    OPERATION_DIMENSION,
    SERVICE_DIMENSION,
)

_GREATER_THAN = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD

# API Gateway's WebSocket metrics (namespace AWS/ApiGateway, dimensions ApiId, Stage).
WEBSOCKET_TRAFFIC_METRICS = ("ConnectCount", "MessageCount")
WEBSOCKET_ERROR_METRICS = ("IntegrationError", "ClientError", "ExecutionError")


class CrudopsMonitoring:
    """A facade over `MonitoringFacade`; every `monitor_…` method returns `self`.

    One dashboard named `MonitoringSettings.name_prefix` (the stack's name) is created
    (no summary or alarm dashboards: one place to look). Alarm actions (ALARM and OK)
    go to `alarm_topic`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: MonitoringSettings,
        alarm_topic: sns.ITopic,
    ) -> None:
        self.settings = settings
        self.names = AlarmNames(settings.name_prefix)
        self.alarms: list[AlarmSpec] = []
        self._names_by_key: dict[str, str] = {}
        Aspects.of(scope).add(_PrefixAlarmNames(self._names_by_key))
        thresholds = settings.thresholds
        self.facade = monitoring.MonitoringFacade(
            scope,
            construct_id,
            alarm_factory_defaults=monitoring.AlarmFactoryDefaults(
                alarm_name_prefix=settings.name_prefix,
                actions_enabled=True,
                action=monitoring.SnsAlarmActionStrategy(
                    on_alarm_topic=alarm_topic, on_ok_topic=alarm_topic
                ),
                datapoints_to_alarm=thresholds.datapoints_to_alarm,
                evaluation_periods=thresholds.evaluation_periods,
            ),
            metric_factory_defaults=monitoring.MetricFactoryDefaults(
                period=Duration.seconds(thresholds.period_seconds)
            ),
            dashboard_factory=monitoring.DefaultDashboardFactory(
                scope,
                f"{construct_id}Dashboards",
                dashboard_name_prefix=settings.name_prefix,
                create_dashboard=True,
                create_summary_dashboard=False,
                create_alarm_dashboard=False,
            ),
        )

    # --- alarms ------------------------------------------------------------
    def _alarm(self, spec: AlarmSpec, **overrides: Any) -> dict[str, Any]:
        """Keyword arguments every threshold of `spec` shares; records the alarm.

        The library is given the name without its prefix, because it builds construct
        ids from it and the prefix may be a CloudFormation token (the stack's name);
        `_PrefixAlarmNames` writes the whole name into the template.
        """
        if any(existing.name == spec.name for existing in self.alarms):
            raise ValueError(f"alarm {spec.name} is defined twice")
        self.alarms.append(spec)
        self._names_by_key[self.names.key(spec)] = spec.name
        return {
            "alarm_name_override": self.names.key(spec),
            "alarm_description_override": spec.description(),
            "runbook_link": spec.runbook_link(self.settings.runbook_base_url),
            **overrides,
        }

    def _first_breach(self) -> dict[str, Any]:
        """A DLQ alarm fires on the first period with a message in it."""
        return {"datapoints_to_alarm": 1, "evaluation_periods": 1}

    @staticmethod
    def _key(spec: AlarmSpec) -> str:
        # The library's disambiguator; it also labels the threshold line on the graph.
        return "Critical" if spec.severity is Severity.CRITICAL else "Warning"

    # --- layout -----------------------------------------------------------
    def section(self, title: str) -> Self:
        """A full-width header row that starts the next part of the request path."""
        self.facade.add_large_header(title)
        return self

    # --- resources with a library monitor ------------------------------------
    def monitor_rest_api(self, api: apigateway.IRestApi, *, stage: str) -> Self:
        """Requests, 4XX, 5XX and latency; alarms on 5XX count and p99 latency."""
        critical, warning = self.settings.thresholds.critical, self.settings.thresholds.warning
        fault, latency = self.names.api_5xx(), self.names.api_p99_latency_high()
        self.facade.monitor_api_gateway(
            api=api,
            api_stage=stage,
            alarm_friendly_name="api",
            human_readable_name="REST API (commands)",
            latency_types_to_render=[monitoring.LatencyType.P50, monitoring.LatencyType.P99],
            add5_xx_fault_count_alarm={
                self._key(fault): monitoring.ErrorCountThreshold(
                    max_error_count=critical.api_max_5xx_count, **self._alarm(fault)
                )
            },
            add_latency_p99_alarm={
                self._key(latency): monitoring.LatencyThreshold(
                    max_latency=Duration.millis(warning.api_p99_latency_ms),
                    **self._alarm(latency),
                )
            },
        )
        return self

    def monitor_commands_topic(self, topic: sns.ITopic) -> Self:
        """Messages published and failed deliveries. No alarm of its own: a failed
        delivery lands in a subscription DLQ, which has one."""
        self.facade.monitor_sns_topic(
            topic=topic, alarm_friendly_name="commands-topic",
            human_readable_name="Commands topic",
        )
        return self

    def monitor_consumer_queue(
        self, name: str, queue: sqs.IQueue, dead_letter_queue: sqs.IQueue
    ) -> Self:
        """A consumer queue and its DLQ: depth, oldest age, and any DLQ message.

        The DLQ alarm reads `ApproximateNumberOfMessagesVisible`, not
        `NumberOfMessagesSent`: SQS does not count a message moved there by redrive
        as sent, so an alarm on sends would stay quiet for exactly those messages.
        "Not empty" notifies once; the DLQ age alarm fires again before a message can
        expire there (`MonitoringSettings.dlq_max_age_seconds`).
        """
        critical, warning = self.settings.thresholds.critical, self.settings.thresholds.warning
        depth = self.names.queue_depth_high(name)
        age = self.names.queue_age_high(name)
        dlq = self.names.dlq_not_empty(name)
        dlq_age = self.names.dlq_age_high(name)
        self.facade.monitor_sqs_queue_with_dlq(
            queue=queue,
            dead_letter_queue=dead_letter_queue,
            alarm_friendly_name=f"{name}-queue",
            human_readable_name=f"{name} queue",
            add_queue_max_size_alarm={
                self._key(depth): monitoring.MaxMessageCountThreshold(
                    max_message_count=warning.queue_max_depth, **self._alarm(depth)
                )
            },
            add_queue_max_message_age_alarm={
                self._key(age): monitoring.MaxMessageAgeThreshold(
                    max_age_in_seconds=critical.queue_max_age_seconds, **self._alarm(age)
                )
            },
            add_dead_letter_queue_max_size_alarm={
                self._key(dlq): monitoring.MaxMessageCountThreshold(
                    max_message_count=critical.dlq_max_depth,
                    **self._alarm(dlq, **self._first_breach()),
                )
            },
            add_dead_letter_queue_max_message_age_alarm={
                self._key(dlq_age): monitoring.MaxMessageAgeThreshold(
                    max_age_in_seconds=self.settings.dlq_max_age_seconds,
                    **self._alarm(dlq_age),
                )
            },
        )
        return self

    def monitor_subscription_dlq(self, name: str, dead_letter_queue: sqs.IQueue) -> Self:
        """The DLQ of the SNS subscription that feeds the `name` queue."""
        spec = self.names.subscription_dlq_not_empty(name)
        age = self.names.subscription_dlq_age_high(name)
        self.facade.monitor_sqs_queue(
            queue=dead_letter_queue,
            alarm_friendly_name=f"{name}-subscription-dlq",
            human_readable_name=f"{name} subscription DLQ (SNS could not deliver)",
            add_queue_max_size_alarm={
                self._key(spec): monitoring.MaxMessageCountThreshold(
                    max_message_count=self.settings.thresholds.critical.dlq_max_depth,
                    **self._alarm(spec, **self._first_breach()),
                )
            },
            add_queue_max_message_age_alarm={
                self._key(age): monitoring.MaxMessageAgeThreshold(
                    max_age_in_seconds=self.settings.subscription_dlq_max_age_seconds,
                    **self._alarm(age),
                )
            },
        )
        return self

    def monitor_function(
        self,
        name: str,
        function: lambda_.IFunction,
        *,
        errors_runbook: Runbook = Runbook.FUNCTION_ERRORS,
    ) -> Self:
        """Invocations, errors, throttles, duration and concurrency; alarms on errors
        and throttles. `errors_runbook` lets the notifier point at the WebSocket
        delivery runbook, whose diagnosis differs from a command handler's."""
        critical, warning = self.settings.thresholds.critical, self.settings.thresholds.warning
        errors = self.names.function_errors(name, runbook=errors_runbook)
        throttles = self.names.function_throttles(name)
        self.facade.monitor_lambda_function(
            lambda_function=function,
            alarm_friendly_name=f"{name}-function",
            human_readable_name=f"{name} function",
            latency_types_to_render=[monitoring.LatencyType.P50, monitoring.LatencyType.P99],
            add_fault_count_alarm={
                self._key(errors): monitoring.ErrorCountThreshold(
                    max_error_count=critical.function_max_errors, **self._alarm(errors)
                )
            },
            add_throttles_count_alarm={
                self._key(throttles): monitoring.ErrorCountThreshold(
                    max_error_count=warning.function_max_throttles, **self._alarm(throttles)
                )
            },
        )
        return self

    def monitor_table(self, name: str, table: dynamodb.ITable) -> Self:
        """Capacity, latency, throttled requests and system errors (no alarm: on-demand
        tables throttle only past account limits, which the functions' errors show)."""
        self.facade.monitor_dynamo_table(
            table=table,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            alarm_friendly_name=f"{name}-table",
            human_readable_name=f"{name} table",
        )
        return self

    # --- custom metric groups -------------------------------------------------
    def _emf_metric(
        self, metric_name: str, statistic: str, label: str, **dimensions: str
    ) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=self.settings.metrics_namespace,
            metric_name=metric_name,
            dimensions_map={**dimensions, SERVICE_DIMENSION: self.settings.service_name},
            statistic=statistic,
            label=label,
            period=Duration.seconds(self.settings.thresholds.period_seconds),
        )

    def monitor_command_outcomes(self, operations: Sequence[str]) -> Self:
        """Succeeded / failed / replayed commands per operation (a failed command is a
        normal answer such as 404 or a stale version, so it has no alarm), and the
        end-to-end age p50/p99 per operation with an alarm on p99."""
        outcome_metrics: list[Any] = [
            self._emf_metric(metric, "Sum", f"{operation} {metric.removeprefix('Command')}",
                             **{OPERATION_DIMENSION: operation})
            for operation in operations
            for metric in COMMAND_OUTCOME_METRICS
        ]
        age_metrics: list[Any] = []
        threshold_ms = self.settings.thresholds.warning.end_to_end_age_p99_ms
        for operation in operations:
            age_metrics.append(
                self._emf_metric(END_TO_END_AGE_METRIC, "p50", f"{operation} p50",
                                 **{OPERATION_DIMENSION: operation})
            )
            spec = self.names.end_to_end_age_high(operation)
            age_metrics.append(
                monitoring.CustomMetricWithAlarm(
                    metric=self._emf_metric(END_TO_END_AGE_METRIC, "p99", f"{operation} p99",
                                            **{OPERATION_DIMENSION: operation}),
                    alarm_friendly_name=f"{operation}-end-to-end-age",
                    add_alarm={
                        self._key(spec): monitoring.CustomThreshold(
                            threshold=threshold_ms,
                            comparison_operator=_GREATER_THAN,
                            **self._alarm(spec),
                        )
                    },
                )
            )
        self.facade.monitor_custom(
            alarm_friendly_name="commands",
            human_readable_name="Commands: outcome per operation and end-to-end age",
            metric_groups=[
                monitoring.CustomMetricGroup(
                    title="Commands answered per operation (Sum)", metrics=outcome_metrics
                ),
                monitoring.CustomMetricGroup(
                    title="End-to-end age, 202 to outcome (ms)", metrics=age_metrics
                ),
            ],
        )
        return self

    def monitor_failed_records(self, functions: Sequence[str]) -> Self:
        """Records each queue consumer reported as failed, one line and one alarm per
        function (by short name). A partial batch failure leaves the invocation
        successful, so Lambda's Errors (and its alarm) never see these; the alarm
        fires on the first period with a failure, while SQS still retries the record."""
        threshold = self.settings.thresholds.warning.function_max_failed_records
        lines: list[Any] = []
        for function in functions:
            spec = self.names.failed_records(function)
            lines.append(monitoring.CustomMetricWithAlarm(
                metric=self._emf_metric(FAILED_RECORDS_METRIC, "Sum", function,
                                        **{FUNCTION_DIMENSION: function}),
                alarm_friendly_name=f"{function}-failed-records",
                add_alarm={
                    self._key(spec): monitoring.CustomThreshold(
                        threshold=threshold,
                        comparison_operator=_GREATER_THAN,
                        **self._alarm(spec, **self._first_breach()),
                    )
                },
            ))
        self.facade.monitor_custom(
            alarm_friendly_name="failed-records",
            human_readable_name="Failed records (partial batch failures; not in Errors)",
            metric_groups=[monitoring.CustomMetricGroup(
                title="Records reported as failed (Sum)", metrics=lines)],
        )
        return self

    def monitor_websocket_api(self, api_id: str, *, stage: str) -> Self:
        """Connections, messages and the three WebSocket error kinds (no library
        monitor exists for API Gateway v2 WebSocket APIs)."""

        def metric(metric_name: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace="AWS/ApiGateway",
                metric_name=metric_name,
                dimensions_map={"ApiId": api_id, "Stage": stage},
                statistic="Sum",
                label=metric_name,
                period=Duration.seconds(self.settings.thresholds.period_seconds),
            )

        self.facade.monitor_custom(
            alarm_friendly_name="websocket",
            human_readable_name="WebSocket API (notifications)",
            metric_groups=[
                monitoring.CustomMetricGroup(
                    title="Connections and messages",
                    metrics=[metric(name) for name in WEBSOCKET_TRAFFIC_METRICS],
                ),
                monitoring.CustomMetricGroup(
                    title="Errors", metrics=[metric(name) for name in WEBSOCKET_ERROR_METRICS]
                ),
            ],
        )
        return self

    def monitor_notifications(
        self, notify: lambda_.IFunction, dead_letter_queue: sqs.IQueue
    ) -> Self:
        """Outcomes delivered, gone (410: the client left) and unsubscribed, next to
        what failed: Notify's invocation errors and messages parked in its DLQ."""
        delivered = [
            self._emf_metric(name, "Sum", name.removeprefix("Notification"))
            for name in NOTIFICATION_METRICS
        ]
        spec = self.names.notification_failures()
        failed: list[Any] = [
            monitoring.CustomMetricWithAlarm(
                metric=self._emf_metric(NOTIFICATION_FAILED_METRIC, "Sum", "Posts failed"),
                alarm_friendly_name="notification-failures",
                add_alarm={
                    self._key(spec): monitoring.CustomThreshold(
                        threshold=0,
                        comparison_operator=_GREATER_THAN,
                        **self._alarm(spec),
                    )
                },
            ),
            notify.metric_errors(
                statistic="Sum", label="Notify errors",
                period=Duration.seconds(self.settings.thresholds.period_seconds),
            ),
            dead_letter_queue.metric_approximate_number_of_messages_visible(
                statistic="Maximum", label="In notifications DLQ",
                period=Duration.seconds(self.settings.thresholds.period_seconds),
            ),
        ]
        self.facade.monitor_custom(
            alarm_friendly_name="notifications",
            human_readable_name="Notifications",
            metric_groups=[
                monitoring.CustomMetricGroup(title="Delivered, gone, unsubscribed",
                                             metrics=list(delivered)),
                monitoring.CustomMetricGroup(title="Failed", metrics=failed),
            ],
        )
        return self


@jsii.implements(IAspect)
class _PrefixAlarmNames:
    """Gives each alarm of `names_by_key` (name without prefix → whole name) its whole
    name in the template, once every alarm exists (aspects run at synthesis)."""

    def __init__(self, names_by_key: dict[str, str]) -> None:
        self.names_by_key = names_by_key

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, cloudwatch.CfnAlarm) and node.alarm_name in self.names_by_key:
            node.alarm_name = self.names_by_key[node.alarm_name]
