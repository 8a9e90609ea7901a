"""The journal of one redrive run: `.crudops/redrive/<run>.jsonl`, what `--resume RUN`
reads back after Ctrl-C, a crash or kill -9.

One JSON object per line, each written whole (and flushed to the system, which a
killed process cannot lose) before the step it records is taken further; the lines a
resume depends on — the header and `sent` — are fsynced too, so that a machine that
loses power still does not send again what SQS confirmed:
- `{"run": …, "source": url, "target": url, "fifo": …, "selection": {…}, "started": …}`
  first: what the run moves, so a resume moves the same;
- `{"sending": [ids]}` before a SendMessageBatch: these may be in the target from here on;
- `{"sent": [ids]}` once SQS confirmed them: in the target, maybe still in the DLQ;
- `{"deleted": [ids]}` once SQS confirmed their delete from the DLQ: moved;
- `{"note": {…}}`: a batch with nothing to send, an extension of what the run holds
  hidden, the end of a part: so that the last line's time bounds how long a killed
  run's messages stay hidden (a resume waits that long for them).

What a resume does with a message it receives again from the DLQ:
- sent (confirmed): not sent again, only deleted (the crash came before the delete);
- sending but not confirmed: sent again. The crash came during the send, and whether
  SQS took it cannot be read back without receiving from the target (which its
  consumers own), so this is the one place a duplicate can come from; the handlers
  are idempotent per requestId (docs/adr/0002-idempotency-per-request-id.md). A FIFO
  target deduplicates it: the resend carries the same MessageDeduplicationId.
A line cut short by a kill mid-write is ignored: what it would have recorded had not
been acted on yet.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

from crudops_local.state import STATE_DIR
from tools.errors import UserError

JOURNAL_DIR: Final = STATE_DIR / "redrive"
# A run writes a line within moments of each receive and each visibility extension;
# what it held is visible again at most this long after its visibility timeout runs
# from its last line.
HELD_MARGIN_SECONDS: Final = 2.0


def new_run_id() -> str:
    """Sortable by start time, unique on one machine: `20261201T123000Z-3f9a1c`."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(3)


@dataclass
class JournalState:
    """What an earlier part of the run did, read back from its journal."""

    header: dict[str, Any]
    sending: set[str] = field(default_factory=set)
    sent: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)
    # The last part ended by itself (Ctrl-C included), releasing what it held; False
    # after a crash or kill -9: its batches stay hidden until their visibility ends.
    ended_cleanly: bool = False
    # When the last line was written (time.time()).
    last_written: float = 0.0

    def held_until(self) -> float:
        """When (time.time()) what a crashed part held is visible again at the latest."""
        if self.ended_cleanly:
            return 0.0
        return (self.last_written + float(self.header.get("visibility_seconds", 0))
                + HELD_MARGIN_SECONDS)

    @property
    def in_doubt(self) -> set[str]:
        """Sending, not confirmed: the crash came during the send."""
        return self.sending - self.sent


class Journal:
    """Appends to one run's journal from any thread; each line fsynced."""

    def __init__(self, path: Path, handle: IO[str]) -> None:
        self.path = path
        self._handle = handle
        self._lock = threading.Lock()

    @classmethod
    def create(cls, run_id: str, header: dict[str, Any], directory: Path = JOURNAL_DIR
               ) -> Journal:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{run_id}.jsonl"
        journal = cls(path, path.open("x"))
        journal._write({"run": run_id, **header, "started": time.time()})
        return journal

    @classmethod
    def reopen(cls, run_id: str, directory: Path = JOURNAL_DIR) -> tuple[Journal, JournalState]:
        path = journal_path(run_id, directory)
        state = read_journal(path)
        handle = path.open("a")
        if path.read_bytes()[-1:] not in (b"", b"\n"):
            handle.write("\n")  # end the line a kill cut short, so the next one parses
        return cls(path, handle), state

    def sending(self, ids: Iterable[str]) -> None:
        # Not fsynced: a resume sends these again whether or not the line survives.
        self._write({"sending": list(ids)}, durable=False)

    def sent(self, ids: Iterable[str]) -> None:
        self._write({"sent": list(ids)})

    def deleted(self, ids: Iterable[str]) -> None:
        # Not fsynced: a deleted message is not in the DLQ for a resume to see.
        self._write({"deleted": list(ids)}, durable=False)

    def note(self, **fields: Any) -> None:
        """A line for the reader (a resume, the end of the run); ignored on reading."""
        self._write({"note": fields}, durable=False)

    def _write(self, record: dict[str, Any], *, durable: bool = True) -> None:
        line = json.dumps(record, separators=(",", ":")) + "\n"
        with self._lock:
            self._handle.write(line)
            self._handle.flush()
            if durable:
                os.fsync(self._handle.fileno())

    def close(self) -> None:
        with self._lock:
            self._handle.close()


def journal_path(run_id: str, directory: Path = JOURNAL_DIR) -> Path:
    if not run_id or "/" in run_id or run_id.startswith("."):
        raise UserError(f"--resume {run_id!r} is not a run id",
                        hint=f"the runs are the file names in {directory}")
    path = directory / f"{run_id.removesuffix('.jsonl')}.jsonl"
    if not path.is_file():
        known = sorted(p.stem for p in directory.glob("*.jsonl"))[-5:]
        raise UserError(f"no journal of run {run_id} ({path} not found)",
                        hint=f"recent runs: {', '.join(known)}" if known else
                        "a run prints its id when it starts")
    return path


def read_journal(path: Path) -> JournalState:
    state: JournalState | None = None
    with path.open() as handle:
        for line in handle:
            try:
                record = json.loads(line)
            except ValueError:
                continue  # cut short by a kill mid-write: nothing acted on it yet
            if state is None:
                if "run" not in record:
                    raise UserError(f"{path} is not a redrive journal")
                state = JournalState(header=record)
            for kind in ("sending", "sent", "deleted"):
                getattr(state, kind).update(record.get(kind, ()))
            state.ended_cleanly = "finished" in record.get("note", {})
    if state is None:
        raise UserError(f"{path} is empty: the run stopped before it began")
    state.last_written = path.stat().st_mtime
    return state
