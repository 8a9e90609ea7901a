"""The stack's children stop when the stack stops them, not at a terminal's Ctrl-C.

A terminal sends SIGINT to its whole foreground process group, and a service manager
(systemd's default `KillMode=control-group`) sends SIGTERM to every process of the
service at once. Had the embedded AWS server or a function worker died of that signal,
the stack would stop with its endpoint already gone: every poller, metrics and alarm
round would fail, once per queue and alarm, and an invocation in flight would crash.
So the children ignore both signals; the stack stops them in order (the AWS server
when its stdin closes, workers with SIGKILL), and each leaves by itself when the
stack's process goes, however it goes (end of file on the pipe it holds).

A child is started with both signals blocked, because a signal mask survives `exec`:
that closes the window between its start and its first line, where a Ctrl-C would
otherwise end it with a `KeyboardInterrupt` traceback while it imports. The child
then ignores them and unblocks them (`ignore_stop_signals`), which drops any that
arrived meanwhile. See docs/adr/0016-clean-stop-and-local-alarm-actions.md.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

STOP_SIGNALS: Final = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def stop_signals_blocked() -> Iterator[None]:
    """Start a child inside this block: it begins with the stop signals blocked.

    Only the calling thread's mask changes; a signal sent to the stack meanwhile is
    handled by another thread's turn or when the block ends, never lost.
    """
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def ignore_stop_signals() -> None:
    """The first thing a child does: ignore the stop signals, then unblock them."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
