"""Reading a local function's log file, once or as it grows (`--follow`).

The local stack's workers append their stdout and stderr to `<log_dir>/<function
name>.log` (crudops_local/lambda_/runtime.py), several worker processes to the same file.
Following behaves like `tail -F`: a file that does not exist yet is waited for, one
replaced by a new file (rotated, or removed and recreated by a restarted stack) is
read from its start after the rest of the old one, and one truncated in place is read
again from its start.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Literal

from tools.logs.records import LineGrouper, LogRecord, date_undated


def log_file_of(log_dir: Path, function_name: str) -> Path:
    """Where the local stack writes this function's output (its physical name)."""
    return log_dir / f"{function_name}.log"


def _time(record: LogRecord) -> datetime:
    assert record.time is not None  # `date_undated` dated them all
    return record.time


def read_log_file(path: Path) -> list[LogRecord]:
    """Every record of the file, in time order; [] when it does not exist."""
    follower = LogFileFollower(path)
    try:
        records = follower.read_existing()
        # A last line without its newline: written by now, or never to be finished.
        return records + follower.read_unfinished()
    finally:
        follower.close()


class LogFileFollower:
    """The records of one log file: what it holds now (`read_existing`), then what is
    appended (`read_new`, called again and again). Not thread-safe."""

    def __init__(self, path: Path, *,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.path = path
        self._now = now
        self._file: BinaryIO | None = None
        self._partial = b""
        self._grouper = LineGrouper(path.name)

    def read_existing(self) -> list[LogRecord]:
        """What the file holds now, in time order: the workers of a function append to
        one file, so their records interleave. A text line is dated by the record
        written after it (`date_undated`)."""
        self._open()
        if self._file is None:
            return []
        records = self._records(self._file.read(), final=False) + self._grouper.flush()
        changed = datetime.fromtimestamp(os.fstat(self._file.fileno()).st_mtime, UTC)
        return sorted(date_undated(records, changed), key=_time)

    def read_new(self) -> list[LogRecord]:
        """What was appended since the last read (a line without its newline yet waits
        for it). A text line is dated when it is read."""
        if self._file is None:
            self._open()
            if self._file is None:
                return []
        records = self._records(self._file.read(), final=False)
        replaced = self._replaced_or_truncated()
        if replaced == "replaced":
            records += self._records(b"", final=True)
            self._reset()
            self._open()
            if self._file is not None:
                records += self._records(self._file.read(), final=False)
        elif replaced == "truncated":
            assert self._file is not None
            self._file.seek(0)
            self._partial = b""
            records += self._records(self._file.read(), final=False)
        return self._dated_now(records)

    def read_unfinished(self) -> list[LogRecord]:
        """The last line read without its newline, as a record of its own (dated now)."""
        return self._dated_now(self._records(b"", final=True))

    def _dated_now(self, records: list[LogRecord]) -> list[LogRecord]:
        now = self._now()
        return [r if r.time is not None else replace(r, time=now, time_inferred=True)
                for r in records]

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _open(self) -> None:
        try:
            self._file = self.path.open("rb")
        except FileNotFoundError:
            self._file = None

    def _reset(self) -> None:
        self.close()
        self._partial = b""
        self._grouper = LineGrouper(self.path.name)

    def _replaced_or_truncated(self) -> Literal["replaced", "truncated"] | None:
        assert self._file is not None
        try:
            current = os.stat(self.path)
        except FileNotFoundError:
            # Removed: writers holding it may still append; a new file is picked up
            # when it appears.
            return None
        opened = os.fstat(self._file.fileno())
        if (current.st_ino, current.st_dev) != (opened.st_ino, opened.st_dev):
            return "replaced"
        if current.st_size < self._file.tell():
            return "truncated"
        return None

    def _records(self, new: bytes, *, final: bool) -> list[LogRecord]:
        """Complete lines of `new` (after what was left of the last read) as records;
        `final` or an idle read (nothing new) also ends a pending traceback."""
        *lines, self._partial = (self._partial + new).split(b"\n")
        if final and self._partial:
            lines.append(self._partial)
            self._partial = b""
        records: list[LogRecord] = []
        for line in lines:
            records += self._grouper.feed(line.decode("utf-8", errors="replace"))
        if final or not new:
            records += self._grouper.flush()
        return records
