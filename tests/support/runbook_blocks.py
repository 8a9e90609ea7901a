"""The shell blocks of a runbook page, and a shell to paste them into.

A newcomer pastes a page's blocks, in order, into one terminal. `ShellSession` is
that terminal: one bash process, fed each block as it is written on the page, which
keeps the variables, the working directory and the background jobs of the blocks
before it; each block's output and exit status are read back through a marker line.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import textwrap
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Final

SHELL_BLOCK: Final = re.compile(
    r"^(?P<indent>[ \t]*)```(?:sh|bash)\n(?P<body>.*?)^(?P=indent)```", re.DOTALL | re.MULTILINE)
HEADING: Final = re.compile(r"^(?P<level>#{1,6}) (?P<title>.+)$", re.MULTILINE)


def section(text: str, title: str) -> str:
    """The text under the heading `title` up to the next heading of its level or above."""
    headings = list(HEADING.finditer(text))
    for index, heading in enumerate(headings):
        if heading["title"].strip() == title:
            level = len(heading["level"])
            end = next((h.start() for h in headings[index + 1:]
                        if len(h["level"]) <= level), len(text))
            return text[heading.end():end]
    raise KeyError(f"no heading {title!r}")


def shell_blocks(text: str) -> list[str]:
    """Every ```sh block, dedented as it would be pasted."""
    return [textwrap.dedent(m["body"]) for m in SHELL_BLOCK.finditer(text)]


@dataclass(frozen=True)
class BlockResult:
    block: str
    output: str
    exit_code: int


class ShellSession:
    """One interactive-like bash; `run` pastes a block and waits for it to finish."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self._marker = f"::block-done-{uuid.uuid4().hex}::"
        self._process = subprocess.Popen(
            ["bash", "--noprofile", "--norc"], cwd=cwd, env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True)
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.transcript: list[BlockResult] = []

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def run(self, block: str, timeout: float) -> BlockResult:
        assert self._process.stdin is not None
        self._process.stdin.write(block.rstrip("\n") + "\n")
        self._process.stdin.write(f'printf "\\n%s %d\\n" "{self._marker}" "$?"\n')
        self._process.stdin.flush()
        output: list[str] = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(f"block did not finish in {timeout:g} s:\n{block}\n"
                                   f"--- output so far ---\n{''.join(output)}") from None
            if line is None:
                raise RuntimeError(f"the shell exited during:\n{block}\n{''.join(output)}")
            if line.startswith(self._marker):
                result = BlockResult(block, "".join(output).removesuffix("\n"),
                                     int(line.split()[-1]))
                self.transcript.append(result)
                return result
            output.append(line)

    def close(self) -> None:
        """End the shell and everything the blocks started (its process group)."""
        try:
            os.killpg(self._process.pid, signal.SIGTERM)
            self._process.wait(30)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait(10)


# --- what a block defines and uses ---------------------------------------------
_QUOTED_HEREDOC: Final = re.compile(
    r"<<-?\s*(['\"])(?P<tag>\w+)\1.*?\n(?P<body>.*?)^\s*(?P=tag)\s*$", re.DOTALL | re.MULTILINE)
_SINGLE_QUOTED: Final = re.compile(r"'[^']*'")
_ASSIGNMENT: Final = re.compile(
    r"(?:^|[;&|(]\s*|\bexport\s+|\blocal\s+|\breadonly\s+)(?P<name>[A-Za-z_][A-Za-z0-9_]*)=",
    re.MULTILINE)
_LOOP_OR_READ: Final = re.compile(
    r"\b(?:for\s+(?P<loop>[A-Za-z_]\w*)\s+in|read(?:\s+-\w+)*\s+(?P<read>[A-Za-z_]\w*))")
_USE: Final = re.compile(r"\$\{?(?P<name>[A-Za-z_][A-Za-z0-9_]*)")


def without_heredoc_bodies(block: str) -> str:
    """The block without the bodies of its quoted heredocs (a Python script, say),
    which are the program's text, not the shell's."""
    return _QUOTED_HEREDOC.sub(lambda m: m.group(0)[: m.start("body") - m.start()], block)


def expanded_text(block: str) -> str:
    """The parts of a block the shell expands variables in: not a quoted heredoc's
    body and not a single-quoted string."""
    return _SINGLE_QUOTED.sub("''", without_heredoc_bodies(block))


def defined_variables(block: str) -> set[str]:
    text = expanded_text(block)
    names = {m["name"] for m in _ASSIGNMENT.finditer(text)}
    names |= {m["loop"] or m["read"] for m in _LOOP_OR_READ.finditer(text)}
    return names


def used_variables(block: str) -> set[str]:
    return {m["name"] for m in _USE.finditer(expanded_text(block))}
