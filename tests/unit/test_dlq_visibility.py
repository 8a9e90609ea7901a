"""Keeping a redrive's messages hidden while it needs them (tools/dlq/visibility.py)."""

from __future__ import annotations

from typing import Any

from tools.dlq.visibility import VisibilityKeeper


class RecordingSqs:
    def __init__(self) -> None:
        self.calls: list[tuple[int, list[str]]] = []

    def change_message_visibility_batch(self, QueueUrl: str, Entries: list[Any]) -> Any:
        self.calls.append((Entries[0]["VisibilityTimeout"],
                           [e["ReceiptHandle"] for e in Entries]))
        return {"Successful": [{"Id": e["Id"]} for e in Entries]}


def test_held_messages_are_extended_a_third_into_their_timeout_and_released_at_once() -> None:
    now = [100.0]
    sqs = RecordingSqs()
    noted: list[int] = []
    keeper = VisibilityKeeper(sqs, "url", 30, on_extend=noted.append, clock=lambda: now[0])
    keeper.hold({f"m{n}": f"h{n}" for n in range(12)})
    now[0] += 9.9
    keeper.extend_due()
    assert sqs.calls == []  # not due yet: two thirds of the timeout still ahead
    now[0] += 0.2
    keeper.extend_due()
    assert [(seconds, len(handles)) for seconds, handles in sqs.calls] == [(30, 10), (30, 2)]
    assert noted == [12] and keeper.extensions == 12
    keeper.drop(["m0"])  # deleted: no longer extended or released
    keeper.release()
    assert sqs.calls[2:] == [(0, [f"h{n}" for n in range(1, 11)]), (0, ["h11"])]
    assert not keeper.holds("m5")


def test_a_message_received_again_is_held_by_its_new_handle() -> None:
    sqs = RecordingSqs()
    keeper = VisibilityKeeper(sqs, "url", 30, clock=lambda: 0.0)
    keeper.hold({"m1": "old"})
    keeper.hold({"m1": "new"})
    keeper.release(["m1", "never-held"])
    assert sqs.calls == [(0, ["new"])]
