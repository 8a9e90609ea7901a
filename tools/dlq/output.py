"""What the `crudops dlq` commands print: the tables and lines for a person, JSON for a
script, and the redrive's progress on stderr. The logic is tools/dlq/commands.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from tools.dlq.commands import Where
from tools.dlq.delete import DeleteReport, PurgeReport, do_dlq_purge
from tools.dlq.discovery import DeadLetterQueue
from tools.dlq.export import ExportReport, do_dlq_export
from tools.dlq.native import CancelReport, MoveTask, NativeMoveStarted
from tools.dlq.preview import Preview
from tools.dlq.progress import progress_bar
from tools.dlq.record import DumpedMessage
from tools.dlq.redrive import Progress, RedrivePlan, RedriveReport
from tools.dlq.replay import ReplayReport, do_dlq_replay, line_ranges
from tools.dlq.show import ShowReport
from tools.stacks import queue_name


def print_dlq_list(queues: Sequence[DeadLetterQueue], as_json: bool) -> int:
    """One line per DLQ (or a JSON list); 1 when any holds messages, like `status`."""
    if as_json:
        typer.echo(json.dumps([q.as_json() for q in queues]))
    else:
        for q in queues:
            typer.echo(f"{q.short_name:<26} {q.visible:>6} visible {q.in_flight:>4} in flight"
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


def print_redrive_start(dlq: DeadLetterQueue, plan: RedrivePlan, journal: Path,
                        resume_command: str) -> None:
    """The run id first, on stderr, so that an interrupted run can be resumed."""
    typer.echo(f"run {plan.run_id}: {dlq.short_name} → {plan.target_url} "
               f"(journal {journal}; if it stops, resume with `{resume_command}`)", err=True)


@contextmanager
def redrive_progress(total: int, *, hidden: bool) -> Iterator[Progress]:
    """A rich bar on stderr with moved, failed and left, and the rate; the callback to
    give the redrive. `total` is what the DLQ reported (or `--max`): an estimate."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    if hidden:
        yield lambda report: None
        return
    bar = Progress(TextColumn("[bold]redrive[/bold]"), BarColumn(),
                   TextColumn("{task.fields[moved]} moved  {task.fields[failed]} failed  "
                              "{task.fields[left]} left  {task.fields[rate]:.1f} msg/s"),
                   TimeElapsedColumn(), console=Console(stderr=True), transient=False)
    task = bar.add_task("redrive", total=max(total, 1), moved=0, failed=0, left=total,
                        rate=0.0)
    started = time.monotonic()

    def update(report: RedriveReport) -> None:
        done = report.moved + len(report.failed)
        elapsed = time.monotonic() - started
        bar.update(task, completed=min(done, max(total, 1)), moved=report.moved,
                   failed=len(report.failed) + len(report.not_deleted),
                   left=max(total - done, 0), rate=report.moved / elapsed if elapsed else 0.0)

    with bar:
        yield update


def print_preview(dlq: DeadLetterQueue, found: Preview, as_json: bool) -> None:
    """A dry run's count, per operation, oldest and a sample (or one JSON object)."""
    if as_json:
        typer.echo(json.dumps({"queue": dlq.short_name, "to": dlq.redrive_url,
                               **found.as_json()}))
        return
    from rich.console import Console
    from rich.table import Table

    summary = found.as_json()
    console = Console()
    console.print(f"dry run: {found.chosen} of {found.looked_at} message(s) read from "
                  f"{dlq.short_name} would move to {dlq.redrive_url} (nothing changed; "
                  "each message read had its receive count raised by one)")
    if summary["oldest_age_seconds"] is not None:
        console.print(f"oldest chosen: sent {summary['oldest_age_seconds']:.0f} s ago")
    if found.fifo_heads_only:
        console.print(f"a FIFO DLQ shows only the first messages of each group; it "
                      f"reports {dlq.visible} visible")
    if found.by_operation:
        table = Table("operation", "messages")
        for operation, count in sorted(found.by_operation.items()):
            table.add_row(operation, str(count))
        console.print(table)
    if found.sample:
        table = Table("message id", "requestId", "operation", "receives", "body",
                      title="sample")
        for view in found.sample:
            body = view.body if isinstance(view.body, str) else json.dumps(view.body)
            table.add_row(view.message_id, str(view.request_id or ""),
                          str(view.operation or ""), str(view.receive_count), body[:80])
        console.print(table)


def print_redrive(dlq: DeadLetterQueue, report: RedriveReport, as_json: bool) -> int:
    """A summary table (or one JSON object), and on stderr each message left behind and
    why; 0 when every chosen message moved, 1 otherwise."""
    if as_json:
        typer.echo(json.dumps({"queue": dlq.short_name, "to": dlq.redrive_url,
                               **report.as_json()}))
        return 0 if report.ok else 1
    from rich.console import Console
    from rich.table import Table

    table = Table("redrive", report.run_id, show_header=True)
    rows = {"from": dlq.short_name, "to": queue_name(dlq.redrive_url or ""),
            "moved": report.moved, "failed": len(report.failed),
            "sent, not deleted": len(report.not_deleted), "not chosen": report.skipped,
            "held back (FIFO)": report.held_back,
            "left in the DLQ": "?" if report.remaining is None else report.remaining,
            "messages/s": f"{report.rate:.1f}"}
    for name, value in rows.items():
        table.add_row(name, str(value))
    Console().print(table)
    for message_id, reason in {**report.failed, **report.not_deleted}.items():
        typer.echo(f"  {message_id}: {reason}", err=True)
    for missing in report.missing:
        typer.echo(f"  requestId {missing}: no message in {dlq.short_name} carries it "
                   "(or another reader held it hidden)", err=True)
    for warning in report.warnings:
        typer.echo(f"  warning: {warning}", err=True)
    if report.held_back:
        typer.echo(f"  {report.held_back} FIFO message(s) stayed behind an earlier message "
                   "of their group that did not move (order within a group is kept)",
                   err=True)
    if report.interrupted:
        typer.echo(f"interrupted: resume with --resume {report.run_id}", err=True)
    elif report.remaining:
        typer.echo(f"note: {dlq.short_name} still reports about {report.remaining} "
                   "message(s) (not chosen, held by another reader, or arrived meanwhile)",
                   err=True)
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
