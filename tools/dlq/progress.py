"""The progress bar of a long `dlq` command: rich, on stderr (stdout stays the
report's, for `--json` and pipes), hidden with `--json` and when stderr is no
terminal (a log file gets no bar and no stray blank line)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


@dataclass
class Bar:
    """`start(total)` once the size is known, then `advance(n)`."""

    progress: Any
    label: str
    task: Any = None

    def start(self, total: int | None) -> None:
        self.task = self.progress.add_task(self.label, total=total)

    def advance(self, done: int) -> None:
        if self.task is None:
            self.start(None)
        self.progress.advance(self.task, done)


@contextmanager
def progress_bar(label: str, *, hidden: bool) -> Iterator[Bar]:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True,
                  disable=hidden or not console.is_terminal) as progress:
        yield Bar(progress, label)
