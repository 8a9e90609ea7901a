"""What every `crudops` command shares: the options that choose a stack, and how a
command ends (a user error as one line and exit code 2; a report's exit code).

A command reads exactly one of `--stack NAME` and `--local` (the rule itself is
`tools.stacks.require_one_stack`); `--region` goes with `--stack`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Annotated, Any, Final, ParamSpec, TypeVar

import typer

from crudops_local.errors import ConfigurationError
from tools.errors import USER_ERROR_EXIT_CODE
from tools.stacks import STATE_FILE

StackOption = Annotated[str | None, typer.Option(
    "--stack", help="Name of a deployed stack (uses your AWS profile and region).")]
LocalOption = Annotated[bool, typer.Option(
    "--local", help=f"The running local stack (reads {STATE_FILE}).")]
RegionOption = Annotated[str | None, typer.Option(
    "--region", envvar="AWS_REGION", help="Region of --stack.")]

# `crudops local up`'s fixed ports, so that a shell, a browser tab or a test client
# configured once keeps working across restarts: the gateway where `sam local
# start-api` listens, the AWS endpoint where LocalStack's does (AWS tooling for local
# development looks there first). 0 picks any free port.
DEFAULT_GATEWAY_PORT: Final = 3000
DEFAULT_AWS_PORT: Final = 4566

P = ParamSpec("P")
R = TypeVar("R")


def user_errors_exit(command: Callable[P, R]) -> Callable[P, R]:
    """A `UserError` (or the local stack's `ConfigurationError`, which it extends) becomes
    one line on stderr and exit code 2; anything else a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except ConfigurationError as exc:
            typer.echo(exc.one_line(), err=True)
            raise typer.Exit(USER_ERROR_EXIT_CODE) from None

    return wrapper


def exit_with(code: int) -> None:
    """End the command with `code` (0: all clear, 1: something to look at, ...)."""
    if code:
        raise typer.Exit(code)


def emit_report(report: Any, as_json: bool, print_report: Callable[[Any], None]) -> int:
    """A report (`as_json()`, `exit_code`) as indented JSON or a table; its exit code."""
    if as_json:
        typer.echo(json.dumps(report.as_json(), indent=2, default=str))
    else:
        print_report(report)
    return int(report.exit_code)
