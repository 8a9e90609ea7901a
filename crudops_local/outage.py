"""An unreachable AWS endpoint is reported once per outage, not once per call.

The stack's loops (event source pollers, metrics, alarm evaluation) call the endpoint
every few seconds, many times per round. When it goes away (another emulator
stopped, a network drop) each call fails the same way: one warning when it starts and
one line when it is back tell the operator as much as a warning per queue and alarm
per round, without burying everything else.
"""

from __future__ import annotations

import logging
import threading

from botocore.exceptions import ConnectionClosedError, ReadTimeoutError
from botocore.exceptions import ConnectionError as BotoConnectionError

# Refused, reset, timed out or a proxy failure: nothing answered.
UNREACHABLE_ERRORS = (BotoConnectionError, ConnectionClosedError, ReadTimeoutError)


def is_unreachable(error: BaseException) -> bool:
    return isinstance(error, UNREACHABLE_ERRORS)


class OutageLog:
    """Tells `log` once when a loop loses its endpoint and once when it is back."""

    def __init__(self, log: logging.Logger, what: str) -> None:
        self._log = log
        self._what = what
        self._lock = threading.Lock()
        self._down = False

    @property
    def down(self) -> bool:
        return self._down

    def failed(self, error: BaseException) -> None:
        with self._lock:
            first, self._down = not self._down, True
        if first:
            self._log.warning("%s: the AWS endpoint is unreachable (%s); retrying quietly",
                              self._what, error)
        else:
            self._log.debug("%s: still unreachable: %s", self._what, error)

    def succeeded(self) -> None:
        with self._lock:
            back, self._down = self._down, False
        if back:
            self._log.warning("%s: the AWS endpoint answers again", self._what)
