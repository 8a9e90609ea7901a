"""Why a message is in its DLQ: the error its consumer logged, or its attributes name.

A consumer logs every failed record (functions/batch.py): one line per attempt with
the SQS `message_id`, the `error_code` and the exception; SQS keeps the message id
when it moves a message to its DLQ, so the last such line is the error that sent it
there. Messages put in a DLQ by another service may carry the error themselves
(`ErrorCode` / `ErrorMessage` attributes, as Lambda's asynchronous DLQs do).

The search is best effort and bounded, so that `dlq show` stays quick: locally the
last `LOCAL_TAIL_BYTES` of each function's log file; deployed, one FilterLogEvents
query per function log group for all the messages at once, from the oldest message's
SentTimestamp, stopping after `CLOUDWATCH_MAX_EVENTS` events or
`CLOUDWATCH_DEADLINE_SECONDS`. A message whose error is not found says so (`where`
names what was searched).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from tools.dlq.messages import DeadLetter
from tools.logs.cloudwatch import event_record, filter_events, log_group_of
from tools.logs.local_files import log_file_of
from tools.logs.records import LogRecord, iso_time, parse_lines
from tools.stacks import FUNCTION_TYPE, StackTarget, function_short_name, resources_of_type

LOCAL_TAIL_BYTES: Final = 8 * 1024 * 1024
CLOUDWATCH_MAX_EVENTS: Final = 2_000
CLOUDWATCH_DEADLINE_SECONDS: Final = 15.0
# SQS keeps a message at most 14 days: no log line about it can be older.
LONGEST_RETENTION: Final = timedelta(days=14)
# Log lines are written before the message reaches the DLQ, but clocks differ a little.
CLOCK_SLACK: Final = timedelta(minutes=1)
ERROR_ATTRIBUTES: Final = ("ErrorCode", "ErrorMessage")


@dataclass(frozen=True)
class Failure:
    """The error recorded for one message, and where it was read."""

    code: str
    message: str
    # "attributes", or the function whose log says so
    source: str
    time: str | None = None
    receive_count: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "source": self.source,
                "time": self.time, "receiveCount": self.receive_count}


@dataclass(frozen=True)
class FailureLookup:
    """What was found per message id, and what was searched (for "not found in …")."""

    found: dict[str, Failure]
    where: str


def from_attributes(message: DeadLetter) -> Failure | None:
    values = [message.message_attributes.get(n, {}).get("StringValue") for n in
              ERROR_ATTRIBUTES]
    if not any(values):
        return None
    return Failure(code=values[0] or "", message=values[1] or "", source="attributes")


def _failure(record: LogRecord, function: str) -> Failure:
    fields = record.fields
    # The exception's own line (the traceback's last) says what went wrong.
    lines = [line for line in str(fields.get("exception") or "").splitlines() if line.strip()]
    count = fields.get("receive_count")
    return Failure(code=str(fields.get("error_code") or fields.get("exception_name") or ""),
                   message=lines[-1].strip() if lines else record.message,
                   source=function, time=iso_time(record.time) if record.time else None,
                   receive_count=int(count) if isinstance(count, int) else None)


def _latest(records: Iterable[LogRecord], function: str, wanted: set[str],
            found: dict[str, tuple[datetime, Failure]]) -> None:
    """Keep, per wanted message id, the latest failed-record line (its last attempt)."""
    for record in records:
        message_id = record.fields.get("message_id")
        if message_id not in wanted or "error_code" not in record.fields:
            continue
        when = record.time or datetime.min.replace(tzinfo=UTC)
        if message_id not in found or when >= found[message_id][0]:
            found[message_id] = (when, _failure(record, function))


def _tail_lines(path: Path) -> list[str]:
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(max(0, size - LOCAL_TAIL_BYTES))
            data = handle.read()
    except FileNotFoundError:
        return []
    lines = data.decode("utf-8", errors="replace").splitlines()
    return lines[1:] if size > LOCAL_TAIL_BYTES else lines  # the first may be cut


def _oldest_sent(messages: Sequence[DeadLetter], now: datetime) -> datetime:
    sent = [int(m.attributes["SentTimestamp"]) for m in messages
            if m.attributes.get("SentTimestamp", "").isdigit()]
    oldest = datetime.fromtimestamp(min(sent) / 1000, UTC) if sent else now - LONGEST_RETENTION
    return max(oldest - CLOCK_SLACK, now - LONGEST_RETENTION)


def lookup_failures(target: StackTarget, messages: Sequence[DeadLetter], *,
                    now: Callable[[], datetime] = lambda: datetime.now(UTC),
                    clock: Callable[[], float] = time.monotonic) -> FailureLookup:
    """The recorded error of each message that has one (see the module docstring)."""
    found: dict[str, Failure] = {}
    for message in messages:
        failure = from_attributes(message)
        if failure is not None:
            found[message.message_id] = failure
    wanted = {m.message_id for m in messages} - set(found)
    resources = target.resources()
    functions = resources_of_type(resources, FUNCTION_TYPE)
    latest: dict[str, tuple[datetime, Failure]] = {}
    if target.described is not None:
        where = f"the last {LOCAL_TAIL_BYTES // 2**20} MiB of the log files in " \
                f"{target.described.log_dir}"
        for function in functions if wanted else []:
            path = log_file_of(target.described.log_dir, function.physical_id)
            _latest(parse_lines(_tail_lines(path), path.name),
                    function_short_name(function.logical_id), wanted, latest)
    else:
        start = _oldest_sent(messages, now())
        where = f"the functions' CloudWatch logs since {iso_time(start)}"
        deadline = clock() + CLOUDWATCH_DEADLINE_SECONDS
        pattern = " ".join(f'?"{message_id}"' for message_id in sorted(wanted))
        for function in functions if wanted else []:
            group = log_group_of(function, resources, target.clients("lambda"))
            records = []
            for count, event in enumerate(filter_events(
                    target.clients("logs"), group, start=start, pattern=pattern), 1):
                records.append(event_record(event, group))
                if count >= CLOUDWATCH_MAX_EVENTS or clock() > deadline:
                    where += f" (stopped early in {group})"
                    break
            _latest(records, function_short_name(function.logical_id), wanted, latest)
            if clock() > deadline:
                where += " (stopped at the time limit)"
                break
    found.update({message_id: failure for message_id, (_, failure) in latest.items()})
    return FailureLookup(found, where)
