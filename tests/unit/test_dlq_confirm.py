"""`tools/dlq/confirm.py`: `--yes`, a person's answer, and no terminal to ask."""

from __future__ import annotations

import io

import pytest

from tools.dlq.confirm import confirm
from tools.errors import UserError


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_yes_needs_no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    confirm("Delete 3 messages?", yes=True)


def test_without_a_terminal_yes_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))  # a pipe saying y is not a person
    with pytest.raises(UserError, match="Delete 3 messages: needs confirmation") as raised:
        confirm("Delete 3 messages?", yes=False)
    assert raised.value.hint == "add --yes"


@pytest.mark.parametrize(("answer", "agreed"), [("y\n", True), ("n\n", False), ("\n", False)])
def test_the_person_at_the_terminal_decides(monkeypatch: pytest.MonkeyPatch, answer: str,
                                            agreed: bool) -> None:
    monkeypatch.setattr("sys.stdin", Terminal(answer))
    if agreed:
        confirm("Delete 3 messages?", yes=False)
    else:
        with pytest.raises(UserError, match="not confirmed"):
            confirm("Delete 3 messages?", yes=False)
