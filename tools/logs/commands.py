"""`crudops logs FUNCTION`: one function's log records, from the local stack's log file
(`--local`) or the function's CloudWatch log group (`--stack NAME`).

Records are handed to `on_record` as they are read, oldest first. With `follow`, new
ones keep coming until `stop()` is true or the caller is interrupted (Ctrl-C reaches
the caller as `KeyboardInterrupt`). Exit codes: 0 records were shown (or it was
following), 1 none matched, 2 a user error.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from functions.contracts.command import REQUEST_ID_PATTERN
from tools.aws_errors import aws_errors_as_user_errors
from tools.errors import INTERRUPTED_EXIT_CODE, UserError
from tools.logs.cloudwatch import EventPoller, log_group_of, request_id_pattern
from tools.logs.local_files import LogFileFollower, log_file_of
from tools.logs.names import find_function
from tools.logs.records import LEVELS, LogRecord, RecordFilter, normal_level
from tools.stacks import STATE_FILE, ClientFactory, resolve_stack_target

DEFAULT_SINCE: Final = "10m"
# How often `--follow` looks for new records.
FOLLOW_INTERVAL_SECONDS: Final = 1.0
_DURATION: Final = re.compile(r"^(?P<amount>\d+)\s*(?P<unit>[smhdw])$")
_UNITS: Final = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True)
class LogsReport:
    function: str
    target: str
    # The log file or log group read.
    source: str
    shown: int
    following: bool = False

    @property
    def exit_code(self) -> int:
        return 0 if self.shown or self.following else 1


def parse_since(text: str, now: datetime) -> datetime:
    """`10m`, `2h`, `1d` ago, or an ISO 8601 time (UTC unless it says otherwise)."""
    duration = _DURATION.match(text.strip())
    if duration:
        return now - timedelta(**{_UNITS[duration["unit"]]: int(duration["amount"])})
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UserError(f"--since {text!r} is neither a duration nor an ISO time",
                        hint="e.g. --since 10m, 2h, 1d or 2026-12-01T09:30") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def record_filter(*, since: str, level: str | None, request_id: str | None,
                  now: datetime) -> RecordFilter:
    """The options as a filter; a `UserError` for one that makes no sense."""
    chosen_level = None
    if level is not None:
        chosen_level = normal_level(level)
        if chosen_level not in LEVELS:
            raise UserError(f"--level {level!r} is not a level",
                            hint=f"one of {', '.join(LEVELS)}")
    if request_id is not None and not REQUEST_ID_PATTERN.match(request_id):
        raise UserError(f"{request_id!r} is not a request id",
                        hint="the requestId of a 202 answer, or an SQS message id")
    return RecordFilter(since=parse_since(since, now), level=chosen_level,
                        request_id=request_id)


def do_logs(
    function: str,
    *,
    on_record: Callable[[LogRecord], None],
    stack: str | None = None,
    local: bool = False,
    local_state_file: Path = STATE_FILE,
    region: str | None = None,
    since: str = DEFAULT_SINCE,
    level: str | None = None,
    request_id: str | None = None,
    follow: bool = False,
    on_source: Callable[[str], None] = lambda source: None,
    stop: Callable[[], bool] = lambda: False,
    interval: float = FOLLOW_INTERVAL_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    clients: ClientFactory | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> LogsReport:
    """Hand each record of `function` that passes the filters to `on_record`, and
    `on_source` the file or group they come from before the first.

    Raises `UserError` for a wrong combination of options, an unknown function (the
    message lists the names), no running local stack or an unreachable endpoint."""
    target = resolve_stack_target(stack=stack, local=local, local_state_file=local_state_file,
                                  region=region, clients=clients, command="logs create")
    chosen = record_filter(since=since, level=level, request_id=request_id, now=now())
    shown = 0

    def show(records: list[LogRecord]) -> None:
        nonlocal shown
        for record in records:
            if chosen.matches(record):
                shown += 1
                on_record(record)

    with aws_errors_as_user_errors(local=local):
        resources = target.resources()
        name, resource = find_function(resources, function)
        if target.described is not None:
            path = log_file_of(target.described.log_dir, resource.physical_id)
            source = str(path)
            on_source(source)
            follower = LogFileFollower(path, now=now)
            try:
                show(follower.read_existing())
                while follow and not stop():
                    sleep(interval)
                    show(follower.read_new())
                # A last line without its newline, shown once nothing will follow it.
                show(follower.read_unfinished())
            finally:
                follower.close()
        else:
            source = log_group_of(resource, resources, target.clients("lambda"))
            on_source(source)
            assert chosen.since is not None
            poller = EventPoller(target.clients("logs"), source, start=chosen.since,
                                 pattern=request_id_pattern(chosen.request_id))
            show(poller.poll())
            while follow and not stop():
                sleep(interval)
                show(poller.poll())
    return LogsReport(name, target.name, source, shown, following=follow)



def print_logs(function: str, *, stack: str | None, local: bool, region: str | None,
               since: str, level: str | None, request_id: str | None, follow: bool,
               as_json: bool) -> int:
    """`crudops logs`: each record as a JSON line or formatted lines on stdout, where
    they come from on stderr. Returns the exit code: 0 records shown (or it followed
    until Ctrl-C), 1 none matched, 130 a one-off read interrupted."""
    import typer

    from tools.logs.format import format_record, record_json

    def show(record: LogRecord) -> None:
        for line in [record_json(record)] if as_json else format_record(record):
            typer.echo(line)

    def started(source: str) -> None:
        typer.echo(f"{'following' if follow else 'reading'} {source}"
                   + ("; Ctrl-C stops" if follow else ""), err=True)

    try:
        report = do_logs(function, on_record=show, on_source=started, stack=stack,
                         local=local, region=region, since=since, level=level,
                         request_id=request_id, follow=follow)
    except KeyboardInterrupt:
        # Ctrl-C is how --follow ends; a one-off read it interrupts.
        typer.echo("stopped following" if follow else "interrupted", err=True)
        return 0 if follow else INTERRUPTED_EXIT_CODE
    if not report.shown:
        typer.echo(f"no records matched in {report.source}", err=True)
    return report.exit_code
