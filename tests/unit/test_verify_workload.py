"""The workload of `crudops verify`: seeded, sized, and shaped as its checks need."""

from __future__ import annotations

from collections import Counter

import pytest

from tools.verify.workload import Kind, plan


def test_the_same_seed_gives_the_same_workload_and_another_seed_another() -> None:
    assert plan(200, seed=7) == plan(200, seed=7)
    assert plan(200, seed=7) != plan(200, seed=8)


@pytest.mark.parametrize("commands", [4, 10, 300, 5_000])
def test_it_has_the_commands_asked_for_and_a_quarter_are_creates(commands: int) -> None:
    workload = plan(commands, seed=1)
    assert workload.size == commands
    assert all(s.kind is Kind.CREATE for s in workload.creates)
    assert len(workload.creates) == max(2, round(commands / 4))


def test_each_item_is_deleted_at_most_once_and_nothing_else_touches_it() -> None:
    workload = plan(1_000, seed=3)
    deleted = Counter(s.item for s in workload.mixed if s.kind is Kind.DELETE)
    assert deleted and set(deleted.values()) == {1}
    touched = {s.item for s in workload.mixed if s.kind is not Kind.DELETE}
    assert not touched & set(deleted)


def test_unconditional_updates_go_to_the_few_shared_items() -> None:
    workload = plan(1_000, seed=3)
    targets = {s.item for s in workload.mixed if s.kind is Kind.UPDATE}
    assert targets == {0, 1, 2}
    assert Kind.UPDATE_EXPECTED.operation == "update"


def test_too_few_commands_are_refused() -> None:
    with pytest.raises(ValueError):
        plan(3, seed=1)
