"""An index of a FIFO SQS queue's messages by message group, so that moto's receive,
delete, change-visibility and send cost the same at depth 100,000 as at depth 10.

moto keeps a FIFO queue as one list, like a standard queue: a receive walks every
visible message (skipping those of a group with a message in flight), a send walks
every live message to find a duplicate, a delete or visibility change scans for the
receipt handle. Here the messages live in a `FifoIndex` instead:

- per message group, its live messages in send order (an `OrderedDict`: the head is
  found and any member removed at once), and how many of them are in flight;
- a heap of the groups that can hand out a message now (none of theirs in flight,
  the head neither in flight nor delayed), by the send order of their head: taking
  heads from it merges the groups in send order, as moto's walk of the whole list
  does, without touching a blocked group;
- in-flight and delayed messages in a heap by the time they become visible, as in
  the standard queue's index; each call first files again those whose time came;
- every receipt handle a live message ever had → the message;
- every deduplication id → its live messages, for the 5-minute window.

FIFO rules kept (each guarded by tests/integration/local/test_sqs_fifo_index.py):
a group with a message in flight hands out nothing; a group hands out its messages
in send order, several in one receive; a message of a group whose head is delayed
waits behind it. Where moto's walk breaks order within a group (it unblocks a group
by the first expired in-flight message it meets, so with two expired in flight, the
second can come out first) this index keeps AWS's order; docs/emulator-facts.md.
"""

from __future__ import annotations

import heapq
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from crudops_local.aws.sqs_queue_index import QueueIndex

READY, IN_FLIGHT, DELAYED = "ready", "in flight", "delayed"


@dataclass
class _Slot:
    seq: int
    group: Any
    version: int = 0
    state: str = ""

    @property
    def ready(self) -> bool:
        return self.state == READY


@dataclass
class _Group:
    members: OrderedDict[Any, None] = field(default_factory=OrderedDict)
    in_flight: int = 0
    version: int = 0


class FifoIndex(QueueIndex[_Slot]):
    """The live messages of one FIFO queue, by group. A receive holds the index's lock
    while it picks its messages (`receiving`), so two receives never hand out the same
    group at once."""

    def __init__(self, clock_millis: Callable[[], float], messages: Iterable[Any] = ()) -> None:
        self._groups: dict[Any, _Group] = {}
        self._ready_groups: list[tuple[int, int, Any]] = []  # (head seq, version, group)
        self._dedup: dict[Any, dict[Any, None]] = {}
        super().__init__(clock_millis, messages)

    # -- changes --------------------------------------------------------------
    def add_unless_duplicate(self, message: Any, window_ms: float | None) -> bool:
        """Add `message` unless `window_ms` is given and a live message with its
        deduplication id was sent less than that long before it (moto's rule:
        `(new.sent - old.sent) < window`); True if added. One step under the lock,
        so two sends of one id at once add one message."""
        with self._lock:
            if window_ms is not None:
                for other in self._dedup.get(message.deduplication_id, ()):
                    if message.sent_timestamp - other.sent_timestamp < window_ms:
                        return False
            self.add(message)
            return True

    def add(self, message: Any) -> None:
        with self._lock:
            if message in self._slots:
                return
            seq = next(self._seq)
            # A message without a group (moved here from a standard queue) is a group
            # of its own: moto orders and blocks only messages that have one.
            key = message.group_id or (None, seq)
            slot = self._slots[message] = _Slot(seq, key)
            group = self._groups.setdefault(key, _Group())
            group.members[message] = None
            self._dedup.setdefault(message.deduplication_id, {})[message] = None
            self._remember_handles(message)
            self._file(message, slot)
            if len(group.members) == 1:  # a new head; behind one, nothing changes
                self._refile_group(key)

    def _removed(self, message: Any, slot: _Slot) -> None:
        self._unfile(slot, message)
        group = self._groups[slot.group]
        del group.members[message]
        if not group.members:
            del self._groups[slot.group]
        else:
            self._refile_group(slot.group)
        same_id = self._dedup.get(message.deduplication_id)
        if same_id is not None:
            same_id.pop(message, None)
            if not same_id:
                del self._dedup[message.deduplication_id]

    def place(self, message: Any) -> None:
        """File `message` anew after its visibility may have changed (a received
        message or a visibility change). A message deleted meanwhile stays deleted."""
        with self._lock:
            slot = self._slots.get(message)
            if slot is None:
                return
            self._remember_handles(message)
            self._file(message, slot)
            self._refile_group(slot.group)

    def _file(self, message: Any, slot: _Slot) -> None:
        self._unfile(slot, message)
        slot.version += 1
        if not message.visible:
            slot.state = IN_FLIGHT
            self._groups[slot.group].in_flight += 1
        elif message.delayed:
            slot.state = DELAYED
        else:
            slot.state = READY
            self._ready_count += 1
            return
        self._not_ready[message] = None
        due = max(float(message.visible_at), float(message.delayed_until))
        heapq.heappush(self._waiting, (due, slot.seq, slot.version, message))

    def _unfile(self, slot: _Slot, message: Any) -> None:
        if slot.state == READY:
            self._ready_count -= 1
        elif slot.state == IN_FLIGHT:
            self._groups[slot.group].in_flight -= 1
        if slot.state:
            self._not_ready.pop(message, None)
        slot.state = ""

    def _refile_group(self, key: Any) -> None:
        group = self._groups.get(key)
        if group is None:
            return
        group.version += 1
        head = self._head_if_ready(group)
        if head is not None:
            heapq.heappush(self._ready_groups, (self._slots[head].seq, group.version, key))
            if len(self._ready_groups) > 2 * len(self._groups) + 1024:
                # mostly entries of older versions: keep one per group that is ready
                self._ready_groups = [entry for entry in self._ready_groups
                                      if (g := self._groups.get(entry[2])) is not None
                                      and g.version == entry[1]]
                heapq.heapify(self._ready_groups)

    def _head_if_ready(self, group: _Group) -> Any | None:
        if group.in_flight or not group.members:
            return None
        head = next(iter(group.members))
        return head if self._slots[head].state == READY else None

    def _refile_due(self, message: Any, slot: _Slot) -> None:
        self._file(message, slot)
        self._refile_group(slot.group)

    def _ready_top(self, skip: set[Any]) -> tuple[int, Any] | None:
        """The earliest ready group's (head seq, key), its heap entry still in place;
        stale entries (and groups in `skip`) dropped on the way."""
        while self._ready_groups:
            seq, version, key = self._ready_groups[0]
            group = self._groups.get(key)
            if (group is not None and group.version == version and key not in skip
                    and self._head_if_ready(group) is not None):
                return seq, key
            heapq.heappop(self._ready_groups)
        return None

    # -- reads ------------------------------------------------------------------
    def receiving(self) -> Receiving:
        """The messages a receive may hand out now, for one pass of moto's receive
        loop; use as a context manager (it holds the index's lock)."""
        return Receiving(self)

    def has_ready(self) -> bool:
        """Whether a receive now would find a message (a group not blocked)."""
        with self._lock:
            self._wake_due()
            return self._ready_top(set()) is not None


class Receiving:
    """One pass of a receive over a `FifoIndex` (a `ReceivePass`), under its lock:
    `candidates()` yields the messages of the groups not blocked, merged in send order;
    the caller marks each one it hands out (`received`) or sends to the dead-letter
    queue (`moved`). On leaving, the received messages are filed as in flight, the moved ones leave
    the index (`moved_out` lists them for the dead-letter queue), and every group
    touched is filed again."""

    def __init__(self, index: FifoIndex) -> None:
        self._index = index
        self._touched: set[Any] = set()
        self._received: list[Any] = []
        self.moved_out: list[Any] = []

    def __enter__(self) -> Receiving:
        self._index._lock.acquire()
        self._index._wake_due()
        return self

    def __exit__(self, *_: object) -> None:
        index = self._index
        try:
            for message in self.moved_out:
                if message in index._slots:
                    index.remove(message)
            for message in self._received:
                slot = index._slots.get(message)
                if slot is not None:
                    index._remember_handles(message)
                    index._file(message, slot)
            for key in self._touched:
                index._refile_group(key)
        finally:
            index._lock.release()

    def received(self, message: Any) -> None:
        self._received.append(message)

    def moved(self, message: Any) -> None:
        self.moved_out.append(message)

    def candidates(self) -> Iterator[Any]:
        index = self._index
        # groups already handing out in this pass: (next seq, key, that message, rest)
        going: list[tuple[int, Any, Any, Iterator[Any]]] = []
        while True:
            top = index._ready_top(self._touched)
            if going and (top is None or going[0][0] < top[0]):
                _, key, message, rest = heapq.heappop(going)
            elif top is not None:
                heapq.heappop(index._ready_groups)
                key = top[1]
                self._touched.add(key)
                rest = iter(index._groups[key].members)
                message = next(rest)
            else:
                return
            yield message
            following = next(rest, None)
            # a delayed member stops its group for this pass: order within a group
            if following is not None and index._slots[following].state == READY:
                heapq.heappush(going, (index._slots[following].seq, key, following, rest))
