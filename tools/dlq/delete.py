"""`crudops dlq delete` and `crudops dlq purge`: messages out of a DLQ for good, a copy
kept first.

`delete` takes only the messages named by id: each is written to
`.crudops/deleted/<time>-<queue>.jsonl` (fsynced) and then deleted by the receipt
handle of the receive that read it (tools/dlq/export.py), so nothing is deleted that
the file does not hold; `crudops dlq replay` puts them back.

`purge` exports what it can read (unless `export=False`), then calls PurgeQueue,
which removes everything in the queue at that moment, visible or not. Only the
exported messages are certainly saved: one that arrived after the read, or that
another reader held hidden during it, is purged without a copy, and so can one sent
while SQS completes the purge (up to 60 s). SQS allows one PurgeQueue per queue per
60 s: a second within that time is a `UserError`. `dlq export --delete` is the purge
that loses nothing: it deletes exactly what it wrote.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from crudops_local.state import STATE_DIR
from tools.aws_errors import aws_errors_as_user_errors
from tools.dlq.commands import Where, _one
from tools.dlq.confirm import confirm
from tools.dlq.discovery import DeadLetterQueue
from tools.dlq.dump_file import DumpWriter
from tools.dlq.export import ExportReport, export_messages
from tools.errors import UserError

# Where `delete` and `purge` keep the copy of what they removed.
DELETED_DIR: Final = STATE_DIR / "deleted"


def copy_path(directory: Path, dlq: DeadLetterQueue, now: datetime) -> Path:
    """`<directory>/20261201T093012.345Z-create-dlq.jsonl`: sortable, one per run."""
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%f")[:-3] + "Z"
    return directory / f"{stamp}-{dlq.name}.jsonl"


@dataclass(frozen=True)
class DeleteReport:
    export: ExportReport
    # asked for, but in no message read (already gone, or held hidden by another reader)
    missing: list[str]

    @property
    def exit_code(self) -> int:
        return 1 if self.missing or self.export.not_deleted else 0

    def as_json(self) -> dict[str, Any]:
        return {"queue": self.export.dlq.name,
                "copy": str(self.export.path) if self.export.written else None,
                "deleted": self.export.deleted, "not_deleted": self.export.not_deleted,
                "missing": self.missing}


def do_dlq_delete(where: Where, queue: str, message_ids: Collection[str], *, yes: bool = False,
                  copy_dir: Path = DELETED_DIR,
                  now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> DeleteReport:
    """Delete the messages `message_ids` from the DLQ, each only once its copy is in
    the file under `copy_dir` (after `confirm`, unless `yes`)."""
    wanted = set(message_ids)
    if not wanted:
        raise UserError("name the messages to delete with --message-id",
                        hint="`crudops dlq show QUEUE` prints their ids")
    target, dlq = _one(where, queue, "dlq delete")
    path = copy_path(copy_dir, dlq, now())
    confirm(f"Delete {len(wanted)} message(s) from {dlq.name} (a copy goes to {path} first)?",
            yes=yes)
    writer = DumpWriter(path)
    report = ExportReport(dlq, path, delete_requested=True)

    def handled(done: ExportReport) -> set[str]:
        return set(done.deleted) | set(done.not_deleted)

    try:
        with aws_errors_as_user_errors(local=where.local):
            export_messages(target.clients("sqs"), dlq, writer, report,
                            chosen=lambda m: m.message_id in wanted, delete_written=True,
                            enough=lambda done: handled(done) >= wanted)
        if writer.written:
            writer.commit()
        else:  # none found: no copy to keep
            writer.abort(keep=False)
    except BaseException:
        writer.abort(keep=bool(report.deleted))
        raise
    return DeleteReport(report, sorted(wanted - handled(report)))


@dataclass(frozen=True)
class PurgeReport:
    dlq: DeadLetterQueue
    # None with `export=False`
    export: ExportReport | None

    @property
    def exported(self) -> int:
        return self.export.written if self.export else 0

    @property
    def uncopied(self) -> int:
        """How many the DLQ reported beyond those exported: purged without a copy."""
        return max(0, self.dlq.visible + self.dlq.in_flight - self.exported)

    def as_json(self) -> dict[str, Any]:
        return {"queue": self.dlq.name, "purged": True,
                "copy": str(self.export.path) if self.export else None,
                "exported": self.exported,
                "reported_before": self.dlq.visible + self.dlq.in_flight,
                "without_copy_at_least": self.uncopied}


def _purge(sqs: Any, dlq: DeadLetterQueue, copy: Path | None) -> None:
    from botocore.exceptions import ClientError

    try:
        sqs.purge_queue(QueueUrl=dlq.url)
    except ClientError as exc:
        if not str(exc.response.get("Error", {}).get("Code", "")).endswith(
                "PurgeQueueInProgress"):
            raise
        raise UserError(f"{dlq.name} was purged less than 60 s ago (SQS allows one purge a "
                        "minute); nothing was purged now"
                        + (f", and the copy in {copy} stays" if copy else ""),
                        hint="wait a minute and run again") from exc


def do_dlq_purge(where: Where, queue: str, *, export: bool = True, yes: bool = False,
                 copy_dir: Path = DELETED_DIR,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC),
                 on_start: Callable[[DeadLetterQueue], None] | None = None,
                 on_read: Callable[[int], None] | None = None) -> PurgeReport:
    """Export the DLQ to a file under `copy_dir` (unless not `export`), then purge it
    (after `confirm`, unless `yes`). See the module docstring for what is not saved."""
    target, dlq = _one(where, queue, "dlq purge")
    path = copy_path(copy_dir, dlq, now()) if export else None
    reported = dlq.visible + dlq.in_flight
    confirm(f"Purge {dlq.name} (it reports {reported} message(s))? "
            + (f"A copy of what can be read goes to {path} first; what arrives meanwhile "
               "or another reader holds is purged without a copy."
               if path else "No copy is kept."), yes=yes)
    report = None
    sqs = target.clients("sqs")
    with aws_errors_as_user_errors(local=where.local):
        if path is not None:
            writer = DumpWriter(path)
            report = ExportReport(dlq, path)
            if on_start is not None:
                on_start(dlq)
            try:
                export_messages(sqs, dlq, writer, report, chosen=lambda m: True,
                                delete_written=False, on_read=on_read)
                writer.commit()
            except BaseException:
                writer.abort(keep=False)  # nothing was deleted: the DLQ still has it all
                raise
        _purge(sqs, dlq, path)
    return PurgeReport(dlq, report)
