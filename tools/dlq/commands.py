"""The `crudops dlq` subcommands' logic, on a deployed stack (`--stack`), the local one
(`--local`) or, with neither, a queue named by URL, ARN or name in boto3's standard
configuration (tools/dlq/addressing.py); the CLI in tools/cli.py only parses and prints."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Final

from tools.aws_errors import aws_errors_as_user_errors
from tools.dlq.addressing import Where, is_queue_arn, is_queue_url, queue_url_of
from tools.dlq.discovery import (
    DeadLetterQueue,
    dead_letter_queues,
    find_dead_letter_queue,
    find_queue_url,
    standalone_dead_letter_queue,
)
from tools.dlq.journal import JOURNAL_DIR, Journal, JournalState, new_run_id
from tools.dlq.preview import Preview, preview
from tools.dlq.redrive import VISIBILITY_SECONDS, Progress, Redrive, RedrivePlan, RedriveReport
from tools.dlq.selection import Selection
from tools.errors import UserError
from tools.stacks import StackTarget, queue_name

__all__ = ["Where", "do_dlq_list", "do_dlq_redrive", "do_dlq_redrive_preview",
           "parse_rate", "redrive_target"]

MAX_CONCURRENCY: Final = 32
# SQS's bounds of a visibility timeout; below 5 s a slow send could outlive the hold.
MIN_VISIBILITY_SECONDS: Final = 5
MAX_VISIBILITY_SECONDS: Final = 12 * 3600
EVERYTHING: Final = Selection()
_RATE: Final = re.compile(r"^\s*(\d+)\s*(?:/\s*s)?\s*$")


def do_dlq_list(where: Where) -> list[DeadLetterQueue]:
    if where.standalone:
        raise UserError("`dlq list` reads a stack's DLQs: give --stack NAME or --local",
                        hint="crudops dlq list --local, or crudops dlq list --stack Crudops")
    target = where.target("dlq list")
    with aws_errors_as_user_errors(local=where.local):
        return dead_letter_queues(target.clients, target.resources())


def _one(where: Where, queue: str, command: str) -> tuple[StackTarget, DeadLetterQueue]:
    target = where.target(command)
    with aws_errors_as_user_errors(local=where.local):
        sqs = target.clients("sqs")
        if where.standalone:
            try:
                url = queue_url_of(sqs, queue)
            except UserError as exc:
                raise UserError(exc.message, hint="a short name such as create-consumer-dlq "
                                "needs --stack NAME or --local; otherwise give the queue's "
                                "URL, ARN or name") from exc
            return target, standalone_dead_letter_queue(sqs, url)
        queues = dead_letter_queues(target.clients, target.resources())
        try:
            return target, find_dead_letter_queue(queues, queue)
        except UserError:
            if not (is_queue_url(queue) or is_queue_arn(queue)):
                raise
        # A queue outside the stack, on the stack's endpoint and credentials.
        return target, standalone_dead_letter_queue(sqs, queue_url_of(sqs, queue))


def redrive_target(where: Where, queue: str, to: str | None = None,
                   command: str = "dlq redrive") -> tuple[StackTarget, DeadLetterQueue]:
    """The DLQ and where its messages go: the queue they failed in (or SNS could not
    deliver to), or the queue `to` names (e.g. after a routing fix: a command parked
    by the wrong consumer goes to the right one)."""
    target, dlq = _one(where, queue, command)
    if to is not None:
        with aws_errors_as_user_errors(local=where.local):
            if where.standalone or is_queue_url(to) or is_queue_arn(to):
                url = queue_url_of(target.clients("sqs"), to)
            else:
                url = find_queue_url(target.resources(), to)
        if url == dlq.url:
            raise UserError(f"--to {to} is {dlq.short_name} itself")
        dlq = replace(dlq, redrive_url=url)
    if dlq.redrive_url is None:
        if len(dlq.source_urls) > 1:
            raise UserError(f"{dlq.short_name} is the DLQ of {len(dlq.source_urls)} queues: "
                            + ", ".join(dlq.source_urls),
                            hint="choose one with --to")
        raise UserError(f"{dlq.short_name} has no queue to go back to ({dlq.source})",
                        hint="give one with --to, or export it with `crudops dlq export`")
    return target, dlq


def parse_rate(text: str | None) -> int | None:
    """`--rate 50/s` (or `50`) → 50 messages per second; a whole number, at least 1."""
    if text is None:
        return None
    match = _RATE.match(text)
    if match is None or int(match[1]) < 1:
        raise UserError(f"--rate {text!r} is not a whole number of messages per second "
                        "(at least 1)", hint="e.g. --rate 50/s")
    return int(match[1])


def redrive_client_config(concurrency: int) -> Any:
    """The moving client's options: botocore's adaptive retries (client-side pacing when
    SQS throttles, shared by every thread of the one client) and a connection each."""
    from botocore.config import Config

    return Config(retries={"mode": "adaptive", "max_attempts": 10},
                  max_pool_connections=max(10, concurrency + 2))


def do_dlq_redrive_preview(where: Where, queue: str, *, selection: Selection = EVERYTHING,
                           to: str | None = None) -> tuple[DeadLetterQueue, Preview]:
    """What `do_dlq_redrive` would move (tools/dlq/preview.py): changes nothing."""
    target, dlq = redrive_target(where, queue, to)
    with aws_errors_as_user_errors(local=where.local):
        return dlq, preview(target.clients("sqs"), dlq.url, selection, fifo=dlq.fifo)


def do_dlq_redrive(
    where: Where,
    queue: str,
    *,
    selection: Selection = EVERYTHING,
    to: str | None = None,
    rate: int | None = None,
    concurrency: int = 1,
    resume: str | None = None,
    visibility_seconds: int | None = None,
    confirm: Callable[[str], None] | None = None,
    on_start: Callable[[DeadLetterQueue, RedrivePlan, Path], None] | None = None,
    progress: Progress | None = None,
    journal_dir: Path = JOURNAL_DIR,
) -> tuple[DeadLetterQueue, RedriveReport]:
    """Move the chosen messages back to where they failed, or to `to`
    (tools/dlq/redrive.py), journaled under `journal_dir`. `confirm` is asked before
    anything moves (it raises to refuse). `resume` continues an interrupted run: its
    DLQ, target and selection are the journal's, so none may be given again.
    `visibility_seconds` is how long a held message stays hidden (default: the
    journal's on a resume, else `VISIBILITY_SECONDS`); a resumed run waits that long
    for what a killed run held, so a short one makes a kill cheap to recover from."""
    if visibility_seconds is not None and not (
            MIN_VISIBILITY_SECONDS <= visibility_seconds <= MAX_VISIBILITY_SECONDS):
        raise UserError(f"--visibility-timeout {visibility_seconds} is outside "
                        f"{MIN_VISIBILITY_SECONDS}..{MAX_VISIBILITY_SECONDS} seconds")
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise UserError(f"--concurrency {concurrency} is outside 1..{MAX_CONCURRENCY}")
    if rate is not None and rate < 1:
        raise UserError("--rate must be at least 1 message per second")
    if where.clients is None:
        where = replace(where, client_config=redrive_client_config(concurrency))
    prior: JournalState | None = None
    journal: Journal | None = None
    if resume is not None:
        if to is not None or selection != EVERYTHING:
            raise UserError("--resume moves what the run chose when it began",
                            hint="drop --to, --filter, --request-id, --older-than and --max")
        journal, prior = Journal.reopen(resume, journal_dir)
    try:
        if prior is not None:
            target, dlq = _one(where, queue, "dlq redrive")
            if prior.header.get("source") != dlq.url:
                raise UserError(f"run {resume} moved {prior.header.get('source')}, not "
                                f"{dlq.url}", hint="give the QUEUE that run was given")
            dlq = replace(dlq, redrive_url=str(prior.header["target"]))
            selection = Selection.from_json(prior.header.get("selection", {}))
        else:
            target, dlq = redrive_target(where, queue, to)
        assert dlq.redrive_url is not None
        fifo_target = dlq.redrive_url.endswith(".fifo")
        if fifo_target and not dlq.fifo:
            raise UserError(f"{dlq.short_name} is a standard queue and "
                            f"{queue_name(dlq.redrive_url)} a FIFO one",
                            hint="a FIFO queue needs a MessageGroupId a standard DLQ lacks")
        if confirm is not None:
            confirm(_question(dlq, selection, resume))
        run_id = resume or new_run_id()
        if visibility_seconds is None:
            visibility_seconds = int(prior.header.get("visibility_seconds", VISIBILITY_SECONDS)
                                     if prior is not None else VISIBILITY_SECONDS)
        plan = RedrivePlan(source_url=dlq.url, target_url=dlq.redrive_url,
                           selection=selection, run_id=run_id, fifo_target=fifo_target,
                           rate=rate, concurrency=concurrency,
                           visibility_seconds=visibility_seconds)
        if journal is None:
            journal = Journal.create(run_id, {
                "dlq": dlq.short_name, "source": dlq.url, "target": dlq.redrive_url,
                "fifo_target": fifo_target, "selection": selection.as_json(),
                "visibility_seconds": plan.visibility_seconds}, journal_dir)
        else:
            journal.note(resumed=True, rate=rate, concurrency=concurrency)
        if on_start is not None:
            on_start(dlq, plan, journal.path)
        limiter = None
        if rate is not None:
            from pyrate_limiter import Duration, Limiter, Rate

            limiter = Limiter(Rate(rate, Duration.SECOND))
        with aws_errors_as_user_errors(local=where.local):
            engine = Redrive(target.clients("sqs"), plan, journal, prior=prior,
                             limiter=limiter, progress=progress)
            return dlq, engine.run()
    finally:
        if journal is not None:
            journal.close()


def _question(dlq: DeadLetterQueue, selection: Selection, resume: str | None) -> str:
    what = "the rest of run " + resume if resume else (
        "every message" if selection.everything and selection.limit is None
        else "the chosen messages")
    about = f"about {dlq.visible} visible" if dlq.visible else "it reports none visible"
    return (f"Move {what} of {dlq.short_name} ({about}) to "
            f"{queue_name(dlq.redrive_url or '')}?")
