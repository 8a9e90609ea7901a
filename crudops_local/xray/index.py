"""The local X-Ray daemon's index: trace ids by the `requestId` annotation.

The emulator's `GetTraceSummaries` returns no annotations and rejects every filter
expression, so the daemon (crudops_local/xray/daemon.py) appends one JSON line per
(requestId, trace id) it sees, `{"requestId": "…", "traceId": "1-…"}`, and `crudops
trace --local` reads them from another process with `read_index`. Its path is the
state file's `trace_index` (crudops_local/state.py `trace_index_of`). This module
imports nothing heavy: the CLI reads the index without loading the daemon.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Self

# The annotation the workers and Notify put on each record's subsegment.
INDEXED_ANNOTATION: Final = "requestId"


@dataclass(frozen=True)
class IndexRecord:
    """One line of the index."""

    request_id: str
    trace_id: str

    def as_json(self) -> dict[str, str]:
        return {"requestId": self.request_id, "traceId": self.trace_id}

    @classmethod
    def from_json(cls, entry: Any) -> Self | None:
        """The record of a parsed line, or None for a line that is not one."""
        if not isinstance(entry, dict) or not entry.get("requestId") or not entry.get("traceId"):
            return None
        return cls(str(entry["requestId"]), str(entry["traceId"]))


class TraceIndex:
    """`requestId` annotation → trace ids, appended as JSON lines to a file that
    `crudops trace --local` reads from another process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._seen: set[tuple[str, str]] = set()
        path.parent.mkdir(parents=True, exist_ok=True)

    def add(self, request_id: str, trace_id: str) -> None:
        with self._lock:
            if (request_id, trace_id) in self._seen:
                return
            self._seen.add((request_id, trace_id))
            with self.path.open("a") as file:
                file.write(json.dumps(IndexRecord(request_id, trace_id).as_json()) + "\n")


def read_index(path: Path, request_id: str) -> list[str]:
    """Trace ids indexed for `request_id`, in the order first seen (none without an
    index; a line cut short by a daemon still writing is skipped)."""
    if not path.is_file():
        return []
    found: list[str] = []
    for line in path.read_text().splitlines():
        try:
            record = IndexRecord.from_json(json.loads(line))
        except ValueError:
            continue
        if record is not None and record.request_id == request_id \
                and record.trace_id not in found:
            found.append(record.trace_id)
    return found
