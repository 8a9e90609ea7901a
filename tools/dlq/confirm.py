"""Asking before a `dlq` command changes a queue.

A prompt needs a person: without a terminal on stdin (a script, a pipe, CI) the
question cannot be asked, so `--yes` must say it instead, and its absence is a user
error rather than a hang or a silent yes.
"""

from __future__ import annotations

import sys

import typer

from tools.errors import UserError


def confirm(question: str, *, yes: bool) -> None:
    """Return when `yes` or the person at the terminal agrees; a `UserError` otherwise
    (declined, or no terminal to ask). Nothing has been changed when it raises."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise UserError(f"{question.rstrip('?')}: needs confirmation, and stdin is no "
                        "terminal to ask", hint="add --yes")
    if not typer.confirm(question, default=False):
        raise UserError("not confirmed: nothing was changed")
