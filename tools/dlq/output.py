"""What the `crudops dlq` commands print: the tables and lines for a person, JSON for a
script, and the redrive's progress on stderr. The logic is tools/dlq/commands.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import typer

from tools.dlq.discovery import DeadLetterQueue
from tools.dlq.messages import DeadLetter
from tools.dlq.preview import Preview
from tools.dlq.redrive import Progress, RedrivePlan, RedriveReport
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


def print_dlq_show(dlq: DeadLetterQueue, messages: Sequence[DeadLetter], as_json: bool) -> None:
    """Each message as a JSON line, or its ids and the start of its body."""
    for message in messages:
        if as_json:
            typer.echo(json.dumps({"queue": dlq.name, **message.as_json()}))
        else:
            typer.echo(f"{message.message_id}  requestId={message.request_id}  "
                       f"operation={message.command.get('operation')}  receives="
                       f"{message.attributes.get('ApproximateReceiveCount', '?')}")
            typer.echo(f"  {message.body[:300]}")
    if not as_json:
        typer.echo(f"{len(messages)} message(s) shown from {dlq.name}", err=True)


def print_dlq_export(dlq: DeadLetterQueue, count: int, out: Path) -> None:
    typer.echo(f"{count} message(s) of {dlq.name} written to {out}")
    if count < dlq.visible:
        # A read longer than the visibility timeout sees its first messages again.
        typer.echo(f"warning: the DLQ reported {dlq.visible} visible when the export "
                   "began; run it again to compare", err=True)


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
