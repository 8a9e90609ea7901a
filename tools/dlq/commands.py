"""The `crudops dlq` subcommands' logic, on a deployed stack (`--stack`) or the
local one (`--local`); the CLI in tools/cli.py only parses and prints."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from pathlib import Path

from tools.aws_errors import aws_errors_as_user_errors
from tools.dlq.discovery import (
    DeadLetterQueue,
    dead_letter_queues,
    find_dead_letter_queue,
    find_queue_url,
)
from tools.dlq.redrive import RedriveReport, redrive
from tools.errors import UserError
from tools.stacks import STATE_FILE, ClientFactory, StackTarget, resolve_stack_target


@dataclass(frozen=True)
class Where:
    """Which stack: exactly one of `stack` and `local` (the CLI's --stack / --local)."""

    stack: str | None = None
    local: bool = False
    local_state_file: Path = STATE_FILE
    region: str | None = None
    clients: ClientFactory | None = None  # tests

    def target(self) -> StackTarget:
        return resolve_stack_target(stack=self.stack, local=self.local,
                                    local_state_file=self.local_state_file,
                                    region=self.region, clients=self.clients, command="dlq")


def do_dlq_list(where: Where) -> list[DeadLetterQueue]:
    target = where.target()
    with aws_errors_as_user_errors(local=where.local):
        return dead_letter_queues(target.clients, target.resources())


def _one(where: Where, queue: str) -> tuple[StackTarget, DeadLetterQueue]:
    target = where.target()
    with aws_errors_as_user_errors(local=where.local):
        return target, find_dead_letter_queue(
            dead_letter_queues(target.clients, target.resources()), queue)


def redrive_target(where: Where, queue: str, to: str | None = None
                   ) -> tuple[StackTarget, DeadLetterQueue]:
    """The DLQ and where its messages go: the queue they failed in (or SNS could not
    deliver to), or the stack's queue `to` names (e.g. after a routing fix: a command
    parked by the wrong consumer goes to the right one)."""
    target, dlq = _one(where, queue)
    if to is not None:
        with aws_errors_as_user_errors(local=where.local):
            url = find_queue_url(target.resources(), to)
        if url == dlq.url:
            raise UserError(f"--to {to} is {dlq.name} itself")
        dlq = replace(dlq, redrive_url=url)
    if dlq.redrive_url is None:
        raise UserError(f"{dlq.name} has no queue of this stack to go back to ({dlq.source})",
                        hint="give one with --to, or export it with `crudops dlq export`")
    return target, dlq


def do_dlq_redrive(
    where: Where,
    queue: str,
    *,
    limit: int | None = None,
    request_ids: Collection[str] | None = None,
    on_start: Callable[[DeadLetterQueue], None] | None = None,
    on_moved: Callable[[int], None] | None = None,
    to: str | None = None,
) -> tuple[DeadLetterQueue, RedriveReport]:
    """Move messages back to where they failed, or to `to` (see tools/dlq/redrive.py)."""
    if limit is not None and limit < 1:
        raise UserError(f"--max {limit} must be at least 1")
    target, dlq = redrive_target(where, queue, to)
    assert dlq.redrive_url is not None
    if on_start is not None:
        on_start(dlq)
    with aws_errors_as_user_errors(local=where.local):
        return dlq, redrive(target.clients("sqs"), dlq.url, dlq.redrive_url, limit=limit,
                            request_ids=set(request_ids) if request_ids else None,
                            on_moved=on_moved)
