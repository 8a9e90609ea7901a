"""Load shapes as schedules: how much load, as a multiple of the base, at each moment.

Kept free of Locust so that they are tested without gevent. One schedule serves both
modes: in the open loop the level multiplies `--rate` (commands per second, the
users only hold the connections); in the closed loop it multiplies `--users`
(loadtests/shapes.py turns it into Locust's user count).

- constant / soak: 1 for the run (soak is a constant load held long enough to show
  drift: memory, a growing queue, an alarm that fires after an hour);
- step: 1, 2, 3, ... for `steps` steps of `step_seconds` (the step where the
  latency leaves its floor, or where lost notifications start, is saturation);
- spike: 1, then `spike_factor` from `spike_at` for `spike_seconds`, then 1 again
  until the end (the queues buffer the burst and drain after it);
- ramp: from 0 up to 1 over `ramp_seconds` (the whole run when 0), then 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

SHAPES: Final = ("constant", "step", "spike", "ramp", "soak")
# The arrival schedule follows a changing rate in steps this short.
INTEGRATION_STEP_SECONDS: Final = 0.05


@dataclass(frozen=True)
class Schedule:
    shape: str = "constant"
    run_seconds: float = 60.0  # constant, soak, spike, ramp
    step_seconds: float = 30.0
    steps: int = 4
    spike_at_seconds: float = 10.0
    spike_seconds: float = 20.0
    spike_factor: float = 3.0
    ramp_seconds: float = 0.0  # 0: the whole run

    def problems(self) -> list[str]:
        """What makes this schedule impossible (empty when it is fine)."""
        if self.shape not in SHAPES:
            return [f"--shape {self.shape!r} is not one of {', '.join(SHAPES)}"]
        found = []
        if self.shape == "step":
            if self.steps < 1 or self.step_seconds <= 0:
                found.append("--steps and --step-seconds must be above 0")
        elif self.run_seconds <= 0:
            found.append("--run-time must be above 0")
        if self.shape == "spike":
            if self.spike_factor <= 0 or self.spike_seconds <= 0 or self.spike_at_seconds < 0:
                found.append("--spike-factor and --spike-seconds must be above 0, "
                             "--spike-at not below 0")
            elif self.spike_at_seconds + self.spike_seconds > self.run_seconds:
                found.append("the spike (--spike-at + --spike-seconds) must end within "
                             "--run-time")
        if self.shape == "ramp" and self.ramp_seconds < 0:
            found.append("--ramp-seconds must not be below 0")
        return found

    @property
    def total_seconds(self) -> float:
        """How long the run lasts."""
        if self.shape == "step":
            return self.steps * self.step_seconds
        return self.run_seconds

    def level(self, elapsed_seconds: float) -> float | None:
        """The multiple of the base load `elapsed_seconds` into the run; None once over."""
        if elapsed_seconds < 0:
            elapsed_seconds = 0.0
        if elapsed_seconds >= self.total_seconds:
            return None
        if self.shape == "step":
            return float(int(elapsed_seconds // self.step_seconds) + 1)
        if self.shape == "spike":
            spiking = self.spike_at_seconds <= elapsed_seconds < (
                self.spike_at_seconds + self.spike_seconds)
            return self.spike_factor if spiking else 1.0
        if self.shape == "ramp":
            span = self.ramp_seconds or self.run_seconds
            return min(1.0, elapsed_seconds / span)
        return 1.0

    def users_at(self, elapsed_seconds: float, users: int) -> int | None:
        """Closed loop: Locust's user count (at least 1 while the run lasts)."""
        level = self.level(elapsed_seconds)
        if level is None:
            return None
        return max(1, math.ceil(users * level - 1e-9))


@dataclass(frozen=True)
class Pacer:
    """The arrival times of one open-loop user: its share (1/users) of the rate.

    Arrivals are evenly spaced at the rate of the moment; the caller starts each
    user at a random phase so that users do not fire in step. A caller that falls
    behind (a busy generator) gets arrivals in the past and fires them at once: the
    offered load does not fall, and the generator's lag is measurable.
    """

    schedule: Schedule
    rate_per_second: float
    users: int

    def user_rate(self, elapsed_seconds: float) -> float | None:
        level = self.schedule.level(elapsed_seconds)
        return None if level is None else self.rate_per_second * level / self.users

    def next_arrival(self, previous_seconds: float) -> float | None:
        """The next arrival after one at `previous_seconds` (elapsed run time), or None
        when the run is over first."""
        return self._after(previous_seconds, 1.0)

    def first_arrival(self, phase: float) -> float | None:
        """The first arrival; `phase` in [0, 1) spreads users over one interval."""
        return self._after(0.0, max(phase, 1e-9))

    def _after(self, start_seconds: float, arrivals: float) -> float | None:
        """When `arrivals` arrivals' worth of the rate has passed since `start_seconds`:
        the rate is integrated in short steps, so that a ramp or a spike changes the
        spacing as it happens rather than at the next arrival."""
        at, owed = start_seconds, arrivals
        while (rate := self.user_rate(at)) is not None:
            step = min(INTEGRATION_STEP_SECONDS, owed / rate) if rate > 0 else (
                INTEGRATION_STEP_SECONDS)
            owed -= rate * step
            at += step
            if owed <= 1e-9:
                # the last step may cross the end of the run: no arrival after it
                return at if self.user_rate(at) is not None else None
        return None
