"""verify's one waiting rule: until all are done, no progress for the settle time, the
timeout, or (when asked) nothing more can come by itself."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tools.verify import run


def _counter(values: list[int]) -> tuple[list[int], Callable[[], int]]:
    polled: list[int] = []

    def poll() -> int:
        value = values[min(len(polled), len(values) - 1)]
        polled.append(value)
        return value

    return polled, poll


@pytest.mark.timeout(30)
def test_the_wait_ends_when_everything_is_done() -> None:
    polled, poll = _counter([0, 1, 2])
    seen: list[tuple[int, int]] = []
    run._until_settled(poll, 2, settle=60, timeout=60, interval=0.01,
                       on_progress=lambda done, total: seen.append((done, total)))
    assert polled == [0, 1, 2]
    assert seen[-1] == (2, 2)


@pytest.mark.timeout(30)
def test_the_wait_ends_once_nothing_moved_for_the_settle_time() -> None:
    polled, poll = _counter([1])
    run._until_settled(poll, 2, settle=0.2, timeout=60, interval=0.01,
                       on_progress=lambda done, total: None)
    assert len(polled) > 1 and set(polled) == {1}


@pytest.mark.timeout(30)
def test_a_stall_that_cannot_end_by_itself_ends_the_wait_before_the_settle_time(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run, "PARKED_CHECK_SECONDS", 0.05)
    asked: list[bool] = []
    answers = iter([False, True])

    def stalled() -> bool:
        asked.append(True)
        return next(answers)

    _, poll = _counter([1])
    run._until_settled(poll, 2, settle=60, timeout=60, interval=0.01,
                       on_progress=lambda done, total: None, stalled=stalled)
    assert asked == [True, True]  # asked again after the first "not yet", then ended
