"""What the dashboard and its alarms are built from: thresholds keyed by severity and
the names they carry.

`dashboards/` takes these values, never the stack's settings: `infra.settings`
holds the stack's tunables (and checks them, raising its `SettingsError`) and hands
`MonitoringSettings` over, so nothing here imports `infra`. Units are in the field
names.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CriticalThresholds:
    """Alarms that page: commands are stuck, parked in a DLQ, or refused with 5XX.

    Each threshold is the largest value that is still fine; the alarm fires above it
    (a DLQ alarm with `dlq_max_depth=0` fires on the first message).
    """

    dlq_max_depth: int = 0
    queue_max_age_seconds: int = 900
    function_max_errors: int = 0
    api_max_5xx_count: int = 5
    # How long before a DLQ message can expire its age alarm fires: the time an
    # operator has to export or redrive it (`StackSettings.dlq_max_age_seconds`).
    dlq_time_to_act_seconds: int = 3 * 24 * 3600


@dataclass(frozen=True)
class WarningThresholds:
    """Alarms that open a ticket: the system is slower or closer to a limit than usual."""

    queue_max_depth: int = 1000
    function_max_throttles: int = 0
    api_p99_latency_ms: int = 1000
    end_to_end_age_p99_ms: int = 10_000
    # Records a consumer reported as failed in one period (partial batch failures,
    # invisible in Lambda's Errors); the alarm fires on the first period above it.
    function_max_failed_records: int = 0


@dataclass(frozen=True)
class AlarmThresholds:
    """Alarm thresholds keyed by severity, and how long a breach must last.

    A breach must hold for `datapoints_to_alarm` of `evaluation_periods` periods of
    `period_seconds`, except DLQ alarms, which fire on the first period with a message:
    a parked command is never noise. `StackSettings` checks the periods CloudWatch
    accepts.
    """

    critical: CriticalThresholds = field(default_factory=CriticalThresholds)
    warning: WarningThresholds = field(default_factory=WarningThresholds)
    period_seconds: int = 300
    evaluation_periods: int = 3
    datapoints_to_alarm: int = 3


@dataclass(frozen=True)
class MonitoringSettings:
    """Everything `CrudopsMonitoring` reads besides the resources it monitors."""

    # The `service` dimension of the functions' own metrics.
    service_name: str
    metrics_namespace: str
    thresholds: AlarmThresholds
    # Every alarm description ends with `<runbook_base_url><page>.md`.
    runbook_base_url: str
    # Oldest-message age above which a message of a queue's DLQ (and of a
    # subscription's DLQ) may expire within `dlq_time_to_act_seconds`.
    dlq_max_age_seconds: int
    subscription_dlq_max_age_seconds: int
    # Prefix of every alarm name, and the dashboard's name: the stack's name (a
    # CloudFormation token in the stack), so two stacks share an account and Region.
    name_prefix: str
