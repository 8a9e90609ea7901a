"""`crudops verify` reads the stack's tables without knowing whose the rows are: the
outcomes by a Query of each requestId, each item by the owner its create's outcome
names (functions/contracts/tables.py keys both by owner)."""

from __future__ import annotations

from functions import create, update_delete
from tests.integration.conftest import OWNER_A, OWNER_B, Aws
from tests.support.sqs_lambda import drain
from tools.verify.run import Tables


def test_outcomes_and_items_of_every_owner_are_found(aws: Aws) -> None:
    # GIVEN items of two callers, one of them deleted again
    mine = aws.publish_command("create", payload={"name": "a's"})
    theirs = aws.publish_command("create", owner=OWNER_B, payload={"name": "b's"})
    drain(aws.sqs, aws.queue("create"), create.handler)
    tables = Tables(aws.dynamodb, aws.topology.outcomes_table, aws.topology.items_table)
    created = tables.outcomes([mine, theirs])
    my_id, their_id = (str(created[r]["result"]["id"]) for r in (mine, theirs))
    deleted = aws.publish_command("delete", owner=OWNER_B, itemId=their_id)
    drain(aws.sqs, aws.queue("write"), update_delete.handler)

    # WHEN verify reads the outcomes, including one never stored, and the items
    outcomes = tables.outcomes([mine, theirs, deleted, "never-accepted"])
    items = tables.items([my_id, their_id, "never-created"])

    # THEN every stored outcome is found whoever's it is, and each item as the API
    # answers it (no owner key), absent ones as None
    assert set(outcomes) == {mine, theirs, deleted}
    assert outcomes[deleted]["result"] == {"id": their_id, "deleted": True, "version": 1}
    assert items[my_id] is not None and items[my_id]["name"] == "a's"
    assert "owner" not in items[my_id]
    assert items[their_id] is None
    assert items["never-created"] is None


def test_with_the_runs_owner_outcomes_are_read_by_their_full_key(aws: Aws) -> None:
    mine = aws.publish_command("create", payload={"name": "a's"})
    theirs = aws.publish_command("create", owner=OWNER_B, payload={"name": "b's"})
    drain(aws.sqs, aws.queue("create"), create.handler)

    tables = Tables(aws.dynamodb, aws.topology.outcomes_table, aws.topology.items_table,
                    owner=OWNER_A)
    outcomes = tables.outcomes([mine, theirs, "never-accepted"])

    # THEN the run's own outcome and item are found; another caller's are not its own
    assert set(outcomes) == {mine}
    my_id = str(outcomes[mine]["result"]["id"])
    assert tables.items([my_id])[my_id] is not None
