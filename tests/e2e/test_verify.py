"""`crudops verify` on the local stack: the promise holds, and a planted loss is caught."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from crudops_local.faults import FAULTS, FaultPlan
from functions.contracts.tables import OUTCOMES_KEY
from tests.e2e.conftest import Api
from tools.stacks import OUTCOMES_TABLE, StackTarget, stack_table
from tools.verify.command import do_verify
from tools.verify.run import Facts, RunSettings

SETTINGS = RunSettings(rate=40, concurrency=6, settle_seconds=20, timeout_seconds=120)
REPO_ROOT = Path(__file__).resolve().parents[2]
# The CLI's own settle (the longest visibility timeout + 10 s) and wait (300 s) bound it.
CLI_TIMEOUT_SECONDS = 600


def _state_file(api: Api) -> Path:
    path = api.stack.options.state_file
    assert path is not None
    return path


def _ignore(stage: str, done: int, total: int) -> None:
    """No progress bar in tests."""


def test_a_mixed_workload_loses_nothing_and_applies_nothing_twice(api: Api) -> None:
    report = do_verify(stack=None, local=True, region=None, commands=80, seed=11,
                       settings=SETTINGS, on_progress=_ignore,
                       local_state_file=_state_file(api))
    assert report.ok, report.problems
    assert report.accepted == 80 and report.outcomes == 80
    assert (report.lost, report.double_applied, report.lost_updates) == (0, 0, 0)
    assert report.notified == 80
    assert {"create", "get", "update", "delete"} <= set(report.by_operation)
    assert report.items_checked == 20
    # how long the counts took to close: 80 commands at 40/s take about 2 s to send
    timings = report.timings
    assert set(timings) == {"sending_seconds", "outcomes_seconds", "notifications_seconds"}
    assert timings["sending_seconds"] >= 1.0
    assert min(timings.values()) >= 0


def test_an_outcome_deleted_behind_its_back_is_reported_lost(api: Api) -> None:
    """The harness must catch what it exists to catch: one outcome removed after the
    run (as a handler that forgot to store it would leave things) → lost 1, exit 1."""
    def delete_one_outcome(target: StackTarget, facts: Facts) -> None:
        victim = facts.accepted[-1].request_id
        table = stack_table(target.resources(), OUTCOMES_TABLE)
        dynamodb = target.clients("dynamodb")
        (row,) = dynamodb.query(TableName=table, KeyConditionExpression="requestId = :r",
                                ExpressionAttributeValues={":r": {"S": victim}})["Items"]
        dynamodb.delete_item(TableName=table, Key=OUTCOMES_KEY.of(victim, row["owner"]["S"]))

    report = do_verify(stack=None, local=True, region=None, commands=12, seed=5,
                       settings=SETTINGS, on_progress=_ignore,
                       local_state_file=_state_file(api), before_check=delete_one_outcome)
    assert report.lost == 1
    assert not report.ok
    assert any(p.startswith("lost:") for p in report.problems)


def test_every_local_fault_at_once_loses_nothing_and_applies_nothing_twice(
        api: Api, operator_dir: Path) -> None:
    """`crudops verify --local --commands 300 --faults all --json`, as an SRE runs it:
    workers killed mid-batch, invocation errors, throttling, transaction conflicts,
    management API 500s, duplicate deliveries and paused pollers, all while the
    commands are sent. The promise holds (what a fault parks in a DLQ counts apart)."""
    result = subprocess.run(
        [sys.executable, "-m", "tools.cli", "verify", "--local", "--commands", "300",
         "--faults", "all", "--seed", "3", "--json"],
        cwd=operator_dir, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True, text=True, timeout=CLI_TIMEOUT_SECONDS)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["faults"] == list(FAULTS)
    assert (report["lost"], report["double_applied"], report["lost_updates"]) == (0, 0, 0), \
        report["problems"]
    assert report["notifications_lost"] == 0 and report["notification_mismatches"] == 0
    assert report["accepted"] == report["outcomes"] + report["in_dlq"]
    assert report["accepted"] >= 200  # most of the 300 steps were sent and accepted
    assert not (_state_file(api).parent / "faults.json").exists()  # off again


def test_what_a_fault_parked_is_redriven_and_the_counts_close(api: Api) -> None:
    """Every invocation failing while the creates are sent parks them in the DLQ (after
    maxReceiveCount receives); once the faults are off, `--redrive` sends them back
    and every command ends with its outcome."""
    settings = RunSettings(rate=20, concurrency=2, settle_seconds=40, timeout_seconds=150)
    report = do_verify(stack=None, local=True, region=None, commands=4, seed=2,
                       settings=settings, on_progress=_ignore,
                       faults=FaultPlan(errors=1.0), local_state_file=_state_file(api),
                       redrive=True)
    assert report.in_dlq >= 2 and report.redriven == report.in_dlq  # the creates, parked
    assert report.after_redrive is not None
    assert report.after_redrive["in_dlq"] == 0
    assert report.after_redrive["outcomes"] == report.accepted
    assert report.ok, report.problems
    assert report.timings["redrive_seconds"] >= 0
