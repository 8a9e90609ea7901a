"""The CLI side of `crudops local up` and `crudops local down`: what they print while
the stack starts, runs and stops (its endpoints, each alarm state change, what was
removed), and local down's progress bar over the ledgers' resources. The stack
itself is tools/local/ (the emulator's package, which imports nothing of the CLI).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from crudops_local.cloudwatch.alarms import AlarmStateChange
    from crudops_local.run import LocalStack, StackEndpoints
    from tools.local.down import DownReport

# What each ledger's outcome says after its stack's name, endpoint and account.
_DETAIL = {
    "running": lambda o: f"still running ({o.detail}): not touched",
    "removed": lambda o: f"{len(o.report.removed)} removed, "
                         f"{len(o.report.already_gone)} already gone",
    "incomplete": lambda o: f"{len(o.report.failed)} could not be removed",
    "other-account": lambda o: f"not touched: {o.detail}",
}


def do_local_down_with_progress(runs_dir: Path, *, force: bool, as_json: bool) -> DownReport:
    """Remove what stopped stacks left (tools/local/down.py), a bar on stderr counting
    the resources of the ledgers it will touch (hidden with `--json` or nothing to do)."""
    from tools.local.down import do_local_down, find_ledgers, is_running

    ledgers = find_ledgers(runs_dir)
    total = sum(len(ledger.created) for ledger in ledgers
                if force or not is_running(ledger))
    with typer.progressbar(length=total, label="Removing resources", file=sys.stderr,
                           hidden=as_json or total == 0) as bar:
        def advance(ledger: Any, resource: Any) -> None:
            bar.update(1)

        return do_local_down(ledgers, on_resource=advance, force=force)


def print_down_report(report: DownReport, as_json: bool) -> int:
    """The report as JSON or one line per stack (failures on stderr); 1 unless ok."""
    if as_json:
        typer.echo(json.dumps(report.as_json()))
    else:
        for outcome in report.outcomes:
            typer.echo(f"{outcome.stack_name} ({outcome.endpoint}, account "
                       f"{outcome.account_id}): {_DETAIL[outcome.status](outcome)}")
            for logical_id, error in outcome.report.failed.items():
                typer.echo(f"  {logical_id}: {error}", err=True)
        if not report.outcomes:
            typer.echo("nothing to remove")
    return 0 if report.ok else 1


def do_local_up_command(*, template: Path | None, out: Path | None, host: str, port: int,
                        aws_port: int, aws_endpoint: str | None, region: str | None,
                        service_endpoints: tuple[str, ...], workers: int, demo: bool,
                        as_json: bool) -> None:
    """`crudops local up`: start the stack, print its endpoints (then run the demo
    against it with `demo`) and each alarm state change, and wait for Ctrl-C or
    SIGTERM. Exit code 1 when what it created elsewhere could not all be removed;
    130 for Ctrl-C while starting or a second one while stopping."""
    from crudops_local.run import LocalStackOptions
    from tools.demo import print_demo
    from tools.errors import interrupted
    from tools.local.up import (
        alarm_json,
        alarm_line,
        do_local_up,
        sigterm_interrupts,
        wait_for_stop_signal,
    )

    def ready(endpoints: StackEndpoints, stack: LocalStack) -> None:
        print_ready(endpoints, stack, as_json=as_json)
        if demo:
            from tools.tokens import DEFAULT_USER, user_pool_of

            assert stack.aws is not None
            token = user_pool_of(stack.describe(), stack.aws.client).issue(DEFAULT_USER).token
            print_demo(endpoints.rest_url, endpoints.ws_url, as_json, token)
        if not as_json:
            typer.echo("Running; Ctrl-C stops it.")

    def wait() -> None:
        wait_for_stop_signal()
        typer.echo("stopping the local stack", err=True)

    def alarm(change: AlarmStateChange) -> None:
        if as_json:
            typer.echo(json.dumps(alarm_json(change)))
        else:
            typer.echo(alarm_line(change, shutil.get_terminal_size().columns))

    def stopped(stack: LocalStack) -> None:
        if not print_stopped(stack):
            # Raised in do_local_up's `finally`: the exit code wins over what stopped it.
            raise typer.Exit(1)

    options = LocalStackOptions(template=Path(), host=host, port=port, aws_port=aws_port,
                                region=region,
                                aws_endpoint=aws_endpoint, service_endpoints=service_endpoints,
                                max_workers_per_function=workers)
    try:
        with sigterm_interrupts():
            do_local_up(options, template=template, out=out, on_ready=ready, wait=wait,
                        on_stopped=stopped, on_alarm=alarm)
    except KeyboardInterrupt:
        # Ctrl-C while starting, or a second one while stopping: on an endpoint the
        # stack does not own, what was not removed is still in the ledger.
        elsewhere = bool(aws_endpoint or service_endpoints) or any(
            name.startswith("AWS_ENDPOINT_URL_") for name in os.environ)
        raise interrupted("`crudops local down` removes what the run left on the "
                          "endpoint" if elsewhere else "") from None


def print_ready(endpoints: StackEndpoints, stack: LocalStack, *, as_json: bool) -> None:
    """The running stack's endpoints: one JSON line, or one line each (the AWS
    endpoint and account, each service sent elsewhere, what it created, its logs)."""
    if as_json:
        typer.echo(json.dumps(endpoints.as_json()), nl=True)
        return
    typer.echo(f"REST API      {endpoints.rest_url}")
    typer.echo(f"WebSocket     {endpoints.ws_url}")
    typer.echo(f"AWS endpoint  {endpoints.aws_endpoint or 'AWS (regional endpoints)'}"
               f"  account {stack.pseudo.account_id}, {stack.pseudo.region}")
    for service, url in sorted(stack.service_endpoints.items()):
        typer.echo(f"  {service:<11} {url}")
    if stack.ledger is not None:
        typer.echo(f"Resources     {len(stack.ledger.created)} created as "
                   f"{stack.pseudo.stack_name}-*; removed on stop")
    typer.echo(f"Function logs {endpoints.log_dir}/")


def print_stopped(stack: LocalStack) -> bool:
    """On stderr, what the stopped stack removed from an endpoint it did not own;
    False when some of it could not be removed."""
    report = stack.teardown_report
    if report is None:
        return True
    typer.echo(f"Removed {len(report.removed) + len(report.already_gone)} resources "
               f"of {stack.pseudo.stack_name}", err=True)
    if not report.ok:
        typer.echo(f"error: {len(report.failed)} resources could not be removed "
                   f"(hint: run `crudops local down` to try again)", err=True)
        return False
    return True
