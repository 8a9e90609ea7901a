"""The CLI side of `crudops local down`: a progress bar over the ledgers' resources
and one line per stopped stack. The removal itself is tools/local/down.py (the
emulator's package, which imports nothing of the CLI).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
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
