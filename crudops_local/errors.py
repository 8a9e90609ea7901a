"""The emulator's own failure a person can fix: a configuration it cannot run with.

An endpoint that is neither a URL nor `aws`, a real account without a region or
credentials, per-service endpoints that would accept requests and deliver none: the
person who configured the local stack can fix each, so it is one line and a hint, not
a traceback. The CLI's `UserError` (tools/errors.py) is a kind of it, so the CLI's
one handler prints both; the emulator imports nothing of the CLI.
"""

from __future__ import annotations


class ConfigurationError(Exception):
    """A configuration the local stack cannot run with; `hint` says how to fix it."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        return f"error: {self.message}" + (f" (hint: {self.hint})" if self.hint else "")
