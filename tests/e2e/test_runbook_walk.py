"""A newcomer's walk through a runbook's practice run, pasted block by block.

The blocks of runbooks/dlq-not-empty.md, "On the local stack (practice run)", run in
one shell, in a fresh directory holding only the clone's `.venv`, with nothing else
from the developer's environment: the page must define every variable it uses and
start every process it needs. A block a person would run again until it shows what
the page promises (the logs, the alarms) is run again until it does, with a deadline.
Each block's time and output go to `runbook-walk.txt` in the test's directory.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.runbook_blocks import BlockResult, ShellSession, section, shell_blocks

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
PAGE = REPO_ROOT / "runbooks" / "dlq-not-empty.md"
PRACTICE = "On the local stack (practice run)"
# A newcomer's shell: their PATH and home, none of the test session's AWS settings.
PASSED_ENVIRONMENT = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TERM")


@dataclass(frozen=True)
class Expectation:
    """What the page promises a block shows; `again` re-runs it until it does."""

    marker: str  # a line of the block that tells it apart from the others
    promise: Callable[[BlockResult], bool]
    again: bool = False
    timeout: float = 60.0
    # The logs and the trace show the failed records' tracebacks; elsewhere one is a crash.
    shows_tracebacks: bool = False


def _ok(result: BlockResult) -> bool:
    return result.exit_code == 0


EXPECTATIONS = (
    Expectation("crudops local up", lambda r: "Running" in r.output, timeout=300),
    Expectation("sns.publish", lambda r: _ok(r) and "published practice-" in r.output),
    Expectation("crudops logs create --local",
                lambda r: "MisroutedCommandError" in r.output and "ERROR" in r.output,
                again=True, timeout=180, shows_tracebacks=True),
    Expectation("crudops status --local --problems-only",
                lambda r: r.exit_code == 1 and "Crudops-create-dlq-not-empty" in r.output
                and "Crudops-create-failed-records" in r.output, again=True, timeout=180),
    Expectation("crudops dashboard --local --snapshot",
                lambda r: _ok(r), timeout=120),
    Expectation("crudops dlq show", lambda r: _ok(r) and "practice-" in r.output
                and "MisroutedCommandError" in r.output, shows_tracebacks=True),
    Expectation("crudops dlq redrive",
                lambda r: _ok(r) and "not_found" in r.output, again=True, timeout=120,
                shows_tracebacks=True),
    Expectation('kill "$STACK_PID"', lambda r: _ok(r)),
)


def _expectation_of(block: str) -> Expectation:
    matching = [e for e in EXPECTATIONS if e.marker in block]
    assert len(matching) == 1, (f"{len(matching)} expectations for this block of the "
                                f"practice run (one each, please):\n{block}")
    return matching[0]


def _run(shell: ShellSession, block: str, expectation: Expectation) -> BlockResult:
    deadline = time.monotonic() + expectation.timeout
    while True:
        result = shell.run(block, timeout=max(1.0, deadline - time.monotonic()))
        if expectation.promise(result):
            return result
        if not expectation.again or time.monotonic() > deadline:
            raise AssertionError(f"the block did not show what the page says "
                                 f"(exit code {result.exit_code}):\n{block}\n--- output ---\n"
                                 f"{result.output[-4000:]}")
        time.sleep(3)  # a person reading the output before running it again


def test_the_dlq_practice_run_works_pasted_block_by_block(tmp_path: Path) -> None:
    # GIVEN a fresh directory with the clone's virtualenv, as after `./dev test`
    (tmp_path / ".venv").symlink_to(REPO_ROOT / ".venv")
    environment = {k: os.environ[k] for k in PASSED_ENVIRONMENT if k in os.environ}
    blocks = shell_blocks(section(PAGE.read_text(), PRACTICE))
    assert blocks, f"{PAGE.name} has no practice run"
    expectations = [_expectation_of(block) for block in blocks]
    assert len(set(map(id, expectations))) == len(EXPECTATIONS), "a promise has no block"
    shell = ShellSession(tmp_path, environment)
    transcript = tmp_path / "runbook-walk.txt"
    started = time.monotonic()
    try:
        with transcript.open("w") as log:
            # WHEN each block is pasted in order
            for block, expectation in zip(blocks, expectations, strict=True):
                result = _run(shell, block, expectation)
                log.write(f"--- +{time.monotonic() - started:.0f} s, exit {result.exit_code}"
                          f"\n{block}\n{result.output}\n")
                # THEN it showed what the page says, and nothing broke on the way
                if not expectation.shows_tracebacks:
                    assert "Traceback (most recent call last)" not in result.output
                assert "command not found" not in result.output
    finally:
        shell.close()
        print(transcript.read_text() if transcript.exists() else "no transcript")
    # The snapshot the page tells the reader to open shows both alarms on their widgets.
    snapshot = (tmp_path / "dashboard.html").read_text()
    for alarm in ("Crudops-create-dlq-not-empty", "Crudops-create-failed-records"):
        assert f"{alarm}: ALARM" in snapshot, alarm

