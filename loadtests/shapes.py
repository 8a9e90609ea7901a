"""The closed loop's load shape: add this file to Locust's `-f` (`crudops load --mode
closed --shape step|spike|ramp` does).

Users follow the schedule of `--shape` (loadtests/schedules.py): `--users` times its
level, so a step adds `--users` users each `--step-seconds`. The open loop needs no
shape class: its users stay connected and their arrival rate follows the schedule
(loadtests/open_loop.py).
"""

from __future__ import annotations

from typing import ClassVar

from locust import LoadTestShape

from loadtests.options import schedule_of


class ScheduledUsers(LoadTestShape):
    # It reads --users (the base of the schedule's level).
    use_common_options: ClassVar[bool] = True

    def tick(self) -> tuple[int, float] | None:
        assert self.runner is not None
        options = self.runner.environment.parsed_options
        assert options is not None
        elapsed = float(self.get_run_time())  # type: ignore[no-untyped-call]
        users = schedule_of(options).users_at(elapsed, int(options.num_users or 1))
        return None if users is None else (users, float(max(users, 1)))
