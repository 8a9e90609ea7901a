"""The synthesis child stopped by SIGTERM (the command's Ctrl-C) prints nothing more.

A SIGTERM landing while jsii starts Node.js leaves jsii's `_NodeProcess` half made (no
`_process` yet); its `__del__` failed at exit and printed "Exception ignored in ..."
under the command's one line `interrupted` (seen in tests/e2e/test_cli.py under load).
"""

from __future__ import annotations

import gc
import signal
import sys
from collections.abc import Iterator

import pytest
from jsii._kernel.providers.process import _NodeProcess

from tools import synth


@pytest.fixture
def reported() -> Iterator[list[BaseException | None]]:
    """What reaches the process's unraisable hook (Python's default prints it on
    stderr; pytest's own would turn it into a warning), the hooks put back after."""
    unraisable, sigterm = sys.unraisablehook, signal.getsignal(signal.SIGTERM)
    seen: list[BaseException | None] = []
    sys.unraisablehook = lambda report: seen.append(report.exc_value)
    yield seen
    sys.unraisablehook = unraisable
    signal.signal(signal.SIGTERM, sigterm)


def _drop_half_made_node_process() -> None:
    half_made = _NodeProcess.__new__(_NodeProcess)  # as a SIGTERM inside start() leaves it
    del half_made
    gc.collect()


def test_a_half_made_node_process_fails_in_its_finalizer(
        reported: list[BaseException | None]) -> None:
    # the failure this is about, reported as usual when nothing stops on purpose
    _drop_half_made_node_process()
    assert [type(e) for e in reported] == [AttributeError]


def test_after_sigterm_the_child_reports_nothing_more(
        reported: list[BaseException | None]) -> None:
    with pytest.raises(SystemExit) as stopped:
        synth._exit_on_sigterm(signal.SIGTERM, None)
    assert stopped.value.code == 128 + signal.SIGTERM
    _drop_half_made_node_process()
    assert reported == []
