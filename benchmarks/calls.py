"""Which AWS calls the stack makes, counted with moto's own request recorder.

For the diagnosis of where the emulator's time goes (`crudops bench --record-calls`):
the embedded server records every request it serves to `MOTO_RECORDER_FILEPATH`
between start-recording and stop-recording. Writing one line per request slows the
server down, so figures from a recorded run are for the mix of calls, not for speed.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx

RECORDER_FILE_VARIABLE = "MOTO_RECORDER_FILEPATH"
UNREADABLE = "(unreadable entry)"


def set_recording(endpoint: str, on: bool) -> None:
    action = "start-recording" if on else "stop-recording"
    httpx.post(f"{endpoint}/moto-api/recorder/{action}", timeout=10).raise_for_status()


def action_of(entry: dict[str, Any]) -> str:
    """`service:Action` of one recorded request (JSON protocols name it in
    X-Amz-Target, query protocols in the form body's `Action`)."""
    headers = {k.lower(): v for k, v in entry.get("headers", {}).items()}
    # SigV4 credential scope: Credential=<key>/<date>/<region>/<service>/aws4_request
    scope = headers.get("authorization", "").split("Credential=", 1)[-1].split(",")[0]
    parts = scope.split("/")
    service = parts[3] if len(parts) >= 5 else "?"
    target = headers.get("x-amz-target", "")
    if target:
        return f"{service}:{target.rpartition('.')[2]}"
    body = entry.get("body") or ""
    if entry.get("body_encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    action = parse_qs(body).get("Action", [""])[0]
    if action:
        return f"{service}:{action}"
    return f"{entry.get('method', '?')} {str(entry.get('url', '?')).split('?')[0]}"


def count_actions(path: Path) -> dict[str, int]:
    """Recorded requests per `service:Action`, most frequent first."""
    counts: Counter[str] = Counter()
    if not path.exists():
        return {}
    for entry in _entries(path.read_text()):
        counts[action_of(entry) if entry is not None else UNREADABLE] += 1
    return dict(counts.most_common())


def _entries(text: str) -> Iterator[dict[str, Any] | None]:
    """The recorded entries; the server's threads append concurrently, so two
    entries can share a line (decoded one after the other) and a torn one is
    reported as unreadable rather than ending the count."""
    decoder = json.JSONDecoder()
    for line in text.splitlines():
        position = 0
        while position < len(line):
            if line[position].isspace():
                position += 1
                continue
            try:
                entry, position = decoder.raw_decode(line, position)
            except json.JSONDecodeError:
                yield None
                break
            yield entry if isinstance(entry, dict) else None
