"""Load shapes: add this file to Locust's `-f` (or `crudops load --shape step`).

`StepLoad` adds `--step-users` users every `--step-seconds` for `--steps` steps, then
stops: each plateau shows the throughput and the 202 → notification latency at that
many users, so the step where the latency leaves its floor is where the stack
saturates (Locust's HTML report charts users against response times). Options are
also `LOCUST_STEP_USERS`, `LOCUST_STEP_SECONDS`, `LOCUST_STEPS`.
"""

from __future__ import annotations

from typing import Any

from locust import LoadTestShape, events

from loadtests.steps import step_at


@events.init_command_line_parser.add_listener  # type: ignore[untyped-decorator]
def _options(parser: Any) -> None:
    parser.add_argument("--step-users", type=int, env_var="LOCUST_STEP_USERS", default=5,
                        help="Users added at each step")
    parser.add_argument("--step-seconds", type=float, env_var="LOCUST_STEP_SECONDS",
                        default=30.0, help="How long each step holds")
    parser.add_argument("--steps", type=int, env_var="LOCUST_STEPS", default=4,
                        help="How many steps before the test stops")


class StepLoad(LoadTestShape):
    def tick(self) -> tuple[int, float] | None:
        assert self.runner is not None
        options = self.runner.environment.parsed_options
        assert options is not None
        elapsed = float(self.get_run_time())  # type: ignore[no-untyped-call]
        return step_at(elapsed, options.step_users, options.step_seconds, options.steps)
