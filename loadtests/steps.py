"""The step schedule of `StepLoad` (loadtests/shapes.py), kept free of Locust so that
it can be tested without Locust's gevent patching the test process."""

from __future__ import annotations


def step_at(elapsed_seconds: float, step_users: int, step_seconds: float,
            steps: int) -> tuple[int, float] | None:
    """(users, spawn rate) `elapsed_seconds` into the test, or None once it is over.

    Each step adds `step_users` within about a second (the spawn rate is the step).
    """
    step = int(elapsed_seconds // step_seconds)
    if step >= steps:
        return None
    return (step + 1) * step_users, float(step_users)
