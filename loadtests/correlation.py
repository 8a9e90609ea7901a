"""Matching notifications to the commands that wait for them, and reaping the lost.

An open-loop user (loadtests/open_loop.py) sends commands without waiting for their
outcome, so each accepted command waits here, by requestId, until the user's one
WebSocket reader hands over a notification. Kept free of Locust and gevent (times
are passed in, in `time.perf_counter()` seconds) so that it is tested without them.

What a caller must know:
- Register a command (`accepted`) before subscribing to it: the stack notifies only
  subscribed requests, so no notification can then arrive before its entry.
- A notification that matches nothing (a duplicate: the stack delivers at least
  once, and a re-subscription after a reconnect may deliver the stored outcome
  again) is counted in `unmatched` and otherwise ignored.
- A notification later than the timeout is lost, whether or not the reaper came by
  first: `notified` then returns the `Lost`, so what is lost does not depend on how
  often the reaper runs.
- Entries are reaped oldest first: commands are registered in the order their 202
  arrived, so the scan stops at the first entry still within its timeout.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

OutcomeKind = Literal["success", "expected", "error"]


@dataclass(frozen=True)
class Pending:
    """An accepted command waiting for its notification."""

    request_id: str
    operation: str
    sent_at: float  # when the HTTP request started
    accepted_at: float  # when its 202 arrived
    # error codes that are an expected outcome of this command (a stale
    # expectedVersion's "conflict"), not a failure
    expected_codes: frozenset[str] = frozenset()
    item_id: str | None = None


@dataclass(frozen=True)
class Completed:
    """A command whose notification arrived."""

    pending: Pending
    notified_at: float
    kind: OutcomeKind
    code: str | None  # the error code of an error outcome
    result: dict[str, Any] | None  # the outcome's result (the item, for a write)
    size: int  # bytes of the notification frame

    @property
    def notify_ms(self) -> float:
        return (self.notified_at - self.pending.accepted_at) * 1000

    @property
    def end_to_end_ms(self) -> float:
        return (self.notified_at - self.pending.sent_at) * 1000


@dataclass(frozen=True)
class Lost:
    """A command that heard nothing within the timeout, or by the end of the run."""

    pending: Pending
    declared_at: float

    @property
    def notify_ms(self) -> float:
        return (self.declared_at - self.pending.accepted_at) * 1000

    @property
    def end_to_end_ms(self) -> float:
        return (self.declared_at - self.pending.sent_at) * 1000


def outcome_kind(message: dict[str, Any], expected_codes: frozenset[str]
                 ) -> tuple[OutcomeKind, str | None]:
    """success, an expected error (by its code), or an error with its code."""
    if message.get("status") == "success":
        return "success", None
    code = str((message.get("error") or {}).get("code") or "unknown")
    return ("expected" if code in expected_codes else "error"), code


@dataclass
class PendingTable:
    """requestId → the accepted command waiting for it, in order of acceptance."""

    timeout_seconds: float
    _pending: dict[str, Pending] = field(default_factory=dict)
    unmatched: int = 0
    # frames that were not JSON objects, or the gateway's own error frames
    bad_frames: int = 0

    def __len__(self) -> int:
        return len(self._pending)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._pending))

    def accepted(self, pending: Pending) -> None:
        self._pending[pending.request_id] = pending

    def notified(self, frame: str | bytes, at: float) -> Completed | Lost | None:
        """The command this frame completes (or that it came too late for), or None
        (not a notification, a duplicate)."""
        try:
            message = json.loads(frame)
        except ValueError:
            self.bad_frames += 1
            return None
        if not isinstance(message, dict) or message.get("type") == "error":
            self.bad_frames += 1
            return None
        if message.get("type") != "notification":
            return None
        pending = self._pending.pop(str(message.get("requestId")), None)
        if pending is None:
            self.unmatched += 1
            return None
        if at - pending.accepted_at > self.timeout_seconds:
            return Lost(pending, at)
        kind, code = outcome_kind(message, pending.expected_codes)
        result = message.get("result")
        return Completed(pending, at, kind, code, result if isinstance(result, dict) else None,
                         len(frame))

    def reap(self, now: float) -> list[Lost]:
        """Remove and return every command accepted more than the timeout ago."""
        lost: list[Lost] = []
        for request_id, pending in list(self._pending.items()):
            if now - pending.accepted_at <= self.timeout_seconds:
                break
            del self._pending[request_id]
            lost.append(Lost(pending, now))
        return lost

    def stop(self, now: float) -> list[Lost]:
        """Every command still waiting when the run ends: lost too."""
        lost = [Lost(pending, now) for pending in self._pending.values()]
        self._pending.clear()
        return lost
