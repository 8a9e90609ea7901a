"""Log records of the functions, read from what they wrote: one contract for `crudops
logs` and `crudops trace`.

What a function writes, locally (its log file) or deployed (its CloudWatch log group):
- Powertools Logger records, one JSON object per line: `level`, `message`,
  `timestamp`, `correlation_id` (the requestId), and on failure `exception` (the
  traceback text) and `exception_name`;
- Powertools Metrics' EMF objects (JSON with an `_aws` key): shown as metrics;
- anything else as text: a stray print, a Python warning, Lambda's
  `START`/`END`/`REPORT` lines, a Python traceback. Locally the runner writes an
  invocation's traceback to the file as several lines; `LineGrouper` makes them one
  record. Deployed, CloudWatch keeps one event per write, so an event's lines are
  one record already.

A record without a level of its own (text, metrics) counts as INFO for `--level`, so a
filter at WARNING hides prints and platform lines; a text traceback, Lambda's line
for a timeout or a killed runtime, and a `[ERROR]` line of its runtime count as
ERROR, a Python warning as WARNING.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Final

# Powertools' default `datefmt` ("%Y-%m-%d %H:%M:%S,%F%z", %F being milliseconds).
POWERTOOLS_TIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S,%f%z"
LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_LEVEL_NUMBERS: Final = logging.getLevelNamesMapping()
# The level a record without one counts as.
UNLEVELLED: Final = "INFO"
TRACEBACK_START: Final = "Traceback (most recent call last):"
# The lines Python writes between the tracebacks of chained exceptions.
_CHAIN_LINES: Final = (
    "During handling of the above exception, another exception occurred:",
    "The above exception was the direct cause of the following exception:",
)
# Lambda's Python runtime writes text-format records as `[LEVEL]\t...`.
_RUNTIME_LEVEL: Final = re.compile(r"^\[(DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL)\]")
# Lambda's own lines for an invocation that failed outside the handler's logging: a
# timeout, the runtime killed (out of memory), a REPORT with a failed status.
_PLATFORM_ERROR: Final = re.compile(
    r"Task timed out after|Runtime exited with error|^REPORT .*Status: (timeout|error)")
# Python's `warnings` write `path:line: SomeWarning: message`.
_PYTHON_WARNING: Final = re.compile(r"^\S.*:\d+: \w*Warning: ")


def level_number(level: str | None) -> int:
    """`WARNING` -> 30; a missing or unknown level counts as INFO."""
    return _LEVEL_NUMBERS.get((level or UNLEVELLED).upper(), _LEVEL_NUMBERS[UNLEVELLED])


def normal_level(level: str) -> str | None:
    """`warn` -> `WARNING`; None for a name logging does not know."""
    number = _LEVEL_NUMBERS.get(level.upper())
    return None if number is None else logging.getLevelName(number)


@dataclass(frozen=True)
class LogRecord:
    """One record a function wrote, as much of it as could be read."""

    # When it was written; for a text line locally (which carries no time), the time of
    # the record after it or the file's last change: `time_inferred` then.
    time: datetime | None
    level: str | None
    request_id: str | None
    message: str
    # Where it was read: the log file, or the log group.
    source: str
    # The JSON object as written ({} for text).
    fields: Mapping[str, Any] = field(default_factory=dict)
    # The line(s) as written.
    text: str = ""
    # Shown beneath the record: the `exception` of a JSON record, the further lines of
    # a text one.
    detail: str = ""
    time_inferred: bool = False
    # CloudWatch's id of the event (de-duplicates a moving poll).
    event_id: str | None = None

    def names(self, request_id: str) -> bool:
        """Whether this record is about that request: its correlation id, its
        `requestId` key or anywhere in what was written."""
        return self.request_id == request_id or request_id in self.text

    def as_json(self) -> dict[str, Any]:
        return {
            "time": None if self.time is None else iso_time(self.time),
            "timeInferred": self.time_inferred, "level": self.level,
            "requestId": self.request_id, "message": self.message, "source": self.source,
            "fields": dict(self.fields) or None, "text": self.text,
            **({"eventId": self.event_id} if self.event_id else {}),
        }


def iso_time(time: datetime) -> str:
    """UTC with milliseconds: `2026-12-01T09:47:12.745Z`."""
    return time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# --- one record from its text --------------------------------------------------------------
def parse_record(text: str, *, source: str, time: datetime | None = None,
                 event_id: str | None = None) -> LogRecord:
    """The record `text` holds (one JSON line, or one CloudWatch event's message).

    `time` is when the carrier says it was written (a CloudWatch event's timestamp);
    a record's own timestamp, when it has one, wins (it is when it was made)."""
    text = text.rstrip("\n")
    fields = _json_object(text)
    if fields is None:
        return _text_record(text, source=source, time=time, event_id=event_id)
    if "_aws" in fields:
        return _metrics_record(fields, text, source=source, time=time, event_id=event_id)
    level = fields.get("level")
    request_id = fields.get("correlation_id") or fields.get("requestId")
    message = fields.get("message")
    return LogRecord(
        time=_record_time(fields.get("timestamp")) or time,
        level=normal_level(level) if isinstance(level, str) else None,
        request_id=str(request_id) if request_id else None,
        message=message if isinstance(message, str) else
        (text if message is None else json.dumps(message)),
        source=source, fields=fields, text=text,
        detail=str(fields.get("exception") or ""), event_id=event_id,
    )


def _json_object(text: str) -> dict[str, Any] | None:
    if not text.lstrip().startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _record_time(value: Any) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000.0, UTC)
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.strptime(value, POWERTOOLS_TIME_FORMAT)
    except ValueError:
        try:
            # Another POWERTOOLS_LOG_DATEFMT, or a record from elsewhere.
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _metrics_record(fields: dict[str, Any], text: str, *, source: str,
                    time: datetime | None, event_id: str | None) -> LogRecord:
    aws = fields.get("_aws") or {}
    names = [m.get("Name") for d in aws.get("CloudWatchMetrics", [])
             for m in d.get("Metrics", []) if isinstance(m, dict)]
    values = " ".join(f"{n}={compact_value(_one(fields.get(n)))}" for n in names if n)
    dimensions = {k: v for k, v in fields.items() if k != "_aws" and k not in names}
    request_id = fields.get("requestId") or fields.get("correlation_id")
    return LogRecord(
        time=_record_time(aws.get("Timestamp")) or time, level=None,
        request_id=str(request_id) if request_id else None,
        message=f"metrics {values}".rstrip() + (
            f" ({' '.join(f'{k}={compact_value(v)}' for k, v in dimensions.items())})"
            if dimensions else ""),
        source=source, fields=fields, text=text, event_id=event_id)


def _one(value: Any) -> Any:
    """EMF writes a metric's value as a list of one."""
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def compact_value(value: Any) -> str:
    """A value as `key=value` shows it: a plain word as is, anything else as JSON (so
    spaces, quotes and `=` cannot blur where it ends)."""
    if isinstance(value, str) and value and not any(c.isspace() or c in "\"=" for c in value):
        return value
    return json.dumps(value, default=str, ensure_ascii=False)


def _text_record(text: str, *, source: str, time: datetime | None,
                 event_id: str | None) -> LogRecord:
    first, _, rest = text.partition("\n")
    if first.startswith(TRACEBACK_START):
        # Python's traceback: the exception (its last line) is what the reader wants first.
        lines = text.splitlines()
        last = next((line for line in reversed(lines) if line.strip()), first)
        return LogRecord(time=time, level="ERROR", request_id=None, message=last.strip(),
                         source=source, text=text, detail=text, event_id=event_id)
    runtime_level = _RUNTIME_LEVEL.match(first)
    if runtime_level:
        level = normal_level(runtime_level[1])
    elif _PLATFORM_ERROR.search(first):
        level = "ERROR"
    elif _PYTHON_WARNING.match(first):
        level = "WARNING"
    else:
        level = None
    return LogRecord(
        time=time, level=level,
        request_id=None, message=first, source=source, text=text, detail=rest,
        event_id=event_id)


# --- lines of a file -----------------------------------------------------------------------
class LineGrouper:
    """Turns a file's lines into records: each JSON line one record; a text line and
    the indented lines after it one record (a warning and its source line); a Python
    traceback, with its chained tracebacks, one record.

    Lines arrive with `feed`; a text record is complete when a line that does not
    continue it arrives, or at `flush` (the end of what was read, or a pause of the
    writer). Records come out in the order they were written."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._lines: list[str] = []
        self._traceback = False
        # The traceback's exception line has been read: only chaining may follow.
        self._ended = False

    def feed(self, line: str) -> list[LogRecord]:
        line = line.rstrip("\n")
        if self._lines:
            if self._continues(line):
                self._lines.append(line)
                return []
            return [*self.flush(), *self.feed(line)]
        if not line.strip():
            return []
        if _json_object(line) is not None:
            return [parse_record(line, source=self.source)]
        self._lines = [line]
        self._traceback, self._ended = line.startswith(TRACEBACK_START), False
        return []

    def _continues(self, line: str) -> bool:
        if not self._traceback:
            return bool(line[:1].isspace() and line.strip())
        if not self._ended:
            if line.strip() and not line[:1].isspace() and not line.startswith(
                    TRACEBACK_START):
                self._ended = True  # the exception line
            return True
        if not line.strip() or line.strip() in _CHAIN_LINES:
            return True
        if line.startswith(TRACEBACK_START) and self._lines[-1].strip() in ("",
                                                                           *_CHAIN_LINES):
            self._ended = False
            return True
        return False

    def flush(self) -> list[LogRecord]:
        while self._lines and not self._lines[-1].strip():
            self._lines.pop()
        if not self._lines:
            return []
        text = "\n".join(self._lines)
        self._lines, self._traceback, self._ended = [], False, False
        return [parse_record(text, source=self.source)]


def parse_lines(lines: Iterable[str], source: str) -> Iterator[LogRecord]:
    grouper = LineGrouper(source)
    for line in lines:
        yield from grouper.feed(line)
    yield from grouper.flush()


def date_undated(records: list[LogRecord], last_change: datetime) -> list[LogRecord]:
    """Give each record without a time the time of the next record that has one (a
    line is written before the records after it), or `last_change` (the file's) for
    those at the end: never earlier than it was written, so `--since` drops nothing
    it should show."""
    dated: list[LogRecord] = []
    upper = last_change
    for record in reversed(records):
        if record.time is None:
            record = replace(record, time=upper, time_inferred=True)
        else:
            upper = record.time
        dated.append(record)
    return dated[::-1]


# --- choosing records -------------------------------------------------------------------------
@dataclass(frozen=True)
class RecordFilter:
    """Which records to show: written at or after `since`, at `level` or above, about
    `request_id`."""

    since: datetime | None = None
    level: str | None = None
    request_id: str | None = None

    def matches(self, record: LogRecord) -> bool:
        if self.since is not None and record.time is not None and record.time < self.since:
            return False
        if self.level is not None and level_number(record.level) < level_number(self.level):
            return False
        return self.request_id is None or record.names(self.request_id)
