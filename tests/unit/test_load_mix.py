"""The open loop's operation mixes and shared items (loadtests/mix.py) and its
per-second timeline (loadtests/timeline.py), without Locust or gevent."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from loadtests.mix import MIXES, ItemPool, Mix
from loadtests.timeline import Timeline


def _operations(mix: Mix, pool: ItemPool, n: int, seed: int = 1) -> Counter[str]:
    rng = random.Random(seed)
    return Counter(mix.next_command(rng, pool).operation for _ in range(n))


@pytest.mark.parametrize("name", sorted(set(MIXES) - {"conflict"}))
def test_a_mix_sends_its_operations_by_weight(name: str) -> None:
    pool = ItemPool()
    for i in range(1000):  # more than the deletes take out of it
        pool.created(f"item-{i}", 1)
    counts = _operations(Mix(name), pool, 4000)
    weights = MIXES[name]
    for operation, weight in weights.items():
        assert counts[operation] / 4000 == pytest.approx(weight / sum(weights.values()),
                                                         abs=0.03), (operation, counts)


def test_without_items_every_operation_that_needs_one_creates() -> None:
    assert set(_operations(Mix("read-heavy"), ItemPool(), 200)) <= {"create", "list"}


def test_the_conflict_mix_fills_its_shared_items_then_updates_them_with_versions() -> None:
    mix, pool, rng = Mix("conflict", shared_items=2), ItemPool(), random.Random(3)
    assert mix.next_command(rng, pool).operation == "create"
    pool.created("a", 1)
    pool.created("b", 4)
    commands = [mix.next_command(rng, pool) for _ in range(200)]
    assert {c.operation for c in commands} == {"update", "get"}
    updates = [c for c in commands if c.operation == "update"]
    assert all(c.expected_codes == frozenset({"conflict"}) for c in updates)
    assert {(c.item_id, c.body and c.body["expectedVersion"]) for c in updates} == {
        ("a", 1), ("b", 4)}
    pool.seen("a", 3)
    pool.seen("a", 2)  # versions only grow
    assert pool.versions["a"] == 3


def test_a_delete_takes_only_an_item_nothing_is_in_flight_on() -> None:
    pool, rng = ItemPool(), random.Random(0)
    pool.created("busy", 1)
    pool.created("idle", 1)
    pool.begin("busy")
    assert pool.take_idle(rng) == "idle" and list(pool.versions) == ["busy"]
    assert pool.take_idle(rng) is None  # nothing idle: the mix creates instead
    pool.end("busy")
    assert pool.take_idle(rng) == "busy"


def test_a_workers_timeline_merges_into_its_masters() -> None:
    worker, master = Timeline(), Timeline()
    worker.count(100.2, "offered", 3)
    worker.notified(100.7, "create", 12.34)
    master.count(100.9, "offered")
    master.merge(worker.take())
    assert worker.counts == {} and worker.notify_ms == {}  # taken: sent once
    worker.count(101.0, "lost")
    master.merge(worker.take())
    assert master.counts == {100: {"offered": 4}, 101: {"lost": 1}}
    assert master.notify_ms == {100: {"create": [12.3]}}
    assert Timeline.from_json(master.as_json()).as_json() == master.as_json()
    with pytest.raises(ValueError, match="unknown counter"):
        worker.count(1, "sent")


def test_a_runs_phases_count_what_each_phase_offered_notified_and_lost() -> None:
    from benchmarks.load_steps import phases

    timeline = Timeline()
    for second in range(1000, 1010):
        timeline.count(second, "offered", 5 if second < 1005 else 10)
        timeline.count(second, "notified", 5)
        timeline.notified(second, "create", 100.0 if second < 1005 else 900.0)
    timeline.count(1012, "lost", 3)  # declared after the window: the last phase's
    summary = {"started_at": 1000.0, "timeline": timeline.as_json()}
    first, second = phases(summary, edges=[5.0])
    assert (first["offered_per_s"], first["notified_per_s"], first["p99_ms"], first["lost"]
            ) == (5.0, 5.0, 100, 0)
    assert (second["from_s"], second["to_s"], second["offered_per_s"], second["p99_ms"],
            second["lost"]) == (5.0, 13.0, 6.2, 900, 3)
