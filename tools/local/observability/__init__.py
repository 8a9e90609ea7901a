"""Local telemetry: an X-Ray daemon, CloudWatch metrics from EMF and the runner, and
alarm evaluation (moto stores traces, metrics and alarms but produces or evaluates
none of them). See docs/adr/0009-tracing.md."""

from tools.local.observability.service import (
    LocalObservability,
    ObservabilitySettings,
    WatchedQueue,
)

__all__ = ["LocalObservability", "ObservabilitySettings", "WatchedQueue"]
