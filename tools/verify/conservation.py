"""The checks of a verification run, on what it sent and what the stack holds.

Pure: the run gathers the facts (tools/verify/run.py), this decides. The promise
checked (docs/adr/0002, 0003): every accepted command ends in exactly one stored
outcome or waits in a DLQ; every subscriber gets its outcome, equal to the stored one;
and each item is what a serial replay of its successful outcomes makes of it, in the
order their versions say — versions 1, 2, … each written by exactly one outcome, no
gap (a write applied without its outcome, or applied twice), no version claimed twice
(a lost update), the stored item equal to the outcome of its last version, and a
conditional update landing exactly on `expectedVersion + 1`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

WRITES = ("create", "update", "delete")
CONFLICT = "conflict"
MAX_PROBLEMS_LISTED = 20


@dataclass(frozen=True)
class Accepted:
    """A command the API answered 202."""

    request_id: str
    operation: str
    item_id: str | None = None
    expected_version: int | None = None


@dataclass
class OperationCounts:
    accepted: int = 0
    outcomes: int = 0
    in_dlq: int = 0
    lost: int = 0
    conflicts: int = 0
    errors: int = 0  # error outcomes other than conflicts (not_found, validation, …)

    def as_json(self) -> dict[str, int]:
        return dict(vars(self))


@dataclass
class VerifyReport:
    accepted: int = 0
    rejected: int = 0  # not answered 202 (counted, not part of the promise)
    outcomes: int = 0
    in_dlq: int = 0
    lost: int = 0
    notified: int = 0
    notifications_lost: int = 0
    duplicate_notifications: int = 0  # at-least-once delivery: counted, not a failure
    # subscribes the harness sent again, never answered the first time (refused by the
    # gateway, or lost with a connection): counted, not a failure
    resubscribed: int = 0
    notification_mismatches: int = 0
    double_applied: int = 0
    lost_updates: int = 0
    conflicts: int = 0
    items_checked: int = 0
    faults: list[str] = field(default_factory=list)  # injected while sending
    # `--faults fis`: the FIS experiments run while sending, and the copies of
    # accepted commands published again (tools/verify/fis.py, duplicates.py)
    experiments: list[dict[str, Any]] = field(default_factory=list)
    duplicates_sent: int = 0
    experiments_not_ended: int = 0
    # `--redrive`: how many parked commands were sent back, and the counts after
    redriven: int = 0
    after_redrive: dict[str, int] | None = None
    # how long the counts took to close (tools/verify/run.py Timeline), and with
    # `--redrive` from the redrive's start to the last redriven outcome
    timings: dict[str, float] = field(default_factory=dict)
    by_operation: dict[str, OperationCounts] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        closed = self.after_redrive is None or self.after_redrive["in_dlq"] == 0
        return closed and not (self.lost or self.double_applied or self.lost_updates
                               or self.notifications_lost or self.notification_mismatches
                               or self.experiments_not_ended)

    def problem(self, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS_LISTED:
            self.problems.append(text)

    def as_json(self) -> dict[str, Any]:
        fields = {k: v for k, v in vars(self).items() if k not in ("by_operation", "problems")}
        return {"ok": self.ok, **fields,
                "by_operation": {op: c.as_json() for op, c in sorted(self.by_operation.items())},
                "problems": self.problems}


def check(accepted: Sequence[Accepted], outcomes: Mapping[str, dict[str, Any]],
          in_dlq: set[str], notifications: Mapping[str, Sequence[dict[str, Any]]],
          items: Mapping[str, dict[str, Any] | None], *, rejected: int = 0) -> VerifyReport:
    """`outcomes` and `notifications` by requestId; `items`: every item the run
    created, as stored now (None: absent)."""
    report = VerifyReport(accepted=len(accepted), rejected=rejected)
    for command in accepted:
        counts = report.by_operation.setdefault(command.operation, OperationCounts())
        counts.accepted += 1
        outcome = outcomes.get(command.request_id)
        if outcome is None:
            if command.request_id in in_dlq:
                report.in_dlq += 1
                counts.in_dlq += 1
            else:
                report.lost += 1
                counts.lost += 1
                report.problem(f"lost: {command.operation} {command.request_id} has no "
                               "outcome and is in no DLQ")
            continue
        report.outcomes += 1
        counts.outcomes += 1
        if outcome.get("status") == "error":
            code = (outcome.get("error") or {}).get("code")
            if code == CONFLICT:
                report.conflicts += 1
                counts.conflicts += 1
            else:
                counts.errors += 1
        _check_notifications(report, command, outcome, notifications.get(command.request_id, ()))
    _check_items(report, accepted, outcomes, items)
    return report


def _check_notifications(report: VerifyReport, command: Accepted, outcome: dict[str, Any],
                         received: Sequence[dict[str, Any]]) -> None:
    if not received:
        report.notifications_lost += 1
        report.problem(f"not notified: {command.operation} {command.request_id}")
        return
    report.notified += 1
    report.duplicate_notifications += len(received) - 1
    if any(_comparable(n) != _comparable(outcome) for n in received):
        report.notification_mismatches += 1
        report.problem(f"notification differs from the stored outcome: {command.request_id}")


def _comparable(document: dict[str, Any]) -> dict[str, Any]:
    return {k: document.get(k) for k in ("requestId", "operation", "status", "result", "error")}


def _check_items(report: VerifyReport, accepted: Sequence[Accepted],
                 outcomes: Mapping[str, dict[str, Any]],
                 items: Mapping[str, dict[str, Any] | None]) -> None:
    """Replay each item's successful writes by version."""
    writes: dict[str, list[tuple[Accepted, dict[str, Any]]]] = {item_id: [] for item_id in items}
    for command in accepted:
        outcome = outcomes.get(command.request_id)
        if (outcome is None or outcome.get("status") != "success"
                or command.operation not in WRITES):
            continue
        item_id = command.item_id or (outcome.get("result") or {}).get("id")
        if item_id in writes:
            writes[item_id].append((command, outcome))
    for item_id, item_writes in writes.items():
        report.items_checked += 1
        _replay(report, item_id, item_writes, items[item_id])


def _replay(report: VerifyReport, item_id: str,
            item_writes: list[tuple[Accepted, dict[str, Any]]],
            stored: dict[str, Any] | None) -> None:
    versions: Counter[int] = Counter()
    last: dict[int, dict[str, Any]] = {}
    deleted_at: int | None = None
    for command, outcome in item_writes:
        version = int(outcome["result"]["version"])
        if command.operation == "delete":
            deleted_at = version  # deletes the version it found; writes none
            continue
        versions[version] += 1
        last[version] = outcome["result"]
        if (command.expected_version is not None
                and version != command.expected_version + 1):
            report.double_applied += 1
            report.problem(f"{item_id}: an update expecting version "
                           f"{command.expected_version} wrote version {version}")
    for version, count in versions.items():
        if count > 1:
            report.lost_updates += count - 1
            report.problem(f"{item_id}: version {version} written by {count} outcomes "
                           "(an update lost)")
    newest = max(versions, default=0)
    gaps = [v for v in range(1, newest + 1) if v not in versions]
    if gaps:
        report.double_applied += len(gaps)
        report.problem(f"{item_id}: versions {gaps} have no outcome (a write applied "
                       "without one, or twice)")
    if deleted_at is not None:
        if deleted_at != newest:
            report.double_applied += 1
            report.problem(f"{item_id}: deleted at version {deleted_at}, last written "
                           f"{newest}")
        if stored is not None:
            report.double_applied += 1
            report.problem(f"{item_id}: deleted, yet stored at version {stored.get('version')}")
        return
    if stored is None:
        if newest:
            report.lost += 1
            report.problem(f"{item_id}: written up to version {newest} but not stored")
        return
    stored_version = int(stored.get("version", 0))
    if stored_version < newest:
        report.lost_updates += newest - stored_version
        report.problem(f"{item_id}: stored at version {stored_version}, yet outcomes "
                       f"acknowledge version {newest}")
    elif stored_version > newest:
        report.double_applied += stored_version - newest
        report.problem(f"{item_id}: stored at version {stored_version}, outcomes reach {newest}")
    elif stored != last.get(stored_version):
        report.double_applied += 1
        report.problem(f"{item_id}: stored item differs from the outcome of version "
                       f"{stored_version}")
