"""The local function runner: real worker processes, Lambda-like rules."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from crudops_local.lambda_.runtime import (
    FunctionCrashedError,
    FunctionHandlerError,
    FunctionPool,
    FunctionTimeoutError,
)
from crudops_local.lambda_.specs import FunctionSpec

CODE_ROOT = Path(__file__).resolve().parents[2] / "support" / "lambda_code"


def _spec(handler: str, timeout_seconds: float = 10.0) -> FunctionSpec:
    return FunctionSpec(
        logical_id="Sample",
        name="sample",
        handler=f"sample.handlers.{handler}",
        code_path=CODE_ROOT,
        environment={"GREETING": "hello", "PATH": os.environ.get("PATH", "")},
        timeout_seconds=timeout_seconds,
    )


@pytest.fixture
def pool_factory(tmp_path: Path) -> Iterator[object]:
    pools: list[FunctionPool] = []

    def make(handler: str, timeout_seconds: float = 10.0, workers: int = 1) -> FunctionPool:
        pool = FunctionPool(_spec(handler, timeout_seconds), tmp_path / "logs", workers)
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        pool.close()


def test_a_worker_runs_the_handler_with_its_own_environment(
    pool_factory: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOULD_NOT_LEAK", "secret")
    pool = pool_factory("echo")  # type: ignore[operator]

    first = pool.invoke({"n": 1})
    second = pool.invoke({"n": 2})

    assert first["event"] == {"n": 1}
    assert first["greeting"] == "hello"
    assert first["leaked"] == ""
    assert first["pid"] != os.getpid()
    assert 0 < first["remaining_ms"] <= 10_000
    # The same warm worker serves the next invocation; init ran once.
    assert second["pid"] == first["pid"] == first["init_pid"]


def test_a_handler_error_is_reported_and_the_worker_survives(pool_factory: object) -> None:
    pool = pool_factory("fail")  # type: ignore[operator]

    with pytest.raises(FunctionHandlerError, match="failed on purpose") as raised:
        pool.invoke({})

    assert raised.value.error_type == "ValueError"
    assert "handler failed on purpose" in pool.log_path.read_text()


def test_an_overrunning_invocation_is_killed_and_the_next_gets_a_new_worker(
    pool_factory: object,
) -> None:
    pool = pool_factory("sleep", timeout_seconds=1.0)  # type: ignore[operator]

    with pytest.raises(FunctionTimeoutError):
        pool.invoke({"seconds": 30})

    assert pool.invoke({"seconds": 0}) == "slept"


def test_a_crashed_worker_is_reported_and_replaced(pool_factory: object) -> None:
    pool = pool_factory("die")  # type: ignore[operator]

    with pytest.raises(FunctionCrashedError):
        pool.invoke({})
    with pytest.raises(FunctionCrashedError):
        pool.invoke({})


def test_concurrent_invocations_are_bounded_by_the_pool_size(pool_factory: object) -> None:
    pool = pool_factory("echo", workers=2)  # type: ignore[operator]
    pids: list[int] = []
    lock = threading.Lock()

    def call() -> None:
        result = pool.invoke({})
        with lock:
            pids.append(result["pid"])

    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert len(pids) == 6
    assert 1 <= len(set(pids)) <= 2


def test_idle_workers_beyond_one_are_reaped_and_come_back_on_demand(
    pool_factory: object,
) -> None:
    pool = pool_factory("sleep", workers=2)  # type: ignore[operator]
    # GIVEN two workers started by two concurrent invocations
    threads = [threading.Thread(target=pool.invoke, args=({"seconds": 0.5},))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert pool.worker_count == 2

    # WHEN they have been idle longer than the limit, one stays warm
    assert pool.reap_idle(idle_seconds=0.0) == 1
    assert pool.worker_count == 1
    assert pool.reap_idle(idle_seconds=0.0) == 0

    # THEN work still runs, and a young idle worker is never reaped
    assert pool.invoke({"seconds": 0}) == "slept"
    assert pool.reap_idle(idle_seconds=3600.0) == 0
