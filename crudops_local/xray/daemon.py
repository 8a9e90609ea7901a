"""A local X-Ray daemon: segment documents over UDP, forwarded to the AWS endpoint.

The X-Ray SDK sends each segment or subsegment as one UDP datagram,
`{"format":"json","version":1}\\n{document}`, to `AWS_XRAY_DAEMON_ADDRESS`. This
daemon listens on 127.0.0.1 (a port chosen at start), batches the documents into
`PutTraceSegments` calls on the stack's AWS endpoint (moto stores them;
`BatchGetTraces` reads them back), and keeps an index of trace ids by the
`requestId` annotation in a JSON-lines file, because the emulator's
`GetTraceSummaries` returns no annotations and rejects every filter expression.

It also plays the Lambda service's part in tracing: `invocation_header` chooses the
trace header of an invocation (`_X_AMZN_TRACE_ID`: the SQS record's `AWSTraceHeader`
when it carries one, else a new trace) and `function_segment` is the
`AWS::Lambda::Function` segment the service would send, which the SDK's subsegments
hang under (in Lambda mode the SDK never sends the function's segment itself).
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import secrets
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Final

from crudops_local.xray.index import INDEXED_ANNOTATION, TraceIndex

log = logging.getLogger("crudops.local.xray")

PROTOCOL_HEADER: Final = {"format": "json", "version": 1}
# PutTraceSegments takes at most 50 documents per call.
MAX_DOCUMENTS_PER_CALL: Final = 50
# A datagram larger than this is not something the SDK sends (it splits at 64 KB).
MAX_DATAGRAM_BYTES: Final = 65_535


class SegmentParseError(ValueError):
    """A datagram that is not `<protocol header>\\n<segment document>`."""


def parse_datagram(data: bytes) -> dict[str, Any]:
    """The segment document in one datagram of the daemon protocol."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SegmentParseError("not UTF-8") from exc
    header, separator, body = text.partition("\n")
    if not separator:
        raise SegmentParseError("no protocol header line")
    try:
        parsed_header = json.loads(header)
        document = json.loads(body)
    except json.JSONDecodeError as exc:
        raise SegmentParseError(f"not JSON: {exc}") from exc
    if not isinstance(parsed_header, dict) or parsed_header.get("format") != "json":
        raise SegmentParseError(f"unknown protocol header {header!r}")
    if not isinstance(document, dict):
        raise SegmentParseError("the segment document is not an object")
    for key in ("trace_id", "id"):
        if not isinstance(document.get(key), str):
            raise SegmentParseError(f"the segment document has no {key}")
    return document


def encode_datagram(document: dict[str, Any]) -> bytes:
    return (json.dumps(PROTOCOL_HEADER) + "\n" + json.dumps(document)).encode()


def annotation_values(document: dict[str, Any], key: str = INDEXED_ANNOTATION) -> set[str]:
    """Values of one annotation on a segment and every subsegment nested in it."""
    found: set[str] = set()
    value = (document.get("annotations") or {}).get(key)
    if isinstance(value, str):
        found.add(value)
    for child in document.get("subsegments") or ():
        if isinstance(child, dict):
            found |= annotation_values(child, key)
    return found


# --- trace headers -----------------------------------------------------------------
def new_trace_id(now: float | None = None) -> str:
    """`1-<epoch seconds, 8 hex>-<96 random bits, 24 hex>`."""
    return f"1-{int(time.time() if now is None else now):08x}-{secrets.token_hex(12)}"


def new_segment_id() -> str:
    return secrets.token_hex(8)


@dataclass(frozen=True)
class TraceHeader:
    root: str
    parent: str | None = None
    sampled: bool = True

    def __str__(self) -> str:
        parts = [f"Root={self.root}"]
        if self.parent:
            parts.append(f"Parent={self.parent}")
        parts.append(f"Sampled={1 if self.sampled else 0}")
        return ";".join(parts)

    @classmethod
    def parse(cls, text: str) -> TraceHeader | None:
        fields = dict(part.strip().split("=", 1) for part in text.split(";") if "=" in part)
        root = fields.get("Root")
        if not root:
            return None
        return cls(root=root, parent=fields.get("Parent") or None,
                   sampled=fields.get("Sampled", "1") != "0")


def upstream_header(event: Any) -> TraceHeader | None:
    """The trace an invocation continues: an SQS record's `AWSTraceHeader`."""
    if not isinstance(event, dict):
        return None
    for record in event.get("Records") or ():
        if isinstance(record, dict):
            text = (record.get("attributes") or {}).get("AWSTraceHeader")
            if isinstance(text, str) and (header := TraceHeader.parse(text)):
                return header
    return None


@dataclass(frozen=True)
class InvocationTrace:
    """The trace of one invocation: the header the function sees and its segment's
    upstream parent (None for a new trace)."""

    header: TraceHeader
    upstream_parent: str | None


def invocation_trace(event: Any) -> InvocationTrace:
    upstream = upstream_header(event)
    segment_id = new_segment_id()
    if upstream is None:
        return InvocationTrace(TraceHeader(new_trace_id(), segment_id), None)
    return InvocationTrace(TraceHeader(upstream.root, segment_id, upstream.sampled),
                           upstream.parent)


def function_segment(*, name: str, arn: str, trace: InvocationTrace, start: float, end: float,
                     request_id: str, error: str | None = None) -> dict[str, Any]:
    """The `AWS::Lambda::Function` segment the Lambda service sends per invocation."""
    assert trace.header.parent is not None
    document: dict[str, Any] = {
        "name": name, "id": trace.header.parent, "trace_id": trace.header.root,
        "start_time": start, "end_time": end, "origin": "AWS::Lambda::Function",
        "resource_arn": arn,
        "aws": {"function_arn": arn, "request_id": request_id},
    }
    if trace.upstream_parent:
        document["parent_id"] = trace.upstream_parent
    if error is not None:
        document["fault"] = True
        document["cause"] = {"exceptions": [{"message": error}]}
    return document


# --- the daemon ----------------------------------------------------------------------
class XRayDaemon:
    """UDP listener + forwarder thread. `submit` takes documents from this process."""

    def __init__(self, xray_client: Any, index: TraceIndex, host: str = "127.0.0.1",
                 flush_seconds: float = 1.0) -> None:
        self._xray = xray_client
        self.index = index
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind((host, 0))
        self._socket.settimeout(0.5)
        self._flush_seconds = flush_seconds
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.received = 0
        self.forwarded = 0
        self.rejected = 0

    @property
    def address(self) -> str:
        host, port = self._socket.getsockname()[:2]
        return f"{host}:{port}"

    def start(self) -> None:
        for target, name in ((self._listen, "xray:listen"), (self._forward, "xray:forward")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)
        self._socket.close()

    def submit(self, document: dict[str, Any]) -> None:
        self._queue.put(document)

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._socket.recv(MAX_DATAGRAM_BYTES)
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                document = parse_datagram(data)
            except SegmentParseError as exc:
                self.rejected += 1
                log.debug("dropped a datagram: %s", exc)
                continue
            self.received += 1
            self._queue.put(document)

    def _drain(self, first: dict[str, Any]) -> list[dict[str, Any]]:
        """Buffer as the X-Ray daemon does: a batch goes out when it holds 50 documents
        or `flush_seconds` after its first one (one upload per batch, not per segment,
        keeps the emulator's share of tracing small under load)."""
        batch = [first]
        deadline = time.monotonic() + self._flush_seconds
        while len(batch) < MAX_DOCUMENTS_PER_CALL:
            remaining = deadline - time.monotonic()
            try:
                if remaining <= 0 or self._stop.is_set():
                    batch.append(self._queue.get_nowait())
                else:  # short waits, so that `stop` is not held up by a long interval
                    batch.append(self._queue.get(timeout=min(remaining, 0.1)))
            except queue.Empty:
                if remaining <= 0 or self._stop.is_set():
                    break
        return batch

    def _forward(self) -> None:
        while not (self._stop.is_set() and self._queue.empty()):
            try:
                first = self._queue.get(timeout=self._flush_seconds)
            except queue.Empty:
                continue
            self.forward(self._drain(first))

    def forward(self, documents: Iterable[dict[str, Any]]) -> None:
        documents = list(documents)
        for document in documents:
            for request_id in annotation_values(document):
                self.index.add(request_id, document["trace_id"])
        try:
            response = self._xray.put_trace_segments(
                TraceSegmentDocuments=[json.dumps(d) for d in documents])
            self.forwarded += len(documents) - len(response.get("UnprocessedTraceSegments", []))
        except Exception as exc:  # a lost trace must never stop the stack
            log.warning("put_trace_segments failed for %d document(s): %s", len(documents), exc)


def send_datagrams(address: str, documents: Iterable[dict[str, Any]]) -> None:
    """Send documents as the SDK does (tests and tools)."""
    host, _, port = address.rpartition(":")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for document in documents:
            sender.sendto(encode_datagram(document), (host, int(port)))


def segments_of(traces: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Segment documents of `BatchGetTraces` answers."""
    for trace in traces:
        for segment in trace.get("Segments", []):
            with contextlib.suppress(ValueError, TypeError):
                yield json.loads(segment["Document"])


def environment_for_workers(address: str) -> dict[str, str]:
    """What a function's environment needs for the SDK to trace as in Lambda."""
    return {"AWS_XRAY_DAEMON_ADDRESS": address, "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
            "_AWS_XRAY_DAEMON_ADDRESS": address.rpartition(":")[0],
            "_AWS_XRAY_DAEMON_PORT": address.rpartition(":")[2]}

