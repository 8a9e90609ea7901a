"""Metric names, dimensions and the namespace the functions emit; the dashboard,
its alarms and `crudops status` read them.

Spelled here once: the handlers (writers) and `dashboards/` and `tools/` (readers)
import them. Powertools adds the `service` dimension to every metric itself (from
`POWERTOOLS_SERVICE_NAME`), so a reader must name it too.
"""

from __future__ import annotations

from typing import Final

# Where the functions' metrics go unless the stack's `metrics_namespace` says otherwise.
DEFAULT_NAMESPACE: Final = "Crudops"
# The dimension Powertools adds to every metric: the stack's `service_name`.
SERVICE_DIMENSION: Final = "service"

# Records a consumer reported as failed (functions/batch.py), per attempt.
FAILED_RECORDS_METRIC: Final = "FailedRecords"
# The dimension naming the function by its short name (`create`, `update-delete`, ...).
FUNCTION_DIMENSION: Final = "function"

# One per command answered by a worker (functions/worker.py), by OPERATION_DIMENSION.
COMMAND_SUCCEEDED_METRIC: Final = "CommandSucceeded"
# A normal answer such as 404 or a stale version: no alarm.
COMMAND_FAILED_METRIC: Final = "CommandFailed"
# A redelivered command answered from its stored outcome (idempotency).
COMMAND_REPLAYED_METRIC: Final = "CommandReplayed"
COMMAND_OUTCOME_METRICS: Final = (COMMAND_SUCCEEDED_METRIC, COMMAND_FAILED_METRIC,
                                  COMMAND_REPLAYED_METRIC)
# Milliseconds from the 202 to the stored outcome, by OPERATION_DIMENSION.
END_TO_END_AGE_METRIC: Final = "EndToEndAge"
OPERATION_DIMENSION: Final = "operation"

# Per connection posted to by Notify (functions/notify.py).
NOTIFICATION_DELIVERED_METRIC: Final = "NotificationDelivered"
# 410 from the management API: the client left; its subscription is removed.
NOTIFICATION_GONE_METRIC: Final = "NotificationGone"
# An outcome nobody subscribed to.
NOTIFICATION_UNSUBSCRIBED_METRIC: Final = "NotificationUnsubscribed"
NOTIFICATION_METRICS: Final = (NOTIFICATION_DELIVERED_METRIC, NOTIFICATION_GONE_METRIC,
                               NOTIFICATION_UNSUBSCRIBED_METRIC)
# Counted by Notify per failed post: a partial batch failure, invisible in Errors.
NOTIFICATION_FAILED_METRIC: Final = "NotificationFailed"
