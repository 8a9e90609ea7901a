"""What the `crudops dlq` commands print: the tables and lines for a person, JSON for a
script, and the redrive's progress bar on stderr. The logic is tools/dlq/commands.py.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import typer

from tools.dlq.commands import Where, do_dlq_redrive
from tools.dlq.delete import DeleteReport, PurgeReport, do_dlq_purge
from tools.dlq.discovery import DeadLetterQueue
from tools.dlq.export import ExportReport, do_dlq_export
from tools.dlq.native import CancelReport, MoveTask, NativeMoveStarted
from tools.dlq.progress import progress_bar
from tools.dlq.record import DumpedMessage
from tools.dlq.redrive import RedriveReport
from tools.dlq.replay import ReplayReport, do_dlq_replay, line_ranges
from tools.dlq.show import ShowReport


def print_dlq_list(queues: Sequence[DeadLetterQueue], as_json: bool) -> int:
    """One line per DLQ (or a JSON list); 1 when any holds messages, like `status`."""
    if as_json:
        typer.echo(json.dumps([q.as_json() for q in queues]))
    else:
        for q in queues:
            typer.echo(f"{q.logical_id:<40} {q.visible:>6} visible {q.in_flight:>4} in flight"
                       f"   from {q.source}")
    return 1 if any(q.visible or q.in_flight for q in queues) else 0


def print_dlq_show(report: ShowReport, as_json: bool) -> None:
    """Each message as a JSON line (the export's record, tools/dlq/record.py, with the
    `failure` found), or its ids, its error and the start of its body; then, on
    stderr, how many were shown and what reading them did to their receive counts."""
    dlq, failures = report.dlq, report.failures
    for message in report.messages:
        failure = failures.found.get(message.message_id) if failures else None
        if as_json:
            typer.echo(json.dumps({**DumpedMessage.of(message, dlq.name).as_json(),
                                   "failure": failure.as_json() if failure else None}))
            continue
        typer.echo(f"{message.message_id}  requestId={message.request_id}  "
                   f"operation={message.operation}  receives="
                   f"{message.attributes.get('ApproximateReceiveCount', '?')}")
        if failure is not None:
            where = "its attributes" if failure.source == "attributes" else (
                f"{failure.source}'s log" + (f" at {failure.time}" if failure.time else ""))
            typer.echo(f"  error: {failure.code}: {failure.message} ({where})")
        elif failures is not None:
            typer.echo(f"  error: not found in {failures.where}")
        typer.echo(f"  {message.body[:300]}")
    if not as_json:
        typer.echo(f"{len(report.messages)} message(s) shown from {dlq.name}", err=True)
    if report.receives:
        again = report.receives - len(report.messages)
        typer.echo("note: reading raised each shown message's receive count by 1"
                   + (f", {again} more for those received again during the read"
                      if again else "")
                   + "; SQS has no peek, and a DLQ has no maxReceiveCount, so none moved",
                   err=True)


def do_dlq_redrive_with_progress(
    where: Where, queue: str, *, limit: int | None, request_ids: Collection[str] | None,
    to: str | None, as_json: bool,
) -> tuple[DeadLetterQueue, RedriveReport]:
    """`do_dlq_redrive` with a bar on stderr sized once the DLQ is known (the chosen
    requestIds, `--max`, or what it holds); hidden with `--json`."""
    bar: Any = None

    def start(dlq: DeadLetterQueue) -> None:
        nonlocal bar
        total = len(request_ids) if request_ids else (
            limit if limit is not None else dlq.visible)
        bar = typer.progressbar(length=max(total, 1), label=f"Redriving {dlq.name}",
                                file=sys.stderr, hidden=as_json)
        bar.__enter__()

    try:
        return do_dlq_redrive(where, queue, limit=limit, request_ids=request_ids,
                              on_start=start, to=to,
                              on_moved=lambda n: bar.update(n) if bar else None)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


def print_redrive(dlq: DeadLetterQueue, report: RedriveReport, as_json: bool) -> int:
    """What moved where, and on stderr each message left behind and why; 1 unless
    every chosen message moved."""
    if as_json:
        typer.echo(json.dumps({"queue": dlq.name, "to": dlq.redrive_url, **report.as_json()}))
    else:
        typer.echo(f"{len(report.moved)} message(s) moved from {dlq.name} to "
                   f"{dlq.redrive_url}" + (f"; {report.skipped} not chosen, left in place"
                                           if report.skipped else ""))
        for message_id, reason in {**report.failed, **report.not_deleted}.items():
            typer.echo(f"  {message_id}: {reason}", err=True)
        for missing in report.missing:
            typer.echo(f"  requestId {missing}: no message in {dlq.name} carries it "
                       "(or another reader held it hidden)", err=True)
        if report.remaining:
            typer.echo(f"warning: {dlq.name} still reports about {report.remaining} "
                       "message(s) (held by another reader, or arrived meanwhile): run "
                       "`crudops dlq list` and redrive again", err=True)
    return 0 if report.ok else 1


def do_dlq_export_with_progress(where: Where, queue: str, to: Path, *, as_json: bool,
                                **options: Any) -> ExportReport:
    """`do_dlq_export` with a bar sized by what the DLQ held when it began."""
    with progress_bar("Exporting", hidden=as_json) as bar:
        return do_dlq_export(where, queue, to, on_start=lambda dlq: bar.start(dlq.visible),
                             on_read=bar.advance, **options)


def print_dlq_export(report: ExportReport, as_json: bool) -> int:
    """What was written (and deleted); 1 when a requested id was not found or a
    written message could not be deleted."""
    if as_json:
        typer.echo(json.dumps(report.as_json()))
        return report.exit_code
    dlq = report.dlq
    typer.echo(f"{report.written} message(s) of {dlq.name} written to {report.path}"
               + (f", {len(report.deleted)} deleted from the DLQ" if report.delete_requested
                  else "") + (f"; {report.skipped} not chosen, left in place"
                              if report.skipped else ""))
    for message_id, reason in report.not_deleted.items():
        typer.echo(f"  {message_id}: written, but still in the DLQ: {reason}", err=True)
    for missing in report.missing:
        typer.echo(f"  requestId {missing}: no message in {dlq.name} carries it "
                   "(or another reader held it hidden)", err=True)
    if report.written + report.skipped < dlq.visible:
        # Another reader held some hidden, or a read longer than the visibility timeout.
        typer.echo(f"warning: the DLQ reported {dlq.visible} visible when the export "
                   f"began and {report.written + report.skipped} were read; run it again "
                   "to compare", err=True)
    return report.exit_code


def do_dlq_replay_with_progress(where: Where, file: Path, to: str, *, as_json: bool,
                                **options: Any) -> ReplayReport:
    with progress_bar("Replaying", hidden=as_json) as bar:
        return do_dlq_replay(where, file, to, on_start=bar.start, on_sent=bar.advance,
                             **options)


def print_dlq_replay(report: ReplayReport, as_json: bool) -> int:
    """What was (or would be) sent, by line; each line not sent and why on stderr,
    with the `--lines` that sends only those again. 1 when any line was not sent."""
    if as_json:
        typer.echo(json.dumps(report.as_json()))
        return report.exit_code
    if report.dry_run:
        operations = ", ".join(f"{n} {op}" for op, n in sorted(report.operations.items()))
        typer.echo(f"dry run: would send {len(report.chosen) - len(report.failed)} "
                   f"message(s) from {report.file} to {report.to}"
                   f"{' (FIFO)' if report.fifo else ''}"
                   + (f": {operations}" if operations else "") + "; nothing was sent")
    else:
        typer.echo(f"{len(report.sent)} message(s) from {report.file} sent to {report.to}"
                   + (f" (lines {line_ranges(report.sent)})" if report.sent else ""))
    for line, reason in sorted(report.failed.items()):
        typer.echo(f"  line {line}: {reason}", err=True)
    if report.failed and not report.dry_run:
        typer.echo(f"to send only those again, add --lines {line_ranges(sorted(report.failed))}",
                   err=True)
    return report.exit_code


def print_dlq_delete(report: DeleteReport, as_json: bool) -> int:
    """What was deleted and where its copy is; 1 when a named message was not found
    or could not be deleted."""
    if as_json:
        typer.echo(json.dumps(report.as_json()))
        return report.exit_code
    export = report.export
    if export.written:
        typer.echo(f"{len(export.deleted)} message(s) deleted from {export.dlq.name}; their "
                   f"copy: {export.path} (`crudops dlq replay {export.path} --to …` puts "
                   "them back)")
    else:
        typer.echo(f"nothing deleted from {export.dlq.name}")
    for message_id, reason in export.not_deleted.items():
        typer.echo(f"  {message_id}: copied, but still in the DLQ: {reason}", err=True)
    for message_id in report.missing:
        typer.echo(f"  {message_id}: not in {export.dlq.name} (gone already, or another "
                   "reader held it hidden): nothing deleted", err=True)
    return report.exit_code


def do_dlq_purge_with_progress(where: Where, queue: str, *, as_json: bool,
                               **options: Any) -> PurgeReport:
    with progress_bar("Copying", hidden=as_json) as bar:
        return do_dlq_purge(where, queue, on_start=lambda dlq: bar.start(dlq.visible),
                            on_read=bar.advance, **options)


def print_dlq_purge(report: PurgeReport, as_json: bool) -> int:
    """What was copied, and how many the DLQ reported beyond the copy (purged
    without one); 1 when that is more than none."""
    if as_json:
        typer.echo(json.dumps(report.as_json()))
    else:
        copy = (f"{report.exported} message(s) copied to {report.export.path} first"
                if report.export else "no copy kept (--no-export)")
        typer.echo(f"{report.dlq.name} purged; {copy}")
        if report.export and report.uncopied:
            typer.echo(f"warning: it reported {report.dlq.visible + report.dlq.in_flight} "
                       f"before: at least {report.uncopied} (held by another reader, or "
                       "arrived meanwhile) were purged without a copy", err=True)
    return 1 if report.export and report.uncopied else 0


def print_native_move(started: NativeMoveStarted, as_json: bool) -> None:
    """The task SQS accepted, and how to follow or stop it."""
    if as_json:
        typer.echo(json.dumps(started.as_json()))
        return
    rate = (f"at up to {started.max_per_second} message(s)/s" if started.max_per_second
            else "at SQS's own pace")
    typer.echo(f"SQS is moving {started.dlq.name} to "
               f"{started.destination_arn or 'the queues its messages came from'} {rate}")
    typer.echo(f"follow it with `crudops dlq tasks {started.dlq.name}`, stop it with "
               f"`crudops dlq cancel {started.dlq.name}`", err=True)


def print_dlq_tasks(dlq: DeadLetterQueue, tasks: Sequence[MoveTask], as_json: bool) -> int:
    """A table of the DLQ's last move tasks, newest first; 1 when one failed."""
    if as_json:
        typer.echo(json.dumps({"queue": dlq.name, "tasks": [t.as_json() for t in tasks]}))
    elif not tasks:
        typer.echo(f"no message move task from {dlq.name} (SQS keeps the last ten)")
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table("started", "status", "moved", "to move", "rate/s", "to", "why it failed",
                      title=f"message move tasks from {dlq.name}")
        for task in tasks:
            table.add_row(task.started.strftime("%Y-%m-%d %H:%M:%SZ") if task.started else "",
                          task.status, str(task.moved),
                          "" if task.to_move is None else str(task.to_move),
                          str(task.max_per_second or "SQS's pace"),
                          task.destination_arn or "their source queues",
                          task.failure_reason or "")
        Console(width=200).print(table)
    return 1 if any(t.status == "FAILED" for t in tasks) else 0


def print_dlq_cancel(report: CancelReport, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(report.as_json()))
        return
    typer.echo(f"cancelled the move task from {report.dlq.name} after about {report.moved} "
               "message(s) moved; the rest stay in the DLQ")
