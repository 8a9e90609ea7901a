"""Speed patches for the embedded moto server, applied only in its own process, and
one for atomicity.

- **DynamoDB item writes are atomic**: DynamoDB applies each PutItem, UpdateItem,
  DeleteItem and transaction to an item as one step, so `ADD live :one` with a
  condition is a safe counter (the per-connection subscription limit, ADR 0029).
  moto's server runs requests on threads, and its read-evaluate-write of an item
  interleaves: 8 threads of 150 `ADD 1` each left 1,198, not 1,200. The patch runs
  those four writes (and so `BatchWriteItem`, made of them) under one lock; moto's
  server holds one interpreter lock for them anyway, so little is lost.

Each of the others keeps moto's observable behaviour and removes a cost that grows
with the data:

- **SQS clock**: moto.sqs computes "now" through a datetime-based clock many times
  per queued message on every call (receive+delete of 10 at depth 1,000: ~470 ms).
  A `time.time()` clock gives the same epoch values for a fraction of the cost.
- **DynamoDB transactions**: `transact_write_items` deep-copies every table it
  touches before each call so that it can roll back (1.7 ms on an empty table,
  67 ms at 5,000 items, and a 9 GiB peak under a 10,000-message backlog). The patch
  snapshots only the items the transaction touches and restores those on a
  rollback; the conditions, the errors and `CancellationReasons` stay moto's own.
- **DynamoDB queries**: a query sorts every item of the table to pick those under
  the queried key (8 ms per query at ~1,000 subscriptions, growing with the table),
  on the table's key and on a secondary index alike. moto's query gets only the
  items under that key (`dynamodb_index.py`: the partition, or a global index's
  items from an index kept up to date on every write); the key conditions, filters,
  paging and order stay moto's own.
- **Request routing**: the server finds the service for every request by listing
  moto's package directory (~200 `isdir` calls) and trying each service's URL
  patterns, all under one lock every request thread waits on. The answer depends
  only on the host it is asked about, so it is remembered per host.
- **SQS attributes**: moto reads one attribute of a queue by building all of them,
  the three `ApproximateNumberOfMessages*` counts included (three scans of the queue
  with clock reads per message), and does so for every message sent (to read
  `ContentBasedDeduplication`) and three times for every message received (to read
  `MessageRetentionPeriod`). Inside those calls the counts are not built: each
  reads as a marker, and the attributes' mapping refuses to hand one out, so a moto
  release that starts to need a count there fails loudly instead of answering wrong.
- **SQS attribute names**: building a queue's attributes (once per message sent)
  converts each of ~14 names from CamelCase with a character loop, a third of a
  send's server time. The conversion depends only on the name: it is remembered.
- **SQS depth**: a standard queue's messages are indexed (`sqs_depth_index.py`):
  receive, delete, change-visibility and the counts no longer walk the whole queue.
"""

from __future__ import annotations

import copy
import functools
import inspect
import threading
import time
from collections.abc import Callable
from typing import Any

from crudops_local.aws import dynamodb_index, sqs_depth_index

_originals: dict[str, Any] = {}


def _fast_unix_time(dt: Any = None) -> float:
    if dt is None:
        return time.time()
    from moto.core.utils import unix_time

    return float(unix_time(dt))


def _fast_unix_time_millis(dt: Any = None) -> float:
    return _fast_unix_time(dt) * 1000.0


class _TablesAreNotCopied:
    """Stands in for the `copy` module inside moto.dynamodb.models: a Table "copy" is
    the table itself (the undo log below restores items instead); everything else is
    copied as before."""

    def __init__(self, table_type: type) -> None:
        self._table_type = table_type

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        if isinstance(value, self._table_type):
            return value
        return copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def _item_key(backend: Any, operation: str, request: dict[str, Any]) -> dict[str, Any] | None:
    table = backend.tables.get(request.get("TableName"))
    if table is None:
        return None
    if operation != "Put":
        key: dict[str, Any] = request["Key"]
        return key
    item = request["Item"]
    key = {table.hash_key_attr: item[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = item[table.range_key_attr]
    return key


def _with_item_undo(original: Callable[..., None]) -> Callable[..., None]:
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        undo: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
        for entry in transact_items:
            if len(entry) != 1:
                continue  # moto raises its own error for this before changing anything
            operation, request = next(iter(entry.items()))
            try:
                key = _item_key(self, operation, request)
            except (KeyError, TypeError):
                key = None  # a malformed request fails in moto before any write
            if key is None:
                continue
            current = self.get_item(request["TableName"], key)
            before = copy.deepcopy(current.to_json()["Attributes"]) if current else None
            undo.append((request["TableName"], key, before))
        try:
            original(self, transact_items)
        except Exception:
            for table_name, key, before in reversed(undo):
                if before is None:
                    if self.get_item(table_name, key) is not None:
                        self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, before)
            raise

    return transact_write_items


# The DynamoDB backend's item writes, made atomic by `_atomic`.
_ATOMIC_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items")
# Reentrant: a transaction and BatchWriteItem call the single-item writes inside.
_ITEM_WRITES = threading.RLock()


def _atomic(original: Callable[..., Any]) -> Callable[..., Any]:
    def write(*args: Any, **kwargs: Any) -> Any:
        with _ITEM_WRITES:
            return original(*args, **kwargs)

    write.__name__ = getattr(original, "__name__", "write")
    return write


def _remembered_per_host(original: Callable[[Any, str | None], Any]) -> Callable[..., Any]:
    answers: dict[str | None, Any] = {}

    def get_backend_for_host(self: Any, host: str | None) -> Any:
        if host not in answers:
            answers[host] = original(self, host)
        return answers[host]

    return get_backend_for_host


_SQS_COUNTS = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed",
               "ApproximateNumberOfMessagesNotVisible")
_SQS_COUNT_PROPERTIES = ("approximate_number_of_messages",
                         "approximate_number_of_messages_delayed",
                         "approximate_number_of_messages_not_visible")
# moto's methods that read single attributes (and never a count) of the queue they serve.
_SQS_WITHOUT_COUNTS = (("SQSBackend", "_validate_message"), ("SQSBackend", "send_message"),
                       ("SQSBackend", "is_message_valid_based_on_retention_period"),
                       ("Queue", "add_message"))


class _NotCounted:
    def __repr__(self) -> str:
        return "<SQS count not built>"


_NOT_COUNTED = _NotCounted()


class _CountsNotBuilt:
    """Per thread: how deep the current call is inside a method that needs no count."""

    def __init__(self) -> None:
        self._local = threading.local()

    @property
    def active(self) -> bool:
        return bool(getattr(self._local, "depth", 0))

    def wrap(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def without_counts(*args: Any, **kwargs: Any) -> Any:
            self._local.depth = getattr(self._local, "depth", 0) + 1
            try:
                return original(*args, **kwargs)
            finally:
                self._local.depth -= 1

        return without_counts


_counts_not_built = _CountsNotBuilt()


class _AttributesWithoutCounts(dict[str, Any]):
    """A queue's attributes as moto built them, the counts left out; reading a count
    raises, so a moto release that needs one where this patch assumed not is seen."""

    def _refuse(self, name: object) -> None:
        if name in _SQS_COUNTS:
            raise RuntimeError(f"moto read the SQS attribute {name} where "
                               "crudops_local/aws/moto_patches.py assumed it never does")

    def __getitem__(self, name: str) -> Any:
        self._refuse(name)
        return super().__getitem__(name)

    def get(self, name: str, default: Any = None) -> Any:
        self._refuse(name)
        return super().get(name, default)


def _count_unless_inside(original: property) -> property:
    def count(queue: Any) -> Any:
        return _NOT_COUNTED if _counts_not_built.active else original.fget(queue)  # type: ignore[misc]

    return property(count)


def _attributes_unless_inside(original: property) -> property:
    def attributes(queue: Any) -> dict[str, Any]:
        result: dict[str, Any] = original.fget(queue)  # type: ignore[misc]
        return _AttributesWithoutCounts(result) if _counts_not_built.active else result

    return property(attributes)


def _apply_sqs_attributes(sqs_models: Any) -> None:
    queue = sqs_models.Queue
    for name in (*_SQS_COUNT_PROPERTIES, "attributes"):
        if not isinstance(inspect.getattr_static(queue, name), property):
            raise RuntimeError(f"moto's Queue.{name} is no longer a property: "
                               "crudops_local/aws/moto_patches.py needs a look")
    if not set(_SQS_COUNTS) <= set(queue.BASE_ATTRIBUTES):
        raise RuntimeError("moto's Queue no longer lists the SQS counts as attributes")
    for name in _SQS_COUNT_PROPERTIES:
        _originals[f"sqs.Queue.{name}"] = inspect.getattr_static(queue, name)
        setattr(queue, name, _count_unless_inside(_originals[f"sqs.Queue.{name}"]))
    _originals["sqs.Queue.attributes"] = inspect.getattr_static(queue, "attributes")
    setattr(queue, "attributes",  # noqa: B010
            _attributes_unless_inside(_originals["sqs.Queue.attributes"]))
    for owner, name in _SQS_WITHOUT_COUNTS:
        cls = getattr(sqs_models, owner)
        _originals[f"sqs.{owner}.{name}"] = inspect.getattr_static(cls, name)
        setattr(cls, name, _counts_not_built.wrap(_originals[f"sqs.{owner}.{name}"]))


def _revert_sqs_attributes(sqs_models: Any) -> None:
    for key in [key for key in _originals if key.startswith("sqs.Queue.")
                or key.startswith("sqs.SQSBackend.")]:
        _, owner, name = key.split(".")
        setattr(getattr(sqs_models, owner), name, _originals.pop(key))


def apply() -> None:
    """Patch moto in this process (idempotent)."""
    if _originals:
        return
    import moto.dynamodb.models as dynamodb_models
    import moto.sqs.models as sqs_models
    from moto.dynamodb.models.table import Table
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication as Dispatcher

    _originals["sqs.camelcase_to_underscores"] = getattr(  # noqa: B009
        sqs_models, "camelcase_to_underscores")
    _originals["sqs.unix_time"] = getattr(sqs_models, "unix_time")  # noqa: B009
    _originals["sqs.unix_time_millis"] = getattr(sqs_models, "unix_time_millis")  # noqa: B009
    _originals["dynamodb.copy"] = dynamodb_models.copy  # type: ignore[attr-defined]
    backend = dynamodb_models.DynamoDBBackend
    _originals["dynamodb.transact"] = backend.transact_write_items
    _originals["server.backend_for_host"] = Dispatcher.get_backend_for_host
    setattr(sqs_models, "unix_time", _fast_unix_time)  # noqa: B010
    setattr(sqs_models, "camelcase_to_underscores",  # noqa: B010
            functools.lru_cache(maxsize=256)(_originals["sqs.camelcase_to_underscores"]))
    setattr(sqs_models, "unix_time_millis", _fast_unix_time_millis)  # noqa: B010
    setattr(dynamodb_models, "copy", _TablesAreNotCopied(Table))  # noqa: B010
    setattr(backend, "transact_write_items",  # noqa: B010
            _with_item_undo(_originals["dynamodb.transact"]))
    setattr(Dispatcher, "get_backend_for_host",  # noqa: B010
            _remembered_per_host(_originals["server.backend_for_host"]))
    dynamodb_index.apply(_originals)
    for name in _ATOMIC_WRITES:
        # over the transaction's item undo and the index's upkeep: a rollback and an
        # index update are inside the same lock as the write
        _originals[f"dynamodb.atomic.{name}"] = getattr(backend, name)
        setattr(backend, name, _atomic(getattr(backend, name)))
    sqs_depth_index.apply(sqs_models, _originals)
    _apply_sqs_attributes(sqs_models)  # over the index's counts: inside, none is built


def revert() -> None:
    """Undo `apply` (tests only; the server process never reverts)."""
    if not _originals:
        return
    import moto.dynamodb.models as dynamodb_models
    import moto.sqs.models as sqs_models
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication as Dispatcher

    for name in _ATOMIC_WRITES:
        setattr(dynamodb_models.DynamoDBBackend, name,
                _originals.pop(f"dynamodb.atomic.{name}"))
    _revert_sqs_attributes(sqs_models)
    sqs_depth_index.revert(sqs_models, _originals)
    dynamodb_index.revert(_originals)
    setattr(Dispatcher, "get_backend_for_host",  # noqa: B010
            _originals.pop("server.backend_for_host"))
    setattr(sqs_models, "unix_time", _originals.pop("sqs.unix_time"))  # noqa: B010
    setattr(sqs_models, "camelcase_to_underscores",  # noqa: B010
            _originals.pop("sqs.camelcase_to_underscores"))
    setattr(sqs_models, "unix_time_millis", _originals.pop("sqs.unix_time_millis"))  # noqa: B010
    setattr(dynamodb_models, "copy", _originals.pop("dynamodb.copy"))  # noqa: B010
    setattr(dynamodb_models.DynamoDBBackend, "transact_write_items",  # noqa: B010
            _originals.pop("dynamodb.transact"))
