"""`crudops local down`: remove what local stacks left on endpoints they did not own.

A stack removes its resources when it stops; one that was killed (SIGKILL, a crash, a
closed laptop) leaves them, listed in its ledger under `.crudops/runs/`. This command
removes them, skipping ledgers whose stack is still running.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.errors import UserError
from tools.local.provision import AwsEndpoint, cached_clients
from tools.local.targets import caller_endpoint
from tools.local.teardown import CreatedResource, ResourceLedger, TeardownReport, teardown


@dataclass
class LedgerOutcome:
    stack_name: str
    endpoint: str  # a URL, or "AWS <region>"
    account_id: str
    # "removed": nothing left; "running": its stack is alive, not touched;
    # "incomplete": some resources could not be removed (still listed in the ledger)
    status: str
    report: TeardownReport = field(default_factory=TeardownReport)

    def as_json(self) -> dict[str, Any]:
        return {"stack": self.stack_name, "endpoint": self.endpoint,
                "account_id": self.account_id, "status": self.status,
                **self.report.as_json()}


@dataclass
class DownReport:
    outcomes: list[LedgerOutcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(o.status != "incomplete" for o in self.outcomes)

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "stacks": [o.as_json() for o in self.outcomes]}


def is_running(ledger: ResourceLedger) -> bool:
    """Whether the stack that wrote the ledger is alive (its resources are in use)."""
    pid = ledger.pid
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def find_ledgers(runs_dir: Path) -> list[ResourceLedger]:
    ledgers = []
    for path in sorted(runs_dir.glob("*.json")) if runs_dir.is_dir() else []:
        try:
            ledgers.append(ResourceLedger.load(path))
        except ValueError as exc:
            raise UserError(str(exc), hint=f"inspect {path}; remove it if it is not needed"
                            ) from exc
    return ledgers


def do_local_down(
    ledgers: list[ResourceLedger],
    *,
    on_resource: Callable[[ResourceLedger, CreatedResource], None] | None = None,
    client_for: Callable[[ResourceLedger], Callable[[str], Any]] | None = None,
) -> DownReport:
    """Tear down every ledger whose stack is no longer running.

    `client_for(ledger)` gives the boto3 client factory for its endpoint (default:
    the caller's credentials, as the stack signed); `on_resource` sees each one done.
    """
    report = DownReport()
    for ledger in ledgers:
        record = ledger.endpoint
        where = record.url or f"AWS {record.region}"
        if record.service_urls:
            where += "; " + ", ".join(f"{service} at {url}"
                                      for service, url in sorted(record.service_urls.items()))
        outcome = LedgerOutcome(record.stack_name, where, record.account_id, "running")
        report.outcomes.append(outcome)
        if is_running(ledger):
            continue
        clients = (client_for or _caller_clients)(ledger)
        progress = (None if on_resource is None
                    else (lambda resource, ledger=ledger: on_resource(ledger, resource)))
        outcome.report = teardown(ledger, clients, progress)
        outcome.status = "removed" if outcome.report.ok else "incomplete"
    return report



def _caller_clients(ledger: ResourceLedger) -> Callable[[str], Any]:
    """Signed as the stack signed: the same placeholder keys, or the caller's chain."""
    record = ledger.endpoint
    if record.placeholder_credentials:
        return cached_clients(AwsEndpoint(record.url, record.region,
                                          service_urls=record.service_urls))
    return cached_clients(caller_endpoint(record.url, record.region, record.service_urls))
