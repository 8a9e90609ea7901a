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


@pytest.mark.timeout(30)
def test_the_wait_tells_when_its_count_last_changed_not_when_it_gave_up() -> None:
    """What `crudops verify` reports as the time the counts took to close."""
    start = run.time.monotonic()
    polled, poll = _counter([1, 2])
    changed = run._until_settled(poll, 3, settle=0.2, timeout=60, interval=0.01,
                                 on_progress=lambda done, total: None)
    ended = run.time.monotonic()
    assert start <= changed
    assert ended - changed > 0.2  # the settle wait came after the last change
    assert polled[:2] == [1, 2] and set(polled[2:]) == {2}


def test_the_timeline_is_reported_in_seconds_by_phase() -> None:
    timeline = run.Timeline(sending=12.345, outcomes=3.0, notifications=0.04)
    assert timeline.as_json() == {"sending_seconds": 12.3, "outcomes_seconds": 3.0,
                                  "notifications_seconds": 0.0}


def test_the_table_says_how_long_the_counts_took_to_close(
        capsys: pytest.CaptureFixture[str]) -> None:
    from tools.verify.command import print_verify
    from tools.verify.conservation import VerifyReport

    report = VerifyReport(resubscribed=3, timings={
        "sending_seconds": 412.0, "outcomes_seconds": 21.4, "notifications_seconds": 95.0,
        "redrive_seconds": 7.0})
    assert print_verify(report, as_json=False) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "subscribed again 3" in text
    assert ("counts closed: sent in 412 s, the last outcome 21 s after the last command, "
            "the last notification 95 s after that; redriven ones 7 s after the redrive "
            "began") in text
