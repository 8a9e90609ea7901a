"""Memory and CPU of the whole local stack, read from /proc (Linux only).

The stack is this process (gateways, pollers and, in `crudops bench`, the load client
too), the embedded AWS server and one process per function worker, all descendants of
this one. Summing VmRSS over the tree counts shared pages (the interpreter, shared
libraries) once per process, so the sum is an upper bound of what the machine needs;
it is what `ps`/`top` users add up, and what a container limit would be compared with.

Function workers are named by their log file: a worker points its stdout at
`<log_dir>/<function>.log`, so /proc/<pid>/fd/1 says which function it runs without
any hook in the stack.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROC = Path("/proc")
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def children_of(pid: int, proc: Path = PROC) -> list[int]:
    """Direct children of `pid`, over all its threads (a thread can be the parent)."""
    found: list[int] = []
    try:
        tasks = list((proc / str(pid) / "task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found.extend(int(child) for child in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def descendants(pid: int, proc: Path = PROC, limit: int = 10_000) -> list[int]:
    """`pid` and every process below it (bounded, in case /proc lies)."""
    seen: list[int] = []
    pending = [pid]
    while pending and len(seen) < limit:
        current = pending.pop()
        if current in seen:
            continue
        seen.append(current)
        pending.extend(children_of(current, proc))
    return seen


def rss_bytes(pid: int, proc: Path = PROC) -> int:
    """VmRSS of one process in bytes; 0 when it is gone (or a zombie)."""
    try:
        for line in (proc / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return 0
    return 0


def cpu_seconds(pid: int, proc: Path = PROC) -> float:
    """User + system CPU time of one process (all its threads), in seconds."""
    try:
        text = (proc / str(pid) / "stat").read_text()
    except OSError:
        return 0.0
    # The command name is in parentheses and may contain spaces: split after it.
    fields = text[text.rfind(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def label_of(pid: int, root: int, proc: Path = PROC) -> str:
    """What a process of the stack is: `bench` (the root), `aws-server`, a function name."""
    if pid == root:
        return "bench (gateway, pollers, client)"
    try:
        command = (proc / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "gone"
    if "crudops_local.aws.server" in command:
        return "aws-server (moto)"
    try:
        target = os.readlink(proc / str(pid) / "fd" / "1")
    except OSError:
        target = ""
    if target.endswith(".log"):
        return Path(target).stem
    if "resource_tracker" in command:
        return "multiprocessing resource tracker"
    return "other"


def tree_rss_bytes(root: int, proc: Path = PROC) -> int:
    return sum(rss_bytes(pid, proc) for pid in descendants(root, proc))


def rss_by_label(root: int, proc: Path = PROC) -> dict[str, int]:
    """RSS bytes now, summed per label: which part of the stack holds the memory."""
    totals: dict[str, int] = {}
    for pid in descendants(root, proc):
        label = label_of(pid, root, proc)
        totals[label] = totals.get(label, 0) + rss_bytes(pid, proc)
    return totals


def cpu_by_label(root: int, proc: Path = PROC) -> dict[str, float]:
    """CPU seconds so far, summed per label (both workers of a function together)."""
    totals: dict[str, float] = {}
    for pid in descendants(root, proc):
        label = label_of(pid, root, proc)
        totals[label] = totals.get(label, 0.0) + cpu_seconds(pid, proc)
    return totals


def cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """CPU seconds spent per label between two `cpu_by_label` readings.

    A process that appeared in between counts from zero; one that vanished counts
    nothing (its time is lost to /proc, so the sums are lower bounds).
    """
    return {label: max(0.0, after[label] - before.get(label, 0.0)) for label in after}


@dataclass
class MemorySampler:
    """Samples the tree's summed RSS every `interval` seconds in a daemon thread."""

    root: int = field(default_factory=os.getpid)
    interval: float = 0.5
    samples: list[tuple[float, int]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def start(self) -> MemorySampler:
        self._thread = threading.Thread(target=self._run, name="bench-memory", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.monotonic(), tree_rss_bytes(self.root)))
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    @property
    def peak_bytes(self) -> int:
        return max((value for _, value in self.samples), default=0)


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    import platform
    import sys
    from importlib import metadata

    def cpu_model() -> str:
        try:
            for line in (PROC / "cpuinfo").read_text().splitlines():
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return platform.processor() or "unknown"

    def total_memory() -> int:
        try:
            for line in (PROC / "meminfo").read_text().splitlines():
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
        except (OSError, ValueError):
            pass
        return 0

    def version(package: str) -> str:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return "not installed"

    try:
        load = [float(v) for v in (PROC / "loadavg").read_text().split()[:3]]
    except (OSError, ValueError):
        load = []
    return {
        "nproc": os.cpu_count(),
        "memory_total_bytes": total_memory(),
        "cpu_model": cpu_model(),
        "python": sys.version.split()[0],
        "moto": version("moto"),
        "platform": platform.platform(),
        "load_average_at_start": load,
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
