"""An index of an SQS queue's messages, so that moto's receive, delete,
change-visibility and send cost the same at depth 100,000 as at depth 10.

moto keeps a queue as one list: every receive builds the list of visible messages
(two clock reads per queued message), every delete and visibility change scans the
list for the receipt handle, and every count walks it. Here a standard queue's
messages live in a `DepthIndex` instead:

- messages that can be received now, in a heap by the order they were sent (moto
  hands out visible messages in that order, and so does this);
- in-flight and delayed messages apart, in a heap by the time they become visible;
  each call first moves those whose time has come back to the first heap;
- every receipt handle a live message ever had → the message (moto accepts an older
  handle of a message too), so a delete or a visibility change finds it at once.

Whether a message can be received is still decided by moto's own `Message.visible`
and `Message.delayed`; receiving still marks it as moto does, and the redrive to the
dead-letter queue, the retention check, the long-polling wait and the counts keep
moto's rules (the counts walk only the in-flight and delayed messages). moto code
that still reads `queue._messages` gets a list-like view of the index, in the order
moto would have had, so a path this patch does not cover stays correct (and linear).

A FIFO queue's messages live in a `FifoIndex` (sqs_fifo_index.py): by message group,
with its deduplication ids; its receive is moto's step for step over the groups that
are not blocked, and its send checks for a duplicate among the messages with the same
deduplication id only. What the two keep alike (the handles, the waiting heap, the
counts) is `QueueIndex` (sqs_queue_index.py); one receive, moto's step for step,
serves both, each index handing it the messages it may take (`receiving`).
"""

from __future__ import annotations

import heapq
import inspect
from collections.abc import Callable, Iterable, Iterator
from copy import deepcopy
from dataclasses import dataclass
from typing import Any

from crudops_local.aws.sqs_fifo_index import FifoIndex
from crudops_local.aws.sqs_queue_index import QueueIndex

_INDEX = "_crudops_depth_index"


def _moto_clock(name: str) -> float:
    """moto.sqs's own clock (`unix_time` or `unix_time_millis`), as patched, so that
    this index and moto's `Message.visible` agree on what "now" is."""
    import moto.sqs.models as sqs_models

    return float(getattr(sqs_models, name)())


@dataclass
class _Slot:
    seq: int
    version: int = 0
    ready: bool = False


class DepthIndex(QueueIndex[_Slot]):
    """The live messages of one standard queue: the ready ones in a heap by send order,
    so a receive takes the earliest sent at once."""

    def __init__(self, clock_millis: Callable[[], float], messages: Iterable[Any] = ()) -> None:
        self._ready: list[tuple[int, int, Any]] = []  # (seq, version, message)
        super().__init__(clock_millis, messages)

    # -- changes --------------------------------------------------------------
    def add(self, message: Any) -> None:
        with self._lock:
            if message in self._slots:
                return
            self._slots[message] = _Slot(next(self._seq))
            self._remember_handles(message)
            self.place(message)

    def _removed(self, message: Any, slot: _Slot) -> None:
        if slot.ready:
            self._ready_count -= 1
        self._not_ready.pop(message, None)

    def place(self, message: Any) -> None:
        """File `message` anew after its visibility or delay may have changed. A message
        deleted meanwhile (by another request thread, while a receive held it) stays
        deleted."""
        with self._lock:
            slot = self._slots.get(message)
            if slot is None:
                return
            slot.version += 1
            self._remember_handles(message)
            if message.visible and not message.delayed:
                if not slot.ready:
                    self._ready_count += 1
                    self._not_ready.pop(message, None)
                slot.ready = True
                heapq.heappush(self._ready, (slot.seq, slot.version, message))
            else:
                if slot.ready:
                    self._ready_count -= 1
                slot.ready = False
                self._not_ready[message] = None
                due = max(float(message.visible_at), float(message.delayed_until))
                heapq.heappush(self._waiting, (due, slot.seq, slot.version, message))

    def _refile_due(self, message: Any, slot: _Slot) -> None:
        self.place(message)

    # -- reads ------------------------------------------------------------------
    def take_ready(self) -> Any | None:
        """The earliest-sent message that can be received now, out of the ready heap
        (the caller `place`s it again once it has marked it), or None."""
        with self._lock:
            self._wake_due()
            while self._ready:
                _, version, message = heapq.heappop(self._ready)
                slot = self._slots.get(message)
                if slot is None or slot.version != version or not slot.ready:
                    continue  # deleted, or filed anew since
                slot.ready = False
                slot.version += 1
                self._ready_count -= 1
                self._not_ready[message] = None
                return message
            return None

    def has_ready(self) -> bool:
        with self._lock:
            self._wake_due()
            return self._ready_count > 0

    def receiving(self) -> DepthReceiving:
        return DepthReceiving(self)


class DepthReceiving:
    """One pass of a receive over a `DepthIndex` (see `ReceivePass`), without holding
    its lock: `candidates()` takes the ready messages one at a time, earliest sent
    first. On leaving, every message taken is filed again but the moved ones, which
    leave the index unless the pass ended in an error."""

    def __init__(self, index: DepthIndex) -> None:
        self._index = index
        self._taken: list[Any] = []
        self.moved_out: list[Any] = []

    def __enter__(self) -> DepthReceiving:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        for message in self._taken:
            if message not in self.moved_out:
                self._index.place(message)
        if exc_type is None:
            for message in self.moved_out:
                self._index.remove(message)

    def candidates(self) -> Iterator[Any]:
        while (message := self._index.take_ready()) is not None:
            self._taken.append(message)
            yield message

    def received(self, message: Any) -> None:
        """Nothing to note: every message taken and not moved is filed again."""

    def moved(self, message: Any) -> None:
        self.moved_out.append(message)


class MessagesView:
    """What moto code that is not patched sees as `queue._messages`: the index's
    messages in send order, with the list operations moto uses on it."""

    def __init__(self, index: QueueIndex[Any]) -> None:
        self._index = index

    def append(self, message: Any) -> None:
        self._index.add(message)

    def remove(self, message: Any) -> None:
        self._index.remove(message)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._index.ordered())

    def __len__(self) -> int:
        return len(self._index)

    def __bool__(self) -> bool:
        return len(self._index) > 0


def index_of(queue: Any) -> DepthIndex | FifoIndex:
    """The queue's index: a `FifoIndex` for a FIFO queue, else a `DepthIndex`; built
    on first use from the messages moto holds (anew if the queue changed its kind)."""
    kind = FifoIndex if queue.__dict__.get("fifo_queue", False) else DepthIndex
    index: DepthIndex | FifoIndex | None = queue.__dict__.get(_INDEX)
    if not isinstance(index, kind):
        held = queue.__dict__.get("_messages") or []
        index = kind(lambda: _moto_clock("unix_time_millis"), list(held))
        queue.__dict__[_INDEX] = index
        queue.__dict__["_messages"] = MessagesView(index)
    return index


def _messages_property() -> property:
    def get(queue: Any) -> Any:
        index_of(queue)
        return queue.__dict__["_messages"]

    def set_(queue: Any, value: Any) -> None:
        queue.__dict__.pop(_INDEX, None)  # a purge (`[]`), or moto's __init__
        queue.__dict__["_messages"] = list(value)

    return property(get, set_)


def _count(name: str, predicate: Callable[[Any], bool] | None) -> Callable[[Any], int]:
    def count(queue: Any) -> int:
        index = index_of(queue)
        return index.count_ready() if predicate is None else index.count_not_ready(predicate)

    count.__name__ = name
    return count


def _expect_parameters(function: Callable[..., Any], names: tuple[str, ...]) -> None:
    parameters = tuple(inspect.signature(function).parameters)
    if parameters[:len(names)] != names:
        raise RuntimeError(f"moto's {function.__qualname__} takes {parameters}, not {names}: "
                           "crudops_local/aws/sqs_depth_index.py needs a look")


def _delete_message(original: Callable[..., None]) -> Callable[..., None]:
    _expect_parameters(original, ("self", "receipt_handle"))

    def delete_message(queue: Any, receipt_handle: str) -> None:
        index = index_of(queue)
        from moto.sqs.exceptions import ReceiptHandleIsInvalid

        if receipt_handle in queue.deleted_messages:
            return None  # moto: deleting twice is fine
        message = index.find(receipt_handle)
        if message is None:
            raise ReceiptHandleIsInvalid()
        queue.pending_messages.discard(message)
        queue.deleted_messages.update(message.all_receipt_handles)
        index.remove(message)
        _wake_pollers_if_unblocked(queue, index)
        return None

    return delete_message


def _wait_for_messages(original: Callable[..., None]) -> Callable[..., None]:
    _expect_parameters(original, ("self", "timeout"))

    def wait_for_messages(queue: Any, timeout: int) -> None:
        def receivable() -> bool:
            return index_of(queue).has_ready()  # anew: a purge starts a new index

        with queue._messages_lock:
            queue._messages_lock.wait_for(receivable, timeout=timeout)
        return None

    return wait_for_messages


def _change_message_visibility(original: Callable[..., None]) -> Callable[..., None]:
    _expect_parameters(original, ("self", "queue_name", "receipt_handle", "visibility_timeout"))
    signature = inspect.signature(original)

    def change_message_visibility(backend: Any, *args: Any, **kwargs: Any) -> None:
        arguments = signature.bind(backend, *args, **kwargs).arguments
        queue = backend.get_queue(arguments["queue_name"])
        index = index_of(queue)
        from moto.sqs.exceptions import InvalidParameterValue, ReceiptHandleIsInvalid

        visibility_timeout = arguments["visibility_timeout"]
        message = index.find(arguments["receipt_handle"])
        if message is None:
            raise ReceiptHandleIsInvalid
        # moto's own checks and changes, in moto's order
        given = _moto_clock("unix_time_millis") + int(visibility_timeout) * 1000
        if given - message.sent_timestamp > 43200 * 1000:
            raise InvalidParameterValue(
                f"Value {visibility_timeout} for parameter VisibilityTimeout is invalid. "
                "Reason: Total VisibilityTimeout for the message is beyond the limit "
                "[43200 seconds]")
        message.change_visibility(visibility_timeout)
        if message.visible and message in queue.pending_messages:
            queue.pending_messages.remove(message)
        index.place(message)
        _wake_pollers_if_unblocked(queue, index)
        return None

    return change_message_visibility


def _wake_pollers_if_unblocked(queue: Any, index: DepthIndex | FifoIndex) -> None:
    """A delete or a visibility change can unblock a FIFO group: a long poll waiting
    on the queue hears of it at once instead of at its next one-second look."""
    if isinstance(index, FifoIndex) and index.has_ready():
        with queue._messages_lock:
            queue._messages_lock.notify_all()


def _receive_message(original: Callable[..., list[Any]]) -> Callable[..., list[Any]]:
    names = ("self", "queue_name", "count", "wait_seconds_timeout", "visibility_timeout",
             "message_attribute_names")
    _expect_parameters(original, names)
    signature = inspect.signature(original)

    def receive_message(backend: Any, *args: Any, **kwargs: Any) -> list[Any]:
        bound = signature.bind(backend, *args, **kwargs)
        bound.apply_defaults()
        queue = backend.get_queue(bound.arguments["queue_name"])
        return _receive_indexed(backend, queue, bound.arguments)

    return receive_message


def _receive_indexed(backend: Any, queue: Any, arguments: dict[str, Any]) -> list[Any]:
    """moto's `SQSBackend.receive_message`, step for step, taking the messages it may
    hand out from the queue's index (`receiving`) instead of walking every message:
    a standard queue's visible ones in send order, a FIFO queue's those of the groups
    that are not blocked."""
    import moto.sqs.models as sqs_models

    queue_name, count = arguments["queue_name"], arguments["count"]
    wait_seconds = arguments["wait_seconds_timeout"]
    visibility_timeout = arguments["visibility_timeout"]
    attribute_names = arguments["message_attribute_names"] or []
    kind = type(index_of(queue))
    result: list[Any] = []
    previous_result_count = 0
    polling_end = _moto_clock("unix_time") + wait_seconds
    while True:
        if result or (wait_seconds and _moto_clock("unix_time") > polling_end):
            break
        index = index_of(queue)  # anew each pass: a purge while waiting starts a new one
        if not isinstance(index, kind):
            break  # the queue changed its kind (FIFO or not) while this receive waited
        with index.receiving() as receiving:
            for message in receiving.candidates():
                if message in queue.pending_messages:
                    # visible again while pending: the consumer timed out
                    queue.pending_messages.remove(message)
                if (queue.dead_letter_queue is not None and queue.redrive_policy
                        and message.approximate_receive_count
                        >= queue.redrive_policy["maxReceiveCount"]):
                    receiving.moved(message)
                    continue
                queue.pending_messages.add(message)
                message.mark_received(visibility_timeout=visibility_timeout)
                receiving.received(message)
                message_copy = deepcopy(message)
                sqs_models._filter_message_attributes(message_copy, attribute_names)
                if not backend.is_message_valid_based_on_retention_period(queue_name, message):
                    break
                result.append(message_copy)
                if len(result) >= count:
                    break
        for message in receiving.moved_out:  # in the order met: a FIFO group's order kept
            queue.dead_letter_queue.add_message(message)
        if previous_result_count == len(result):
            if wait_seconds == 0:
                break
            queue.wait_for_messages(1)
            continue
        previous_result_count = len(result)
    return result


def _add_message(original: Callable[..., None]) -> Callable[..., None]:
    _expect_parameters(original, ("self", "message"))

    def add_message(queue: Any, message: Any) -> None:
        index = index_of(queue)
        if not isinstance(index, FifoIndex) or queue.lambda_event_source_mappings:
            # A standard queue has nothing to deduplicate; a queue moto's own Lambda
            # polls is served by moto's code (the local stack polls by itself).
            return original(queue, message)
        from moto.sqs.models import DEDUPLICATION_TIME_IN_SECONDS

        # moto's rule, read directly: dedupe when the queue does content-based
        # deduplication or the message carries an id
        deduplicates = (queue.attributes.get("ContentBasedDeduplication") == "true"
                        or message.deduplication_id)
        window_ms = DEDUPLICATION_TIME_IN_SECONDS * 1000 if deduplicates else None
        with queue._messages_lock:
            if index.add_unless_duplicate(message, window_ms):
                queue._messages_lock.notify_all()
        return None

    return add_message


_COUNTS: dict[str, Callable[[Any], bool] | None] = {
    "approximate_number_of_messages": None,
    "approximate_number_of_messages_delayed": lambda m: bool(m.delayed),
    "approximate_number_of_messages_not_visible": lambda m: not m.visible,
}


def apply(sqs_models: Any, originals: dict[str, Any]) -> None:
    """Index every queue of `sqs_models` (moto.sqs.models); `originals`
    receives what `revert` puts back."""
    queue, backend = sqs_models.Queue, sqs_models.SQSBackend
    if "_messages" in queue.__dict__:
        raise RuntimeError("moto's Queue has a class attribute _messages now: "
                           "crudops_local/aws/sqs_depth_index.py needs a look")
    for name in _COUNTS:
        if not isinstance(inspect.getattr_static(queue, name), property):
            raise RuntimeError(f"moto's Queue.{name} is no longer a property")
    wraps: list[tuple[type, str, Callable[[Any], Any]]] = [
        (queue, "delete_message", _delete_message),
        (queue, "add_message", _add_message),
        (queue, "wait_for_messages", _wait_for_messages),
        (backend, "receive_message", _receive_message),
        (backend, "change_message_visibility", _change_message_visibility),
    ]
    patched: dict[str, Any] = {}
    for owner, name, wrap in wraps:
        original = inspect.getattr_static(owner, name)
        originals[f"index.{owner.__name__}.{name}"] = original
        patched[f"{owner.__name__}.{name}"] = (owner, name, wrap(original))
    for name, predicate in _COUNTS.items():
        original = inspect.getattr_static(queue, name)
        originals[f"index.Queue.{name}"] = original
        patched[f"Queue.{name}"] = (queue, name, property(_count(name, predicate)))
    for owner, name, value in patched.values():
        setattr(owner, name, value)
    originals["index.Queue._messages"] = None  # no class attribute before
    queue._messages = _messages_property()


def revert(sqs_models: Any, originals: dict[str, Any]) -> None:
    for key in [key for key in originals if key.startswith("index.")]:
        _, owner, name = key.split(".")
        value = originals.pop(key)
        cls = getattr(sqs_models, owner)
        if value is None:
            delattr(cls, name)
        else:
            setattr(cls, name, value)
