"""The scenario's own Locust options: each also a `LOCUST_…` environment variable.

Locust copies these (not its own options such as `--users` or `--run-time`) from the
master to every worker, so whatever the users compute from them is the same on each
machine: that is why the schedule's length and the user count the rate is split
over are options of their own here (`crudops load` sets them).
"""

from __future__ import annotations

from typing import Any

from locust import events

from loadtests.mix import MIXES
from loadtests.schedules import SHAPES, Pacer, Schedule


@events.init_command_line_parser.add_listener  # type: ignore[untyped-decorator]
def _options(parser: Any) -> None:
    group = parser.add_argument_group("crudops")
    group.add_argument("--ws-url", type=str, env_var="LOCUST_WS_URL", default="",
                       help="WebSocket API URL of the stack (ws://… or wss://…)")
    group.add_argument("--tokens", type=str, env_var="LOCUST_TOKENS", default="",
                       help="ID tokens (comma-separated) the users take in turn "
                            "(crudops load passes two users' tokens)")
    group.add_argument("--notify-timeout", type=float, env_var="LOCUST_NOTIFY_TIMEOUT",
                       default=30.0,
                       help="Seconds after a 202 before its notification counts as lost")
    group.add_argument("--summary-file", type=str, env_var="LOCUST_SUMMARY_FILE",
                       default="", help="Write the final statistics here as JSON")
    group.add_argument("--rate", type=float, env_var="LOCUST_RATE", default=10.0,
                       help="Open loop: commands per second over all users (times the "
                            "shape's level)")
    group.add_argument("--rate-users", type=int, env_var="LOCUST_RATE_USERS", default=0,
                       help="Open loop: the users --rate is split over, all workers "
                            "together (0: --users)")
    group.add_argument("--mix", choices=sorted(MIXES), env_var="LOCUST_MIX", default="crud",
                       help="Open loop: the operation mix")
    group.add_argument("--shared-items", type=int, env_var="LOCUST_SHARED_ITEMS", default=5,
                       help="Conflict mix: items every update contends for")
    group.add_argument("--shape", choices=SHAPES, env_var="LOCUST_SHAPE", default="constant",
                       help="How the load changes over the run")
    group.add_argument("--schedule-seconds", type=float, env_var="LOCUST_SCHEDULE_SECONDS",
                       default=60.0, help="Length of the constant, soak, spike and ramp "
                                          "shapes (crudops load sets it from --run-time)")
    group.add_argument("--step-seconds", type=float, env_var="LOCUST_STEP_SECONDS",
                       default=30.0, help="Step shape: how long each step holds")
    group.add_argument("--steps", type=int, env_var="LOCUST_STEPS", default=4,
                       help="Step shape: how many steps")
    group.add_argument("--spike-at", type=float, env_var="LOCUST_SPIKE_AT", default=10.0,
                       help="Spike shape: seconds before the spike")
    group.add_argument("--spike-seconds", type=float, env_var="LOCUST_SPIKE_SECONDS",
                       default=20.0, help="Spike shape: how long the spike lasts")
    group.add_argument("--spike-factor", type=float, env_var="LOCUST_SPIKE_FACTOR",
                       default=3.0, help="Spike shape: the spike's multiple of the base")
    group.add_argument("--ramp-seconds", type=float, env_var="LOCUST_RAMP_SECONDS",
                       default=0.0, help="Ramp shape: seconds to reach the base (0: the run)")


def schedule_of(options: Any) -> Schedule:
    return Schedule(shape=str(options.shape), run_seconds=float(options.schedule_seconds),
                    step_seconds=float(options.step_seconds), steps=int(options.steps),
                    spike_at_seconds=float(options.spike_at),
                    spike_seconds=float(options.spike_seconds),
                    spike_factor=float(options.spike_factor),
                    ramp_seconds=float(options.ramp_seconds))


def pacer_of(options: Any) -> Pacer:
    users = int(options.rate_users) or int(options.num_users or 1)
    return Pacer(schedule_of(options), float(options.rate), max(users, 1))

