"""Asking before a command changes a queue: `--yes` skips the question, and without a
terminal on stdin there is nobody to ask, so `--yes` is required (a script must say
what it means instead of hanging on a prompt or taking silence for consent)."""

from __future__ import annotations

import sys

import typer

from tools.errors import UserError


def confirm(question: str, *, yes: bool) -> None:
    """Return when the operator agreed (or gave `--yes`); a `UserError` otherwise."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise UserError(f"{question} needs a confirmation and stdin is not a terminal",
                        hint="add --yes to go ahead without one")
    if not typer.confirm(question, default=False, err=True):
        raise UserError("not confirmed: nothing changed")
