"""Waiting on a condition with a deadline, never a fixed sleep."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    probe: Callable[[], T],
    condition: Callable[[T], bool],
    *,
    timeout: float,
    interval: float = 0.1,
    describe: str = "condition",
) -> T:
    """Call `probe` until `condition(result)` holds; on timeout, fail showing the last
    result seen."""
    deadline = time.monotonic() + timeout
    last = probe()
    while not condition(last):
        if time.monotonic() > deadline:
            raise AssertionError(f"{describe} not met within {timeout:g} s; last seen: {last!r}")
        time.sleep(interval)
        last = probe()
    return last
