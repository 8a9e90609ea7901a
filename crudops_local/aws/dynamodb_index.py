"""DynamoDB queries that cost by the items under the queried key, not by the table.

moto 5.2.5's `Table.query` starts from `all_items()`: every item of the table, sorted.
A query on the table's own key then keeps one partition, and a query on a secondary
index walks every item to keep those whose index key matches (the subscriptions
table's `byConnection` query of `$disconnect`, growing with every subscription held).
Here moto's own `query` runs unchanged (key conditions, sort order, paging, limits,
projection, filters, its errors) on a view of the table whose `all_items()` holds only
the candidates:

- a table query or a local index (same partition key): that partition's items, which
  moto keeps by partition key already;
- a global index: the items whose value of the index's partition key attribute is the
  queried one, from a `KeyIndex` kept per table and index: built on the index's first
  query by one walk of the table, then kept up to date on every `Table.put_item`,
  `Table.delete_item` and `DynamoDBBackend.update_item` (which changes an item in
  place) by reading the item's current value after the write. Every path that writes
  an item (PutItem, UpdateItem, DeleteItem, BatchWriteItem, TransactWriteItems and
  its undo, PartiQL) ends in one of those three. A table moto replaces as a whole
  (a restore) is a new table, with an index of its own.

A candidate is read from the table when the query runs and moto checks its key
conditions again, so an index entry that is stale can only cost time, never a wrong
answer. If the index cannot follow a write (a key it cannot read), it stops being
used for that table and moto's walk answers instead.
"""

from __future__ import annotations

import inspect
import threading
import weakref
from collections.abc import Callable
from functools import partial
from typing import Any

_Key = tuple[Any, Any]  # (partition key, sort key or None), as moto's DynamoTypes


class KeyIndex:
    """The primary keys of a table's items by their value of one attribute (a global
    index's partition key). Sparse, as the index is: an item without the attribute is
    not in it."""

    def __init__(self, attribute: str) -> None:
        self.attribute = attribute
        self._lock = threading.Lock()
        self._built = False
        self._by_value: dict[Any, dict[_Key, None]] = {}
        self._value_of: dict[_Key, Any] = {}

    def changed(self, table: Any, key: _Key) -> None:
        """Follow a write of the item at `key` (nothing to do before the first query:
        the build reads the table as it is then)."""
        with self._lock:
            if self._built:
                self._refresh(key, _current(table, key))

    def candidates(self, table: Any, value: Any) -> list[Any]:
        """The table's items now whose attribute is `value` (the index built first if
        this is its first query)."""
        with self._lock:
            if not self._built:
                for key, item in _every_item(table):
                    self._refresh(key, item)
                self._built = True
            keys = list(self._by_value.get(value, ()))
        items = [_current(table, key) for key in keys]
        return [item for item in items if item is not None]

    def _refresh(self, key: _Key, item: Any | None) -> None:
        value = None if item is None else item.attrs.get(self.attribute)
        old = self._value_of.get(key)
        if old is not None and (value is None or old != value):
            same = self._by_value[old]
            same.pop(key, None)
            if not same:
                del self._by_value[old]
        if value is None:
            self._value_of.pop(key, None)
            return
        self._value_of[key] = value
        self._by_value.setdefault(value, {})[key] = None


def _current(table: Any, key: _Key) -> Any | None:
    """The item at `key` now, read without moto's `get_item` (which validates, and
    whose `items[hash]` would add an empty partition)."""
    partition = table.items.get(key[0])
    if partition is None or table.range_key_attr is None:
        return partition
    return partition.get(key[1])


def _every_item(table: Any) -> list[tuple[_Key, Any]]:
    # list(): one snapshot, taken at once while request threads keep writing.
    if table.range_key_attr is None:
        return [((h, None), item) for h, item in list(table.items.items())]
    return [((h, r), item) for h, partition in list(table.items.items())
            for r, item in list(partition.items())]


class _Indexes:
    """Every table's `KeyIndex`es, by index name and attribute (a recreated index with
    another key gets a new one), held only as long as moto holds the table."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_table: weakref.WeakKeyDictionary[Any, dict[tuple[str, str], KeyIndex]] = (
            weakref.WeakKeyDictionary())
        self._unusable: weakref.WeakSet[Any] = weakref.WeakSet()

    def of(self, table: Any, index_name: str, attribute: str) -> KeyIndex | None:
        with self._lock:
            if table in self._unusable:
                return None
            indexes = self._by_table.setdefault(table, {})
            return indexes.setdefault((index_name, attribute), KeyIndex(attribute))

    def changed(self, table: Any, key: _Key | None) -> None:
        with self._lock:
            indexes = list(self._by_table.get(table, {}).values())
        try:
            if key is None:
                raise TypeError("a key the index cannot read")
            for index in indexes:
                index.changed(table, key)
        except TypeError:  # a key or value that is not hashable: walk from now on
            self.give_up(table)

    def candidates(self, table: Any, index_name: str, attribute: str,
                   value: Any) -> list[Any]:
        """The items a query of `index_name` for `value` can return: from the index,
        or (once the index gave up on this table) every item."""
        index = self.of(table, index_name, attribute)
        if index is not None:
            try:
                return index.candidates(table, value)
            except TypeError:
                self.give_up(table)
        return list(table.all_items())

    def give_up(self, table: Any) -> None:
        with self._lock:
            self._unusable.add(table)
            self._by_table.pop(table, None)


_indexes = _Indexes()


class _Candidates:
    """A table as its `query` sees it: every attribute the table's own, except that
    `all_items` holds only the candidates (moto sorts and checks them itself)."""

    def __init__(self, table: Any, items: Callable[[], list[Any]]) -> None:
        self._table = table
        self._items = items

    def all_items(self) -> list[Any]:
        return self._items()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


def _partition(table: Any, hash_key: Any) -> list[Any]:
    partition = table.items.get(hash_key)  # `.get`: adds no empty bucket
    if partition is None:
        return []
    return list(partition.values()) if table.range_key_attr else [partition]


def _index_partition_key(index: Any) -> str | None:
    return next((k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"), None)


def _view(table: Any, arguments: dict[str, Any]) -> Any:
    """The table, or a view of it holding only the items the query can return."""
    index_name = arguments.get("index_name")
    if index_name is None:
        hash_key = arguments.get("hash_key")
        return table if hash_key is None else _Candidates(
            table, partial(_partition, table, hash_key))
    conditions = dict(arguments.get("hash_key_conditions") or [])
    for index in table.global_indexes or []:
        attribute = _index_partition_key(index)
        if index.name == index_name and attribute is not None and attribute in conditions:
            return _Candidates(table, partial(_indexes.candidates, table, index_name,
                                              attribute, conditions[attribute]))
    for index in table.indexes or []:
        attribute = _index_partition_key(index)
        if (index.name == index_name and attribute == table.hash_key_attr
                and attribute in conditions):
            return _Candidates(table, partial(_partition, table, conditions[attribute]))
    return table  # an unknown index, or no condition on its key: moto answers (or refuses)


def _by_key(original: Callable[..., Any]) -> Callable[..., Any]:
    # Bound by name, so that a moto release that reorders the parameters still finds them.
    signature = inspect.signature(original)
    for name in ("hash_key", "index_name", "hash_key_conditions"):
        if name not in signature.parameters:
            raise RuntimeError(f"moto's Table.query has no parameter {name}: "
                               "crudops_local/aws/dynamodb_index.py needs a look")

    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind(self, *args, **kwargs).arguments
        return original(_view(self, arguments), *args, **kwargs)

    return query


def _followed_put(original: Callable[..., Any]) -> Callable[..., Any]:
    def put_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        item = original(self, *args, **kwargs)
        _indexes.changed(self, (item.hash_key, item.range_key))
        return item

    return put_item


def _followed_delete(original: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(original)

    def delete_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind(self, *args, **kwargs).arguments
        try:
            return original(self, *args, **kwargs)
        finally:
            _indexes.changed(self, (arguments["hash_key"], arguments.get("range_key")))

    return delete_item


def _followed_update(original: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(original)

    def update_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind(self, *args, **kwargs).arguments
        try:
            return original(self, *args, **kwargs)
        finally:
            table = self.tables.get(arguments["table_name"])
            if table is not None:
                _indexes.changed(table, _update_key(table, arguments["key"]))

    return update_item


def _update_key(table: Any, key: Any) -> _Key | None:
    """The key an UpdateItem wrote to, as moto reads it; None when it cannot be read."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    try:
        hash_value = DynamoType(key[table.hash_key_attr])
        if table.range_key_attr is None:
            return hash_value, None
        return hash_value, DynamoType(key[table.range_key_attr])
    except (KeyError, TypeError, IndexError, AttributeError):
        return None


def _expect(function: Callable[..., Any], names: tuple[str, ...]) -> None:
    parameters = tuple(inspect.signature(function).parameters)
    if parameters[:len(names)] != names:
        raise RuntimeError(f"moto's {function.__qualname__} takes {parameters}, not {names}: "
                           "crudops_local/aws/dynamodb_index.py needs a look")


def apply(originals: dict[str, Any]) -> None:
    """Patch moto's DynamoDB in this process; `originals` receives what `revert` puts back."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    _expect(Table.delete_item, ("self", "hash_key", "range_key"))
    _expect(DynamoDBBackend.update_item, ("self", "table_name", "key"))
    wraps = ((Table, "query", _by_key), (Table, "put_item", _followed_put),
             (Table, "delete_item", _followed_delete),
             (DynamoDBBackend, "update_item", _followed_update))
    patched = []
    for owner, name, wrap in wraps:
        original = inspect.getattr_static(owner, name)
        originals[f"dynamodb_index.{owner.__name__}.{name}"] = original
        patched.append((owner, name, wrap(original)))
    for owner, name, value in patched:
        setattr(owner, name, value)


def revert(originals: dict[str, Any]) -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    owners = {"Table": Table, "DynamoDBBackend": DynamoDBBackend}
    for key in [key for key in originals if key.startswith("dynamodb_index.")]:
        _, owner, name = key.split(".")
        setattr(owners[owner], name, originals.pop(key))
