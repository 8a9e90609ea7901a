"""`crudops verify`: the run against a stack, its verdict, and what it prints.

The target is `--stack NAME`, `--local`, or with neither the running local stack
(its state file), else a local stack of the command's own, stopped afterwards.
Exit code 0: nothing lost, nothing applied twice; 1: the report says what was.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import typer

from crudops_local.faults import FaultPlan, write_plan
from tools.aws_errors import aws_errors_as_user_errors
from tools.dlq.addressing import Where
from tools.dlq.commands import do_dlq_redrive
from tools.dlq.discovery import dead_letter_queues
from tools.dlq.messages import peek
from tools.dlq.selection import selection
from tools.errors import UserError
from tools.stacks import (
    ITEMS_TABLE,
    OUTCOMES_TABLE,
    QUEUE_TYPE,
    STATE_FILE,
    Resource,
    StackTarget,
    gateway_urls,
    resolve_stack_target,
    resources_of_type,
    stack_table,
)
from tools.tokens import api_tokens, token_sub
from tools.verify.conservation import VerifyReport, check
from tools.verify.duplicates import Duplicator, commands_topic_arn
from tools.verify.fis import Experiments, FisFaults, experiment_template_ids
from tools.verify.run import (
    SETTLE_MARGIN_SECONDS,
    Facts,
    Progress,
    RunSettings,
    Tables,
    run_workload,
    wait_for_outcomes,
)
from tools.verify.workload import plan

MIN_COMMANDS = 4
BeforeCheck = Callable[[StackTarget, Facts], None]


def parked_in_dlqs(target: StackTarget, wanted: set[str]) -> dict[str, set[str]]:
    """Which of `wanted` sit in which of the stack's DLQs, by the DLQ's URL (peeked:
    their receive counts rise by one, nothing is removed)."""
    if not wanted:
        return {}
    sqs = target.clients("sqs")
    found: dict[str, set[str]] = {}
    for dlq in dead_letter_queues(target.clients, target.resources()):
        if dlq.visible or dlq.in_flight:
            messages, _receives = peek(sqs, dlq.url)
            ids = {m.request_id for m in messages if m.request_id in wanted}
            if ids:
                found[dlq.url] = {i for i in ids if i is not None}
    return found


def request_ids_in_dlqs(target: StackTarget, wanted: set[str]) -> set[str]:
    found: set[str] = set()
    for ids in parked_in_dlqs(target, wanted).values():
        found.update(ids)
    return found


def longest_visibility(target: StackTarget, resources: list[Resource]) -> float:
    """The longest VisibilityTimeout of the stack's queues, in seconds."""
    sqs = target.clients("sqs")
    return max((float(sqs.get_queue_attributes(
        QueueUrl=queue.physical_id, AttributeNames=["VisibilityTimeout"])["Attributes"][
        "VisibilityTimeout"]) for queue in resources_of_type(resources, QUEUE_TYPE)),
        default=0.0)


def fault_file(target: StackTarget, faults: FaultPlan | None) -> Path | None:
    """Where the plan goes: the local stack's fault file (none without faults)."""
    if faults is None or not faults.active:
        return None
    described = target.described
    if described is None or described.fault_plan is None:
        raise UserError("--faults is for the local stack (it injects them itself)",
                        hint="run with --local, or against `crudops local up`")
    return described.fault_plan


Redrive = Callable[[dict[str, set[str]]], None]


def verify_on(target: StackTarget, rest_url: str, ws_url: str, *, commands: int, seed: int,
              settings: RunSettings, on_progress: Progress, faults: FaultPlan | None = None,
              before_check: BeforeCheck | None = None,
              redrive: Redrive | None = None, token: str | None = None,
              fis: FisFaults | None = None) -> VerifyReport:
    """With `faults`, the plan is in force while the commands are sent; it is removed
    before the wait for outcomes (and on any failure), so what it parked can settle.
    With `fis`, the stack's FIS experiments run instead, over the same span (started
    and running before the first command, stopped once the last is sent, and on any
    failure), and copies of accepted commands are published again (`duplicates`).
    With `redrive`, what waits in a DLQ afterwards is sent back (the faults are off by
    then), its outcomes awaited, and the counts checked again: they must close."""
    resources = target.resources()
    if settings.settle_seconds is None:
        settings = replace(settings, settle_seconds=longest_visibility(target, resources)
                           + SETTLE_MARGIN_SECONDS)
    tables = Tables(target.clients("dynamodb"), stack_table(resources, OUTCOMES_TABLE),
                    stack_table(resources, ITEMS_TABLE),
                    owner=token_sub(token) if token else None)
    run_id = secrets.token_hex(3)
    experiments, duplicator = _fis_parts(target, resources, fis, run_id=run_id, seed=seed,
                                         token=token)
    plan_file = fault_file(target, faults)
    if plan_file is not None and faults is not None:
        write_plan(plan_file, faults)

    def after_sending() -> None:
        _remove(plan_file)
        if experiments is not None:
            experiments.stop()

    try:
        with contextlib.ExitStack() as running:
            if experiments is not None:
                on_progress("experiments", 0, len(experiments.template_ids))
                running.enter_context(experiments)
                on_progress("experiments", len(experiments.template_ids),
                            len(experiments.template_ids))
            facts = run_workload(plan(commands, seed), rest_url=rest_url, ws_url=ws_url,
                                 tables=tables, run_id=run_id, settings=settings,
                                 on_progress=on_progress, after_sending=after_sending,
                                 token=token,
                                 parked=lambda ids: request_ids_in_dlqs(target, ids),
                                 on_accepted=duplicator)
    finally:
        _remove(plan_file)
    if before_check is not None:
        before_check(target, facts)
    outcomes = tables.outcomes([a.request_id for a in facts.accepted])
    missing = {a.request_id for a in facts.accepted} - set(outcomes)
    parked = parked_in_dlqs(target, missing)
    in_dlq = {request_id for ids in parked.values() for request_id in ids}
    report = check(facts.accepted, outcomes, in_dlq, facts.notifications,
                   tables.items(facts.item_ids), rejected=facts.rejected)
    report.resubscribed = facts.resubscribed
    if facts.timeline is not None:
        report.timings = facts.timeline.as_json()
    report.faults = faults.active if faults is not None else []
    if fis is not None:
        report.faults = fis.names
    if experiments is not None:
        report.experiments = [record.as_json() for record in experiments.records]
        for problem in experiments.problems():
            report.problem(problem)
        report.experiments_not_ended = len(experiments.problems())
    if duplicator is not None:
        report.duplicates_sent = duplicator.sent
    if redrive is not None and parked:
        redrive_started = time.monotonic()
        redrive(parked)
        settled = wait_for_outcomes(tables, [a for a in facts.accepted
                                             if a.request_id in in_dlq], settings,
                                    lambda d, t: on_progress("redriven", d, t),
                                    lambda ids: request_ids_in_dlqs(target, ids))
        report.timings["redrive_seconds"] = round(settled.at - redrive_started, 1)
        outcomes.update(settled.outcomes)
        still = parked_in_dlqs(target, {r for r in in_dlq if r not in settled.outcomes})
        after = check(facts.accepted, outcomes,
                      {request_id for ids in still.values() for request_id in ids},
                      facts.notifications, tables.items(facts.item_ids),
                      rejected=facts.rejected)
        report.redriven = len(in_dlq)
        report.after_redrive = {"outcomes": after.outcomes, "in_dlq": after.in_dlq,
                                "lost": after.lost, "double_applied": after.double_applied,
                                "lost_updates": after.lost_updates}
        report.lost, report.double_applied = after.lost, after.double_applied
        report.lost_updates = after.lost_updates
    return report


def _fis_parts(target: StackTarget, resources: list[Resource], fis: FisFaults | None, *,
               run_id: str, seed: int, token: str | None
               ) -> tuple[Experiments | None, Duplicator | None]:
    """The stack's experiments and the duplicator `--faults fis` asks for (neither
    without it); user errors, before anything is sent, for a stack without them."""
    if fis is None:
        return None, None
    experiments = Experiments(target.clients("fis"),
                              experiment_template_ids(target.name, resources),
                              run_id=run_id, ramp_up_seconds=fis.ramp_up_seconds)
    if fis.duplicates <= 0:
        return experiments, None
    if token is None:
        raise UserError("--faults fis with duplicates needs the caller's token (the "
                        "copies carry its owner)", hint="is it a crudops stack with its "
                        "user pool? or --faults fis,duplicates=0")
    return experiments, Duplicator(target.clients("sns"), commands_topic_arn(resources),
                                   owner=token_sub(token), rate=fis.duplicates, seed=seed)


def redrive_parked(where: Where, parked: dict[str, set[str]]) -> None:
    """`crudops dlq redrive` of exactly the run's parked commands, DLQ by DLQ."""
    for url, request_ids in parked.items():
        do_dlq_redrive(where, url, selection=selection(request_ids=request_ids),
                       confirm=lambda question: None)


def _remove(plan_file: Path | None) -> None:
    if plan_file is not None:
        plan_file.unlink(missing_ok=True)


def do_verify(*, stack: str | None, local: bool, region: str | None, commands: int,
              seed: int, settings: RunSettings, on_progress: Progress,
              faults: FaultPlan | None = None, local_state_file: Path = STATE_FILE,
              before_check: BeforeCheck | None = None,
              redrive: bool = False, fis: FisFaults | None = None) -> VerifyReport:
    if fis is not None and (local or stack is None):
        raise UserError("--faults fis starts the AWS FIS experiments of a deployed stack",
                        hint="crudops verify --stack Crudops --faults fis; on the local "
                             "stack use --faults all")
    if commands < MIN_COMMANDS:
        raise UserError(f"--commands {commands} is too few", hint=f"at least {MIN_COMMANDS}")
    if settings.rate <= 0 or settings.concurrency < 1:
        raise UserError("--rate must be above 0 and --concurrency at least 1")

    def on(stack_name: str | None, is_local: bool) -> VerifyReport:
        target = resolve_stack_target(stack=stack_name, local=is_local,
                                      local_state_file=local_state_file, region=region,
                                      command="verify")
        urls = gateway_urls(rest_url=None, ws_url=None, stack=stack_name, local=is_local,
                            region=region, both_hint="", local_state_file=local_state_file)
        assert urls is not None
        where = Where(stack=stack_name, local=is_local, local_state_file=local_state_file,
                      region=region)
        token = api_tokens(stack=stack_name, local=is_local, region=region,
                           local_state_file=local_state_file)[0]
        with aws_errors_as_user_errors(local=is_local):
            return verify_on(target, *urls, commands=commands, seed=seed, settings=settings,
                             on_progress=on_progress, faults=faults,
                             before_check=before_check,
                             redrive=(lambda parked: redrive_parked(where, parked))
                             if redrive else None, token=token, fis=fis)

    if stack is not None or local or local_state_file.is_file():
        return on(stack, local or stack is None)
    from tools.local.up import own_local_stack

    with own_local_stack():
        return on(None, True)


def print_verify(report: VerifyReport, as_json: bool) -> int:
    if as_json:
        typer.echo(json.dumps(report.as_json()))
        return 0 if report.ok else 1
    from rich.console import Console
    from rich.table import Table

    table = Table(title="crudops verify")
    columns = ("accepted", "outcomes", "in_dlq", "lost", "conflicts", "errors")
    table.add_column("operation")
    for column in columns:
        table.add_column(column.replace("_", " "), justify="right")
    for operation, counts in sorted(report.by_operation.items()):
        table.add_row(operation, *(str(getattr(counts, c)) for c in columns))
    table.add_row("all", str(report.accepted), str(report.outcomes), str(report.in_dlq),
                  str(report.lost), str(report.conflicts),
                  str(sum(c.errors for c in report.by_operation.values())), style="bold")
    console = Console()
    console.print(table)
    console.print(f"notified {report.notified}, not notified {report.notifications_lost}, "
                  f"subscribed again {report.resubscribed}, "
                  f"duplicate notifications {report.duplicate_notifications}, differing "
                  f"{report.notification_mismatches}; items replayed {report.items_checked}: "
                  f"double applied {report.double_applied}, lost updates "
                  f"{report.lost_updates}; refused by the API {report.rejected}")
    if report.faults:
        console.print(f"faults injected while sending: {', '.join(report.faults)}")
    for experiment in report.experiments:
        console.print(f"FIS experiment {experiment['experiment']} (template "
                      f"{experiment['template']}): {experiment['state']}"
                      + (f", {experiment['reason']}" if experiment["reason"] else ""))
    if report.duplicates_sent:
        console.print(f"copies of accepted commands published again: "
                      f"{report.duplicates_sent}")
    if report.after_redrive is not None:
        after = report.after_redrive
        console.print(f"redriven {report.redriven} parked command(s): outcomes "
                      f"{after['outcomes']} of {report.accepted}, still in a DLQ "
                      f"{after['in_dlq']}, lost {after['lost']}")
    if report.timings:
        console.print(_timings_line(report.timings))
    for problem in report.problems:
        console.print(f"  [red]{problem}[/red]")
    console.print("[green]ok: nothing lost, nothing applied twice[/green]" if report.ok
                  else "[red]FAILED: see above[/red]")
    return 0 if report.ok else 1


def _timings_line(timings: dict[str, float]) -> str:
    line = (f"counts closed: sent in {timings['sending_seconds']:.0f} s, the last outcome "
            f"{timings['outcomes_seconds']:.0f} s after the last command, the last "
            f"notification {timings['notifications_seconds']:.0f} s after that")
    if "redrive_seconds" in timings:
        line += f"; redriven ones {timings['redrive_seconds']:.0f} s after the redrive began"
    return line


def verify_with_progress(*, stack: str | None, local: bool, region: str | None,
                         commands: int, seed: int, settings: RunSettings,
                         faults: FaultPlan | None, redrive: bool = False,
                         fis: FisFaults | None = None) -> VerifyReport:
    """`do_verify` with a progress bar on stderr for each stage."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

    with Progress(TextColumn("{task.description:<14}"), BarColumn(), MofNCompleteColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def on_progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        return do_verify(stack=stack, local=local, region=region, commands=commands,
                         seed=seed, settings=settings, on_progress=on_progress, faults=faults,
                         redrive=redrive, fis=fis)


def do_verify_command(*, stack: str | None, local: bool, region: str | None, commands: int,
                      seed: int, settings: RunSettings, faults: str | None,
                      as_json: bool, redrive: bool = False) -> int:
    """The whole command: run, print, exit code; Ctrl-C is one line and exit 130."""
    from tools.errors import interrupted

    try:
        fis = FisFaults.parse(faults) if faults else None
        plan_of_faults = FaultPlan.parse(faults) if faults and fis is None else None
    except ValueError as exc:
        raise UserError(f"--faults: {exc}", hint="e.g. --faults all, or "
                        "--faults kill,errors=0.1,duplicates; on AWS --faults fis") from None
    try:
        report = verify_with_progress(stack=stack, local=local, region=region,
                                      commands=commands, seed=seed, settings=settings,
                                      faults=plan_of_faults, redrive=redrive, fis=fis)
    except KeyboardInterrupt:
        raise interrupted() from None
    return print_verify(report, as_json)
