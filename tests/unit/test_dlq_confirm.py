"""Asking before a redrive moves anything (tools/dlq/confirm.py)."""

from __future__ import annotations

import io

import pytest

from tools.dlq.confirm import confirm
from tools.errors import UserError


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_yes_needs_no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    confirm("Move 3?", yes=True)


def test_without_a_terminal_yes_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))  # piped input is not consent
    with pytest.raises(UserError, match="stdin is not a terminal") as raised:
        confirm("Move 3?", yes=False)
    assert "--yes" in raised.value.hint


@pytest.mark.parametrize(("answer", "agreed"), [("y\n", True), ("n\n", False), ("\n", False)])
def test_at_a_terminal_the_answer_decides(monkeypatch: pytest.MonkeyPatch, answer: str,
                                          agreed: bool) -> None:
    monkeypatch.setattr("sys.stdin", _Terminal(answer))
    if agreed:
        confirm("Move 3?", yes=False)
    else:
        with pytest.raises(UserError, match="not confirmed"):
            confirm("Move 3?", yes=False)
