"""The `crudops` command line: wiring only.

Each command parses its options and calls a `do_…` function and a print function in
the command's own module (tools/<command>.py or tools/<command>/), which hold the
logic, the output and the option rules and are unit-tested without the CLI. Add a
command by writing those and a `@app.command()` here; the options every command
repeats are in tools/options.py. Raise `UserError` for what the user can fix.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from crudops_local.state import RUNS_DIR
from infra.function_names import SHORT_NAMES
from tools.options import (
    DEFAULT_AWS_PORT,
    DEFAULT_GATEWAY_PORT,
    LocalOption,
    RegionOption,
    StackOption,
    emit_report,
    exit_with,
    user_errors_exit,
)
from tools.tokens import DEFAULT_USER

app = typer.Typer(
    name="crudops",
    help="Build, run and operate crudops.\n\nExample: crudops synth --out build/cdk.out --json",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Markdown joins a docstring's wrapped lines into paragraphs for the terminal width.
    rich_markup_mode="markdown",
)

@app.command()
@user_errors_exit
def token(
    stack: Annotated[str, typer.Option(
        "--stack", help="Name of a deployed stack (uses your AWS profile and region).")],
    user: Annotated[str, typer.Option(
        "--user", help="User of the stack's pool, created if it is not there yet.")],
    region: RegionOption = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print one line {user, token, expiresAt} instead of the token alone.")
    ] = False,
) -> None:
    """Print an ID token of a deployed stack's user pool (outputs UserPoolId and
    UserPoolClientId) for USER, created with a fresh random password if needed.

    Example: crudops token --stack Crudops --user alice --json
    """
    from tools.tokens import do_token, print_token

    print_token(do_token(user=user, stack=stack, region=region), as_json)


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
    from tools.synth import do_synth_command

    do_synth_command(out, as_json=as_json)


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
    port: Annotated[int, typer.Option(
        "--port", envvar="CRUDOPS_PORT",
        help="Port of the REST and WebSocket gateways (0: any free port).")
    ] = DEFAULT_GATEWAY_PORT,
    aws_port: Annotated[int, typer.Option(
        "--aws-port", envvar="CRUDOPS_AWS_PORT",
        help="Port of the embedded AWS endpoint (0: any free port; unused with "
             "--aws-endpoint).")] = DEFAULT_AWS_PORT,
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

    Example: crudops local up --demo

    Example: crudops local up --port 0 --aws-port 0

    Example: crudops local up --aws-endpoint aws --region eu-west-1

    Example: crudops local up --service-endpoint dynamodb=http://localhost:8000
    """
    from tools.local.output import do_local_up_command

    do_local_up_command(
        template=template, out=out, host=host, port=port, aws_port=aws_port,
        aws_endpoint=aws_endpoint,
        region=region, service_endpoints=tuple(service_endpoint or ()), workers=workers,
        demo=demo, as_json=as_json)


@local_app.command("env")
@user_errors_exit
def local_env(as_json: Annotated[bool, typer.Option(
        "--json", help="One JSON object of the variables instead of export lines.")] = False,
              ) -> None:
    """Print `export` lines that point the AWS CLI, boto3 and your SDKs at the running
    local stack (its AWS endpoint, region, placeholder keys) and name its gateways
    (CRUDOPS_REST_URL, CRUDOPS_WS_URL).

    Example: eval "$(crudops local env)" && export CRUDOPS_TOKEN=$(crudops local token)

    Example: curl -s -H "Authorization: $CRUDOPS_TOKEN" "$CRUDOPS_REST_URL/items"

    Example: crudops local env --json
    """
    from tools.local.env import do_local_env, print_local_env

    print_local_env(do_local_env(), as_json)


_TOKEN_JSON_HELP = "Print one line {user, token, expiresAt} instead of the token alone."


@local_app.command("token")
@user_errors_exit
def local_token(
    user: Annotated[str, typer.Option(
        "--user", help="User of the local pool, created if it is not there yet.")
    ] = DEFAULT_USER,
    as_json: Annotated[bool, typer.Option("--json", help=_TOKEN_JSON_HELP)] = False,
) -> None:
    """Print an ID token of the running local stack's user pool for USER (default
    crudops-dev), for the API's Authorization header or the WebSocket's ?token=.

    Example: export CRUDOPS_TOKEN=$(crudops local token)

    Example: crudops local token --user alice --json
    """
    from tools.tokens import do_token, print_token

    print_token(do_token(user=user, local=True), as_json)


@local_app.command("down")
@user_errors_exit
def local_down(
    runs_dir: Annotated[Path, typer.Option(
        "--runs-dir", help="Where stacks keep the ledgers of what they created.")
    ] = RUNS_DIR,
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
    from tools.local.output import do_local_down_with_progress, print_down_report

    report = do_local_down_with_progress(runs_dir, force=force, as_json=as_json)
    exit_with(print_down_report(report, as_json))


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
    from tools.demo import do_demo_command

    exit_with(do_demo_command(stack=stack, local=local, region=region, rest_url=rest_url,
                              ws_url=ws_url, as_json=as_json))


@app.command()
@user_errors_exit
def verify(
    stack: StackOption = None,
    local: LocalOption = False,
    region: RegionOption = None,
    commands: Annotated[int, typer.Option(
        "--commands", help="How many commands to send (a quarter are creates).")] = 300,
    rate: Annotated[float, typer.Option("--rate", help="Commands per second.")] = 50.0,
    concurrency: Annotated[int, typer.Option(
        "--concurrency", help="Sending threads (shared items see concurrent updates).")] = 8,
    seed: Annotated[int, typer.Option("--seed", help="The same seed, the same workload.")] = 1,
    settle: Annotated[float | None, typer.Option(
        "--settle", help="Seconds without a new outcome after which what is missing is "
                         "looked for in the DLQs (default: the stack's longest queue "
                         "visibility timeout + 10 s); the wait ends sooner once all "
                         "that is missing sits in a DLQ.")] = None,
    timeout: Annotated[float, typer.Option(
        "--timeout", help="Seconds to wait for the outcomes at most.")] = 300.0,
    faults: Annotated[str | None, typer.Option(
        "--faults", help="Faults injected while the commands are sent. Local stack: "
                         "`all` or some of kill, errors, throttle, conflicts, management, "
                         "duplicates, pause, each optionally =RATE (e.g. errors=0.1). "
                         "--stack: `fis[,duplicates=RATE]` runs the stack's AWS FIS "
                         "experiments (deployed with -c crudops:fis=true) and publishes "
                         "copies of accepted commands again (default 0.05).")
    ] = None,
    redrive: Annotated[bool, typer.Option(
        "--redrive", help="Afterwards, redrive what waits in a DLQ (the faults are off by "
                          "then) and check that the counts close: every command an "
                          "outcome.")] = False,
    as_json: Annotated[bool, typer.Option(
        "--json", help="One JSON object: accepted, outcomes, in_dlq, lost, double_applied, "
                       "…")] = False,
) -> None:
    """Send creates, gets, lists, updates (concurrent ones on shared items, and with
    expectedVersion) and deletes through the API and WebSocket, then check that every
    accepted command has exactly one stored outcome or waits in a DLQ, that every
    subscriber got its outcome, and that each item is what a serial replay of its
    outcomes makes of it. Exits 1 on anything lost or applied twice. Against --stack,
    --local, or with neither the running local stack, else a local stack of its own.

    Also counted, not failures: duplicate notifications (delivery is at least once),
    and subscribes sent again because the first got no answer (the local gateway
    refuses those beyond each connection's queue). "counts closed" says how long the
    last outcome and notification took; with faults, a batch lost with a killed
    worker comes back only after its queue's visibility timeout (minutes on the
    default template, seconds with short function timeouts).

    Example: crudops verify --local --commands 300

    Example: crudops verify --local --commands 300 --faults all --redrive

    Example: crudops verify --stack Crudops --commands 1000 --rate 20 --json

    Example: crudops verify --stack Crudops --commands 300 --faults fis --redrive
    """
    from tools.verify.command import do_verify_command
    from tools.verify.run import RunSettings

    exit_with(do_verify_command(
        stack=stack, local=local, region=region, commands=commands, seed=seed, faults=faults,
        as_json=as_json, redrive=redrive,
        settings=RunSettings(rate=rate, concurrency=concurrency, settle_seconds=settle,
                             timeout_seconds=timeout)))


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
    from tools.dashboard_render import RENDERED_DASHBOARD, do_render_dashboard, print_render_result

    result = do_render_dashboard(out or RENDERED_DASHBOARD, check=check, template=template)
    exit_with(print_render_result(result, check=check))


@app.command()
@user_errors_exit
def openapi(
    output: Annotated[Path | None, typer.Option(
        "--output", help="Where to write (default: docs/openapi.json; `-`: stdout).")] = None,
    template: Annotated[Path | None, typer.Option(
        "--template", help="Describe this synthesized template instead of synthesizing.")
    ] = None,
    check: Annotated[bool, typer.Option(
        "--check", help="Write nothing; exit 1 if the file differs from the code.")] = False,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print {path, changed, written, operations} as JSON.")] = False,
) -> None:
    """Write the REST API's OpenAPI 3.0 description, built from the synthesized
    template (routes, models, the Cognito authorizer, every refusal).

    Example: crudops openapi --check --json
    """
    from tools.openapi import OPENAPI_DOCUMENT, do_openapi, print_openapi_result

    result = do_openapi(output or OPENAPI_DOCUMENT, check=check, template=template)
    exit_with(print_openapi_result(result, check=check, as_json=as_json))


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
    from tools.dashboard.command import DashboardOptions, do_dashboard_command

    do_dashboard_command(
        stack=stack, local=local, region=region, snapshot=snapshot, host=host, port=port,
        options=DashboardOptions(minutes=minutes, period_seconds=period,
                                 refresh_seconds=refresh),
        as_json=as_json)


@app.command()
@user_errors_exit
def status(
    stack: StackOption = None,
    local: LocalOption = False,
    minutes: Annotated[int, typer.Option(
        "--minutes", help="Window for function errors and oldest-message age.")] = 15,
    alarm_prefix: Annotated[str | None, typer.Option(
        "--alarm-prefix", help="Alarms whose names start with this (default: the stack's "
                               "name and a dash, as the stack names its alarms).")] = None,
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
    from tools.status import do_status, do_status_command

    fetch = functools.partial(do_status, stack=stack, local=local, minutes=minutes,
                              alarm_prefix=alarm_prefix, region=region)
    exit_with(do_status_command(fetch, as_json=as_json, problems_only=problems_only,
                                watch=watch, interval_seconds=interval))


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
    exit_with(emit_report(report, as_json, print_report))


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
    from tools.logs.commands import print_logs

    exit_with(print_logs(function, stack=stack, local=local, region=region, since=since,
                         level=level, request_id=request_id, follow=follow,
                         as_json=as_json))


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
    from tools.resource import do_resource, print_resource

    print_resource(do_resource(kind, name, stack=stack, local=local, region=region), as_json)


bench_app = typer.Typer(rich_markup_mode="markdown")
app.add_typer(bench_app, name="bench")


@bench_app.callback(invoke_without_command=True)
@user_errors_exit
def bench(
    context: typer.Context,
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

    Example: crudops bench redrive --depth 1000 --concurrency 1,4
    """
    if context.invoked_subcommand is not None:
        return
    from benchmarks.bench import do_bench
    from tools.bench import bench_options, print_bench

    options = bench_options(
        users=users, duration=duration, backlogs=backlogs, backlog_duration=backlog_duration,
        grace=grace, connections=connections, pacing=pacing,
        budget_requests=budget_requests, workers=workers, drain_timeout=drain_timeout,
        idle_worker_seconds=idle_worker_seconds, template=template,
        record_calls=record_calls, command="crudops " + " ".join(sys.argv[1:]))
    print_bench(do_bench(options).as_json(), write=write, as_json=as_json)


@bench_app.command("redrive")
@user_errors_exit
def bench_redrive(
    depth: Annotated[int, typer.Option(
        help="Messages in the DLQ of each run (b, d).")] = 10_000,
    concurrency: Annotated[str, typer.Option(
        help="Thread counts to measure, comma-separated.")] = "1,4,8",
    memory_depths: Annotated[str, typer.Option(
        "--memory-depths", help="(c) depths of a one-thread redrive, to compare its "
                                "peak memory.")] = "1000,10000",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Measure `crudops dlq redrive` on the embedded SQS server: (a) HTTP requests per
    message moved, (b) messages/s at each --concurrency beside the server's own
    receive+send+delete rate at the same depth, (c) peak memory by depth, (d) lost
    and duplicated messages (every requestId counted). Takes minutes; exits 0 whether
    or not the targets are met (it is a measurement).

    Example: crudops bench redrive --depth 1000 --concurrency 1,4
    """
    from tools.bench import do_bench_redrive, print_bench_redrive

    print_bench_redrive(do_bench_redrive(depth=depth, concurrency=concurrency,
                                         memory_depths=memory_depths), as_json=as_json)


dlq_app = _command_group(
    "dlq", "See what waits in the dead-letter queues and send it back where it failed.\n\n"
           "QUEUE is a short name (create-consumer-dlq, as `dlq list` prints it), a queue "
           "name, a URL or an ARN. With --stack or --local it is looked up in that stack; "
           "with neither, a URL, ARN or name is used with boto3's standard configuration "
           "(AWS_ENDPOINT_URL, AWS_PROFILE, AWS_REGION).\n\n"
           "Example: crudops dlq list --stack Crudops")
DlqArgument = Annotated[str, typer.Argument(
    metavar="QUEUE",
    help="The DLQ: its short name (e.g. create-consumer-dlq) or the start of one, its "
         "name, logical id, URL or ARN.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _where(stack: str | None, local: bool, region: str | None) -> Any:
    """Where a `dlq` subcommand looks (tools/dlq/addressing.py `Where`)."""
    from tools.dlq.addressing import Where

    return Where(stack=stack, local=local, region=region)


@dlq_app.command("list")
@user_errors_exit
def dlq_list(stack: StackOption = None, local: LocalOption = False,
             region: RegionOption = None, as_json: JsonOption = False) -> None:
    """Every DLQ of the stack: its short name, how many messages wait, what put them
    there and where a redrive sends them. Exits 1 when any DLQ holds messages, like
    `crudops status`.

    Example: crudops dlq list --local
    """
    from tools.dlq.commands import do_dlq_list
    from tools.dlq.output import print_dlq_list

    exit_with(print_dlq_list(do_dlq_list(_where(stack, local, region)), as_json))


@dlq_app.command("show")
@user_errors_exit
def dlq_show(queue: DlqArgument, stack: StackOption = None, local: LocalOption = False,
             region: RegionOption = None,
             limit: Annotated[int, typer.Option("--max", help="How many messages.")] = 10,
             no_errors: Annotated[bool, typer.Option(
                 "--no-errors", help="Do not search the function logs for the errors.")
             ] = False,
             as_json: Annotated[bool, typer.Option(
                 "--json", help="Print JSON lines: the export's record and `failure`.")
             ] = False,
             ) -> None:
    """The first messages of a DLQ: requestId and operation (from the body or the
    message attributes), receive count, the error that sent each there (from the
    consumer's logs or the message's attributes, searched within bounds), and the
    body. They stay in the DLQ: each is received and made visible again, which raises
    its receive count by one (SQS has no peek).

    Example: crudops dlq show create-consumer-dlq --stack Crudops --max 5
    """
    from tools.dlq.output import print_dlq_show
    from tools.dlq.show import do_dlq_show

    print_dlq_show(do_dlq_show(_where(stack, local, region), queue, limit=limit,
                               errors=not no_errors), as_json)


RequestIdsOption = Annotated[list[str] | None, typer.Option(
    "--request-id", help="Only this request's messages (repeatable).")]
YesOption = Annotated[bool, typer.Option(
    "--yes", help="Do not ask first (required without a terminal).")]


@dlq_app.command("export")
@user_errors_exit
def dlq_export(queue: DlqArgument,
               to: Annotated[Path, typer.Option(
                   "--to", "--out", help="JSON Lines file to write (--out: the same).")],
               stack: StackOption = None, local: LocalOption = False,
               region: RegionOption = None,
               request_id: RequestIdsOption = None,
               filter_expression: Annotated[str | None, typer.Option(
                   "--filter", help="JMESPath over {body, attributes, receiveCount, "
                                    "sentTimestamp}, as for `dlq redrive`.")] = None,
               older_than: Annotated[str | None, typer.Option(
                   "--older-than", help="Only messages sent longer ago: 30s, 15m, 1h, 2d.")
               ] = None,
               delete: Annotated[bool, typer.Option(
                   "--delete", help="Delete each message from the DLQ once its line is "
                                    "written and fsynced.")] = False,
               yes: YesOption = False,
               force: Annotated[bool, typer.Option(
                   "--force", help="Overwrite the file if it exists.")] = False,
               as_json: Annotated[bool, typer.Option(
                   "--json", help="Print {queue, file, written, deleted, ...}.")] = False,
               ) -> None:
    """Write a DLQ's messages to a JSON Lines file, one line each: body, message
    attributes (Binary in base64), system attributes (AWSTraceHeader, FIFO ids,
    timestamps), receive count. `crudops dlq replay` sends them back. The messages
    stay in the DLQ unless --delete, which deletes only what is on disk (asking first).
    Exits 0 when everything chosen was written (and deleted), 1 when not.

    Example: crudops dlq export create-consumer-dlq --stack Crudops --to create.jsonl

    Example: crudops dlq export create-consumer-dlq --local --to parked.jsonl --delete --yes

    Example: crudops dlq export read-consumer-dlq --local --to old.jsonl --older-than 1h
    """
    from tools.dlq.export import chosen_by
    from tools.dlq.output import do_dlq_export_with_progress, print_dlq_export
    from tools.dlq.selection import selection

    report = do_dlq_export_with_progress(
        _where(stack, local, region), queue, to, as_json=as_json, request_ids=request_id,
        select=chosen_by(selection(expression=filter_expression, older_than=older_than)),
        delete_written=delete, overwrite=force, yes=yes)
    exit_with(print_dlq_export(report, as_json))


@dlq_app.command("replay")
@user_errors_exit
def dlq_replay(file: Annotated[Path, typer.Argument(
                   help="A JSON Lines file `crudops dlq export` wrote.")],
               to: Annotated[str, typer.Option(
                   "--to", help="The stack's queue to send them to (name, logical id or "
                                "its words, e.g. create-consumer-queue).")],
               stack: StackOption = None, local: LocalOption = False,
               region: RegionOption = None,
               lines: Annotated[str | None, typer.Option(
                   "--lines", help="Only these lines of the file, e.g. 4,9-12 (what a "
                                   "failed run prints).")] = None,
               request_id: RequestIdsOption = None,
               dry_run: Annotated[bool, typer.Option(
                   "--dry-run", help="Check the file and show what would be sent; send "
                                     "nothing.")] = False,
               yes: YesOption = False,
               as_json: Annotated[bool, typer.Option(
                   "--json", help="Print {sent, sent_lines, failed, retry_lines, ...}.")
               ] = False,
               ) -> None:
    """Send the messages of an export to a queue again: bodies and message attributes
    exactly as exported, with their trace header; into a FIFO queue with their
    MessageGroupId, deduplicated by their exported message id. Asks first unless --yes.
    Reports the lines sent and those that failed; --lines sends only those again.
    Exits 0 when every chosen line was sent, 1 when some were not.

    Example: crudops dlq replay create.jsonl --to create-consumer-queue --local --dry-run

    Example: crudops dlq replay create.jsonl --to create-consumer-queue --stack Crudops --yes
    """
    from tools.dlq.output import do_dlq_replay_with_progress, print_dlq_replay
    from tools.dlq.replay import parse_lines

    report = do_dlq_replay_with_progress(
        _where(stack, local, region), file, to, as_json=as_json, dry_run=dry_run, yes=yes,
        lines=parse_lines(lines) if lines is not None else None, request_ids=request_id)
    exit_with(print_dlq_replay(report, as_json))


@dlq_app.command("delete")
@user_errors_exit
def dlq_delete(queue: DlqArgument,
               message_id: Annotated[list[str], typer.Option(
                   "--message-id", help="A message to delete (repeatable): the id `crudops "
                                        "dlq show` prints.")],
               stack: StackOption = None, local: LocalOption = False,
               region: RegionOption = None, yes: YesOption = False,
               as_json: Annotated[bool, typer.Option(
                   "--json", help="Print {copy, deleted, not_deleted, missing}.")] = False,
               ) -> None:
    """Delete chosen messages from a DLQ, each only after its copy is written and
    fsynced to .crudops/deleted/<time>-<queue>.jsonl (which `crudops dlq replay` can
    send back). Asks first unless --yes. Exits 0 when every named message was deleted,
    1 when one was not found or not deleted.

    With --json, `crudops dlq show` prints each message's `messageId`.

    Example: crudops dlq delete create-consumer-dlq --local --message-id "$MESSAGE_ID"
    """
    from tools.dlq.delete import do_dlq_delete
    from tools.dlq.output import print_dlq_delete

    exit_with(print_dlq_delete(do_dlq_delete(_where(stack, local, region), queue, message_id,
                                             yes=yes), as_json))


@dlq_app.command("purge")
@user_errors_exit
def dlq_purge(queue: DlqArgument, stack: StackOption = None, local: LocalOption = False,
              region: RegionOption = None,
              no_export: Annotated[bool, typer.Option(
                  "--no-export", help="Keep no copy.")] = False,
              yes: YesOption = False,
              as_json: Annotated[bool, typer.Option(
                  "--json", help="Print {copy, exported, reported_before, ...}.")] = False,
              ) -> None:
    """Empty a DLQ with SQS's PurgeQueue, after copying what can be read to
    .crudops/deleted/<time>-<queue>.jsonl (unless --no-export). Only the copied
    messages are certainly saved: what arrives meanwhile, or another reader holds, is
    purged without a copy (`crudops dlq export --delete` loses nothing instead). SQS
    allows one purge per queue a minute. Asks first unless --yes. Exits 0 when the
    copy holds all the DLQ reported, 1 when some were purged without a copy.

    Example: crudops dlq purge create-consumer-dlq --local --yes
    """
    from tools.dlq.output import do_dlq_purge_with_progress, print_dlq_purge

    exit_with(print_dlq_purge(do_dlq_purge_with_progress(
        _where(stack, local, region), queue, as_json=as_json, export=not no_export, yes=yes),
        as_json))


@dlq_app.command("tasks")
@user_errors_exit
def dlq_tasks(queue: DlqArgument, stack: StackOption = None, local: LocalOption = False,
              region: RegionOption = None,
              as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
              ) -> None:
    """The DLQ's last SQS message move tasks (ListMessageMoveTasks: SQS keeps ten):
    status, messages moved and left, rate, destination, and why one failed. Exits 1
    when one failed. (The local stack's emulator has no move tasks.)

    Example: crudops dlq tasks create-consumer-dlq --stack Crudops
    """
    from tools.dlq.native import do_dlq_tasks
    from tools.dlq.output import print_dlq_tasks

    dlq, tasks = do_dlq_tasks(_where(stack, local, region), queue)
    exit_with(print_dlq_tasks(dlq, tasks, as_json))


@dlq_app.command("cancel")
@user_errors_exit
def dlq_cancel(queue: DlqArgument, stack: StackOption = None, local: LocalOption = False,
               region: RegionOption = None,
               as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
               ) -> None:
    """Cancel the DLQ's running SQS message move task (CancelMessageMoveTask); what it
    moved stays moved, the rest stays in the DLQ. Exits 2 when none is running.

    Example: crudops dlq cancel create-consumer-dlq --stack Crudops
    """
    from tools.dlq.native import do_dlq_cancel
    from tools.dlq.output import print_dlq_cancel

    print_dlq_cancel(do_dlq_cancel(_where(stack, local, region), queue), as_json)


@dlq_app.command("redrive")
@user_errors_exit
def dlq_redrive(
    queue: DlqArgument, stack: StackOption = None, local: LocalOption = False,
    region: RegionOption = None,
    to: Annotated[str | None, typer.Option(
        "--to", help="Send them to this queue instead (short name such as "
                     "read-consumer-queue, name, URL or ARN).")] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Show what would move (count, per operation, oldest, a sample) "
                          "and change nothing but the receive counts of one read.")] = False,
    yes: Annotated[bool, typer.Option(
        "--yes", help="Do not ask before moving (required without a terminal).")] = False,
    filter_expression: Annotated[str | None, typer.Option(
        "--filter", help="JMESPath over {body, attributes, receiveCount, sentTimestamp}, "
                         "e.g. \"body.operation == 'create'\" (body parsed when JSON).")
    ] = None,
    request_id: Annotated[list[str] | None, typer.Option(
        "--request-id", help="Move only this request's messages (repeatable).")] = None,
    older_than: Annotated[str | None, typer.Option(
        "--older-than", help="Only messages sent longer ago than this: 30s, 15m, 1h, 2d.")
    ] = None,
    limit: Annotated[int | None, typer.Option(
        "--max", help="Move at most this many (default: all chosen).")] = None,
    rate: Annotated[str | None, typer.Option(
        "--rate", help="At most this many messages per second, all threads together "
                       "(e.g. 50/s).")] = None,
    concurrency: Annotated[int, typer.Option(
        "--concurrency", help="Threads, each its own receive/send/delete loop.")] = 1,
    visibility_timeout: Annotated[int | None, typer.Option(
        "--visibility-timeout", metavar="SECONDS",
        help="How long each message this run holds stays hidden from other readers "
             "(extended while it is sent; 5..43200, default 30, on --resume the run's). "
             "After a crash or kill -9 the resumed run waits this long for them.")] = None,
    resume: Annotated[str | None, typer.Option(
        "--resume", metavar="RUN", help="Continue the interrupted run RUN (its id is "
                                        "printed when it starts), from its journal.")] = None,
    native: Annotated[bool, typer.Option(
        "--native", help="On AWS: start SQS's own message move task for the whole queue "
                         "(--rate is its MaxNumberOfMessagesPerSecond, up to 500); follow "
                         "it with `crudops dlq tasks`, stop it with `crudops dlq cancel`.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Move a DLQ's messages back to the queue they failed in (for a subscription's
    DLQ, the queue SNS could not deliver to), or with --to to another queue. A message
    is deleted from the DLQ only after SQS confirms its copy was sent, and each step is
    journaled in .crudops/redrive/RUN.jsonl: a run stopped anywhere (Ctrl-C, a crash,
    kill -9) resumed with --resume RUN sends nothing again that SQS confirmed. Asks
    before moving unless --yes. Exits 0 when every chosen message moved, 1 when some
    did not, 130 when interrupted (it prints the --resume line), 2 for a usage error.

    Example: crudops dlq redrive create-consumer-dlq --stack Crudops --dry-run

    Example: crudops dlq redrive create-consumer-dlq --stack Crudops --max 100 --yes

    Example: crudops dlq redrive create-consumer-dlq --local --to read-consumer-queue --yes

    Example: crudops dlq redrive create-consumer-dlq --stack Crudops --native --rate 100
    """
    from tools.dlq.redrive_command import run_redrive_command

    exit_with(run_redrive_command(
        _where(stack, local, region), queue, to=to, dry_run=dry_run, yes=yes,
        filter_expression=filter_expression, request_ids=request_id, older_than=older_than,
        limit=limit, rate=rate, concurrency=concurrency, resume=resume, as_json=as_json,
        native=native, visibility_seconds=visibility_timeout, command_line=sys.argv[1:]))


@app.command(context_settings={"allow_extra_args": True})
@user_errors_exit
def load(
    ctx: typer.Context,
    stack: StackOption = None,
    local: LocalOption = False,
    region: RegionOption = None,
    rest_url: Annotated[str | None, typer.Option(
        "--rest-url", help="REST API URL (instead of --stack / --local).")] = None,
    ws_url: Annotated[str | None, typer.Option(
        "--ws-url", help="WebSocket API URL (with --rest-url).")] = None,
    mode: Annotated[str, typer.Option(
        "--mode", envvar="LOCUST_MODE",
        help="open: commands at --rate whatever the stack does; closed: each user waits "
             "for its notification before its next command.")] = "open",
    rate: Annotated[float, typer.Option(
        "--rate", envvar="LOCUST_RATE",
        help="Open loop: commands per second over all users (times the shape's level).")
    ] = 10.0,
    users: Annotated[int, typer.Option(
        "--users", envvar="LOCUST_USERS",
        help="Users (open loop: WebSocket connections the rate is split over).")] = 10,
    spawn_rate: Annotated[float, typer.Option(
        "--spawn-rate", envvar="LOCUST_SPAWN_RATE",
        help="Closed loop: users started per second.")] = 5.0,
    run_time: Annotated[str, typer.Option(
        "--run-time", envvar="LOCUST_RUN_TIME",
        help="How long (not the step shape): 90s, 5m, 1h30m.")] = "60s",
    mix: Annotated[str, typer.Option(
        "--mix", envvar="LOCUST_MIX",
        help="Open loop: crud, create-heavy, read-heavy or conflict (updates with "
             "expectedVersion on --shared-items items; conflicts are expected).")] = "crud",
    shared_items: Annotated[int, typer.Option(
        "--shared-items", envvar="LOCUST_SHARED_ITEMS", help="Conflict mix.")] = 5,
    notify_timeout: Annotated[float, typer.Option(
        "--notify-timeout", envvar="LOCUST_NOTIFY_TIMEOUT",
        help="Seconds after a 202 before its notification counts as lost.")] = 30.0,
    shape: Annotated[str, typer.Option(
        "--shape", envvar="LOCUST_SHAPE",
        help="constant, step (--steps of --step-seconds, level 1, 2, 3...), spike "
             "(--spike-factor x from --spike-at for --spike-seconds), ramp (0 up to the "
             "base over --ramp-seconds), soak. Open loop: the rate follows it; closed: "
             "the users.")] = "constant",
    step_seconds: Annotated[float, typer.Option(
        "--step-seconds", envvar="LOCUST_STEP_SECONDS", help="Step shape.")] = 30.0,
    steps: Annotated[int, typer.Option(
        "--steps", envvar="LOCUST_STEPS", help="Step shape.")] = 4,
    spike_at: Annotated[float, typer.Option(
        "--spike-at", envvar="LOCUST_SPIKE_AT", help="Spike shape: seconds before it.")
    ] = 10.0,
    spike_seconds: Annotated[float, typer.Option(
        "--spike-seconds", envvar="LOCUST_SPIKE_SECONDS", help="Spike shape.")] = 20.0,
    spike_factor: Annotated[float, typer.Option(
        "--spike-factor", envvar="LOCUST_SPIKE_FACTOR", help="Spike shape.")] = 3.0,
    ramp_seconds: Annotated[float, typer.Option(
        "--ramp-seconds", envvar="LOCUST_RAMP_SECONDS",
        help="Ramp shape (0: the whole run).")] = 0.0,
    processes: Annotated[int, typer.Option(
        "--processes", envvar="LOCUST_PROCESSES",
        help="Locust worker processes on this machine (-1: one per core); the report "
             "merges their statistics. Over the network: docs/adr/0022.")] = 0,
    slo: Annotated[list[str] | None, typer.Option(
        "--slo", envvar="CRUDOPS_LOAD_SLO",
        help="An SLO the run must meet (repeatable; the variable holds several, "
             "space-separated): notify.p99<=1s, notify.create.p95<=500ms, e2e.p99<=2s, "
             "http.p99<=200ms, lost==0, errors<=0.1%, conflicts<=50%, notified/s>=40. "
             "Default: lost==0 errors==0.")] = None,
    slo_file: Annotated[Path | None, typer.Option(
        "--slo-file", envvar="CRUDOPS_LOAD_SLO_FILE",
        help="More SLOs, one a line (# comments).")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Write the report here: report.html, PNG plots, summary.json, "
                      "Locust's CSV and HTML.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Load the stack with Locust's crudops scenario (loadtests/) and gate the run on
    SLOs. Each command is timed to its 202, from its 202 to its WebSocket notification
    and from sending it to the notification; a notification missing after
    --notify-timeout is lost. Targets: --stack, --local, --rest-url/--ws-url, or none
    (the running local stack, else one started for the run). Locust's own options go
    after `--`, unchanged. Exits 0 when every SLO is met, 1 when one is missed, 2 on a
    usage error. Locust's console goes to stderr.

    Example: crudops load --local --rate 20 --run-time 30s --slo "notify.p99<=1s" --out load-report

    Example: crudops load --stack Crudops --shape step --rate 10 --steps 5 --slo "lost==0"

    Example: crudops load --local --mode closed --users 5 --run-time 20s -- --loglevel WARNING
    """
    from tools.errors import interrupted
    from tools.load.options import LoadOptions
    from tools.load.output import print_load_result
    from tools.load.run import do_load_command
    from tools.load.slo import slos_from

    options = LoadOptions(
        rest_url="", ws_url="", mode=mode, users=users, rate=rate, spawn_rate=spawn_rate,
        run_time=run_time, mix=mix, shared_items=shared_items,
        notify_timeout_seconds=notify_timeout, shape=shape, step_seconds=step_seconds,
        steps=steps, spike_at_seconds=spike_at, spike_seconds=spike_seconds,
        spike_factor=spike_factor, ramp_seconds=ramp_seconds, processes=processes,
        slos=tuple(slos_from(slo or [], slo_file)), out=out, locust_args=tuple(ctx.args))
    try:
        result = do_load_command(
            options, rest_url=rest_url, ws_url=ws_url, stack=stack, local=local,
            region=region, on_output=lambda line: typer.echo(line, err=True),
            on_status=lambda line: typer.echo(line, err=True))
    except KeyboardInterrupt:
        raise interrupted() from None
    exit_with(print_load_result(result, as_json))


@app.callback()
def main() -> None:
    """Build, run and operate crudops.  Example: crudops synth --json"""


if __name__ == "__main__":
    app()
