"""Alarm names, severities and the runbook page of each alarm family.

Names are deterministic, `<prefix>-<resource>-<condition>` (e.g.
`Crudops-create-dlq-not-empty`), so a runbook, a script or `crudops status` can name
an alarm without reading the template. The prefix is the stack's name
(infra/names.py): CloudWatch alarm names are unique per account and Region, so two
crudops stacks there have alarms of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """CRITICAL pages someone now; WARNING is looked at in working hours."""

    CRITICAL = "critical"
    WARNING = "warning"


class Runbook(StrEnum):
    """One page under `runbooks/` per alarm family (alarms identical but for a resource)."""

    QUEUE_DEPTH_HIGH = "queue-depth-high"
    QUEUE_AGE_HIGH = "queue-age-high"
    DLQ_NOT_EMPTY = "dlq-not-empty"
    SUBSCRIPTION_DLQ_NOT_EMPTY = "subscription-dlq-not-empty"
    DLQ_AGE_HIGH = "dlq-age-high"
    FAILED_RECORDS = "failed-records"
    FUNCTION_ERRORS = "function-errors"
    FUNCTION_THROTTLES = "function-throttles"
    WEBSOCKET_DELIVERY_FAILURES = "websocket-delivery-failures"
    API_5XX = "api-5xx"
    API_LATENCY_HIGH = "api-latency-high"
    END_TO_END_AGE_HIGH = "end-to-end-age-high"

    @property
    def file_name(self) -> str:
        return f"{self.value}.md"


@dataclass(frozen=True)
class AlarmSpec:
    """What an alarm is called, how urgent it is, what it means and where its runbook is."""

    name: str
    severity: Severity
    runbook: Runbook
    summary: str

    def runbook_link(self, base_url: str) -> str:
        return f"{base_url}{self.runbook.file_name}"

    def description(self) -> str:
        """The alarm description's first line; cdk-monitoring-constructs appends the
        runbook link as `Runbook: <link>` on the next."""
        return f"[{self.severity.value}] {self.summary}"


class AlarmNames:
    """Builds every alarm name from one prefix; no other module formats an alarm name."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def name(self, resource: str, condition: str) -> str:
        return f"{self.prefix}-{resource}-{condition}"

    def key(self, spec: AlarmSpec) -> str:
        """`spec`'s name without the prefix: unique within one stack."""
        return spec.name.removeprefix(f"{self.prefix}-")

    def queue_depth_high(self, queue: str) -> AlarmSpec:
        return AlarmSpec(
            self.name(queue, "queue-depth-high"), Severity.WARNING, Runbook.QUEUE_DEPTH_HIGH,
            f"The {queue} queue holds more visible messages than usual: its consumer "
            "is slower than its producers.",
        )

    def queue_age_high(self, queue: str) -> AlarmSpec:
        return AlarmSpec(
            self.name(queue, "queue-age-high"), Severity.CRITICAL, Runbook.QUEUE_AGE_HIGH,
            f"The oldest message in the {queue} queue has waited too long: commands are "
            "not being answered in time.",
        )

    def dlq_not_empty(self, queue: str) -> AlarmSpec:
        return AlarmSpec(
            self.name(queue, "dlq-not-empty"), Severity.CRITICAL, Runbook.DLQ_NOT_EMPTY,
            f"The {queue} queue's dead-letter queue holds messages: they failed "
            "maxReceiveCount times and wait for an operator.",
        )

    def subscription_dlq_not_empty(self, queue: str) -> AlarmSpec:
        return AlarmSpec(
            self.name(queue, "subscription-dlq-not-empty"), Severity.CRITICAL,
            Runbook.SUBSCRIPTION_DLQ_NOT_EMPTY,
            f"SNS could not deliver commands to the {queue} queue and parked them in the "
            "subscription's dead-letter queue.",
        )

    def dlq_age_high(self, queue: str) -> AlarmSpec:
        return AlarmSpec(
            self.name(queue, "dlq-age-high"), Severity.CRITICAL, Runbook.DLQ_AGE_HIGH,
            f"A message has waited in the {queue} queue's dead-letter queue so long that "
            "it may expire soon: export or redrive it before SQS deletes it.",
        )

    def subscription_dlq_age_high(self, queue: str) -> AlarmSpec:
        return AlarmSpec(
            self.name(queue, "subscription-dlq-age-high"), Severity.CRITICAL,
            Runbook.DLQ_AGE_HIGH,
            f"A command SNS could not deliver to the {queue} queue has waited in the "
            "subscription's dead-letter queue so long that it may expire soon.",
        )

    def failed_records(self, function: str) -> AlarmSpec:
        return AlarmSpec(
            self.name(function, "failed-records"), Severity.WARNING, Runbook.FAILED_RECORDS,
            f"The {function} function reported records as failed (partial batch "
            "failures, which Lambda's Errors metric does not count): SQS retries them, "
            "and after maxReceiveCount parks them in the DLQ.",
        )

    def function_errors(self, function: str, *, runbook: Runbook) -> AlarmSpec:
        return AlarmSpec(
            self.name(function, "errors"), Severity.CRITICAL, runbook,
            f"The {function} function's invocations fail (unhandled error, timeout or "
            "out of memory).",
        )

    def function_throttles(self, function: str) -> AlarmSpec:
        return AlarmSpec(
            self.name(function, "throttles"), Severity.WARNING, Runbook.FUNCTION_THROTTLES,
            f"Lambda throttles the {function} function: the account or function "
            "concurrency limit is reached.",
        )

    def api_5xx(self) -> AlarmSpec:
        return AlarmSpec(
            self.name("api", "5xx"), Severity.CRITICAL, Runbook.API_5XX,
            "The REST API answers 5XX: commands are refused (SNS or DynamoDB unavailable, "
            "or a broken integration).",
        )

    def api_p99_latency_high(self) -> AlarmSpec:
        return AlarmSpec(
            self.name("api", "p99-latency-high"), Severity.WARNING, Runbook.API_LATENCY_HIGH,
            "The REST API's p99 latency is above its threshold.",
        )

    def notification_failures(self) -> AlarmSpec:
        return AlarmSpec(
            self.name("notifications", "delivery-failures"), Severity.CRITICAL,
            Runbook.WEBSOCKET_DELIVERY_FAILURES,
            "Notify could not post outcomes to WebSocket connections (other than 410 "
            "Gone): subscribers are not told, and the notifications are being retried.",
        )

    def end_to_end_age_high(self, operation: str) -> AlarmSpec:
        return AlarmSpec(
            self.name(operation, "end-to-end-age-high"), Severity.WARNING,
            Runbook.END_TO_END_AGE_HIGH,
            f"p99 of the time from 202 to the {operation} command's outcome is above its "
            "threshold.",
        )
