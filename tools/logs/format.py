"""A log record for a person: one line (time, level, requestId, message, the keys that
say what happened), then its traceback or further lines indented beneath it, whole.

The keys every Powertools record carries (service, function name and ARN, cold
start, the X-Ray trace id, ...) are left out of the line: `--json` keeps them.
"""

from __future__ import annotations

import json
from typing import Any, Final

from tools.logs.records import LogRecord, compact_value, iso_time

# Keys shown in their own column, or the same on every record of a function.
_COMMON_KEYS: Final = frozenset({
    "level", "message", "timestamp", "service", "correlation_id", "location", "cold_start",
    "function_name", "function_memory_size", "function_arn", "function_request_id",
    "xray_trace_id", "sampling_rate", "exception", "exception_name", "stack_trace",
})
DETAIL_INDENT: Final = "    "
_TIME_WIDTH: Final = len("2026-12-01T09:47:12.745Z")
_LEVEL_WIDTH: Final = len("CRITICAL")
# An API Gateway requestId (a UUID).
_REQUEST_ID_WIDTH: Final = 36


def format_record(record: LogRecord, *, with_source: bool = False) -> list[str]:
    """The record's lines: the first one, then the detail indented by four spaces.

    A time the record did not carry itself (a text line in a local file) is marked
    `~`. `with_source` puts the log file or group first (records of several
    functions, as `trace` shows them)."""
    if record.time is None:
        time = "-"
    else:
        time = ("~" if record.time_inferred else "") + iso_time(record.time)
    extra = " ".join(f"{key}={compact_value(value)}" for key, value in record.fields.items()
                     if key not in _COMMON_KEYS and not _is_request_id(record, key, value))
    if record.fields.get("_aws") is not None:
        extra = ""  # a metrics record's message already names its values
    line = (f"{time:<{_TIME_WIDTH + 1}} {record.level or '-':<{_LEVEL_WIDTH}} "
            f"{record.request_id or '-':<{_REQUEST_ID_WIDTH}} {record.message}")
    if extra:
        line += f"  {extra}"
    if with_source:
        line = f"{record.source}  {line}"
    # A text traceback keeps its last line beneath too (it is also the message): the
    # traceback reads as Python wrote it.
    detail = record.detail.splitlines()
    return [line.rstrip(), *((DETAIL_INDENT + d).rstrip() for d in detail)]


def _is_request_id(record: LogRecord, key: str, value: Any) -> bool:
    return key == "requestId" and value == record.request_id


def record_json(record: LogRecord) -> str:
    """One JSON object per record (JSON Lines)."""
    return json.dumps(record.as_json(), default=str, ensure_ascii=False)
