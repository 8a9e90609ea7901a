"""The two kinds of failure of the crudops CLI.

A `UserError` is something the person at the terminal can fix (a bad option, a
missing file, a cdk-nag finding in their change): the CLI prints one line and a hint
and exits with code 2. Anything else is a bug in crudops and keeps its traceback.
Ctrl-C is neither: `interrupted` says so in one line and exits with code 130.
"""

from __future__ import annotations

import typer

USER_ERROR_EXIT_CODE = 2
# 128 + SIGINT, what a shell reports for a command stopped by Ctrl-C.
INTERRUPTED_EXIT_CODE = 130


class UserError(Exception):
    """A failure the user can fix; `hint` says how."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        return f"error: {self.message}" + (f" (hint: {self.hint})" if self.hint else "")


def interrupted(hint: str = "") -> typer.Exit:
    """Ctrl-C (or SIGTERM where the command turns it into one): one line, exit 130."""
    typer.echo("interrupted" + (f" (hint: {hint})" if hint else ""), err=True)
    return typer.Exit(INTERRUPTED_EXIT_CODE)
