"""The `crudops` command line: one thin command per `do_…` function.

Add a command by writing its logic as `do_<name>(...)` in its own module under
`tools/` (unit-tested without the CLI) and a `@app.command()` here that parses
options, calls it and prints. Raise `UserError` for what the user can fix.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer

from tools.errors import USER_ERROR_EXIT_CODE, UserError

app = typer.Typer(
    name="crudops",
    help="Build, run and operate crudops.\n\nExample: crudops synth --out build/cdk.out --json",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

P = ParamSpec("P")
R = TypeVar("R")


def user_errors_exit(command: Callable[P, R]) -> Callable[P, R]:
    """A `UserError` becomes one line on stderr and exit code 2; anything else a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except UserError as exc:
            typer.echo(exc.one_line(), err=True)
            raise typer.Exit(USER_ERROR_EXIT_CODE) from None

    return wrapper


@app.command()
@user_errors_exit
def synth(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Output directory (default: $CDK_OUTDIR, else cdk.out)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print {template, stack, resources} as JSON.")
    ] = False,
) -> None:
    """Write the CloudFormation template (runs cdk-nag; needs no AWS credentials).

    Example: crudops synth --out /tmp/cdk.out --json
    """
    from tools.synth import do_synth

    result = do_synth(out)
    if as_json:
        typer.echo(json.dumps(result.as_json()))
    else:
        typer.echo(str(result.template))


@app.callback()
def main() -> None:
    """Build, run and operate crudops.  Example: crudops synth --json"""


if __name__ == "__main__":
    app()
