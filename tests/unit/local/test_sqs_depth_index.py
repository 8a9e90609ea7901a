"""The SQS depth index on its own: order, visibility by the clock, deletes by handle."""

from __future__ import annotations

import pytest

from crudops_local.aws.sqs_depth_index import DepthIndex, _expect_parameters
from tests.support.sqs_messages import FakeMessage


def _index(*bodies: str) -> tuple[DepthIndex, list[float], list[FakeMessage]]:
    clock = [1_000.0]
    messages = [FakeMessage(body, clock, handles=[f"h-{body}"]) for body in bodies]
    return DepthIndex(lambda: clock[0], messages), clock, messages


def _drain(index: DepthIndex) -> list[str]:
    taken = []
    while (message := index.take_ready()) is not None:
        taken.append(message)
    for message in taken:
        index.place(message)
    return [m.body for m in taken]


def test_ready_messages_come_out_in_send_order_and_in_flight_ones_come_back_in_place() -> None:
    index, clock, (a, _, _) = _index("a", "b", "c")
    taken = index.take_ready()
    assert taken is a
    a.visible_at = clock[0] + 30_000  # received with a 30 s visibility timeout
    index.place(a)
    assert index.count_ready() == 2
    assert index.count_not_ready(lambda m: not m.visible) == 1
    assert _drain(index) == ["b", "c"]
    clock[0] += 30_001
    assert index.has_ready()
    assert _drain(index) == ["a", "b", "c"]


def test_a_delayed_message_waits_for_its_time() -> None:
    index, clock, _ = _index("now")
    later = FakeMessage("later", clock, delayed_until=clock[0] + 5_000)
    index.add(later)
    assert _drain(index) == ["now"]
    assert index.count_not_ready(lambda m: m.delayed) == 1
    clock[0] += 5_001
    assert _drain(index) == ["now", "later"]


def test_every_handle_finds_its_message_until_it_is_removed() -> None:
    index, _, (a, b) = _index("a", "b")
    a.handles.append("h-a-second-receive")
    index.place(a)
    assert index.find("h-a") is a and index.find("h-a-second-receive") is a
    index.remove(a)
    assert index.find("h-a") is None and index.find("h-a-second-receive") is None
    assert index.find("h-b") is b
    assert _drain(index) == ["b"]


def test_a_message_deleted_while_a_receive_holds_it_stays_deleted() -> None:
    index, _, (a, _) = _index("a", "b")
    held = index.take_ready()
    assert held is a
    index.remove(a)  # another request thread deletes it by an older handle
    index.place(a)   # the receive files what it took
    assert len(index) == 1
    assert _drain(index) == ["b"]


def test_a_moto_method_whose_parameters_changed_is_refused() -> None:
    def delete_message(self: object, handle: str) -> None:
        """A moto release that renamed `receipt_handle`."""

    with pytest.raises(RuntimeError, match="needs a look"):
        _expect_parameters(delete_message, ("self", "receipt_handle"))
    _expect_parameters(delete_message, ("self", "handle"))  # as it is: accepted


def test_deleted_in_flight_messages_do_not_pile_up_until_their_timeout() -> None:
    index, clock, _ = _index()
    for n in range(5_000):  # received with a 12 h visibility timeout, then deleted
        message = FakeMessage(str(n), clock, visible_at=clock[0] + 43_200_000)
        index.add(message)
        index.remove(message)
    assert len(index._waiting) <= 1024 + 1
