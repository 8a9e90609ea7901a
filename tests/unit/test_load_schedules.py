"""Load shapes as schedules and the open loop's arrival times (loadtests/schedules.py),
without Locust or gevent."""

from __future__ import annotations

import itertools

import pytest

from loadtests.schedules import Pacer, Schedule


def test_step_raises_the_level_each_step_then_ends() -> None:
    step = Schedule("step", step_seconds=30, steps=3)
    assert [step.level(t) for t in (0, 29.9, 30, 89.9)] == [1, 1, 2, 3]
    assert step.level(90) is None and step.total_seconds == 90
    # closed loop: --users times the level
    assert [step.users_at(t, 5) for t in (0, 30, 60)] == [5, 10, 15]


def test_spike_goes_to_its_factor_for_its_length_and_back() -> None:
    spike = Schedule("spike", run_seconds=60, spike_at_seconds=10, spike_seconds=20,
                     spike_factor=3)
    assert [spike.level(t) for t in (0, 9.9, 10, 29.9, 30, 59.9)] == [1, 1, 3, 3, 1, 1]
    assert spike.level(60) is None


def test_ramp_climbs_to_the_base_then_holds() -> None:
    ramp = Schedule("ramp", run_seconds=100, ramp_seconds=50)
    assert [ramp.level(t) for t in (0, 25, 50, 99)] == [0, 0.5, 1, 1]
    assert Schedule("ramp", run_seconds=10).level(5) == 0.5  # 0: over the whole run
    assert ramp.users_at(0, 10) == 1  # a closed loop keeps at least one user


@pytest.mark.parametrize("shape", ["constant", "soak"])
def test_constant_and_soak_hold_the_base_for_the_run(shape: str) -> None:
    schedule = Schedule(shape, run_seconds=3600)
    assert schedule.level(0) == schedule.level(3599) == 1 and schedule.level(3600) is None


@pytest.mark.parametrize(("schedule", "problem"), [
    (Schedule("wave"), "not one of"),
    (Schedule("step", steps=0), "--steps"),
    (Schedule("constant", run_seconds=0), "--run-time"),
    (Schedule("spike", run_seconds=20, spike_at_seconds=10, spike_seconds=20), "within"),
    (Schedule("spike", spike_factor=0), "--spike-factor"),
    (Schedule("ramp", ramp_seconds=-1), "--ramp-seconds"),
])
def test_impossible_schedules_say_why(schedule: Schedule, problem: str) -> None:
    assert any(problem in p for p in schedule.problems())
    assert Schedule("spike", run_seconds=60).problems() == []


def _arrivals(pacer: Pacer, phase: float = 0.0) -> list[float]:
    times, at = [], pacer.first_arrival(phase)
    while at is not None:
        times.append(at)
        at = pacer.next_arrival(at)
    return times


def test_each_user_fires_its_share_of_the_rate_whatever_the_outcomes() -> None:
    # 10 commands/s over 4 users for 2 s: each user 2.5/s, every 0.4 s
    pacer = Pacer(Schedule("constant", run_seconds=2), rate_per_second=10, users=4)
    times = _arrivals(pacer)
    assert len(times) == 5
    assert [round(b - a, 6) for a, b in itertools.pairwise(times)] == [0.4] * 4
    assert _arrivals(pacer, phase=0.5)[0] == pytest.approx(0.2)


def test_arrivals_follow_a_spike_as_it_happens() -> None:
    # 1/s, 3/s from 10 s to 20 s, 1/s to 30 s: 10 + 30 + 10 arrivals for one user
    pacer = Pacer(Schedule("spike", run_seconds=30, spike_at_seconds=10, spike_seconds=10,
                           spike_factor=3), rate_per_second=1, users=1)
    times = _arrivals(pacer, phase=0.5)
    assert len([t for t in times if t < 10]) == 10
    assert len([t for t in times if 10 <= t < 20]) == 30
    assert len([t for t in times if t >= 20]) == 10


def test_a_ramp_starts_slowly_and_reaches_its_rate() -> None:
    pacer = Pacer(Schedule("ramp", run_seconds=20, ramp_seconds=10), rate_per_second=10,
                  users=1)
    times = _arrivals(pacer, phase=0.5)
    # ∫ rate over the ramp = 50 arrivals, then 10/s for 10 s = 100
    assert len([t for t in times if t < 10]) == pytest.approx(50, abs=1)
    assert len([t for t in times if t >= 10]) == pytest.approx(100, abs=1)
    assert times[1] - times[0] > 0.5  # slow at the start
