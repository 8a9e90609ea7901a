"""What the open-loop users send: the operation mix and the items the commands name.

Kept free of Locust so that it is tested without gevent. The items are shared by the
users of one process (`ItemPool`): a command names an item whose create was notified,
with the version last seen in a notification. Only the correlation of requestIds
stays inside each user; sharing items is what makes concurrent updates meet.

Mixes (weights per operation):
- crud: create 4, get 2, list 1, update 2, delete 1 (the closed loop's proportions);
- create-heavy: create 8, get 1, update 1;
- read-heavy: create 1, get 6, list 2, update 1;
- conflict: updates with `expectedVersion` on a few shared items (`shared_items`),
  several in flight at once: one wins, the others end in a `conflict` outcome, which
  this mix expects (counted apart, not as errors). Creates only fill the shared set.

Races the pool avoids so that every error outcome is the stack's: a delete takes an
item nothing is in flight on and removes it before it is sent, so no get or update
can name a deleted item.
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Final

MIXES: Final[dict[str, dict[str, int]]] = {
    "crud": {"create": 4, "get": 2, "list": 1, "update": 2, "delete": 1},
    "create-heavy": {"create": 8, "get": 1, "update": 1},
    "read-heavy": {"create": 1, "get": 6, "list": 2, "update": 1},
    "conflict": {"create": 1, "update": 8, "get": 1},
}
# The statistics names of each operation's HTTP call.
HTTP_NAMES: Final = {"create": "POST /items", "get": "GET /items/{id}", "list": "GET /items",
                     "update": "PUT /items/{id}", "delete": "DELETE /items/{id}"}
# Items kept per process: beyond it creates still run but their items are not reused.
POOL_LIMIT: Final = 10_000
CONFLICT: Final = "conflict"


@dataclass(frozen=True)
class Command:
    operation: str
    method: str
    path: str
    body: dict[str, Any] | None
    item_id: str | None = None
    expected_codes: frozenset[str] = frozenset()

    @property
    def name(self) -> str:
        return HTTP_NAMES[self.operation]


@dataclass
class ItemPool:
    """Items the stack confirmed, with their last seen version and commands in flight."""

    limit: int = POOL_LIMIT
    versions: dict[str, int] = field(default_factory=dict)
    in_flight: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.versions)

    def created(self, item_id: str, version: int) -> None:
        if len(self.versions) < self.limit:
            self.versions[item_id] = version

    def seen(self, item_id: str, version: int) -> None:
        """A notification showed this version (versions only grow)."""
        if item_id in self.versions:
            self.versions[item_id] = max(self.versions[item_id], version)

    def any(self, rng: random.Random) -> str | None:
        return rng.choice(list(self.versions)) if self.versions else None

    def take_idle(self, rng: random.Random) -> str | None:
        """An item with nothing in flight, removed from the pool (for a delete)."""
        idle = [item for item in self.versions if not self.in_flight.get(item)]
        if not idle:
            return None
        item = rng.choice(idle)
        del self.versions[item]
        return item

    def begin(self, item_id: str) -> None:
        self.in_flight[item_id] = self.in_flight.get(item_id, 0) + 1

    def end(self, item_id: str) -> None:
        left = self.in_flight.get(item_id, 0) - 1
        if left > 0:
            self.in_flight[item_id] = left
        else:
            self.in_flight.pop(item_id, None)


@dataclass(frozen=True)
class Mix:
    name: str
    shared_items: int = 5  # the conflict mix's shared set

    @property
    def weights(self) -> dict[str, int]:
        return MIXES[self.name]

    def next_command(self, rng: random.Random, pool: ItemPool) -> Command:
        """The next command: an operation by weight, on an item of the pool; a create
        when the operation needs an item and none is there (or, in the conflict mix,
        while the shared set is not full)."""
        operations, weights = zip(*self.weights.items(), strict=True)
        operation = rng.choices(operations, weights)[0]
        conflict = self.name == CONFLICT
        if conflict and len(pool) < self.shared_items:
            operation = "create"
        elif conflict and operation == "create":
            operation = "update"
        if operation == "create":
            return Command("create", "POST", "/items", {"name": f"load {uuid.uuid4().hex[:8]}"})
        if operation == "list":
            return Command("list", "GET", "/items?limit=10", None)
        item = pool.take_idle(rng) if operation == "delete" else pool.any(rng)
        if item is None:
            return Command("create", "POST", "/items", {"name": f"load {uuid.uuid4().hex[:8]}"})
        if operation == "get":
            return Command("get", "GET", f"/items/{item}", None, item)
        if operation == "delete":
            return Command("delete", "DELETE", f"/items/{item}", None, item)
        body: dict[str, Any] = {"description": f"updated {time.time():.3f}"}
        if conflict:
            body["expectedVersion"] = pool.versions[item]
            return Command("update", "PUT", f"/items/{item}", body, item,
                           frozenset({CONFLICT}))
        return Command("update", "PUT", f"/items/{item}", body, item)
