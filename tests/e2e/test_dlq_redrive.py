"""`crudops dlq` on the running local stack: commands parked in a DLQ during an outage
are redriven after the fix and complete once, with nothing else in the DLQ touched."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Api
from tests.support.waiting import wait_until
from tools.dlq.commands import Where, do_dlq_list, do_dlq_redrive
from tools.dlq.selection import selection
from tools.dlq.show import do_dlq_show

pytestmark = pytest.mark.e2e
CRUDOPS = [sys.executable, "-m", "tools.cli"]
REPO_ROOT = Path(__file__).resolve().parents[2]


def _create_command(name: str, owner: str) -> dict[str, Any]:
    """A create command as the REST API publishes it for the caller `owner`."""
    return {"requestId": str(uuid.uuid4()), "operation": "create", "itemId": "",
            "submittedAt": int(time.time() * 1000), "idempotencyKey": "",
            "owner": owner, "payload": {"name": name}}


def _park(api: Api, dlq_url: str, body: str) -> None:
    api.aws("sqs").send_message(QueueUrl=dlq_url, MessageBody=body, MessageAttributes={
        "operation": {"DataType": "String", "StringValue": "create"}})


def test_a_parked_create_is_redriven_and_completes(api: Api, tmp_path: Path) -> None:
    state_file = api.stack.options.state_file
    assert state_file is not None
    where = Where(local=True, local_state_file=state_file)
    dlq_url = api.queue_url("MessagingCreateConsumerDlq")
    # GIVEN a create command that ran out of receives (say during a DynamoDB outage)
    # and waits in the create DLQ beside something else
    command = _create_command("parked", api.sub)
    _park(api, dlq_url, json.dumps(command))
    _park(api, dlq_url, "left alone")

    listed = {q.short_name: q for q in do_dlq_list(where)}
    assert listed["create-consumer-dlq"].redrive_url == api.queue_url(
        "MessagingCreateConsumerQueue")
    shown = do_dlq_show(where, "create-consumer-dlq", limit=50, errors=False).messages
    assert command["requestId"] in {m.request_id for m in shown}

    # WHEN the operator redrives that request
    _, report = do_dlq_redrive(where, "create-consumer-dlq", journal_dir=tmp_path,
                               selection=selection(request_ids=[command["requestId"]]))

    # THEN it runs to its outcome, and the other message is still in the DLQ
    assert report.ok and report.moved == 1
    outcome = api.stored_outcome(command["requestId"])
    assert outcome["status"] == "success" and outcome["result"]["name"] == "parked"
    remaining = do_dlq_show(where, "create-consumer-dlq", limit=50, errors=False).messages
    bodies = [m.body for m in remaining]
    assert "left alone" in bodies and command["requestId"] not in {
        m.request_id for m in remaining}


def test_the_cli_dry_runs_then_redrives_by_filter_and_each_command_completes_once(
        api: Api, tmp_path: Path) -> None:
    state_file = api.stack.options.state_file
    assert state_file is not None
    dlq_url = api.queue_url("MessagingCreateConsumerDlq")
    sqs = api.aws("sqs")
    # GIVEN three parked creates, one of them parked twice (SQS delivers at least once),
    # and a message the filter must leave
    tag = uuid.uuid4().hex[:8]
    commands = [_create_command(f"batch-{tag}-{n}", api.sub) for n in range(3)]
    for command in [*commands, commands[0]]:
        _park(api, dlq_url, json.dumps(command))
    _park(api, dlq_url, json.dumps({"requestId": "other", "operation": "create",
                                    "payload": {"name": f"other-{tag}"}}))
    chosen = f"starts_with(body.payload.name, 'batch-{tag}')"

    # an operator's directory, where `--local` finds the stack's state file
    (tmp_path / ".crudops").mkdir()
    (tmp_path / ".crudops" / "local-stack.json").symlink_to(state_file.resolve())

    def crudops(*arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*CRUDOPS, *arguments, "--local", "--json"], cwd=tmp_path,
                              env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
                              capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL)

    # WHEN the operator dry-runs the filter: four would move, nothing does
    dry = crudops("dlq", "redrive", "create-consumer-dlq", "--filter", chosen, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["would_move"] == 4
    depth = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=[
        "ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"]
    assert int(depth) >= 5

    # AND then moves them (no terminal here: --yes says so)
    moved = crudops("dlq", "redrive", "create-consumer-dlq", "--filter", chosen, "--yes",
                    "--concurrency", "2")
    assert moved.returncode == 0, moved.stderr
    assert json.loads(moved.stdout)["moved"] == 4
    assert "--resume" in moved.stderr  # the run id, to resume an interrupted run

    # THEN each command has its outcome and its one item (the copy changed nothing)
    items_table = api.ref("StorageItems", "AWS::DynamoDB::Table")
    for command in commands:
        outcome = api.stored_outcome(command["requestId"])
        assert outcome["status"] == "success", outcome
    names = {c["payload"]["name"] for c in commands}

    def stored_items() -> list[str]:
        scanned = api.aws("dynamodb").scan(TableName=items_table)["Items"]
        return sorted(i["name"]["S"] for i in scanned if i["name"]["S"] in names)

    wait_until(stored_items, lambda found: found == sorted(names), timeout=30,
               describe="one item per redriven create")
    # the other message is still in the DLQ
    left = do_dlq_show(Where(local=True, local_state_file=state_file),
                       "create-consumer-dlq", limit=50, errors=False).messages
    assert "other" in {m.request_id for m in left}
