"""`crudops local up`: synthesize (or read) the template, start the local stack and
keep it running until Ctrl-C or SIGTERM, printing each change of an alarm's state.

Printed: every change but an alarm's first OK after the start (`settling`): one
INSUFFICIENT_DATA → OK line per alarm at every start tells the on-call engineer
nothing and would hide the line that matters. An alarm that starts in ALARM, goes to ALARM, recovers
from it, or loses its data is printed (docs/adr/0016-clean-stop-and-local-alarm-actions.md).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from crudops_local.cloudformation.template import TemplateError
from crudops_local.cloudwatch.alarms import AlarmStateChange
from crudops_local.run import LocalStack, LocalStackOptions, StackEndpoints
from tools.errors import UserError


def template_for(template: Path | None, out: Path | None) -> Path:
    """The given template, or a freshly synthesized one (the template is the truth)."""
    if template is not None:
        if not template.is_file():
            raise UserError(f"template {template} does not exist",
                            hint="run `crudops synth` or drop --template")
        return template
    from tools.synth import synthesize

    return synthesize(out).template


def worth_printing(change: AlarmStateChange) -> bool:
    return not change.settling


def alarm_line(change: AlarmStateChange, width: int) -> str:
    """`10:04:05 ALARM  Crudops-create-dlq-not-empty  Threshold Crossed: …`, cut to `width`."""
    moment = datetime.fromtimestamp(change.at).strftime("%H:%M:%S")
    line = f"{moment} {change.new_state:<17} {change.alarm.name}  {change.reason}"
    return line if len(line) <= width else line[:max(width - 1, 0)] + "…"


def alarm_json(change: AlarmStateChange) -> dict[str, Any]:
    return {"type": "alarm", "time": datetime.fromtimestamp(change.at).astimezone().isoformat(),
            "alarm": change.alarm.name, "state": change.new_state,
            "previous": change.old_state, "reason": change.reason}


def start_local_stack(options: LocalStackOptions,
                      on_alarm: Callable[[AlarmStateChange], None] | None = None) -> LocalStack:
    try:
        stack = LocalStack(options, on_alarm_change=on_alarm)
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
                        hint="another program (or another `crudops local up`) holds "
                             "--port or --aws-port; `--port 0 --aws-port 0` picks free "
                             "ones") from exc
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
    on_alarm: Callable[[AlarmStateChange], None] | None = None,
) -> None:
    """`on_stopped` sees the stopped stack (what was removed from another endpoint);
    `on_alarm` each change of an alarm's state worth printing, from another thread."""
    options = replace(options, template=template_for(template, out))

    def alarm_changed(change: AlarmStateChange) -> None:
        if on_alarm is not None and worth_printing(change):
            on_alarm(change)

    stack = start_local_stack(options, alarm_changed)
    try:
        assert stack.endpoints is not None
        on_ready(stack.endpoints, stack)
        wait()
    finally:
        stack.stop()
        if on_stopped is not None:
            on_stopped(stack)


@contextlib.contextmanager
def own_local_stack(options: LocalStackOptions | None = None) -> Iterator[LocalStack]:
    """A local stack started for one command (`demo`, `load`, `verify` with no target),
    from a freshly synthesized template, stopped when the command ends (also on
    Ctrl-C or SIGTERM, which arrive as `KeyboardInterrupt`)."""
    chosen = replace(options or LocalStackOptions(template=Path()),
                     template=template_for(None, None))
    with sigterm_interrupts():
        stack = start_local_stack(chosen)
        try:
            yield stack
        finally:
            stack.stop()
