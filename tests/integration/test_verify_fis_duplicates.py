"""A copy `crudops verify --faults fis` publishes (tools/verify/duplicates.py) travels the
real path in moto: the topic's filter policies route it to its operation's queue, and
the real handler takes it for a redelivery of the command it copies — one effect, one
stored outcome, the same notification twice."""

from __future__ import annotations

from typing import Any

from tests.integration.conftest import OWNER_A, Aws
from tests.integration.test_commands import create_item, run
from tools.verify.conservation import Accepted
from tools.verify.duplicates import Duplicator, SentCommand


def _duplicator(aws: Aws) -> Duplicator:
    return Duplicator(aws.sns, aws.topology.topic_arn, owner=OWNER_A, rate=1.0, seed=1)


def _notified(aws: Aws, request_id: str) -> list[dict[str, Any]]:
    return [n for n in aws.notifications() if n["requestId"] == request_id]


def test_a_copied_create_makes_one_item_and_replays_its_outcome(aws: Aws) -> None:
    # GIVEN a create the API published, and its copy
    body = {"name": "copied", "attributes": {"n": 1}}
    request_id = aws.publish_command("create", payload=body)
    _duplicator(aws)(Accepted(request_id, "create"), SentCommand("/items", body))
    assert aws.depth(aws.queue("create")) == 2
    assert aws.depth(aws.queue("read")) == aws.depth(aws.queue("write")) == 0

    # WHEN the create function drains its queue
    run(aws, "create")

    # THEN one item, one outcome, and both deliveries answer with it
    assert len(aws.items()) == 1 and aws.outcome_count() == 1
    first, second = _notified(aws, request_id)
    assert first == second and first["status"] == "success"


def test_a_copied_update_is_applied_once(aws: Aws) -> None:
    item = create_item(aws)
    body = {"description": "once", "expectedVersion": 1}
    request_id = aws.publish_command("update", itemId=item["id"], payload=body)
    _duplicator(aws)(Accepted(request_id, "update", item["id"], 1),
                     SentCommand(f"/items/{item['id']}", body))
    assert aws.depth(aws.queue("write")) == 2

    run(aws, "write")

    (stored,) = aws.items()
    assert stored["version"] == {"N": "2"}
    first, second = _notified(aws, request_id)
    assert first == second and first["result"]["version"] == 2


def test_a_copied_list_reaches_the_read_queue_only(aws: Aws) -> None:
    request_id = aws.publish_command("list", query={"limit": "5", "cursor": ""})
    _duplicator(aws)(Accepted(request_id, "list"), SentCommand("/items?limit=5", None))
    assert aws.depth(aws.queue("read")) == 2
    assert aws.depth(aws.queue("create")) == aws.depth(aws.queue("write")) == 0

    run(aws, "read")

    first, second = _notified(aws, request_id)
    assert first == second and first["status"] == "success"
    assert aws.outcome_count() == 1
