"""Tiny handlers for the local function runner's tests (loaded from this directory
as a Lambda code root, like an asset directory)."""

from __future__ import annotations

import os
import time
from typing import Any

INIT_PID = os.getpid()


def echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {
        "event": event,
        "pid": os.getpid(),
        "init_pid": INIT_PID,
        "greeting": os.environ.get("GREETING", ""),
        "leaked": os.environ.get("SHOULD_NOT_LEAK", ""),
        "remaining_ms": context.get_remaining_time_in_millis(),
        "function_name": context.function_name,
    }


def sleep(event: dict[str, Any], context: Any) -> str:
    time.sleep(float(event["seconds"]))
    return "slept"


def fail(event: dict[str, Any], context: Any) -> None:
    raise ValueError("handler failed on purpose")


def die(event: dict[str, Any], context: Any) -> None:
    os._exit(3)
