"""Reading a deployed function's log group, once or as it grows (`--follow`).

Each function of the stack writes to its own log group (the template's
`AWS::Logs::LogGroup` named in the function's `LoggingConfig`), not to
`/aws/lambda/<name>`. `log_group_of` asks Lambda where the function logs, which also
sees a group changed by hand; an endpoint that does not answer with a
`LoggingConfig` (moto) falls back to the template's group beside the function, then
to Lambda's default.

`--follow` polls `FilterLogEvents` rather than using `StartLiveTail`: the same call as
a one-off read, no sampling above 500 events/s, no 3-hour session limit, and moto
and other emulators answer it (moto's StartLiveTail returns one snapshot, not a
stream). Events reach CloudWatch up to seconds late and out of order, so each poll
reads again from a minute before the newest event seen and drops the events it has
already shown, by event id (what `sam logs --tail` does, with a window for the late).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from tools.logs.records import LogRecord, parse_record
from tools.stacks import Resource

LOG_GROUP_TYPE: Final = "AWS::Logs::LogGroup"
# How late an event may reach CloudWatch and still be shown by `--follow`.
LATE_EVENTS: Final = timedelta(minutes=1)
_CDK_HASH: Final = re.compile(r"[0-9A-F]{8}$")


def log_group_of(function: Resource, resources: list[Resource], lambda_client: Any) -> str:
    """The log group the function writes to."""
    from botocore.exceptions import ClientError

    try:
        configuration = lambda_client.get_function_configuration(
            FunctionName=function.physical_id)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in (
                "AccessDeniedException", "ResourceNotFoundException"):
            raise
        configuration = {}
    group = (configuration.get("LoggingConfig") or {}).get("LogGroup")
    if group:
        return str(group)
    return template_log_group(function, resources) or f"/aws/lambda/{function.physical_id}"


def template_log_group(function: Resource, resources: list[Resource]) -> str | None:
    """The stack's log group made beside the function (infra/lambda_function.py:
    `…Function<hash>` and `…Logs<hash>` under one construct)."""
    owner = _CDK_HASH.sub("", function.logical_id).removesuffix("Function")
    groups = [r.physical_id for r in resources if r.type == LOG_GROUP_TYPE
              and _CDK_HASH.sub("", r.logical_id) == f"{owner}Logs" and r.physical_id]
    return groups[0] if len(groups) == 1 else None


def _millis(time: datetime) -> int:
    return int(time.timestamp() * 1000)


def event_record(event: dict[str, Any], group: str) -> LogRecord:
    return parse_record(str(event.get("message", "")), source=group,
                        time=datetime.fromtimestamp(int(event["timestamp"]) / 1000.0, UTC),
                        event_id=event.get("eventId"))


def filter_events(logs: Any, group: str, *, start: datetime, end: datetime | None = None,
                  pattern: str = "") -> Iterator[dict[str, Any]]:
    """The group's events from `start` (to `end`), in time order; none for a group
    that does not exist (yet: Lambda makes its default group on the first write)."""
    from botocore.exceptions import ClientError

    arguments: dict[str, Any] = {"logGroupName": group, "startTime": _millis(start)}
    if end is not None:
        arguments["endTime"] = _millis(end)
    if pattern:
        arguments["filterPattern"] = pattern
    try:
        for page in logs.get_paginator("filter_log_events").paginate(**arguments):
            yield from page.get("events", [])
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise


def read_events(logs: Any, group: str, *, start: datetime, end: datetime | None = None,
                pattern: str = "") -> Iterator[LogRecord]:
    """`filter_events` as records."""
    for event in filter_events(logs, group, start=start, end=end, pattern=pattern):
        yield event_record(event, group)


def request_id_pattern(request_id: str | None) -> str:
    """A FilterLogEvents pattern for events that contain the id ("" for all)."""
    return f'"{request_id}"' if request_id else ""


class EventPoller:
    """New events of one group on each `poll`, each once (see the module's docstring)."""

    def __init__(self, logs: Any, group: str, *, start: datetime, pattern: str = "") -> None:
        self._logs = logs
        self._group = group
        self._pattern = pattern
        self._start_ms = _millis(start)
        # event id -> its timestamp (ms): what was shown and may be read again.
        self._seen: dict[str, int] = {}
        self._newest_ms: int | None = None

    def poll(self) -> list[LogRecord]:
        late_ms = int(LATE_EVENTS.total_seconds() * 1000)
        start_ms = self._start_ms
        if self._newest_ms is not None:
            start_ms = max(start_ms, self._newest_ms - late_ms)
        fresh: list[dict[str, Any]] = []
        for event in filter_events(self._logs, self._group,
                                   start=datetime.fromtimestamp(start_ms / 1000.0, UTC),
                                   pattern=self._pattern):
            timestamp = int(event["timestamp"])
            key = str(event.get("eventId") or f"{timestamp}:{event.get('message')}")
            if key in self._seen:
                continue
            self._seen[key] = timestamp
            self._newest_ms = max(self._newest_ms or timestamp, timestamp)
            fresh.append(event)
        if self._newest_ms is not None:
            # Forget what can no longer come back in a poll's window.
            horizon = self._newest_ms - late_ms
            self._seen = {k: t for k, t in self._seen.items() if t >= horizon}
        return [event_record(e, self._group)
                for e in sorted(fresh, key=lambda e: int(e["timestamp"]))]
