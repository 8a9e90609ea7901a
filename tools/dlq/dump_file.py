"""A file of dumped messages (tools/dlq/record.py), written so that what it says was
written survives a crash, and read back line by line.

`DumpWriter` appends to `<file>.partial`: each `write` returns only once its lines
are flushed and fsynced (and, the first time, the directory that names the new file
too), so a caller may delete what it has just written. `commit` renames the file to
its name and fsyncs the directory. `abort` removes the partial file, unless it holds
messages that are no longer anywhere else (`keep`): then it stays, under its
`.partial` name, and an existing `.partial` file is never overwritten.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from tools.dlq.record import DumpedMessage, DumpFormatError
from tools.errors import UserError


def fsync_directory(directory: Path) -> None:
    """Make a file's creation or renaming in `directory` durable."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def partial_path(path: Path) -> Path:
    return path.with_name(path.name + ".partial")


class DumpWriter:
    def __init__(self, path: Path, *, overwrite: bool = False,
                 option: str = "--to") -> None:
        self.path = path
        self.partial = partial_path(path)
        if path.exists() and not overwrite:
            raise UserError(f"{path} exists", hint=f"choose another {option} or add --force")
        if self.partial.exists():
            raise UserError(f"{self.partial} exists: an earlier export to {path} stopped "
                            "half-way, and it may hold messages it deleted",
                            hint="keep that file (rename it), then run again")
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: TextIO | None = None
        self.written = 0

    def write(self, records: Sequence[DumpedMessage]) -> None:
        """Append `records`; once this returns they are on disk."""
        if self._file is None:
            self._file = self.partial.open("x", encoding="utf-8")
            fsync_directory(self.partial.parent)
        self._file.write("".join(record.line() for record in records))
        self._file.flush()
        os.fsync(self._file.fileno())
        self.written += len(records)

    def commit(self) -> None:
        """The file under its own name (empty if nothing was written), durably."""
        if self._file is None:
            self.write([])
        assert self._file is not None
        self._file.close()
        self.partial.replace(self.path)
        fsync_directory(self.path.parent)

    def abort(self, *, keep: bool) -> None:
        if self._file is not None:
            self._file.close()
        if not keep:
            self.partial.unlink(missing_ok=True)


def read_dump(path: Path) -> list[tuple[int, DumpedMessage]]:
    """Every record with its line number (1-based; blank lines are skipped); a
    `UserError` naming the first line that is not a dumped message."""
    if not path.is_file():
        raise UserError(f"{path} is not a file", hint="give a file `crudops dlq export` wrote")
    records = []
    try:
        with path.open(encoding="utf-8") as handle:
            for number, text in enumerate(handle, 1):
                if not text.strip():
                    continue
                records.append((number, DumpedMessage.from_line(text, number)))
    except DumpFormatError as exc:
        raise UserError(f"{path}: {exc}") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start} "
                        f"of line {len(records) + 1} or after)") from None
    return records
