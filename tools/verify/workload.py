"""The commands a verification run sends, chosen from a seed (the same seed, the same run).

Two phases, because the API names an item only once its create has an outcome:
creates first (a quarter of the commands), then a mix over the items they made —
gets, lists, unconditional updates on a few *shared* items from many threads at once
(the updates race; every one must apply exactly once), updates with `expectedVersion`
(stale ones are `conflict` outcomes, expected and counted apart), and deletes of items
nothing else touches (so a delete racing an update is not the question asked here).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

CREATE_SHARE: Final = 0.25
SHARED_ITEMS: Final = 3
DELETE_SHARE_OF_ITEMS: Final = 0.2
# Of the second phase, by weight; deletes are bounded by the items set aside for them.
MIX: Final = {"get": 25, "list": 5, "update": 25, "update_expected": 30, "delete": 15}


class Kind(StrEnum):
    CREATE = "create"
    GET = "get"
    LIST = "list"
    UPDATE = "update"  # no precondition
    UPDATE_EXPECTED = "update_expected"  # with expectedVersion: the version last seen
    DELETE = "delete"

    @property
    def operation(self) -> str:
        """The API's operation name (what outcomes and metrics say)."""
        return "update" if self is Kind.UPDATE_EXPECTED else self.value


@dataclass(frozen=True)
class Step:
    kind: Kind
    # Which created item (index into the first phase's creates); None for create/list.
    item: int | None = None


@dataclass(frozen=True)
class Workload:
    creates: list[Step]
    mixed: list[Step]

    @property
    def size(self) -> int:
        return len(self.creates) + len(self.mixed)


def plan(commands: int, seed: int) -> Workload:
    """`commands` steps (at least 4): creates, then the mix in a seeded random order."""
    if commands < 4:
        raise ValueError("a verification needs at least 4 commands")
    rng = random.Random(seed)
    creates = max(2, round(commands * CREATE_SHARE))
    shared = list(range(min(SHARED_ITEMS, creates - 1)))
    deletable = list(range(len(shared), creates))
    rng.shuffle(deletable)
    doomed = deletable[: max(0, round(len(deletable) * DELETE_SHARE_OF_ITEMS))]
    kept = [i for i in range(creates) if i not in set(doomed)]
    mixed: list[Step] = []
    kinds = list(MIX)
    weights = [MIX[k] for k in kinds]
    while len(mixed) < commands - creates:
        kind = Kind(rng.choices(kinds, weights)[0])
        if kind is Kind.DELETE:
            if not doomed:
                continue
            mixed.append(Step(kind, doomed.pop()))
        elif kind is Kind.LIST:
            mixed.append(Step(kind))
        elif kind is Kind.UPDATE:
            mixed.append(Step(kind, rng.choice(shared or kept)))
        else:
            mixed.append(Step(kind, rng.choice(kept)))
    return Workload([Step(Kind.CREATE, i) for i in range(creates)], mixed)
