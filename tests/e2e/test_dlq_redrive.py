"""`crudops dlq` on the running local stack: a command parked in a DLQ during an
outage is redriven and completes, with nothing else in the DLQ touched."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from tests.e2e.conftest import Api
from tools.dlq.commands import Where, do_dlq_list, do_dlq_redrive
from tools.dlq.show import do_dlq_show

pytestmark = pytest.mark.e2e


def test_a_parked_create_is_redriven_and_completes(api: Api) -> None:
    state_file = api.stack.options.state_file
    assert state_file is not None
    where = Where(local=True, local_state_file=state_file)
    sqs = api.aws("sqs")
    dlq_url = api.queue_url("MessagingCreateConsumerDlq")
    # GIVEN a create command, as the REST API publishes it, that ran out of receives
    # (say during a DynamoDB outage) and waits in the create DLQ beside something else
    request_id = str(uuid.uuid4())
    command = {"requestId": request_id, "operation": "create", "itemId": "",
               "submittedAt": int(time.time() * 1000), "idempotencyKey": "",
               "payload": {"name": "parked"}}
    attributes = {"operation": {"DataType": "String", "StringValue": "create"}}
    sqs.send_message(QueueUrl=dlq_url, MessageBody=json.dumps(command),
                     MessageAttributes=attributes)
    sqs.send_message(QueueUrl=dlq_url, MessageBody="left alone", MessageAttributes=attributes)

    listed = {q.logical_id: q for q in do_dlq_list(where)}
    create_dlq = next(q for logical, q in listed.items()
                      if logical.startswith("MessagingCreateConsumerDlq"))
    assert create_dlq.redrive_url == api.queue_url("MessagingCreateConsumerQueue")
    shown = do_dlq_show(where, "create-consumer-dlq", limit=50, errors=False).messages
    assert request_id in {m.request_id for m in shown}

    # WHEN the operator redrives that request
    _, report = do_dlq_redrive(where, "create-consumer-dlq", request_ids={request_id})

    # THEN it runs to its outcome, and the other message is still in the DLQ
    assert report.ok and len(report.moved) == 1
    outcome = api.stored_outcome(request_id)
    assert outcome["status"] == "success" and outcome["result"]["name"] == "parked"
    remaining = do_dlq_show(where, "create-consumer-dlq", limit=50, errors=False).messages
    bodies = [m.body for m in remaining]
    assert "left alone" in bodies and request_id not in {m.request_id for m in remaining}
