"""The FIFO index on its own: groups merged in send order, a group blocked while one of
its messages is in flight, a delayed head, deduplication by id within a window."""

from __future__ import annotations

from crudops_local.aws.sqs_fifo_index import FifoIndex
from tests.support.sqs_messages import FakeMessage


def _index(*pairs: str) -> tuple[FifoIndex, list[float], dict[str, FakeMessage]]:
    """`"a1:a"` is body a1 in group a."""
    clock = [1_000.0]
    messages = {}
    for pair in pairs:
        body, group = pair.split(":")
        messages[body] = FakeMessage(body, clock, group or None, deduplication_id=body,
                                     sent_timestamp=clock[0], handles=[f"h-{body}"])
    return FifoIndex(lambda: clock[0], messages.values()), clock, messages


def _receive(index: FifoIndex, clock: list[float], count: int = 10,
             visibility_ms: float = 30_000) -> list[str]:
    """One pass: hand out up to `count`, each then in flight for `visibility_ms` (0: as
    moto's receive with no visibility timeout, visible at once)."""
    bodies = []
    with index.receiving() as receiving:
        for message in receiving.candidates():
            if visibility_ms:
                message.visible_at = clock[0] + visibility_ms
            receiving.received(message)
            bodies.append(message.body)
            if len(bodies) >= count:
                break
    return bodies


def test_groups_are_merged_in_send_order_and_a_group_gives_several_in_one_pass() -> None:
    index, clock, _ = _index("a1:a", "b1:b", "a2:a", "c1:c", "b2:b")
    assert _receive(index, clock) == ["a1", "b1", "a2", "c1", "b2"]


def test_a_group_with_a_message_in_flight_is_skipped_until_it_is_deleted() -> None:
    index, clock, messages = _index("a1:a", "a2:a", "b1:b")
    assert _receive(index, clock, count=1) == ["a1"]
    assert _receive(index, clock) == ["b1"]
    assert not index.has_ready()
    index.remove(messages["a1"])
    assert index.has_ready()
    assert _receive(index, clock) == ["a2"]


def test_in_flight_messages_that_time_out_come_back_first_in_their_group() -> None:
    index, clock, _ = _index("a1:a", "a2:a", "a3:a")
    assert _receive(index, clock, count=2, visibility_ms=1_000) == ["a1", "a2"]
    assert _receive(index, clock) == []
    clock[0] += 1_001
    assert _receive(index, clock) == ["a1", "a2", "a3"]


def test_a_delayed_head_holds_its_group_and_a_delayed_member_ends_a_pass() -> None:
    index, clock, _ = _index("a1:a", "b1:b")
    late = FakeMessage("a2", clock, "a", "a2", clock[0], delayed_until=clock[0] + 5_000)
    index.add(late)
    assert _receive(index, clock, visibility_ms=0) == ["a1", "b1"]  # a2 not yet
    early_head = FakeMessage("c1", clock, "c", "c1", clock[0], delayed_until=clock[0] + 5_000)
    index.add(early_head)
    index.add(FakeMessage("c2", clock, "c", "c2", clock[0]))
    assert _receive(index, clock, visibility_ms=0) == ["a1", "b1"]  # c waits behind c1
    assert index.count_not_ready(lambda m: m.delayed) == 2
    clock[0] += 5_001
    assert _receive(index, clock) == ["a1", "b1", "a2", "c1", "c2"]


def test_messages_without_a_group_are_each_their_own() -> None:
    index, clock, _ = _index("x:", "y:")
    assert _receive(index, clock, count=1) == ["x"]
    assert _receive(index, clock) == ["y"]


def test_a_duplicate_id_within_the_window_is_not_added() -> None:
    index, clock, messages = _index("a1:a")
    again = FakeMessage("again", clock, "a", "a1", clock[0] + 299_999)
    assert not index.add_unless_duplicate(again, 300_000)
    later = FakeMessage("later", clock, "a", "a1", clock[0] + 300_000)
    assert index.add_unless_duplicate(later, 300_000)
    index.remove(messages["a1"])
    index.remove(later)
    assert index.add_unless_duplicate(again, 300_000)  # nothing live with that id
    assert len(index) == 1


def test_a_moved_message_leaves_the_index_and_its_handles() -> None:
    index, clock, messages = _index("p1:g", "p2:g")
    with index.receiving() as receiving:
        for message in receiving.candidates():
            receiving.moved(message)
            break
    assert receiving.moved_out == [messages["p1"]]
    assert index.find("h-p1") is None and len(index) == 1
    assert _receive(index, clock) == ["p2"]


def test_deleted_in_flight_messages_do_not_pile_up_until_their_timeout() -> None:
    index, clock, _ = _index()
    for n in range(5_000):  # received with a 12 h visibility timeout, then deleted
        message = FakeMessage(str(n), clock, "g", str(n), visible_at=clock[0] + 43_200_000)
        index.add(message)
        index.remove(message)
    assert len(index._waiting) <= 1024 + 1


def test_the_heap_of_ready_groups_stays_near_one_entry_per_group() -> None:
    index, clock, messages = _index("a1:a", "a2:a", "b1:b")
    for _ in range(5_000):  # visibility changes that leave the message visible
        index.place(messages["a1"])
    assert len(index._ready_groups) <= 2 * 2 + 1024 + 1
    assert _receive(index, clock) == ["a1", "a2", "b1"]
