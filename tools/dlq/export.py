"""`crudops dlq export`: a DLQ's messages into a JSON Lines file (tools/dlq/record.py),
and with `delete`, out of the DLQ once they are safely in the file.

The queue is read batch by batch; each batch's chosen messages are appended to the
file and fsynced (tools/dlq/dump_file.py) and only then, with `delete`, deleted by
the receipt handles of that very receive. So a message leaves the DLQ only when its
line is on disk; a failure to write deletes nothing of that batch or after it, and a
failed delete leaves a message both in the file and in the DLQ (a duplicate, never a
loss). Without `delete` the file appears only when complete; with it, a stopped
export leaves `<file>.partial`, which holds exactly the messages it deleted (and
perhaps some it did not).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.aws_errors import aws_errors_as_user_errors
from tools.dlq.commands import Where, _one
from tools.dlq.confirm import confirm
from tools.dlq.discovery import DeadLetterQueue
from tools.dlq.dump_file import DumpWriter
from tools.dlq.messages import Reading, delete, release
from tools.dlq.record import DumpedMessage, Select
from tools.dlq.selection import Selection, message_view
from tools.errors import UserError


@dataclass
class ExportReport:
    dlq: DeadLetterQueue
    path: Path
    written: int = 0
    # read but not chosen (`request_ids`, `select`): left in the DLQ
    skipped: int = 0
    deleted: list[str] = field(default_factory=list)
    # written to the file but still in the DLQ: message id → why
    not_deleted: dict[str, str] = field(default_factory=dict)
    # requested ids no message carried (or none that could be read)
    missing: list[str] = field(default_factory=list)
    receives: int = 0
    delete_requested: bool = False
    found_request_ids: set[str] = field(default_factory=set)

    @property
    def exit_code(self) -> int:
        return 1 if self.not_deleted or self.missing else 0

    def as_json(self) -> dict[str, Any]:
        return {"queue": self.dlq.name, "file": str(self.path), "written": self.written,
                "skipped": self.skipped, "deleted": len(self.deleted),
                "not_deleted": self.not_deleted, "missing": self.missing,
                "visible_at_start": self.dlq.visible}


def chooser(request_ids: Collection[str] | None, select: Select | None) -> Select:
    """The messages a command acts on: of one of `request_ids` (if given) and
    passing `select` (if given: `--filter`, `--older-than`, ...)."""
    wanted = set(request_ids) if request_ids else None

    def chosen(message: DumpedMessage) -> bool:
        return ((wanted is None or message.request_id in wanted)
                and (select is None or select(message)))

    return chosen


def export_messages(sqs: Any, dlq: DeadLetterQueue, writer: DumpWriter, report: ExportReport,
                    *, chosen: Select, delete_written: bool,
                    on_read: Callable[[int], None] | None = None,
                    enough: Callable[[ExportReport], bool] | None = None) -> None:
    """Read the whole DLQ once (or until `enough`), appending the chosen to `writer`
    (then deleting them when `delete_written`); everything else is made visible
    again at the end."""
    reading = Reading(sqs, dlq.url)
    # message id → receipt handle of what this read holds hidden and has not deleted
    held: dict[str, str] = {}
    try:
        for batch in reading.batches():
            held.update((m.message_id, m.receipt_handle) for m in batch)
            records = {m.message_id: DumpedMessage.of(m, dlq.name) for m in batch}
            picked = [m for m in batch if chosen(records[m.message_id])]
            report.skipped += len(batch) - len(picked)
            if picked:
                try:
                    writer.write([records[m.message_id] for m in picked])
                except OSError as exc:
                    raise _write_failed(writer, report, exc) from exc
                report.written += len(picked)
                report.found_request_ids.update(m.request_id for m in picked if m.request_id)
                if delete_written:
                    deleted, failed = delete(sqs, dlq.url, picked)
                    report.deleted.extend(deleted)
                    report.not_deleted.update(failed)
                    for message_id in deleted:
                        del held[message_id]
            if on_read is not None:
                on_read(len(batch))
            if enough is not None and enough(report):
                break
    finally:
        report.receives = reading.receives
        release(sqs, dlq.url, list(held.values()))
        reading.close()


def _write_failed(writer: DumpWriter, report: ExportReport, exc: OSError) -> UserError:
    saved = (f"; the {len(report.deleted)} message(s) deleted so far are in "
             f"{writer.partial}: keep it" if report.deleted else "; nothing was deleted")
    return UserError(f"cannot write {writer.partial}: {exc}{saved}",
                     hint="free space or choose another --to, then run again")


def chosen_by(chosen: Selection) -> Select | None:
    """The redrive's selection (`--filter`, `--older-than`) as a test on a dumped
    message: the same view of it, so one expression chooses alike in both commands."""
    if chosen.everything:
        return None
    now_ms = int(time.time() * 1000)

    def select(message: DumpedMessage) -> bool:
        view = message_view({"MessageId": message.message_id, "Body": message.body,
                             "MessageAttributes": message.message_attributes,
                             "Attributes": message.attributes})
        return chosen.chooses(view, now_ms=now_ms)

    return select


def do_dlq_export(
    where: Where,
    queue: str,
    to: Path,
    *,
    request_ids: Collection[str] | None = None,
    select: Select | None = None,
    delete_written: bool = False,
    overwrite: bool = False,
    yes: bool = False,
    on_start: Callable[[DeadLetterQueue], None] | None = None,
    on_read: Callable[[int], None] | None = None,
) -> ExportReport:
    """Write the DLQ's chosen messages (all, by default) to `to`; with
    `delete_written`, delete each once it is on disk (after `confirm`, unless `yes`).

    Raises `UserError` when `to` exists (without `overwrite`), a `.partial` file of an
    earlier export is in the way, the queue is unknown, confirmation is missing, or
    the file cannot be written (saying what was deleted by then)."""
    writer = DumpWriter(to, overwrite=overwrite)
    target, dlq = _one(where, queue, "dlq export")
    if delete_written:
        confirm(f"Delete from {dlq.name} each message once it is written to {to}?", yes=yes)
    report = ExportReport(dlq, to, delete_requested=delete_written)
    if on_start is not None:
        on_start(dlq)
    try:
        with aws_errors_as_user_errors(local=where.local):
            export_messages(target.clients("sqs"), dlq, writer, report,
                            chosen=chooser(request_ids, select),
                            delete_written=delete_written, on_read=on_read)
        writer.commit()
    except BaseException:
        writer.abort(keep=bool(report.deleted))
        raise
    if request_ids:
        report.missing = sorted(set(request_ids) - report.found_request_ids)
    return report
