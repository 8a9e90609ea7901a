"""The `crudops` command line: one thin command per `do_…` function.

Add a command by writing its logic as `do_<name>(...)` in its own module under
`tools/` (unit-tested without the CLI) and a `@app.command()` here that parses
options, calls it and prints. Raise `UserError` for what the user can fix.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer

from infra.function_names import SHORT_NAMES
from tools.errors import INTERRUPTED_EXIT_CODE, USER_ERROR_EXIT_CODE, UserError

app = typer.Typer(
    name="crudops",
    help="Build, run and operate crudops.\n\nExample: crudops synth --out build/cdk.out --json",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Markdown joins a docstring's wrapped lines into paragraphs for the terminal width.
    rich_markup_mode="markdown",
)

# Which stack a command reads: exactly one of --stack NAME and --local.
StackOption = Annotated[str | None, typer.Option(
    "--stack", help="Name of a deployed stack (uses your AWS profile and region).")]
LocalOption = Annotated[bool, typer.Option(
    "--local", help="The running local stack (reads .crudops/local-stack.json).")]
RegionOption = Annotated[str | None, typer.Option(
    "--region", envvar="AWS_REGION", help="Region of --stack.")]

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


def _interrupted(hint: str = "") -> typer.Exit:
    """Ctrl-C (or SIGTERM where the command turns it into one): one line, exit 130."""
    typer.echo("interrupted" + (f" (hint: {hint})" if hint else ""), err=True)
    return typer.Exit(INTERRUPTED_EXIT_CODE)


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
    from tools.synth import synthesize

    try:
        result = synthesize(out)
    except KeyboardInterrupt:
        raise _interrupted() from None
    if as_json:
        typer.echo(json.dumps(result.as_json()))
    else:
        typer.echo(str(result.template))


def _command_group(name: str, help_text: str) -> typer.Typer:
    """`crudops NAME …`: subcommands that share a noun (`local up`, `dlq redrive`)."""
    group = typer.Typer(help=help_text, no_args_is_help=True, rich_markup_mode="markdown")
    app.add_typer(group, name=name)
    return group


local_app = _command_group(
    "local", "Run the whole system on this machine, from the synthesized template.\n\n"
             "Example: crudops local up --demo")


@local_app.command("up")
@user_errors_exit
def local_up(
    template: Annotated[Path | None, typer.Option(
        "--template", help="Use this template instead of synthesizing one.")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Where to synthesize (default: $CDK_OUTDIR, else cdk.out).")] = None,
    host: Annotated[str, typer.Option(help="Address the gateways listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Gateway port (0: any free port).")] = 0,
    aws_endpoint: Annotated[str | None, typer.Option(
        "--aws-endpoint", envvar="AWS_ENDPOINT_URL",
        help="Use this AWS endpoint URL (LocalStack, ...) instead of the embedded one, "
             "or `aws` for a real account (your credentials; resources are named per "
             "run and removed on stop).")] = None,
    region: Annotated[str | None, typer.Option(
        "--region", envvar="AWS_REGION",
        help="Region (default: your configured one for --aws-endpoint, else "
             "us-east-1; required with --aws-endpoint aws).")] = None,
    service_endpoint: Annotated[list[str] | None, typer.Option(
        "--service-endpoint", metavar="SERVICE=URL",
        help="Send one service elsewhere, e.g. dynamodb=http://localhost:8000 for "
             "DynamoDB Local (repeatable; AWS_ENDPOINT_URL_<SERVICE> works too).")] = None,
    workers: Annotated[int, typer.Option(
        help="Worker processes per function (Lambda concurrency, locally).")] = 2,
    demo: Annotated[bool, typer.Option(
        "--demo", help="Run `crudops demo` against the stack once it is up.")] = False,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print {rest_url, ws_url, aws_endpoint} as one JSON line, then "
                       "one {type: alarm, ...} line per alarm state change.")] = False,
) -> None:
    """Start the local stack and keep it running until Ctrl-C or SIGTERM, printing each
    change of an alarm's state (published to the stack's alarm topic as CloudWatch would).

    On an endpoint it did not start (--aws-endpoint), the stack creates its own copy
    of the template's tables, queues, topics and keys, named after the run, and
    removes them when it stops; `crudops local down` removes what a killed stack left.

    Example: crudops local up --port 8080 --demo

    Example: crudops local up --aws-endpoint aws --region eu-west-1

    Example: crudops local up --service-endpoint dynamodb=http://localhost:8000
    """
    from tools.local.stack import LocalStackOptions
    from tools.local.up import (
        alarm_json,
        alarm_line,
        do_local_up,
        sigterm_interrupts,
        wait_for_stop_signal,
    )

    def ready(endpoints: Any, stack: Any) -> None:
        if as_json:
            typer.echo(json.dumps(endpoints.as_json()), nl=True)
        else:
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
        if demo:
            _print_demo(endpoints.rest_url, endpoints.ws_url, as_json)
        if not as_json:
            typer.echo("Running; Ctrl-C stops it.")

    def wait() -> None:
        wait_for_stop_signal()
        typer.echo("stopping the local stack", err=True)

    def alarm(change: Any) -> None:
        if as_json:
            typer.echo(json.dumps(alarm_json(change)))
        else:
            typer.echo(alarm_line(change, shutil.get_terminal_size().columns))

    def stopped(stack: Any) -> None:
        report = stack.teardown_report
        if report is None:
            return
        typer.echo(f"Removed {len(report.removed) + len(report.already_gone)} resources "
                   f"of {stack.pseudo.stack_name}", err=True)
        if not report.ok:
            typer.echo(f"error: {len(report.failed)} resources could not be removed "
                       f"(hint: run `crudops local down` to try again)", err=True)
            raise typer.Exit(1)

    options = LocalStackOptions(template=Path(), host=host, port=port, region=region,
                                aws_endpoint=aws_endpoint,
                                service_endpoints=tuple(service_endpoint or ()),
                                max_workers_per_function=workers)
    try:
        with sigterm_interrupts():
            do_local_up(options, template=template, out=out, on_ready=ready, wait=wait,
                        on_stopped=stopped, on_alarm=alarm)
    except KeyboardInterrupt:
        # Ctrl-C while starting, or a second one while stopping: on an endpoint the
        # stack does not own, what was not removed is still in the ledger.
        elsewhere = bool(aws_endpoint or service_endpoint) or any(
            name.startswith("AWS_ENDPOINT_URL_") for name in os.environ)
        raise _interrupted("`crudops local down` removes what the run left on the "
                           "endpoint" if elsewhere else "") from None


@local_app.command("down")
@user_errors_exit
def local_down(
    runs_dir: Annotated[Path, typer.Option(
        "--runs-dir", help="Where stacks keep the ledgers of what they created.")
    ] = Path(".crudops") / "runs",
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print {ok, stacks: [{stack, status, removed, failed, ...}]}.")
    ] = False,
    force: Annotated[bool, typer.Option(
        "--force", help="Also remove what stacks that look alive created (a process id "
                        "reused after a reboot).")] = False,
) -> None:
    """Remove what stopped local stacks left on endpoints they did not own.

    A stack started with --aws-endpoint removes its resources when it stops; one that
    was killed leaves them in its ledger. Ledgers of running stacks are skipped, and
    so are those of another account than your credentials' now (switch profile and run
    again). Exit code 0: nothing a stopped stack left is still there; 1: some
    resources could not be removed, or belong to another account.

    Example: crudops local down --json
    """
    from tools.local.down import do_local_down, find_ledgers, is_running

    ledgers = find_ledgers(runs_dir)
    total = sum(len(ledger.created) for ledger in ledgers
                if force or not is_running(ledger))
    with typer.progressbar(length=total, label="Removing resources", file=sys.stderr,
                           hidden=as_json or total == 0) as bar:
        def advance(ledger: Any, resource: Any) -> None:
            bar.update(1)

        report = do_local_down(ledgers, on_resource=advance, force=force)
    if as_json:
        typer.echo(json.dumps(report.as_json()))
    else:
        for outcome in report.outcomes:
            detail = {"running": f"still running ({outcome.detail}): not touched",
                      "removed": f"{len(outcome.report.removed)} removed, "
                                 f"{len(outcome.report.already_gone)} already gone",
                      "incomplete": f"{len(outcome.report.failed)} could not be removed",
                      "other-account": f"not touched: {outcome.detail}"}
            typer.echo(f"{outcome.stack_name} ({outcome.endpoint}, account "
                       f"{outcome.account_id}): {detail[outcome.status]}")
            for logical_id, error in outcome.report.failed.items():
                typer.echo(f"  {logical_id}: {error}", err=True)
        if not report.outcomes:
            typer.echo("nothing to remove")
    if not report.ok:
        raise typer.Exit(1)


def _print_demo(rest_url: str, ws_url: str, as_json: bool) -> bool:
    from tools.demo import StepResult, do_demo

    def show(result: StepResult) -> None:
        if as_json:
            typer.echo(json.dumps(result.as_json()))
            return
        latency = "" if result.latency_ms is None else f"{result.latency_ms:7.1f} ms"
        outcome = result.outcome or {}
        answer = outcome.get("status", "")
        if outcome.get("error"):
            answer += f"/{outcome['error']['code']}"
        mark = "ok " if result.ok else "FAIL"
        typer.echo(f"{mark} {result.name:<24} HTTP {result.http_status:<4} "
                   f"{answer:<18} {latency}  {result.detail}".rstrip())

    results = do_demo(rest_url, ws_url, on_step=show)
    return all(r.ok for r in results)


@app.command()
@user_errors_exit
def demo(
    stack: StackOption = None,
    local: LocalOption = False,
    region: RegionOption = None,
    rest_url: Annotated[str | None, typer.Option(
        "--rest-url", help="REST API of a running stack (default: start a local one).")] = None,
    ws_url: Annotated[str | None, typer.Option(
        "--ws-url", help="WebSocket API of that stack.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per step.")] = False,
) -> None:
    """Create, get, list, update (fresh and stale), delete and a bad request, each with
    its 202, its WebSocket notification and the latency from 202 to notification.
    Exits 1 if any step did not answer as expected. Against a deployed stack
    (--stack, its URLs from the stack outputs), the running local stack (--local),
    given URLs, or, with none of these, a local stack of its own.

    Example: crudops demo --local

    Example: crudops demo --stack Crudops --json
    """
    if (rest_url is None) != (ws_url is None):
        raise UserError("give both --rest-url and --ws-url, or neither",
                        hint="without them, demo starts its own local stack")
    if stack is not None or local:
        if rest_url is not None:
            raise UserError("--rest-url/--ws-url replace --stack and --local; give one way")
        from tools.load import stack_urls

        rest_url, ws_url = stack_urls(stack=stack, local=local, region=region)
    if rest_url is not None and ws_url is not None:
        ok = _print_demo(rest_url, ws_url, as_json)
    else:
        from tools.local.stack import LocalStackOptions
        from tools.local.up import sigterm_interrupts, start_local_stack, template_for

        try:
            with sigterm_interrupts():
                own = start_local_stack(LocalStackOptions(template=template_for(None, None)))
                try:
                    assert own.endpoints is not None
                    ok = _print_demo(own.endpoints.rest_url, own.endpoints.ws_url,
                                     as_json)
                finally:
                    own.stop()
        except KeyboardInterrupt:
            raise _interrupted() from None
    if not ok:
        raise typer.Exit(1)


@app.command("render-dashboard")
@user_errors_exit
def render_dashboard(
    out: Annotated[Path | None, typer.Option(
        "--out", help="Where to write (default: dashboards/rendered/dashboard.json).")] = None,
    template: Annotated[Path | None, typer.Option(
        "--template", help="Render this synthesized template instead of synthesizing.")] = None,
    check: Annotated[bool, typer.Option(
        "--check", help="Write nothing; exit 1 if the file differs from the code.")] = False,
) -> None:
    """Render the CloudWatch dashboard body to JSON for review (tokens become
    placeholders such as ${AWS::Region}).

    Example: crudops render-dashboard --check
    """
    from tools.dashboard_render import RENDERED_DASHBOARD, do_render_dashboard

    result = do_render_dashboard(out or RENDERED_DASHBOARD, check=check, template=template)
    if check and result.changed:
        typer.echo(f"{result.path} differs from the code; run `crudops render-dashboard`",
                   err=True)
        raise typer.Exit(1)
    typer.echo(f"{result.path} {'written' if result.written else 'up to date'}")


@app.command()
@user_errors_exit
def dashboard(
    stack: StackOption = None,
    local: LocalOption = False,
    region: RegionOption = None,
    snapshot: Annotated[Path | None, typer.Option(
        "--snapshot", help="With --local: write one self-contained HTML page and exit.")
    ] = None,
    host: Annotated[str, typer.Option(help="Address the page is served on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the page (0: any free port).")] = 0,
    minutes: Annotated[int, typer.Option(help="Time range of the graphs.")] = 15,
    period: Annotated[int | None, typer.Option(
        "--period", help="Seconds per datapoint (default: from the range, 10 s for 15 min).")
    ] = None,
    refresh: Annotated[float, typer.Option(
        "--refresh", help="Seconds between refreshes of the served page.")] = 10.0,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print {url} (or {path} with --snapshot) as JSON.")] = False,
) -> None:
    """The stack's CloudWatch dashboard. --local serves it as a web page drawn from the
    local stack's metrics and alarm states (graphs with their thresholds, text),
    refreshing itself, until Ctrl-C; --snapshot writes it once. --stack prints the
    deployed dashboard's CloudWatch console URL.

    Example: crudops dashboard --local --port 8050

    Example: crudops dashboard --local --snapshot dashboard.html
    """
    from tools.dashboard.command import (
        DashboardOptions,
        do_dashboard_snapshot,
        do_dashboard_url,
        open_local_dashboard,
    )
    from tools.dashboard.serve import DashboardServer

    if stack is not None and (local or snapshot is not None):
        raise UserError("--stack prints the console URL; --local and --snapshot are for "
                        "the local stack", hint="give --stack NAME or --local")
    if stack is not None:
        url = do_dashboard_url(stack, region)
        typer.echo(json.dumps({"url": url}) if as_json else url)
        return
    if not local:
        raise UserError("give exactly one of --stack NAME or --local",
                        hint="crudops dashboard --local, or crudops dashboard --stack Crudops")
    options = DashboardOptions(minutes=minutes, period_seconds=period, refresh_seconds=refresh)
    if snapshot is not None:
        path = do_dashboard_snapshot(snapshot, options)
        typer.echo(json.dumps({"path": str(path)}) if as_json else f"{path} written")
        return
    import threading

    with DashboardServer(open_local_dashboard(options), host, port) as server:
        typer.echo(json.dumps({"url": server.url}) if as_json
                   else f"Dashboard     {server.url}\nRunning; Ctrl-C stops it.")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            typer.echo("dashboard stopped", err=True)


@app.command()
@user_errors_exit
def status(
    stack: StackOption = None,
    local: LocalOption = False,
    minutes: Annotated[int, typer.Option(
        "--minutes", help="Window for function errors and oldest-message age.")] = 15,
    alarm_prefix: Annotated[str, typer.Option(
        "--alarm-prefix", help="Alarms whose names start with this.")] = "crudops-",
    region: RegionOption = None,
    problems_only: Annotated[bool, typer.Option(
        "--problems-only", help="Show only DLQs holding messages, alarms in ALARM and "
                                "functions with errors or failed records.")] = False,
    watch: Annotated[bool, typer.Option(
        "--watch", help="Redraw every --interval seconds until Ctrl-C (with --json: one "
                        "JSON line per refresh).")] = False,
    interval: Annotated[float, typer.Option(
        "--interval", help="Seconds between refreshes of --watch.")] = 5.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Queues and DLQs (visible, in flight, delayed, oldest age), alarm states, and each
    function's errors and failed records. Exits 1 when a DLQ holds messages or an alarm
    is in ALARM (with --watch: as of the last refresh).

    Oldest-message age, function errors and failed records come from CloudWatch. Failed
    records are those a function reported as failed in a partial batch response: Lambda
    counts them in no Errors metric. The local stack publishes these metrics itself (the
    age approximated from what its pollers receive); a stack started without metrics
    shows them as n/a, since reading a message to date it would count as a receive and
    push it toward its DLQ.

    Example: crudops status --stack Crudops --minutes 60

    Example: crudops status --local --problems-only --watch
    """
    import threading

    from tools.status import do_status, print_report, render_report, watch_reports

    def fetch() -> Any:
        return do_status(stack=stack, local=local, minutes=minutes,
                         alarm_prefix=alarm_prefix, region=region)

    if not watch:
        _emit(fetch(), as_json, functools.partial(print_report, problems_only=problems_only))
        return
    if not 1 <= interval <= 3600:
        raise UserError(f"--interval {interval:g} is not in 1..3600")
    stopped = threading.Event()
    if as_json:
        def show(report: Any, note: str) -> None:
            typer.echo(json.dumps({**report.as_json(), "note": note}, default=str))

        code = watch_reports(fetch, interval_seconds=interval, show=show, wait=stopped.wait)
        raise typer.Exit(code)
    from datetime import datetime

    from rich.console import Group
    from rich.live import Live

    with Live(auto_refresh=False) as live:
        def redraw(report: Any, note: str) -> None:
            footer = (f"refreshed {datetime.now():%H:%M:%S}, every {interval:g} s; "
                      "Ctrl-C stops" + (f"\n[yellow]{note}[/yellow]" if note else ""))
            live.update(Group(render_report(report, problems_only=problems_only), footer),
                        refresh=True)

        code = watch_reports(fetch, interval_seconds=interval, show=redraw,
                             wait=stopped.wait)
    raise typer.Exit(code)


@app.command()
@user_errors_exit
def trace(
    request_id: Annotated[str, typer.Argument(help="The requestId of a 202 answer.")],
    stack: StackOption = None,
    local: LocalOption = False,
    hours: Annotated[int, typer.Option(
        "--hours", help="How far back to look for traces and log lines.")] = 24,
    region: RegionOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """One request end to end: its stored outcome, its X-Ray segments in order (API,
    queue wait, function, DynamoDB, Notify) with timings, and the log lines that name
    it. Exits 0 when anything was found, 1 when nothing was.

    Example: crudops trace 0b6c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d --local
    """
    from tools.trace import do_trace, print_report

    report = do_trace(request_id, stack=stack, local=local, hours=hours, region=region)
    _emit(report, as_json, print_report)


@app.command()
@user_errors_exit
def logs(
    function: Annotated[str, typer.Argument(
        help=f"{', '.join(SHORT_NAMES)}, or a logical id.")],
    stack: StackOption = None,
    local: LocalOption = False,
    request_id: Annotated[str | None, typer.Option(
        "--request-id", help="Only records naming this requestId.")] = None,
    since: Annotated[str, typer.Option(
        "--since", help="From how long ago (10m, 2h, 1d) or from when (ISO time, UTC).")
    ] = "10m",
    level: Annotated[str | None, typer.Option(
        "--level", help="Only records at this level or above (DEBUG, INFO, WARNING, "
                        "ERROR, CRITICAL).")] = None,
    follow: Annotated[bool, typer.Option(
        "--follow", "-f", help="Keep printing new records until Ctrl-C.")] = False,
    region: RegionOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per record.")] = False,
) -> None:
    """One function's log records, one line each (time, level, requestId, message, the
    keys that say what happened) with a traceback indented beneath: from the local
    stack's log file or the function's CloudWatch log group. Exits 0 when records
    were shown (or after following), 1 when none matched.

    Example: crudops logs create --local --request-id 0b6c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d

    Example: crudops logs notify --stack Crudops --since 1h --level WARNING --follow
    """
    from tools.logs.commands import do_logs
    from tools.logs.format import format_record, record_json

    def show(record: Any) -> None:
        for line in [record_json(record)] if as_json else format_record(record):
            typer.echo(line)

    def started(source: str) -> None:
        typer.echo(f"{'following' if follow else 'reading'} {source}"
                   + ("; Ctrl-C stops" if follow else ""), err=True)

    try:
        report = do_logs(function, on_record=show, on_source=started, stack=stack,
                         local=local, region=region, since=since, level=level,
                         request_id=request_id, follow=follow)
    except KeyboardInterrupt:
        # Ctrl-C is how --follow ends; a one-off read it interrupts.
        typer.echo("stopped following" if follow else "interrupted", err=True)
        raise typer.Exit(0 if follow else 130) from None
    if not report.shown:
        typer.echo(f"no records matched in {report.source}", err=True)
    if report.exit_code:
        raise typer.Exit(report.exit_code)


@app.command()
@user_errors_exit
def resource(
    kind: Annotated[str, typer.Argument(
        help="function, queue, log-group, table, topic, key, rest-api, websocket-api or "
             "dashboard.")],
    name: Annotated[str, typer.Argument(
        help="A function's short name (create, update-delete, notify, ws-connect, ...), a "
             "physical or logical id, or words only one logical id of that kind holds.")],
    stack: StackOption = None,
    local: LocalOption = False,
    region: RegionOption = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print {kind, logical_id, physical_id}.")] = False,
) -> None:
    """Print the physical id of one resource of the stack (a function's name, a queue's
    URL, a log group's name, ...), for the AWS CLI in a runbook. Exits 2 when none or
    several match, listing the candidates.

    Example: crudops resource function create --local

    Example: LOG_GROUP=$(crudops resource log-group rest-access --stack Crudops)
    """
    from tools.resource import do_resource

    found = do_resource(kind, name, stack=stack, local=local, region=region)
    typer.echo(json.dumps(found.as_json()) if as_json else found.physical_id)


def _emit(report: Any, as_json: bool, print_report: Callable[[Any], None]) -> None:
    """A report as JSON or a table, and its exit code (0 all clear, 1 worth a look)."""
    if as_json:
        typer.echo(json.dumps(report.as_json(), indent=2, default=str))
    else:
        print_report(report)
    if report.exit_code:
        raise typer.Exit(report.exit_code)


@app.command()
@user_errors_exit
def bench(
    users: Annotated[int, typer.Option(
        help="(b) concurrent virtual users, each submit → subscribe → wait.")] = 32,
    duration: Annotated[float, typer.Option(
        help="Seconds of (b) and of (c) on the unloaded stack.")] = 30.0,
    backlogs: Annotated[str, typer.Option(
        help="Create-queue backlog sizes, one fresh stack each (0 = none).")] = "0,1000,10000",
    backlog_duration: Annotated[float, typer.Option(
        "--backlog-duration", help="Seconds of (b) and of (c) with a backlog.")] = 10.0,
    grace: Annotated[float, typer.Option(
        help="Seconds to wait for stragglers after each window.")] = 30.0,
    connections: Annotated[int, typer.Option(
        help="Shared WebSocket connections the subscriptions go over.")] = 4,
    pacing: Annotated[str, typer.Option(help="(c) arrivals: poisson or fixed.")] = "poisson",
    budget_requests: Annotated[int, typer.Option(
        "--budget-requests", help="(a) requests per round against the bare emulator "
        "(the budget is the median of three rounds).")] = 300,
    workers: Annotated[int, typer.Option(help="Worker processes per function.")] = 2,
    drain_timeout: Annotated[float, typer.Option(
        "--drain-timeout", help="Longest wait for a backlog to drain, in seconds.")] = 300.0,
    idle_worker_seconds: Annotated[float, typer.Option(
        "--idle-worker-seconds",
        help="Workers idle this long are reclaimed (one per function stays warm); "
             "idle memory is read after that.")] = 10.0,
    template: Annotated[Path | None, typer.Option(
        "--template", help="Use this template instead of synthesizing one.")] = None,
    record_calls: Annotated[bool, typer.Option(
        "--record-calls", help="Count the AWS calls of (b) with moto's recorder (slows "
                               "the emulator: for diagnosis, not for figures).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    write: Annotated[bool, typer.Option(
        "--write-results", help="Rewrite benchmarks/RESULTS.md with the figures.")] = False,
) -> None:
    """Measure the local stack on this machine: (a) emulator budget, (b) saturated
    throughput, (c) 202→notify latency at half of (b), (d) idle and peak memory,
    (e) (b) and (c) with a create-queue backlog. Takes minutes; exits 0 whether or not
    the targets are met (it is a measurement).

    Example: crudops bench --duration 5 --backlogs 0
    """

    from benchmarks.bench import BenchOptions, do_bench, parse_backlogs
    from benchmarks.report import print_report, write_results

    try:
        sizes = parse_backlogs(backlogs)
    except ValueError as exc:
        raise UserError(str(exc), hint="e.g. --backlogs 0,1000,10000") from exc
    if pacing not in ("poisson", "fixed"):
        raise UserError(f"unknown pacing {pacing!r}", hint="poisson or fixed")
    bounds = {"--users": (users, 1, 1000), "--duration": (duration, 1, 600),
              "--backlog-duration": (backlog_duration, 1, 600), "--grace": (grace, 0, 600),
              "--connections": (connections, 1, 64),
              "--budget-requests": (budget_requests, 10, 10_000),
              "--workers": (workers, 1, 16), "--drain-timeout": (drain_timeout, 0, 3600),
              "--idle-worker-seconds": (idle_worker_seconds, 1, 3600)}
    for name, (value, low, high) in bounds.items():
        if not low <= value <= high:
            raise UserError(f"{name} {value:g} is outside {low:g}..{high:g}")
    if template is not None and not template.is_file():
        raise UserError(f"template {template} does not exist", hint="drop --template")
    options = BenchOptions(
        users=users, duration=duration, backlogs=sizes, backlog_duration=backlog_duration,
        grace=grace, connections=connections,
        pacing="fixed" if pacing == "fixed" else "poisson",
        budget_requests=budget_requests, workers=workers, drain_timeout=drain_timeout,
        idle_worker_seconds=idle_worker_seconds,
        template=template, record_calls=record_calls,
        command="crudops " + " ".join(sys.argv[1:]))
    report = do_bench(options)
    document = report.as_json()
    if write:
        path = write_results(document)
        typer.echo(f"{path} written", err=True)
    if as_json:
        typer.echo(json.dumps(document))
    else:
        print_report(document)


dlq_app = _command_group(
    "dlq", "See what waits in the dead-letter queues and send it back where it failed.\n\n"
           "Example: crudops dlq list --stack Crudops")
DlqArgument = Annotated[str, typer.Argument(
    help="The DLQ: its name, its logical id, or words only its logical id holds "
         "(e.g. create-consumer-dlq).")]


def _where(stack: str | None, local: bool, region: str | None) -> Any:
    from tools.dlq.commands import Where

    return Where(stack=stack, local=local, region=region)


@dlq_app.command("list")
@user_errors_exit
def dlq_list(stack: StackOption = None, local: LocalOption = False,
             region: RegionOption = None,
             as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
             ) -> None:
    """Every DLQ of the stack: how many messages wait, what put them there and where a
    redrive sends them. Exits 1 when any DLQ holds messages, like `crudops status`.

    Example: crudops dlq list --local
    """
    from tools.dlq.commands import do_dlq_list

    queues = do_dlq_list(_where(stack, local, region))
    if as_json:
        typer.echo(json.dumps([q.as_json() for q in queues]))
    else:
        for q in queues:
            typer.echo(f"{q.logical_id:<40} {q.visible:>6} visible {q.in_flight:>4} in flight"
                       f"   from {q.source}")
    if any(q.visible or q.in_flight for q in queues):
        raise typer.Exit(1)


@dlq_app.command("show")
@user_errors_exit
def dlq_show(queue: DlqArgument, stack: StackOption = None, local: LocalOption = False,
             region: RegionOption = None,
             limit: Annotated[int, typer.Option("--max", help="How many messages.")] = 10,
             as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
             ) -> None:
    """The first messages of a DLQ (requestId, operation, receive count, body). They
    stay in the DLQ: each is received and made visible again.

    Example: crudops dlq show create-consumer-dlq --stack Crudops --max 5
    """
    from tools.dlq.commands import do_dlq_show

    dlq, messages = do_dlq_show(_where(stack, local, region), queue, limit=limit)
    for message in messages:
        if as_json:
            typer.echo(json.dumps({"queue": dlq.name, **message.as_json()}))
        else:
            typer.echo(f"{message.message_id}  requestId={message.request_id}  "
                       f"operation={message.command.get('operation')}  receives="
                       f"{message.attributes.get('ApproximateReceiveCount', '?')}")
            typer.echo(f"  {message.body[:300]}")
    if not as_json:
        typer.echo(f"{len(messages)} message(s) shown from {dlq.name}", err=True)


@dlq_app.command("export")
@user_errors_exit
def dlq_export(queue: DlqArgument,
               out: Annotated[Path, typer.Option("--out", help="JSON Lines file to write.")],
               stack: StackOption = None, local: LocalOption = False,
               region: RegionOption = None,
               force: Annotated[bool, typer.Option(
                   "--force", help="Overwrite --out if it exists.")] = False,
               ) -> None:
    """Write every message of a DLQ to a JSON Lines file (body, attributes, message
    attributes), before a redrive or for a bug report. The messages stay in the DLQ.

    Example: crudops dlq export create-consumer-dlq --stack Crudops --out create.jsonl
    """
    from tools.dlq.commands import do_dlq_export

    dlq, count = do_dlq_export(_where(stack, local, region), queue, out, overwrite=force)
    typer.echo(f"{count} message(s) of {dlq.name} written to {out}")
    if count < dlq.visible:
        # A read longer than the visibility timeout sees its first messages again.
        typer.echo(f"warning: the DLQ reported {dlq.visible} visible when the export "
                   "began; run it again to compare", err=True)


@dlq_app.command("redrive")
@user_errors_exit
def dlq_redrive(queue: DlqArgument, stack: StackOption = None, local: LocalOption = False,
                region: RegionOption = None,
                limit: Annotated[int | None, typer.Option(
                    "--max", help="Move at most this many (default: all).")] = None,
                request_id: Annotated[list[str] | None, typer.Option(
                    "--request-id", help="Move only this request's messages (repeatable).")
                ] = None,
                to: Annotated[str | None, typer.Option(
                    "--to", help="Send them to this queue of the stack instead (name, "
                                 "logical id or its words, e.g. read-consumer-queue).")
                ] = None,
                as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
                ) -> None:
    """Move a DLQ's messages back to the queue they failed in (or, for a subscription's
    DLQ, the queue SNS could not deliver to), or with --to to another queue of the
    stack (a command parked by the wrong consumer, once routing is fixed). A message
    is deleted from the DLQ only after SQS confirms its copy was sent: a failure leaves
    it in the DLQ, a crash at worst sends it twice, which the handlers ignore
    (idempotent per requestId). Exits 0 when every chosen message moved, 1 when some did not.

    Example: crudops dlq redrive create-consumer-dlq --stack Crudops --max 100

    Example: crudops dlq redrive create-consumer-dlq --local --to read-consumer-queue
    """
    from tools.dlq.commands import do_dlq_redrive

    bar: Any = None

    def start(dlq: Any) -> None:
        nonlocal bar
        total = len(request_id) if request_id else (
            limit if limit is not None else dlq.visible)
        bar = typer.progressbar(length=max(total, 1), label=f"Redriving {dlq.name}",
                                file=sys.stderr, hidden=as_json)
        bar.__enter__()

    try:
        dlq, report = do_dlq_redrive(_where(stack, local, region), queue, limit=limit,
                                     request_ids=request_id, on_start=start, to=to,
                                     on_moved=lambda n: bar.update(n) if bar else None)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    if as_json:
        typer.echo(json.dumps({"queue": dlq.name, "to": dlq.redrive_url, **report.as_json()}))
    else:
        typer.echo(f"{len(report.moved)} message(s) moved from {dlq.name} to "
                   f"{dlq.redrive_url}" + (f"; {report.skipped} not chosen, left in place"
                                           if report.skipped else ""))
        for message_id, reason in {**report.failed, **report.not_deleted}.items():
            typer.echo(f"  {message_id}: {reason}", err=True)
        for missing in report.missing:
            typer.echo(f"  requestId {missing}: no message in {dlq.name} carries it "
                       "(or another reader held it hidden)", err=True)
        if report.remaining:
            typer.echo(f"warning: {dlq.name} still reports about {report.remaining} "
                       "message(s) (held by another reader, or arrived meanwhile): run "
                       "`crudops dlq list` and redrive again", err=True)
    if not report.ok:
        raise typer.Exit(1)


@app.command()
@user_errors_exit
def load(
    stack: StackOption = None,
    local: LocalOption = False,
    region: RegionOption = None,
    rest_url: Annotated[str | None, typer.Option(
        "--rest-url", help="REST API URL (instead of --stack / --local).")] = None,
    ws_url: Annotated[str | None, typer.Option(
        "--ws-url", help="WebSocket API URL (with --rest-url).")] = None,
    users: Annotated[int, typer.Option(
        "--users", envvar="LOCUST_USERS", help="Concurrent users.")] = 10,
    spawn_rate: Annotated[float, typer.Option(
        "--spawn-rate", envvar="LOCUST_SPAWN_RATE", help="Users started per second.")] = 5.0,
    run_time: Annotated[str, typer.Option(
        "--run-time", envvar="LOCUST_RUN_TIME", help="How long: 90s, 5m, 1h30m.")] = "60s",
    notify_timeout: Annotated[float, typer.Option(
        "--notify-timeout", envvar="LOCUST_NOTIFY_TIMEOUT",
        help="Seconds after a 202 before its notification counts as lost.")] = 30.0,
    csv_prefix: Annotated[Path | None, typer.Option(
        "--csv", help="Keep Locust's CSV files under this prefix.")] = None,
    html: Annotated[Path | None, typer.Option(
        "--html", help="Write Locust's HTML report here.")] = None,
    shape: Annotated[str | None, typer.Option(
        "--shape", help="A load shape instead of --users/--spawn-rate/--run-time: step "
                        "(--step-users more users every --step-seconds, --steps times).")
    ] = None,
    step_users: Annotated[int, typer.Option(
        "--step-users", envvar="LOCUST_STEP_USERS", help="With --shape step.")] = 5,
    step_seconds: Annotated[float, typer.Option(
        "--step-seconds", envvar="LOCUST_STEP_SECONDS", help="With --shape step.")] = 30.0,
    steps: Annotated[int, typer.Option(
        "--steps", envvar="LOCUST_STEPS", help="With --shape step.")] = 4,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Run the Locust scenario (loadtests/): users create, get, list, update and delete
    items, each request timed to its 202 and from its 202 to its WebSocket notification.
    Prints the notification latency per operation; exits 1 when a request failed or a
    notification was lost, 0 otherwise. Locust's own console goes to stderr.

    Example: crudops load --local --users 20 --run-time 2m --html load.html

    Example: crudops load --stack Crudops --shape step --step-users 10 --html steps.html
    """
    from tools.load import LoadOptions, do_load, stack_urls

    if (rest_url is None) != (ws_url is None):
        raise UserError("give both --rest-url and --ws-url, or neither",
                        hint="or use --local / --stack NAME")
    if rest_url is None or ws_url is None:
        rest_url, ws_url = stack_urls(stack=stack, local=local, region=region)
    elif stack is not None or local:
        raise UserError("--rest-url/--ws-url replace --stack and --local; give one way")
    report = do_load(
        LoadOptions(rest_url=rest_url, ws_url=ws_url, users=users, spawn_rate=spawn_rate,
                    run_time=run_time, notify_timeout_seconds=notify_timeout,
                    csv_prefix=csv_prefix, html=html, shape=shape, step_users=step_users,
                    step_seconds=step_seconds, steps=steps),
        on_output=lambda line: typer.echo(line, err=True))
    if as_json:
        typer.echo(json.dumps(report.as_json()))
    else:
        typer.echo(f"{'202 → notification':<20} {'count':>7} {'failed':>7} {'p50 ms':>8} "
                   f"{'p95 ms':>8} {'p99 ms':>8} {'per s':>7}")
        for row in report.notifications:
            typer.echo(f"{row.name:<20} {row.count:>7} {row.failures:>7} {row.p50_ms:>8.0f} "
                       f"{row.p95_ms:>8.0f} {row.p99_ms:>8.0f} {row.per_second:>7.2f}")
        typer.echo(f"lost notifications: {report.lost}")
        for failure, count in {**report.failures, **report.errors}.items():
            typer.echo(f"  {count} x {failure}", err=True)
    if report.exit_code:
        raise typer.Exit(report.exit_code)


@app.callback()
def main() -> None:
    """Build, run and operate crudops.  Example: crudops synth --json"""


if __name__ == "__main__":
    app()
