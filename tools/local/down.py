"""`crudops local down`: remove what local stacks left on endpoints they did not own.

A stack removes its resources when it stops; one that was killed (SIGKILL, a crash, a
closed laptop) leaves them, listed in its ledger under `.crudops/runs/`. This command
removes them, skipping ledgers whose stack is still running.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from crudops_local.aws.endpoint import ClientFactory
from crudops_local.aws.targets import caller_endpoint
from crudops_local.cloudformation.teardown import (
    CreatedResource,
    ResourceLedger,
    TeardownReport,
    teardown,
)
from crudops_local.state import process_is_running
from tools.errors import UserError


@dataclass
class LedgerOutcome:
    stack_name: str
    endpoint: str  # a URL, or "AWS <region>"
    account_id: str
    # "removed": nothing left; "running": its stack is alive, not touched;
    # "incomplete": some resources could not be removed (still listed in the ledger);
    # "other-account": the credentials now are another account's, nothing touched
    status: str
    detail: str = ""
    report: TeardownReport = field(default_factory=TeardownReport)

    def as_json(self) -> dict[str, Any]:
        return {"stack": self.stack_name, "endpoint": self.endpoint,
                "account_id": self.account_id, "status": self.status,
                "detail": self.detail, **self.report.as_json()}


@dataclass
class DownReport:
    outcomes: list[LedgerOutcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Nothing a stopped stack left is still there (running stacks are skipped)."""
        return all(o.status in ("removed", "running") for o in self.outcomes)

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "stacks": [o.as_json() for o in self.outcomes]}


def is_running(ledger: ResourceLedger) -> bool:
    """Whether the stack that wrote the ledger is alive (its resources are in use)."""
    return process_is_running(ledger.pid)


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
    client_for: Callable[[ResourceLedger], ClientFactory] | None = None,
    force: bool = False,
) -> DownReport:
    """Tear down every ledger whose stack is no longer running (`force`: all of them,
    for a process id reused after a reboot).

    `client_for(ledger)` gives the boto3 client factory for its endpoint (default:
    the caller's credentials, as the stack signed); `on_resource` sees each one done.
    The caller must be in the account the stack created them in: deletes in another
    account answer "not found", which would otherwise pass for "already gone".
    """
    report = DownReport()
    for ledger in ledgers:
        endpoint = ledger.endpoint
        where = endpoint.url or f"AWS {endpoint.region}"
        if endpoint.service_urls:
            where += "; " + ", ".join(f"{service} at {url}"
                                      for service, url in sorted(endpoint.service_urls.items()))
        outcome = LedgerOutcome(ledger.stack_name, where, ledger.account_id, "running")
        report.outcomes.append(outcome)
        if is_running(ledger) and not force:
            outcome.detail = f"process {ledger.pid} is running"
            continue
        clients = (client_for or _caller_clients)(ledger)
        account = _account_of(clients)
        if account is not None and account != ledger.account_id:
            outcome.status = "other-account"
            outcome.detail = (f"the credentials are account {account}'s; the resources "
                              f"are in {ledger.account_id}")
            continue
        progress = (None if on_resource is None
                    else (lambda resource, ledger=ledger: on_resource(ledger, resource)))
        outcome.report = teardown(ledger, clients, progress)
        outcome.status = "removed" if outcome.report.ok else "incomplete"
    return report


def _account_of(clients: ClientFactory) -> str | None:
    """The caller's account, or None where STS cannot say (an emulator without it)."""
    try:
        account = clients("sts").get_caller_identity().get("Account")
    except (ClientError, BotoCoreError):  # the teardown then says what is wrong
        return None
    return None if account is None else str(account)


def _caller_clients(ledger: ResourceLedger) -> ClientFactory:
    """Signed as the stack signed: the same placeholder keys, or the caller's chain
    (checked again: a real account without credentials is a user error)."""
    endpoint = ledger.endpoint
    if endpoint.placeholder_credentials:
        return endpoint.client
    return caller_endpoint(endpoint.url, endpoint.region, endpoint.service_urls).client
