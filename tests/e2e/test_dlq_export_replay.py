"""`crudops dlq show`, `export --delete` and `replay` on the running local stack: a
poison message parked by the real consumer shows the error the consumer logged, and
a parked command taken out with its copy on disk, then replayed, completes."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Api
from tests.support.poison import PoisonMessage
from tools.dlq.commands import Where
from tools.dlq.export import do_dlq_export
from tools.dlq.replay import do_dlq_replay
from tools.dlq.show import do_dlq_show

pytestmark = pytest.mark.e2e


def _where(api: Api) -> Where:
    state_file = api.stack.options.state_file
    assert state_file is not None
    return Where(local=True, local_state_file=state_file)


def _bodies(api: Api) -> list[str]:
    return [m.body for m in do_dlq_show(_where(api), "create-consumer-dlq", limit=None,
                                        errors=False).messages]


def test_show_names_the_error_the_consumer_logged_for_a_parked_message(
        api: Api, parked_poison: PoisonMessage) -> None:
    # GIVEN a body that is no Command, published as the API would (operation attribute;
    # the shared one), which the create consumer failed maxReceiveCount
    # times, until SQS parked it
    body = parked_poison.body
    parked_poison.parked()

    # WHEN the DLQ is shown
    report = do_dlq_show(_where(api), "create-consumer-dlq", limit=None)

    # THEN its operation comes from the attribute, and its error from create's log
    (parked,) = [m for m in report.messages if m.body == body]
    assert parked.operation == "create" and parked.request_id is None
    assert report.failures is not None
    failure = report.failures.found[parked.message_id]
    assert (failure.code, failure.source) == ("malformed_command", "create")
    assert "not JSON" in failure.message


def test_a_parked_command_exported_with_delete_then_replayed_completes(
        api: Api, tmp_path: Path) -> None:
    sqs = api.aws("sqs")
    dlq_url = api.queue_url("MessagingCreateConsumerDlq")
    # GIVEN a create command, as the REST API publishes it, parked in the create DLQ
    request_id = str(uuid.uuid4())
    body = json.dumps({"requestId": request_id, "operation": "create", "itemId": "",
                       "submittedAt": int(time.time() * 1000), "idempotencyKey": "",
                       "owner": api.sub,
                       "payload": {"name": "réplayed ☃", "attributes": {"n": 1.50}}})
    attributes: dict[str, Any] = {
        "operation": {"DataType": "String", "StringValue": "create"},
        "requestId": {"DataType": "String", "StringValue": request_id}}
    sqs.send_message(QueueUrl=dlq_url, MessageBody=body, MessageAttributes=attributes)

    # WHEN it is exported with --delete (only it), then replayed into its queue
    out = tmp_path / "parked.jsonl"
    exported = do_dlq_export(_where(api), "create-consumer-dlq", out, request_ids={request_id},
                             delete_written=True, yes=True)
    assert exported.written == 1 and len(exported.deleted) == 1 and exported.exit_code == 0
    record = json.loads(out.read_text())
    assert record["body"] == body and record["messageAttributes"] == attributes
    assert body not in _bodies(api)
    replayed = do_dlq_replay(_where(api), out, "create-consumer-queue", yes=True)

    # THEN it runs to its outcome, with the item exactly as the command carried it
    assert replayed.sent == [1] and replayed.exit_code == 0
    outcome = api.stored_outcome(request_id)
    assert outcome["status"] == "success", outcome
    assert outcome["result"]["name"] == "réplayed ☃"
