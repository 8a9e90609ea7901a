"""The two kinds of failure of the crudops CLI.

A `UserError` is something the person at the terminal can fix (a bad option, a
missing file, a cdk-nag finding in their change): the CLI prints one line and a hint
and exits with code 2. Anything else is a bug in crudops and keeps its traceback.
Ctrl-C is neither: `interrupted` says so in one line and exits with code 130.
"""

from __future__ import annotations

import typer

from crudops_local.errors import ConfigurationError

USER_ERROR_EXIT_CODE = 2
# 128 + SIGINT, what a shell reports for a command stopped by Ctrl-C.
INTERRUPTED_EXIT_CODE = 130


class UserError(ConfigurationError):
    """A failure the user can fix; `hint` says how. The local emulator's own
    `ConfigurationError` is the same kind of failure: the CLI prints either as one line."""


def interrupted(hint: str = "") -> typer.Exit:
    """Ctrl-C (or SIGTERM where the command turns it into one): one line, exit 130."""
    typer.echo("interrupted" + (f" (hint: {hint})" if hint else ""), err=True)
    return typer.Exit(INTERRUPTED_EXIT_CODE)
