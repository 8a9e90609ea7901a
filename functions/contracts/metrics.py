"""Metric names and dimensions the functions emit and the dashboard and alarms read.

Spelled here once: the handlers (writers) and `dashboards/` (readers) import them.
"""

from __future__ import annotations

from typing import Final

# Records a consumer reported as failed (functions/batch.py), per attempt.
FAILED_RECORDS_METRIC: Final = "FailedRecords"
# The dimension naming the function by its short name (`create`, `update-delete`, ...).
FUNCTION_DIMENSION: Final = "function"
