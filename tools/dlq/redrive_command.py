"""`crudops dlq redrive` from its options to its exit code: the selection checked, a dry
run or a confirmed, journaled move with its progress, and the summary. The CLI
(tools/cli.py) only parses; the moving is tools/dlq/redrive.py."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path

from tools.dlq.addressing import Where
from tools.dlq.commands import do_dlq_redrive, do_dlq_redrive_preview, parse_rate
from tools.dlq.confirm import confirm
from tools.dlq.discovery import DeadLetterQueue
from tools.dlq.journal import JOURNAL_DIR
from tools.dlq.output import print_preview, print_redrive, print_redrive_start, redrive_progress
from tools.dlq.redrive import Progress, RedrivePlan, RedriveReport
from tools.dlq.selection import selection as make_selection
from tools.errors import INTERRUPTED_EXIT_CODE, UserError, interrupted


def resume_command(where: Where, queue: str, run_id: str) -> str:
    """The line that continues run `run_id`, for the operator to paste."""
    words = ["crudops", "dlq", "redrive", queue]
    if where.stack is not None:
        words += ["--stack", where.stack]
    if where.local:
        words.append("--local")
    return shlex.join([*words, "--resume", run_id, "--yes"])


def _native_move(where: Where, queue: str, *, to: str | None, yes: bool,
                 per_second: int | None, as_json: bool, refused: Sequence[str]) -> int:
    """`--native`: SQS's own move task for the whole queue (tools/dlq/native.py)."""
    from tools.dlq.native import do_dlq_native_move
    from tools.dlq.output import print_native_move

    if refused:
        raise UserError(f"--native moves the whole queue at SQS's pace: {', '.join(refused)} "
                        "cannot be combined with it",
                        hint="drop them, or redrive without --native")
    confirm(f"Start SQS's move task for all of {queue}?", yes=yes)
    print_native_move(do_dlq_native_move(where, queue, to=to, max_per_second=per_second),
                      as_json)
    return 0


def run_redrive_command(where: Where, queue: str, *, to: str | None, dry_run: bool,
                        yes: bool, filter_expression: str | None,
                        request_ids: Sequence[str] | None, older_than: str | None,
                        limit: int | None, rate: str | None, concurrency: int,
                        resume: str | None, as_json: bool, native: bool = False,
                        visibility_seconds: int | None = None,
                        command_line: Sequence[str] = (),
                        journal_dir: Path = JOURNAL_DIR) -> int:
    """The exit code: 0 every chosen message moved (or a dry run, or a native move
    task started), 1 some did not, 130 interrupted (the summary says how to resume); a
    `UserError` for a usage error."""
    chosen = make_selection(expression=filter_expression, request_ids=request_ids,
                            older_than=older_than, limit=limit)
    per_second = parse_rate(rate)
    if native:
        return _native_move(where, queue, to=to, yes=yes, per_second=per_second,
                            as_json=as_json, refused=[
                                name for name, given in (
                                    ("--dry-run", dry_run), ("--filter", filter_expression),
                                    ("--request-id", request_ids), ("--older-than", older_than),
                                    ("--max", limit), ("--resume", resume),
                                    ("--concurrency", concurrency != 1),
                                    ("--visibility-timeout", visibility_seconds)) if given])
    if dry_run:
        dlq, found = do_dlq_redrive_preview(where, queue, selection=chosen, to=to)
        print_preview(dlq, found, as_json)
        return 0
    progress: list[Progress] = []
    bars = []

    def start(dlq: DeadLetterQueue, plan: RedrivePlan, journal: Path) -> None:
        print_redrive_start(dlq, plan, journal, resume_command(where, queue, plan.run_id))
        total = dlq.visible if plan.selection.limit is None else min(
            dlq.visible, plan.selection.limit)
        bar = redrive_progress(total, hidden=as_json)
        progress.append(bar.__enter__())
        bars.append(bar)

    def report_progress(report: RedriveReport) -> None:
        if progress:
            progress[0](report)

    try:
        dlq, report = do_dlq_redrive(
            where, queue, selection=chosen, to=to, rate=per_second, concurrency=concurrency,
            resume=resume, visibility_seconds=visibility_seconds,
            confirm=lambda question: confirm(question, yes=yes),
            on_start=start, progress=report_progress, journal_dir=journal_dir)
    except KeyboardInterrupt:  # before the run began (the run itself ends its batches)
        raise interrupted("nothing was moved yet") from None
    finally:
        for bar in bars:
            bar.__exit__(None, None, None)
    code = print_redrive(dlq, report, as_json)
    return INTERRUPTED_EXIT_CODE if report.interrupted else code
