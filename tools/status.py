"""`crudops status`: queues and DLQs, alarm states and function errors of one stack.

Two targets. `--stack NAME`: a deployed stack, whose resources CloudFormation lists
(`list_stack_resources`). `--local`: the running local stack, whose resources and AWS
endpoint `crudops local up` writes to its state file (tools/stacks.py reads it).

What it can and cannot know:
- Queue depth comes from `get_queue_attributes` (visible, in flight, delayed). It
  never receives a message: a receive would raise the message's receive count and
  bring it closer to its DLQ.
- SQS has no attribute for the oldest message's age. Deployed, it is CloudWatch's
  `ApproximateAgeOfOldestMessage` (latest maximum in the window). Locally it is the
  same metric when the local stack publishes metrics (its state file says
  `"metrics": true`; an approximation, see crudops_local/cloudwatch/metrics.py),
  else `n/a`: the emulator publishes no SQS metrics, and computing it would need a
  receive.
- Function errors are CloudWatch's `AWS/Lambda` `Errors` sum over the window;
  locally the runner's count, under the same condition. Failed records are the
  functions' own `FailedRecords` metric (records reported as failed in a partial
  batch response, which `Errors` never counts), by the function's short name.
- A DLQ is a queue that another queue's RedrivePolicy, or an SNS subscription's,
  names as its dead-letter target.

Exit codes (for scripts): 0 all clear, 1 a DLQ holds messages or an alarm is in
ALARM, 2 a user error (unknown stack, no local stack, no credentials).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from crudops_local.errors import ConfigurationError
from functions.contracts.metrics import (
    DEFAULT_NAMESPACE,
    FAILED_RECORDS_METRIC,
    FUNCTION_DIMENSION,
)
from tools.aws_errors import aws_errors_as_user_errors
from tools.errors import UserError
from tools.stacks import (
    FUNCTION_TYPE,
    QUEUE_TYPE,
    STATE_FILE,
    SUBSCRIPTION_TYPE,
    ClientFactory,
    Resource,
    StackTarget,
    dead_letter_sources,
    function_short_name,
    queue_name,
    resolve_stack_target,
    resources_of_type,
)

_DEPTH_ATTRIBUTES: Final = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)
NO_LOCAL_METRICS: Final = "n/a: the local stack publishes no CloudWatch metrics"


@dataclass(frozen=True)
class QueueStatus:
    logical_id: str
    name: str
    url: str
    is_dlq: bool
    visible: int
    in_flight: int
    delayed: int
    oldest_age_seconds: float | None
    # Why `oldest_age_seconds` is None, for the reader of the table.
    age_note: str = ""

    @property
    def total(self) -> int:
        return self.visible + self.in_flight + self.delayed

    @property
    def short_name(self) -> str:
        """What `crudops dlq` and the runbooks call it (tools/dlq/addressing.py)."""
        from tools.dlq.addressing import queue_short_name

        return queue_short_name(self.logical_id)


@dataclass(frozen=True)
class AlarmStatus:
    name: str
    state: str
    reason: str


@dataclass(frozen=True)
class FunctionStatus:
    logical_id: str
    name: str
    errors: float | None
    errors_note: str = ""
    # Records reported as failed (partial batch failures); None without metrics.
    failed_records: float | None = None
    short_name: str = ""

    @property
    def failing(self) -> bool:
        return bool(self.errors or self.failed_records)


@dataclass(frozen=True)
class StatusReport:
    target: str
    minutes: int
    queues: list[QueueStatus] = field(default_factory=list)
    alarms: list[AlarmStatus] = field(default_factory=list)
    functions: list[FunctionStatus] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """One line per reason to exit 1: a non-empty DLQ or an alarm in ALARM."""
        found = [f"DLQ {q.name} holds {q.total} message(s)"
                 for q in self.queues if q.is_dlq and q.total]
        found += [f"alarm {a.name} is in ALARM" for a in self.alarms if a.state == "ALARM"]
        return found

    @property
    def exit_code(self) -> int:
        return 1 if self.problems else 0

    def as_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "minutes": self.minutes,
            "queues": [{**asdict(q), "total": q.total, "short_name": q.short_name}
                       for q in self.queues],
            "alarms": [asdict(a) for a in self.alarms],
            "functions": [{**asdict(f), "failing": f.failing} for f in self.functions],
            "problems": self.problems,
        }


def _latest_maximum(cloudwatch: Any, *, namespace: str, metric: str, dimension: str,
                    value: str, start: datetime, end: datetime) -> float | None:
    datapoints = cloudwatch.get_metric_statistics(
        Namespace=namespace, MetricName=metric,
        Dimensions=[{"Name": dimension, "Value": value}],
        StartTime=start, EndTime=end, Period=60, Statistics=["Maximum"],
    )["Datapoints"]
    if not datapoints:
        return None
    return float(max(datapoints, key=lambda d: d["Timestamp"])["Maximum"])


def _sum(cloudwatch: Any, *, namespace: str, metric: str, dimension: str, value: str,
         start: datetime, end: datetime) -> float:
    datapoints = cloudwatch.get_metric_statistics(
        Namespace=namespace, MetricName=metric,
        Dimensions=[{"Name": dimension, "Value": value}],
        StartTime=start, EndTime=end, Period=60, Statistics=["Sum"],
    )["Datapoints"]
    return float(sum(d["Sum"] for d in datapoints))


def queue_statuses(
    clients: ClientFactory, resources: list[Resource], *, metrics: bool, start: datetime,
    end: datetime,
) -> list[QueueStatus]:
    """Depth of every queue; DLQs after the queues they serve, then by logical id."""
    sqs = clients("sqs")
    queues = resources_of_type(resources, QUEUE_TYPE)
    attributes = {
        queue.physical_id: sqs.get_queue_attributes(
            QueueUrl=queue.physical_id, AttributeNames=["All"])["Attributes"]
        for queue in queues
    }
    dlq_arns = dead_letter_sources(clients("sns"), attributes,
                                   resources_of_type(resources, SUBSCRIPTION_TYPE))
    cloudwatch = clients("cloudwatch") if metrics else None
    statuses = []
    for queue in queues:
        queue_attributes = attributes[queue.physical_id]
        name = queue_name(queue.physical_id)
        age: float | None = None
        note = NO_LOCAL_METRICS
        if cloudwatch is not None:
            age = _latest_maximum(cloudwatch, namespace="AWS/SQS",
                                  metric="ApproximateAgeOfOldestMessage",
                                  dimension="QueueName", value=name, start=start, end=end)
            note = "" if age is not None else "no datapoint in the window"
        visible, in_flight, delayed = (int(queue_attributes.get(a, 0))
                                       for a in _DEPTH_ATTRIBUTES)
        statuses.append(QueueStatus(
            logical_id=queue.logical_id, name=name, url=queue.physical_id,
            is_dlq=queue_attributes.get("QueueArn") in dlq_arns,
            visible=visible, in_flight=in_flight, delayed=delayed,
            oldest_age_seconds=age, age_note=note,
        ))
    return sorted(statuses, key=lambda q: (q.is_dlq, q.logical_id))


def stack_alarm_prefix(target: StackTarget) -> str:
    """What every alarm name of the stack starts with: its CloudFormation name and a
    dash (infra/names.py); for the local stack, the name its run resolved."""
    name = target.described.stack if target.described is not None else target.name
    return f"{name}-"


def alarm_statuses(cloudwatch: Any, prefix: str) -> list[AlarmStatus]:
    alarms = []
    for page in cloudwatch.get_paginator("describe_alarms").paginate(
        AlarmNamePrefix=prefix, AlarmTypes=["MetricAlarm", "CompositeAlarm"]
    ):
        for alarm in (*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])):
            alarms.append(AlarmStatus(alarm["AlarmName"], alarm["StateValue"],
                                      alarm.get("StateReason", "")))
    # ALARM first: what the reader came for.
    return sorted(alarms, key=lambda a: (a.state != "ALARM", a.name))


def failed_records(cloudwatch: Any, function: str, *, start: datetime, end: datetime,
                   namespace: str = DEFAULT_NAMESPACE) -> float:
    """Sum of `FailedRecords` of one function (short name) over the window, whatever
    its `service` dimension (the stack's `service_name` setting) is."""
    listed = cloudwatch.get_paginator("list_metrics").paginate(
        Namespace=namespace, MetricName=FAILED_RECORDS_METRIC,
        Dimensions=[{"Name": FUNCTION_DIMENSION, "Value": function}])
    total = 0.0
    seen: set[frozenset[tuple[str, str]]] = set()
    for page in listed:
        for metric in page["Metrics"]:
            # moto lists a metric once per datum put (AWS once): count each only once.
            dimensions = frozenset((d["Name"], d["Value"]) for d in metric["Dimensions"])
            if dimensions in seen:
                continue
            seen.add(dimensions)
            datapoints = cloudwatch.get_metric_statistics(
                Namespace=namespace, MetricName=FAILED_RECORDS_METRIC,
                Dimensions=metric["Dimensions"], StartTime=start, EndTime=end, Period=60,
                Statistics=["Sum"])["Datapoints"]
            total += sum(float(d["Sum"]) for d in datapoints)
    return total


def function_statuses(
    clients: ClientFactory, resources: list[Resource], *, metrics: bool, start: datetime,
    end: datetime,
) -> list[FunctionStatus]:
    cloudwatch = clients("cloudwatch") if metrics else None
    statuses = []
    for function in resources_of_type(resources, FUNCTION_TYPE):
        short_name = function_short_name(function.logical_id)
        if cloudwatch is None:
            statuses.append(FunctionStatus(function.logical_id, function.physical_id, None,
                                           NO_LOCAL_METRICS, short_name=short_name))
            continue
        errors = _sum(cloudwatch, namespace="AWS/Lambda", metric="Errors",
                      dimension="FunctionName", value=function.physical_id,
                      start=start, end=end)
        statuses.append(FunctionStatus(
            function.logical_id, function.physical_id, errors,
            failed_records=failed_records(cloudwatch, short_name, start=start, end=end),
            short_name=short_name))
    return statuses


def do_status(
    *,
    stack: str | None = None,
    local: bool = False,
    local_state_file: Path = STATE_FILE,
    minutes: int = 15,
    alarm_prefix: str | None = None,
    region: str | None = None,
    clients: ClientFactory | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> StatusReport:
    """The status of a deployed stack (`stack`) or of the local stack (`local`).

    Alarms are those whose names start with `alarm_prefix`, by default the stack's
    name and a dash. `clients` replaces the boto3 clients (tests). Raises `UserError` for a wrong
    combination of options, an unknown stack, a missing local stack, missing
    credentials or an endpoint that does not answer.
    """
    target = resolve_stack_target(stack=stack, local=local, local_state_file=local_state_file,
                                  region=region, clients=clients, command="status")
    if not 1 <= minutes <= 24 * 60:
        raise UserError(f"--minutes {minutes} is not in 1..1440",
                        hint="CloudWatch keeps 1-minute datapoints for 15 days")
    end = now()
    start = end - timedelta(minutes=minutes)
    clients = target.clients
    with aws_errors_as_user_errors(local=local):
        resources = target.resources()
        return StatusReport(
            target=target.name,
            minutes=minutes,
            queues=queue_statuses(clients, resources, metrics=target.metrics, start=start,
                                  end=end),
            # A local run in a real account has no alarms of its own: those there are
            # the deployed stack's.
            alarms=alarm_statuses(clients("cloudwatch"),
                                  alarm_prefix or stack_alarm_prefix(target))
            if target.alarms else [],
            functions=function_statuses(clients, resources, metrics=target.metrics,
                                        start=start, end=end),
        )


# --- output ----------------------------------------------------------------
def _age(queue: QueueStatus) -> str:
    if queue.oldest_age_seconds is None:
        return queue.age_note.split(":")[0] if queue.age_note else "n/a"
    return f"{queue.oldest_age_seconds:.0f} s"


def _count(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"


def render_report(report: StatusReport, *, problems_only: bool = False) -> Any:
    """The report as rich tables and a verdict line (one renderable, so `--watch` can
    redraw it in place). `problems_only` keeps the rows worth a look: DLQs holding
    messages, alarms in ALARM, functions with errors or failed records."""
    from rich.console import Group
    from rich.table import Column, Table

    def name(header: str) -> Column:
        # Names are what an operator copies into the next command: fold, never cut.
        return Column(header, overflow="fold", min_width=24)

    parts: list[Any] = [f"[bold]{report.target}[/bold], last {report.minutes} min"]
    shown_queues = [q for q in report.queues if not problems_only or (q.is_dlq and q.total)]
    if shown_queues:
        # The short name is what the next command takes: never folded.
        queues = Table(name("queue"), Column("short name", no_wrap=True), "kind",
                       "visible", "in flight", "delayed", "oldest age")
        for q in shown_queues:
            style = "red" if q.is_dlq and q.total else None
            queues.add_row(q.name, q.short_name, "DLQ" if q.is_dlq else "queue",
                           str(q.visible), str(q.in_flight), str(q.delayed), _age(q), style=style)
        parts.append(queues)
        if any(q.oldest_age_seconds is None and q.age_note for q in shown_queues):
            parts.append(f"oldest age {next(q.age_note for q in shown_queues if q.age_note)}")
    shown_alarms = [a for a in report.alarms if not problems_only or a.state == "ALARM"]
    if shown_alarms:
        alarms = Table(name("alarm"), "state", "reason")
        for a in shown_alarms:
            alarms.add_row(a.name, a.state, a.reason,
                           style="red" if a.state == "ALARM" else None)
        parts.append(alarms)
    elif not report.alarms:
        parts.append("no alarms with this prefix")
    shown_functions = [f for f in report.functions if not problems_only or f.failing]
    if shown_functions:
        functions = Table(name("function"), "short name", f"errors ({report.minutes} min)",
                          f"failed records ({report.minutes} min)")
        for f in shown_functions:
            functions.add_row(f.name, f.short_name, _count(f.errors),
                              _count(f.failed_records), style="red" if f.failing else None)
        parts.append(functions)
    for problem in report.problems:
        parts.append(f"[red]PROBLEM[/red] {problem}")
    if not report.problems:
        parts.append("[green]OK[/green] no DLQ holds messages and no alarm is in ALARM")
    return Group(*parts)


def print_report(report: StatusReport, console: Any = None, *,
                 problems_only: bool = False) -> None:
    from rich.console import Console

    (console or Console()).print(render_report(report, problems_only=problems_only))


def watch_reports(fetch: Callable[[], StatusReport], *, interval_seconds: float,
                  show: Callable[[StatusReport, str], None],
                  wait: Callable[[float], bool]) -> int:
    """`status --watch`: fetch and show a report every `interval_seconds` until `wait`
    returns True (stop asked) or Ctrl-C; returns the last report's exit code.

    The first fetch's errors are the caller's (a wrong target is a user error); later
    ones are shown with the last good report and retried, since an endpoint that
    blips while an incident is watched should not end the watch.
    """
    report = fetch()
    note = ""
    try:
        while True:
            show(report, note)
            if wait(interval_seconds):
                break
            try:
                report, note = fetch(), ""
            except ConfigurationError as exc:  # a UserError, or no local stack any more
                note = f"refresh failed: {exc.one_line()}"
    except KeyboardInterrupt:
        pass
    return report.exit_code


def do_status_command(fetch: Callable[[], StatusReport], *, as_json: bool,
                      problems_only: bool, watch: bool, interval_seconds: float) -> int:
    """`crudops status`: one report (JSON or tables), or with `watch` a report every
    `interval_seconds` until Ctrl-C (one JSON line per refresh, or the tables redrawn
    in place with the time of the refresh). Returns the (last) report's exit code."""
    import threading

    import typer

    from tools.options import emit_report

    if not watch:
        return emit_report(fetch(), as_json,
                           lambda report: print_report(report, problems_only=problems_only))
    if not 1 <= interval_seconds <= 3600:
        raise UserError(f"--interval {interval_seconds:g} is not in 1..3600")
    stopped = threading.Event()
    if as_json:
        def show(report: StatusReport, note: str) -> None:
            typer.echo(json.dumps({**report.as_json(), "note": note}, default=str))

        return watch_reports(fetch, interval_seconds=interval_seconds, show=show,
                             wait=stopped.wait)
    from rich.console import Group
    from rich.live import Live

    with Live(auto_refresh=False) as live:
        def redraw(report: StatusReport, note: str) -> None:
            footer = (f"refreshed {datetime.now():%H:%M:%S}, every {interval_seconds:g} s; "
                      "Ctrl-C stops" + (f"\n[yellow]{note}[/yellow]" if note else ""))
            live.update(Group(render_report(report, problems_only=problems_only), footer),
                        refresh=True)

        return watch_reports(fetch, interval_seconds=interval_seconds, show=redraw,
                             wait=stopped.wait)
