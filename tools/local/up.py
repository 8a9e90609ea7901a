"""`crudops local up`: synthesize (or read) the template, start the local stack and
keep it running until Ctrl-C or SIGTERM."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from types import FrameType

from botocore.exceptions import BotoCoreError, ClientError

from tools.errors import UserError
from tools.local.stack import LocalStack, LocalStackOptions, StackEndpoints
from tools.local.template import TemplateError


def template_for(template: Path | None, out: Path | None) -> Path:
    """The given template, or a freshly synthesized one (the template is the truth)."""
    if template is not None:
        if not template.is_file():
            raise UserError(f"template {template} does not exist",
                            hint="run `crudops synth` or drop --template")
        return template
    from tools.synth import synthesize

    return synthesize(out).template


def start_local_stack(options: LocalStackOptions) -> LocalStack:
    try:
        stack = LocalStack(options)
        stack.start()
    except TemplateError as exc:
        raise UserError(str(exc), hint="synthesize again with `crudops synth`") from exc
    except (BotoCoreError, ClientError) as exc:
        # Only another endpoint gets here (the embedded one is started by the stack):
        # unreachable, refusing the credentials, or missing a service the stack needs.
        raise UserError(f"the AWS endpoint failed while the stack was created: {exc}",
                        hint="check --aws-endpoint / AWS_ENDPOINT_URL and your AWS "
                             "credentials; `crudops local down` removes anything left "
                             "half-created") from exc
    except OSError as exc:
        raise UserError(f"cannot start the local stack: {exc}",
                        hint="is --port already in use?") from exc
    return stack


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """SIGTERM raises `KeyboardInterrupt` as Ctrl-C does, while starting and stopping.

    Without it SIGTERM would end the process on the spot: no stop, a stale state file,
    and on another endpoint the run's resources left behind.
    """
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def wait_for_stop_signal() -> None:
    """Block until SIGINT or SIGTERM (a clean stop either way)."""
    stopped = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stopped.wait(0.5):
            pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def do_local_up(
    options: LocalStackOptions,
    *,
    template: Path | None,
    out: Path | None,
    on_ready: Callable[[StackEndpoints, LocalStack], None],
    wait: Callable[[], None] = wait_for_stop_signal,
    on_stopped: Callable[[LocalStack], None] | None = None,
) -> None:
    """`on_stopped` sees the stopped stack (what was removed from another endpoint)."""
    options = replace(options, template=template_for(template, out))
    stack = start_local_stack(options)
    try:
        assert stack.endpoints is not None
        on_ready(stack.endpoints, stack)
        wait()
    finally:
        stack.stop()
        if on_stopped is not None:
            on_stopped(stack)
