"""`crudops dlq replay`: the messages of an export (tools/dlq/record.py) sent to a
queue again, bodies and message attributes byte for byte as they were read.

Each line is one SendMessageBatch entry, in file order, batches of up to ten within
SQS's request size, with the message attributes as exported (DataType and value
untouched, Binary decoded from base64) and the `AWSTraceHeader`, so the request's
trace continues. Into a FIFO queue, `MessageGroupId` is kept (order within a group
is the file's) and the deduplication id is the exported message's id: never the
original's, which SQS would silently drop inside its 5-minute window if that id was
sent there lately, and the same on every run, so a replay run twice within five
minutes is deduplicated by SQS itself.

Re-running is made safe by the report rather than by a journal: it names the lines
sent and those that failed (with why), and `lines` sends exactly the chosen ones
again (`--lines 4,9-12`). A standard queue receives a line sent twice twice, which
the handlers' idempotency per requestId absorbs.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from tools.aws_errors import aws_errors_as_user_errors
from tools.dlq.commands import Where
from tools.dlq.confirm import confirm
from tools.dlq.discovery import find_queue_url
from tools.dlq.dump_file import read_dump
from tools.dlq.messages import SQS_BATCH
from tools.dlq.record import DumpedMessage, Select
from tools.errors import UserError
from tools.stacks import queue_name

# SendMessageBatch's limit on the whole request (the sum of the bodies and
# attributes), kept at SQS's long-standing 256 KiB: a larger message goes alone.
BATCH_BYTES: Final = 256 * 1024
_LINES: Final = re.compile(r"^\d+(-\d+)?$")


@dataclass
class ReplayReport:
    file: Path
    to: str
    fifo: bool
    dry_run: bool
    # the lines chosen, in file order
    chosen: list[int] = field(default_factory=list)
    operations: Counter[str] = field(default_factory=Counter)
    sent: list[int] = field(default_factory=list)
    # line → why it was not sent (or, in a dry run, would not be)
    failed: dict[int, str] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def as_json(self) -> dict[str, Any]:
        return {"file": str(self.file), "to": self.to, "fifo": self.fifo,
                "dry_run": self.dry_run, "chosen": len(self.chosen),
                "operations": dict(self.operations), "sent": len(self.sent),
                "sent_lines": line_ranges(self.sent),
                "failed": {str(line): reason for line, reason in self.failed.items()},
                "retry_lines": line_ranges(sorted(self.failed)) or None}


def parse_lines(text: str) -> set[int]:
    """`3,7-9` → {3, 7, 8, 9}; a `UserError` for anything else."""
    chosen: set[int] = set()
    for part in (p.strip() for p in text.split(",")):
        if not _LINES.match(part):
            raise UserError(f"--lines {text!r}: {part!r} is not a line or a range",
                            hint="e.g. --lines 4,9-12")
        first, _, last = part.partition("-")
        low, high = int(first), int(last or first)
        if low < 1 or high < low:
            raise UserError(f"--lines {text!r}: {part!r} is not a range of line numbers")
        chosen.update(range(low, high + 1))
    return chosen


def line_ranges(lines: Sequence[int]) -> str:
    """[1, 2, 3, 7] → `1-3,7`: what `--lines` takes."""
    ranges: list[str] = []
    start = previous = None
    for line in sorted(lines):
        if previous is not None and line == previous + 1:
            previous = line
            continue
        if start is not None:
            ranges.append(f"{start}" if start == previous else f"{start}-{previous}")
        start = previous = line
    if start is not None:
        ranges.append(f"{start}" if start == previous else f"{start}-{previous}")
    return ",".join(ranges)


def send_entry(line: int, record: DumpedMessage, *, fifo: bool) -> dict[str, Any]:
    """The SendMessageBatch entry of one line (see the module docstring)."""
    entry: dict[str, Any] = {"Id": str(line), "MessageBody": record.body}
    attributes = record.send_attributes()
    if attributes:
        entry["MessageAttributes"] = attributes
    if record.trace_header:
        entry["MessageSystemAttributes"] = {
            "AWSTraceHeader": {"DataType": "String", "StringValue": record.trace_header}}
    if fifo:
        entry["MessageGroupId"] = record.group_id
        entry["MessageDeduplicationId"] = record.message_id
    return entry


def _size(entry: dict[str, Any]) -> int:
    attributes = entry.get("MessageAttributes", {})
    return len(entry["MessageBody"].encode()) + sum(
        len(name.encode()) + len(value["DataType"].encode())
        + len(value.get("BinaryValue", b"")) + len(value.get("StringValue", "").encode())
        for name, value in attributes.items())


def _batches(entries: Sequence[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    size = 0
    for entry in entries:
        entry_size = _size(entry)
        if batch and (len(batch) == SQS_BATCH or size + entry_size > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(entry)
        size += entry_size
    if batch:
        yield batch


def _send(sqs: Any, url: str, batch: list[dict[str, Any]], report: ReplayReport) -> None:
    try:
        answer = sqs.send_message_batch(QueueUrl=url, Entries=batch)
    except Exception as exc:  # nothing of the batch is known sent
        report.failed.update({int(e["Id"]): f"send failed: {exc}" for e in batch})
        return
    report.sent.extend(int(s["Id"]) for s in answer.get("Successful", []))
    for failure in answer.get("Failed", []):
        report.failed[int(failure["Id"])] = (
            f"send failed: {failure.get('Code')}: {failure.get('Message', '')}")


def do_dlq_replay(
    where: Where,
    file: Path,
    to: str,
    *,
    dry_run: bool = False,
    yes: bool = False,
    lines: Collection[int] | None = None,
    request_ids: Collection[str] | None = None,
    select: Select | None = None,
    on_start: Callable[[int], None] | None = None,
    on_sent: Callable[[int], None] | None = None,
) -> ReplayReport:
    """Send the chosen lines of `file` (all, by default) to the stack's queue `to`
    (after `confirm`, unless `yes`; nothing with `dry_run`).

    The whole file is read and checked first: a line that is not a dumped message is
    a `UserError` before anything is sent."""
    records = read_dump(file)
    target = where.target()
    wanted = set(request_ids) if request_ids else None
    chosen = [(line, record) for line, record in records
              if (lines is None or line in lines)
              and (wanted is None or record.request_id in wanted)
              and (select is None or select(record))]
    if lines is not None and (unknown := set(lines) - {line for line, _ in records}):
        raise UserError(f"--lines names no message on line(s) {line_ranges(sorted(unknown))} "
                        f"of {file}")
    with aws_errors_as_user_errors(local=where.local):
        url = find_queue_url(target.resources(), to)
        sqs = target.clients("sqs")
        fifo = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["FifoQueue"]).get(
            "Attributes", {}).get("FifoQueue") == "true"
        report = ReplayReport(file, queue_name(url), fifo, dry_run,
                              chosen=[line for line, _ in chosen],
                              operations=Counter(r.operation or "unknown" for _, r in chosen))
        entries = []
        for line, record in chosen:
            if fifo and not record.group_id:
                report.failed[line] = ("no MessageGroupId (exported from a standard queue), "
                                       "which a FIFO queue needs")
            else:
                entries.append(send_entry(line, record, fifo=fifo))
        if dry_run or not entries:
            return report
        confirm(f"Send {len(entries)} message(s) from {file} to {report.to}?", yes=yes)
        if on_start is not None:
            on_start(len(entries))
        for batch in _batches(entries):
            _send(sqs, url, batch, report)
            if on_sent is not None:
                on_sent(len(batch))
    report.sent.sort()
    return report
