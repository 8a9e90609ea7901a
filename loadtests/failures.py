"""The failures the scenario reports to Locust, named so that its failure table counts
them by cause: Locust groups failures by the exception's text."""

from __future__ import annotations

from loadtests.contract import LOST


class NotificationLost(Exception):
    """No notification within --notify-timeout, or none by the end of the run."""


assert NotificationLost.__name__ == LOST


class NotificationError(Exception):
    """The request ended in an `error` outcome (its code is the message)."""


class HttpStatus(Exception):
    """The API answered something other than 202 (the status is the message)."""


class Unreachable(Exception):
    """No HTTP answer at all: refused, reset, timed out (the cause is the message)."""


class WebSocketClosed(Exception):
    """The connection dropped while a closed-loop command waited on it."""


def http_failure(status: int, error: BaseException | None) -> Exception:
    """What a command that got no 202 failed with: its status, or its connection error
    (status 0), never Locust's bare `CatchResponseError('0: ')`."""
    if not status:
        return Unreachable(type(error).__name__ if error is not None else "no response")
    if status == 202:
        return HttpStatus("202 without a requestId")
    return HttpStatus(str(status))
