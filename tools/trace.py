"""`crudops trace REQUEST_ID`: what happened to one request, from its id.

Three sources, for a deployed stack (`--stack NAME`) and the local stack (`--local`)
alike:
- the stored outcome (the outcomes table, key `requestId`);
- the X-Ray traces whose segments carry the annotation `requestId` (the workers and
  Notify put it on each record's subsegment), every segment and subsegment in start
  order with its timing, plus the time each message waited in its queue (from the
  `SendMessage` that queued it to the consumer's invocation). Deployed, traces are
  found with `GetTraceSummaries` and the filter `annotation.requestId = "…"`; locally
  from the local X-Ray daemon's index (the emulator cannot filter traces);
- the log records that name the request id (Powertools' `correlation_id`): deployed,
  `FilterLogEvents` on the stack's log groups; locally, the function log files; read
  and shown as `crudops logs` reads and shows them (tools/logs/), in time order.

Exit codes: 0 something was found, 1 nothing was, 2 a user error.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from crudops_local.xray.index import read_index
from functions.contracts.command import REQUEST_ID_PATTERN
from functions.contracts.tables import OUTCOMES_KEY
from tools.aws_errors import aws_errors_as_user_errors
from tools.errors import UserError
from tools.logs.cloudwatch import LOG_GROUP_TYPE, log_group_of, read_events, request_id_pattern
from tools.logs.format import format_record
from tools.logs.local_files import log_file_of, read_log_file
from tools.logs.names import function_names
from tools.logs.records import LogRecord, RecordFilter
from tools.stacks import (
    OUTCOMES_TABLE,
    STATE_FILE,
    TABLE_TYPE,
    ClientFactory,
    Resource,
    deployed_stack_clients,
    read_local_stack,
    require_one_stack,
    resources_of_type,
    stack_resources,
)

# The most recent records shown; `crudops logs FUNCTION --request-id` shows them all.
MAX_LOG_RECORDS: Final = 200
# BatchGetTraces takes at most 5 trace ids per call.
TRACES_PER_CALL: Final = 5


@dataclass(frozen=True)
class Span:
    """One segment, subsegment or queue wait of a trace."""

    name: str
    kind: str
    trace_id: str
    id: str
    parent_id: str | None
    start: float
    end: float | None
    annotations: dict[str, Any] = field(default_factory=dict)
    failed: bool = False
    operation: str = ""

    @property
    def duration_ms(self) -> float | None:
        return None if self.end is None else (self.end - self.start) * 1000.0


@dataclass(frozen=True)
class TraceReport:
    request_id: str
    target: str
    outcome: dict[str, Any] | None
    trace_ids: list[str]
    spans: list[Span]
    logs: list[LogRecord]
    notes: list[str] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return bool(self.outcome or self.spans or self.logs)

    @property
    def exit_code(self) -> int:
        return 0 if self.found else 1

    def as_json(self) -> dict[str, Any]:
        return {
            "requestId": self.request_id, "target": self.target, "found": self.found,
            "outcome": self.outcome, "traceIds": self.trace_ids,
            "spans": [{**asdict(s), "duration_ms": s.duration_ms} for s in self.spans],
            "logs": [record.as_json() for record in self.logs], "notes": self.notes,
        }


# --- segments ---------------------------------------------------------------------------
def flatten(document: dict[str, Any], trace_id: str | None = None,
            parent_id: str | None = None) -> Iterator[Span]:
    """A segment document and the subsegments nested in it, as spans."""
    trace = str(document.get("trace_id") or trace_id or "")
    kind = str(document.get("origin") or document.get("namespace")
               or document.get("type") or "segment")
    yield Span(
        name=str(document.get("name", "?")), kind=kind, trace_id=trace,
        id=str(document.get("id", "")),
        parent_id=document.get("parent_id") or parent_id,
        start=float(document.get("start_time", 0.0)),
        end=float(document["end_time"]) if "end_time" in document else None,
        annotations=dict(document.get("annotations") or {}),
        failed=bool(document.get("fault") or document.get("error")),
        operation=str((document.get("aws") or {}).get("operation", "")),
    )
    for child in document.get("subsegments") or ():
        if isinstance(child, dict):
            yield from flatten(child, trace, str(document.get("id", "")))


def with_queue_waits(spans: list[Span]) -> list[Span]:
    """Spans in start order, with a `queue wait` before each function invoked after a
    `SendMessage` of the same trace (the message's time in the queue).

    The consumer can start before the sender has seen SendMessage's answer (a poller
    already waiting on the queue, a sender descheduled on a busy machine): the wait is
    then zero long, never negative, and still shown, so the link stays visible. A
    wait starts when its message was sent, so the result is sorted again: rows in
    time order, a wait before the invocation it ends when both start together."""
    ordered = sorted({s.id: s for s in spans}.values(), key=lambda s: s.start)
    sends = [s for s in ordered if s.operation == "SendMessage" and s.end is not None]
    result: list[Span] = []
    for span in ordered:
        if span.kind == "AWS::Lambda::Function":
            before = [s for s in sends if s.trace_id == span.trace_id
                      and s.start <= span.start]
            if before:
                sent = max(before, key=lambda s: s.start)
                waited_from = min(sent.end or span.start, span.start)
                result.append(Span("queue wait", "queue wait", span.trace_id,
                                   f"wait-{span.id}", sent.id, waited_from, span.start))
        result.append(span)
    return sorted(result, key=lambda s: s.start)


def _batch_get(xray: Any, trace_ids: list[str]) -> Iterator[dict[str, Any]]:
    for start in range(0, len(trace_ids), TRACES_PER_CALL):
        response = xray.batch_get_traces(TraceIds=trace_ids[start:start + TRACES_PER_CALL])
        for trace in response.get("Traces", []):
            for segment in trace.get("Segments", []):
                try:
                    yield json.loads(segment["Document"])
                except (ValueError, KeyError, TypeError):
                    continue


def deployed_trace_ids(xray: Any, request_id: str, start: datetime, end: datetime) -> list[str]:
    found: list[str] = []
    paginator = xray.get_paginator("get_trace_summaries")
    for page in paginator.paginate(StartTime=start, EndTime=end,
                                   FilterExpression=f'annotation.requestId = "{request_id}"'):
        for summary in page.get("TraceSummaries", []):
            if summary["Id"] not in found:
                found.append(summary["Id"])
    return found


def local_trace_ids(index: Path, request_id: str) -> list[str]:
    """From the local X-Ray daemon's index (crudops_local/xray/index.py)."""
    return read_index(index, request_id)


def spans_of(xray: Any, trace_ids: list[str]) -> list[Span]:
    spans = [span for document in _batch_get(xray, trace_ids) for span in flatten(document)]
    return with_queue_waits(spans)


# --- logs and outcome ---------------------------------------------------------------------
def _latest(records: list[LogRecord]) -> list[LogRecord]:
    ordered = sorted(records, key=lambda r: r.time or datetime.min.replace(tzinfo=UTC))
    return ordered[-MAX_LOG_RECORDS:]


def local_log_records(log_dir: Path, resources: list[Resource],
                      chosen: RecordFilter) -> list[LogRecord]:
    """The records of every function log file that pass `chosen`, labelled with the
    function's short name, in time order."""
    names = {log_file_of(log_dir, f.physical_id).name: name
             for name, f in function_names(resources).items()}
    records = [replace(r, source=names.get(path.name, path.name))
               for path in (sorted(log_dir.glob("*.log")) if log_dir.is_dir() else ())
               for r in read_log_file(path) if chosen.matches(r)]
    return _latest(records)


def deployed_log_records(logs: Any, lambda_client: Any, resources: list[Resource],
                         chosen: RecordFilter) -> list[LogRecord]:
    """The records that pass `chosen` in every log group of the stack (each function's,
    the APIs' access logs), labelled with the function's short name, in time order."""
    assert chosen.since is not None
    labels = {log_group_of(f, resources, lambda_client): name
              for name, f in function_names(resources).items()}
    groups = sorted({*labels, *(r.physical_id for r in resources
                                if r.type == LOG_GROUP_TYPE and r.physical_id)})
    records = [replace(r, source=labels.get(group, group))
               for group in groups
               for r in read_events(logs, group, start=chosen.since,
                                    pattern=request_id_pattern(chosen.request_id))
               if chosen.matches(r)]
    return _latest(records)


def stored_outcome(dynamodb: Any, resources: list[Resource],
                   request_id: str) -> dict[str, Any] | None:
    tables = [r for r in resources_of_type(resources, TABLE_TYPE)
              if r.logical_id.startswith(OUTCOMES_TABLE)]
    for table in tables:
        # The outcome is keyed (requestId, owner) and an operator knows no owner: a
        # Query of the request's partition (one row: the API issues each id once).
        rows = dynamodb.query(TableName=table.physical_id,
                              KeyConditionExpression=f"{OUTCOMES_KEY.partition} = :r",
                              ExpressionAttributeValues={":r": {"S": request_id}},
                              ConsistentRead=True).get("Items", [])
        for row in rows:
            if "document" in row:
                document: dict[str, Any] = json.loads(row["document"]["S"])
                return document
    return None


# --- the command ----------------------------------------------------------------------------
def do_trace(
    request_id: str,
    *,
    stack: str | None = None,
    local: bool = False,
    local_state_file: Path = STATE_FILE,
    hours: int = 24,
    region: str | None = None,
    clients: ClientFactory | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> TraceReport:
    require_one_stack(stack=stack, local=local, command="trace",
                      hint="crudops trace REQUEST_ID --local")
    if not REQUEST_ID_PATTERN.match(request_id):
        raise UserError(f"{request_id!r} is not a request id",
                        hint="the requestId of a 202 answer, e.g. 0b6c…-…")
    if not 1 <= hours <= 24 * 30:
        raise UserError(f"--hours {hours} is not in 1..720",
                        hint="X-Ray keeps traces for 30 days")
    end = now()
    start = end - timedelta(hours=hours)
    notes: list[str] = []
    chosen = RecordFilter(since=start, request_id=request_id)
    if local:
        described = read_local_stack(local_state_file)
        index = described.trace_index_path
        target = described.target
        clients = clients or described.clients()
        resources = described.resources
    else:
        assert stack is not None
        target = stack
        clients = clients or deployed_stack_clients(region)
    with aws_errors_as_user_errors(local=local):
        if not local:
            resources = stack_resources(clients("cloudformation"), str(stack))
        outcome = stored_outcome(clients("dynamodb"), resources, request_id)
        if local:
            trace_ids = local_trace_ids(index, request_id)
            if not index.is_file():
                notes.append(f"no trace index at {index}: was the stack started with tracing?")
            logs = local_log_records(described.log_dir, resources, chosen)
        else:
            trace_ids = deployed_trace_ids(clients("xray"), request_id, start, end)
            logs = deployed_log_records(clients("logs"), clients("lambda"), resources, chosen)
        spans = spans_of(clients("xray"), trace_ids) if trace_ids else []
    if trace_ids and not spans:
        notes.append("the traces are indexed but not (yet) readable; try again in a minute")
    return TraceReport(request_id, target, outcome, trace_ids, spans, logs, notes)


# --- output -----------------------------------------------------------------------------------
def print_report(report: TraceReport, console: Any = None) -> None:
    from rich.console import Console
    from rich.table import Column, Table

    console = console or Console()
    console.print(f"[bold]{report.request_id}[/bold] on {report.target}")
    if report.outcome is None:
        console.print("outcome: none stored")
    else:
        error = report.outcome.get("error") or {}
        console.print(f"outcome: {report.outcome.get('status')} "
                      f"{report.outcome.get('operation', '')} {error.get('code', '')}".rstrip())
    if report.spans:
        origin = min(s.start for s in report.spans)
        # Rows in start order (as `with_queue_waits` sorts them); names folded, not cut.
        table = Table("start (ms)", "duration (ms)", Column("segment", overflow="fold"),
                      Column("kind", overflow="fold"), Column("annotations", overflow="fold"),
                      title=f"traces {', '.join(report.trace_ids)}")
        for span in report.spans:
            duration = "" if span.duration_ms is None else f"{span.duration_ms:.1f}"
            annotations = ", ".join(f"{k}={v}" for k, v in span.annotations.items()
                                    if k in ("requestId", "operation"))
            table.add_row(f"{(span.start - origin) * 1000:.1f}", duration,
                          span.name + (f" {span.operation}" if span.operation else ""),
                          span.kind, annotations, style="red" if span.failed else None)
        console.print(table)
    else:
        console.print("traces: none found")
    if report.logs:
        console.print(f"log records ({len(report.logs)}, oldest first):")
        for record in report.logs:
            for line in format_record(record, with_source=True):
                # Whole and unbroken: the terminal wraps it, a copy or a pipe gets
                # the line as written.
                console.print(line, markup=False, highlight=False, soft_wrap=True)
    else:
        console.print("log records: none found")
    for note in report.notes:
        console.print(f"note: {note}")
    if not report.found:
        console.print("[red]NOT FOUND[/red] no outcome, trace or log line for this id")
