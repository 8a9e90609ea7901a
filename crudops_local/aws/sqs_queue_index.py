"""What the index of a standard queue (`DepthIndex`, sqs_depth_index.py) and of a FIFO
queue (`FifoIndex`, sqs_fifo_index.py) keep alike: the live messages in send order,
every receipt handle a live message ever had, the in-flight and delayed messages in a
heap by the time they become visible, and moto's counts read from those.

The two differ in what "can be received now" means (a FIFO group with a message in
flight hands out nothing), so each files a message by itself (`_refile_due`) and says
how a receive takes its messages (`receiving`); what is here reads a message's slot
only through its `seq`, `version` and `ready`.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, Protocol, TypeVar


class Slot(Protocol):
    """Where an index holds one message: its send order, and a version that a heap
    entry must match to be current (a message filed anew leaves its old entries)."""

    seq: int
    version: int

    @property
    def ready(self) -> bool: ...


SlotT = TypeVar("SlotT", bound=Slot)


class ReceivePass(Protocol):
    """One pass of moto's receive loop over an index, used as a context manager:
    `candidates()` yields the messages that may be handed out now, in the order moto
    hands them out; the caller marks each one it hands out (`received`) or sends to
    the dead-letter queue (`moved`). On leaving, the index files them again, and
    `moved_out` lists the moved ones (already out of the index) for the dead-letter
    queue, in the order they were met."""

    moved_out: list[Any]

    def __enter__(self) -> ReceivePass: ...

    def __exit__(self, exc_type: object, /, *rest: object) -> None: ...

    def candidates(self) -> Iterator[Any]: ...

    def received(self, message: Any) -> None: ...

    def moved(self, message: Any) -> None: ...


class QueueIndex(ABC, Generic[SlotT]):
    """The live messages of one queue. Thread-safe: moto's server serves each request
    on its own thread and moto itself locks nothing. A subclass sets the fields its
    `add` needs before calling `__init__`, which adds `messages`."""

    def __init__(self, clock_millis: Callable[[], float], messages: Iterable[Any] = ()) -> None:
        self._clock_millis = clock_millis
        self._lock = threading.RLock()
        self._seq = itertools.count()
        self._slots: dict[Any, SlotT] = {}  # insertion order is send order
        self._handles: dict[str, Any] = {}
        self._waiting: list[tuple[float, int, int, Any]] = []  # (time, seq, version, message)
        self._ready_count = 0
        self._not_ready: dict[Any, None] = {}
        for message in messages:
            self.add(message)

    # -- what each kind of queue does its own way -------------------------------
    @abstractmethod
    def add(self, message: Any) -> None:
        """Index a message sent to the queue (a message already indexed stays as is)."""

    @abstractmethod
    def _removed(self, message: Any, slot: SlotT) -> None:
        """Undo what this kind of index kept of `message`, whose slot `remove` took."""

    @abstractmethod
    def has_ready(self) -> bool:
        """Whether a receive now would find a message."""

    @abstractmethod
    def receiving(self) -> ReceivePass:
        """One pass of moto's receive loop over this index."""

    @abstractmethod
    def _refile_due(self, message: Any, slot: SlotT) -> None:
        """File `message` anew now that its visibility timeout or delay has ended."""

    # -- bookkeeping both share ---------------------------------------------------
    def remove(self, message: Any) -> None:
        """Take a live message out (ValueError if it is not in the queue)."""
        with self._lock:
            slot = self._slots.pop(message, None)
            if slot is None:
                raise ValueError("the message is not in this queue")
            self._removed(message, slot)
            self._forget(message)

    def _remember_handles(self, message: Any) -> None:
        for handle in message.all_receipt_handles:
            if handle is not None:
                self._handles[handle] = message

    def _forget(self, message: Any) -> None:
        """The last step of removing `message`: its handles, and stale heap entries."""
        for handle in message.all_receipt_handles:
            if self._handles.get(handle) is message:
                del self._handles[handle]
        self._drop_stale_waiting()

    def _drop_stale_waiting(self) -> None:
        # A deleted in-flight message leaves its entry until its visibility timeout ends
        # (12 h at most), holding the message: rebuild once most entries are stale.
        if len(self._waiting) > 2 * len(self._not_ready) + 1024:
            self._waiting = [entry for entry in self._waiting
                             if (slot := self._slots.get(entry[3])) is not None
                             and slot.version == entry[2] and not slot.ready]
            heapq.heapify(self._waiting)

    def _wake_due(self) -> None:
        now = self._clock_millis()
        while self._waiting and self._waiting[0][0] < now:
            _, _, version, message = heapq.heappop(self._waiting)
            slot = self._slots.get(message)
            if slot is None or slot.version != version or slot.ready:
                continue
            self._refile_due(message, slot)
            if not slot.ready:
                break  # the clock went back: try again on the next call

    # -- reads ------------------------------------------------------------------
    def find(self, receipt_handle: str) -> Any | None:
        """The live message that has or had `receipt_handle`."""
        with self._lock:
            return self._handles.get(receipt_handle)

    def count_ready(self) -> int:
        """moto's ApproximateNumberOfMessages: visible and not delayed (in a FIFO
        queue, whether or not their group is blocked)."""
        with self._lock:
            return self._ready_count + sum(
                1 for m in self._not_ready if m.visible and not m.delayed)

    def count_not_ready(self, predicate: Callable[[Any], bool]) -> int:
        """How many messages that are not filed as ready satisfy `predicate` (the
        ready ones are visible and not delayed, so moto's other two counts are among
        these)."""
        with self._lock:
            return sum(1 for m in self._not_ready if predicate(m))

    def __len__(self) -> int:
        return len(self._slots)

    def ordered(self) -> list[Any]:
        """Every live message, in send order (what moto's list of the queue held)."""
        with self._lock:
            return list(self._slots)
