"""The worker functions against moto: outcomes, idempotency, versions, retries, DLQ."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from functions import create, read, update_delete
from functions.contracts.tables import OUTCOMES_KEY
from functions.domain import item_model
from tests.integration.conftest import OWNER_A, OWNER_B, Aws
from tests.support.sqs_lambda import deliver_batch, drain

HANDLERS = {"create": create.handler, "read": read.handler, "write": update_delete.handler}


def run(aws: Aws, queue: str) -> None:
    drain(aws.sqs, aws.queue(queue), HANDLERS[queue])


def create_item(aws: Aws, **payload: Any) -> dict[str, Any]:
    request_id = aws.publish_command("create", payload={"name": "widget", **payload})
    run(aws, "create")
    (outcome,) = [n for n in aws.notifications() if n["requestId"] == request_id]
    assert outcome["status"] == "success", outcome
    return dict(outcome["result"])


def outcome_of(aws: Aws, request_id: str) -> dict[str, Any]:
    notified = [n for n in aws.notifications() if n["requestId"] == request_id]
    assert len(notified) == 1, notified
    return notified[0]


def test_create_stores_the_item_and_notifies_one_outcome(aws: Aws) -> None:
    request_id = aws.publish_command(
        "create", payload={"name": "widget", "attributes": {"size": 3, "ok": True}}
    )

    run(aws, "create")

    outcome = outcome_of(aws, request_id)
    assert outcome["status"] == "success"
    assert outcome["operation"] == "create"
    assert outcome["type"] == "notification"
    assert outcome["error"] is None
    assert outcome["result"]["version"] == 1
    assert outcome["result"]["attributes"] == {"size": 3, "ok": True}
    assert outcome["completedAt"]
    assert len(aws.items()) == 1
    assert aws.outcome_count() == 1


def test_a_redelivered_create_makes_no_second_item_and_replays_the_outcome(aws: Aws) -> None:
    # GIVEN the same command delivered twice (SNS/SQS at-least-once)
    command: dict[str, Any] = {"requestId": "dup-1", "payload": {"name": "once"}}
    aws.publish_command("create", **dict(command))
    aws.publish_command("create", **dict(command))

    run(aws, "create")

    notified = [n for n in aws.notifications() if n["requestId"] == "dup-1"]
    assert len(aws.items()) == 1
    assert aws.outcome_count() == 1
    # THEN both deliveries answer with the same stored outcome
    assert len(notified) == 2
    assert notified[0] == notified[1]


def test_an_invalid_payload_is_an_error_outcome_and_changes_nothing(aws: Aws) -> None:
    request_id = aws.publish_command("create", payload={"name": "x", "unknown": True})

    run(aws, "create")

    outcome = outcome_of(aws, request_id)
    assert outcome["status"] == "error"
    assert outcome["error"]["code"] == "validation_error"
    assert aws.items() == []
    assert aws.depth(aws.dlq("create")) == 0


def test_get_and_list_answer_with_stored_outcomes(aws: Aws) -> None:
    item = create_item(aws)

    get_id = aws.publish_command("get", itemId=item["id"])
    missing_id = aws.publish_command("get", itemId="no-such-item")
    list_id = aws.publish_command("list", query={"limit": "10", "cursor": ""})
    run(aws, "read")

    notified = {n["requestId"]: n for n in aws.notifications()}
    assert notified[get_id]["result"] == item
    assert notified[missing_id]["error"]["code"] == "not_found"
    assert notified[list_id]["result"] == {"items": [item], "nextCursor": None}
    assert aws.outcome_count() == 4


def test_list_pages_stay_under_the_notification_limit_and_cover_every_item(aws: Aws) -> None:
    # GIVEN 12 items of ~19 KiB each: together far more than one 128 KiB frame
    big = {"description": "d" * 2000, "attributes": {f"k{i}": "v" * 256 for i in range(50)}}
    created = {create_item(aws, **big)["id"] for _ in range(12)}

    seen: list[str] = []
    cursor = ""
    for _ in range(12):
        request_id = aws.publish_command("list", query={"limit": "100", "cursor": cursor})
        run(aws, "read")
        outcome = outcome_of(aws, request_id)
        assert outcome["status"] == "success", outcome
        from functions.contracts.outcome import dumps

        assert len(dumps(outcome).encode()) < 128 * 1024
        seen += [item["id"] for item in outcome["result"]["items"]]
        cursor = outcome["result"]["nextCursor"] or ""
        if not cursor:
            break

    assert sorted(seen) == sorted(created)


def test_update_with_the_right_version_bumps_it(aws: Aws) -> None:
    item = create_item(aws)

    request_id = aws.publish_command(
        "update", itemId=item["id"], payload={"name": "renamed", "expectedVersion": 1}
    )
    run(aws, "write")

    outcome = outcome_of(aws, request_id)
    assert outcome["status"] == "success"
    assert outcome["result"]["name"] == "renamed"
    assert outcome["result"]["version"] == 2
    assert outcome["result"]["createdAt"] == item["createdAt"]


def test_update_with_a_stale_version_is_a_conflict_and_changes_nothing(aws: Aws) -> None:
    item = create_item(aws)

    request_id = aws.publish_command(
        "update", itemId=item["id"], payload={"name": "stale"}, ifMatch='"7"'
    )
    run(aws, "write")

    outcome = outcome_of(aws, request_id)
    assert outcome["error"]["code"] == "conflict"
    (stored,) = aws.items()
    assert stored["name"] == {"S": "widget"}
    assert stored["version"] == {"N": "1"}


def test_a_redelivered_update_is_applied_once(aws: Aws) -> None:
    item = create_item(aws)
    command = {"requestId": "upd-1", "itemId": item["id"], "payload": {"name": "v2"}}
    aws.publish_command("update", **dict(command))
    aws.publish_command("update", **dict(command))

    run(aws, "write")

    notified = [n for n in aws.notifications() if n["requestId"] == "upd-1"]
    (stored,) = aws.items()
    assert stored["version"] == {"N": "2"}
    assert len(notified) == 2
    assert notified[0] == notified[1]


def test_delete_removes_the_item_and_a_redelivery_replays_success(aws: Aws) -> None:
    item = create_item(aws)
    command = {"requestId": "del-1", "itemId": item["id"]}
    aws.publish_command("delete", **dict(command))
    aws.publish_command("delete", **dict(command))

    run(aws, "write")

    notified = [n for n in aws.notifications() if n["requestId"] == "del-1"]
    assert aws.items() == []
    assert [n["status"] for n in notified] == ["success", "success"]
    assert notified[0]["result"] == {"id": item["id"], "deleted": True, "version": 1}


def test_an_update_that_overtakes_its_create_waits_then_applies(aws: Aws) -> None:
    # GIVEN an update for an item whose create has not been processed yet
    create_id = aws.publish_command("create", payload={"name": "late"})
    item_id = item_model.item_id_for(create_id)
    update_id = aws.publish_command("update", itemId=item_id, payload={"name": "after"})

    first = deliver_batch(aws.sqs, aws.queue("write"), update_delete.handler)
    assert first.failed == first.received  # retried, not answered
    assert [n for n in aws.notifications() if n["requestId"] == update_id] == []

    run(aws, "create")
    run(aws, "write")

    outcome = outcome_of(aws, update_id)
    assert outcome["status"] == "success"
    assert outcome["result"]["version"] == 2


def test_an_update_of_an_item_never_created_ends_in_not_found_not_the_dlq(aws: Aws) -> None:
    request_id = aws.publish_command("update", itemId="ghost", payload={"name": "x"})

    run(aws, "write")  # retries until the spare receives are used, then answers

    outcome = outcome_of(aws, request_id)
    assert outcome["error"]["code"] == "not_found"
    assert aws.depth(aws.dlq("write")) == 0
    assert aws.depth(aws.queue("write")) == 0


def test_an_old_update_of_a_missing_item_answers_not_found_at_once(aws: Aws) -> None:
    long_ago = int(time.time() * 1000) - 3_600_000
    request_id = aws.publish_command("delete", itemId="ghost", submittedAt=long_ago)

    result = deliver_batch(aws.sqs, aws.queue("write"), update_delete.handler)

    assert result.failed == []
    assert outcome_of(aws, request_id)["error"]["code"] == "not_found"


def test_a_poison_record_is_retried_then_parked_in_the_dlq(aws: Aws) -> None:
    # GIVEN a message that is not a command among valid ones
    aws.sns.publish(
        TopicArn=aws.topology.topic_arn,
        Message="this is not json",
        MessageAttributes={"operation": {"DataType": "String", "StringValue": "create"}},
    )
    good = aws.publish_command("create", payload={"name": "fine"})

    results = drain(aws.sqs, aws.queue("create"), create.handler)

    # THEN the good record succeeded in its first batch while the poison one failed alone
    assert len(results[0].succeeded) == 1 and len(results[0].failed) == 1
    assert [n["requestId"] for n in aws.notifications()] == [good]
    assert aws.depth(aws.queue("create")) == 0
    assert aws.depth(aws.dlq("create")) == 1
    parked = aws.sqs.receive_message(QueueUrl=aws.dlq("create"), AttributeNames=["All"])
    (message,) = parked["Messages"]
    assert message["Body"] == "this is not json"
    assert int(message["Attributes"]["ApproximateReceiveCount"]) >= 5


def test_a_crash_mid_batch_loses_nothing(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the notifications queue is unreachable for one command
    ids = [aws.publish_command("create", payload={"name": f"n{i}"}) for i in range(3)]
    from functions.domain.notifications import NotificationQueue

    real_send = NotificationQueue.send

    def flaky_send(self: NotificationQueue, outcome: Any, delay_seconds: int = 0) -> None:
        if outcome.request_id == ids[1] and not flaky_send.failed:  # type: ignore[attr-defined]
            flaky_send.failed = True  # type: ignore[attr-defined]
            raise ConnectionError("network down")
        real_send(self, outcome, delay_seconds)

    flaky_send.failed = False  # type: ignore[attr-defined]
    monkeypatch.setattr(NotificationQueue, "send", flaky_send)

    results = drain(aws.sqs, aws.queue("create"), create.handler)

    # THEN the failing record alone was retried and every command got one outcome
    assert sum(len(r.failed) for r in results) == 1
    notified = sorted(n["requestId"] for n in aws.notifications())
    assert notified == sorted(ids)
    assert len(aws.items()) == 3
    assert aws.depth(aws.dlq("create")) == 0


def test_a_misrouted_command_is_parked_not_executed(aws: Aws) -> None:
    # A create delivered to the Read function (a filter policy bug) must not run there.
    aws.sqs.send_message(
        QueueUrl=aws.queue("read"),
        MessageBody='{"requestId": "m-1", "operation": "create", "owner": "o", '
                    '"payload": {"name": "x"}}',
    )

    drain(aws.sqs, aws.queue("read"), read.handler)

    assert aws.items() == []
    assert aws.depth(aws.dlq("read")) == 1


def test_another_callers_item_is_not_found_and_not_listed(aws: Aws) -> None:
    # GIVEN an item of caller A
    item = create_item(aws)

    # WHEN caller B gets, lists, updates and deletes it
    get_id = aws.publish_command("get", owner=OWNER_B, itemId=item["id"])
    list_id = aws.publish_command("list", owner=OWNER_B, query={"limit": "10", "cursor": ""})
    run(aws, "read")
    long_ago = int(time.time() * 1000) - 3_600_000  # past the missing-item retry window
    update_id = aws.publish_command("update", owner=OWNER_B, itemId=item["id"],
                                    payload={"name": "taken"}, submittedAt=long_ago)
    delete_id = aws.publish_command("delete", owner=OWNER_B, itemId=item["id"],
                                    submittedAt=long_ago)
    run(aws, "write")

    # THEN it does not exist for B (not_found, never forbidden) ...
    notified = {n["requestId"]: n for n in aws.notifications()}
    for request_id in (get_id, update_id, delete_id):
        assert notified[request_id]["error"]["code"] == "not_found", notified[request_id]
    assert notified[list_id]["result"] == {"items": [], "nextCursor": None}
    # ... and A's item is untouched and still A's alone
    (stored,) = aws.items()
    assert stored["owner"] == {"S": OWNER_A}
    assert stored["name"] == {"S": "widget"}
    assert stored["version"] == {"N": "1"}
    a_list = aws.publish_command("list", query={"limit": "10", "cursor": ""})
    run(aws, "read")
    assert outcome_of(aws, a_list)["result"]["items"] == [item]


def test_a_list_pages_through_the_callers_items_only(aws: Aws) -> None:
    mine = {create_item(aws)["id"] for _ in range(3)}
    theirs = aws.publish_command("create", owner=OWNER_B, payload={"name": "b's"})
    run(aws, "create")
    aws.notifications()

    seen: list[str] = []
    cursor = ""
    for _ in range(5):
        request_id = aws.publish_command("list", query={"limit": "2", "cursor": cursor})
        run(aws, "read")
        page = outcome_of(aws, request_id)["result"]
        seen += [i["id"] for i in page["items"]]
        cursor = page["nextCursor"] or ""
        if not cursor:
            break

    assert sorted(seen) == sorted(mine)
    assert item_model.item_id_for(theirs) not in seen


def test_outcomes_are_keyed_by_request_and_owner(aws: Aws) -> None:
    request_id = aws.publish_command("create", payload={"name": "w"})
    run(aws, "create")

    table = aws.topology.outcomes_table
    mine = aws.dynamodb.get_item(TableName=table, Key=OUTCOMES_KEY.of(request_id, OWNER_A))
    theirs = aws.dynamodb.get_item(TableName=table, Key=OUTCOMES_KEY.of(request_id, OWNER_B))
    assert json.loads(mine["Item"]["document"]["S"])["requestId"] == request_id
    assert "Item" not in theirs
    # The item the outcome shows is the API's: its owner key stays in the table.
    assert "owner" not in json.loads(mine["Item"]["document"]["S"])["result"]


def test_a_redelivered_command_replays_its_owners_outcome(aws: Aws) -> None:
    item = create_item(aws)
    command = {"requestId": "get-1", "itemId": item["id"]}
    aws.publish_command("get", **dict(command))
    aws.publish_command("get", **dict(command))

    run(aws, "read")

    notified = [n for n in aws.notifications() if n["requestId"] == "get-1"]
    assert [n["result"] for n in notified] == [item, item]
    assert aws.outcome_count() == 2  # the create's and the get's, once each


def test_a_command_without_an_owner_is_parked_not_answered(aws: Aws) -> None:
    # GIVEN a command no API could have published: no caller's sub
    aws.sns.publish(
        TopicArn=aws.topology.topic_arn,
        Message=json.dumps({"requestId": "no-owner", "operation": "create",
                            "payload": {"name": "x"}}),
        MessageAttributes={"operation": {"DataType": "String", "StringValue": "create"}},
    )

    drain(aws.sqs, aws.queue("create"), create.handler)

    # THEN it changes nothing, is answered to nobody and waits in the DLQ
    assert aws.items() == []
    assert aws.outcome_count() == 0
    assert aws.notifications() == []
    assert aws.depth(aws.dlq("create")) == 1
