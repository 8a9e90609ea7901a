"""Running Lambda functions locally: each in worker processes of its own.

Like Lambda, a worker is one process with the function's own environment, which
imports the handler once (the init phase, not counted against the timeout) and then
serves one invocation at a time. A pool per function holds up to `max_workers`
workers, started on demand. An invocation that overruns the function's timeout gets
its worker killed (`FunctionTimeoutError`); the caller decides what that means (an
event source mapping leaves the batch to reappear after the visibility timeout).
Each function's stdout and stderr go to `<log_dir>/<function>.log`.

An `InvocationObserver` (crudops_local/telemetry.py) plays the Lambda service's
telemetry: before an invocation it may choose the trace header the worker puts in
`_X_AMZN_TRACE_ID` (as Lambda sets it per invocation), and after it learns how the
invocation went (for the function's segment and its Invocations/Errors metrics).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

from crudops_local.child_signals import ignore_stop_signals, stop_signals_blocked
from crudops_local.faults import FaultSource, install_aws_faults
from crudops_local.lambda_.specs import FunctionSpec

# Worker start-up (interpreter, boto3, Powertools) takes seconds on a loaded machine;
# Lambda gives the init phase 10 s of its own.
INIT_TIMEOUT_SECONDS = 30.0


class FunctionInvocationError(RuntimeError):
    """The invocation did not return a result."""


class FunctionTimeoutError(FunctionInvocationError):
    pass


class FunctionCrashedError(FunctionInvocationError):
    """The worker died (killed, out of memory, os._exit) during the invocation."""


class FunctionHandlerError(FunctionInvocationError):
    """The handler raised; `error_type` and `trace` are what Lambda would report."""

    def __init__(self, error_type: str, message: str, trace: list[str]) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.error_message = message
        self.trace = trace


@dataclass
class LambdaContext:
    """What a handler's `context` offers in Lambda, enough for Powertools."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline_epoch: float = field(repr=False, default=0.0)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline_epoch - time.time()) * 1000))


@dataclass(frozen=True)
class InvocationRecord:
    """How one invocation went, as the Lambda service would know it."""

    request_id: str
    started: float
    ended: float
    error: BaseException | None = None


class InvocationObserver(Protocol):
    def begin(self, spec: FunctionSpec, event: Any) -> Any:
        """Called before the invocation; the answer's `trace_header` (str or None), if
        it has one, becomes the worker's `_X_AMZN_TRACE_ID`; the answer is passed to
        `end`."""

    def end(self, spec: FunctionSpec, begun: Any, record: InvocationRecord) -> None:
        """Called after the invocation, however it ended; must not raise."""


INJECTED_ERROR = ("InjectedFault", "invocation error injected by the fault plan")


def _worker_main(spec: FunctionSpec, log_path: str, connection: Connection,
                 fault_plan: str | None = None) -> None:
    """Entry point of a worker process (spawned: a fresh interpreter).

    It ignores SIGINT and SIGTERM: the pool stops it (SIGKILL), and it returns at the
    end of file on its pipe when the stack's process is gone.
    """
    ignore_stop_signals()
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    sys.stdout = os.fdopen(1, "w", buffering=1)
    sys.stderr = os.fdopen(2, "w", buffering=1)
    # A Lambda environment holds its own variables only, never the host's.
    os.environ.clear()
    os.environ.update(spec.environment)
    sys.path.insert(0, str(spec.code_path))
    faults = FaultSource(Path(fault_plan)) if fault_plan else None
    if faults is not None:
        install_aws_faults(faults)  # before the handler's module makes its clients
    module_name, _, function_name = spec.handler.rpartition(".")
    try:
        module = __import__(module_name.replace("/", "."), fromlist=[function_name])
        handler = getattr(module, function_name)
    except Exception as exc:
        traceback.print_exc()
        connection.send(("init_error", f"{type(exc).__name__}: {exc}"))
        return
    connection.send(("ready", None))
    while True:
        try:
            request_id, event, deadline, trace_header = connection.recv()
        except EOFError:
            return
        # Lambda sets the invocation's trace header in the environment, where the
        # X-Ray SDK's Lambda mode reads it.
        if trace_header:
            os.environ["_X_AMZN_TRACE_ID"] = trace_header
        else:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        context = LambdaContext(
            function_name=spec.name,
            function_version="$LATEST",
            invoked_function_arn=spec.arn,
            memory_limit_in_mb=spec.memory_mb,
            aws_request_id=request_id,
            log_group_name=f"/aws/lambda/{spec.name}",
            log_stream_name="local",
            deadline_epoch=deadline,
        )
        if faults is not None and faults.strikes("errors"):
            sys.stderr.write(f"{INJECTED_ERROR[0]}: {INJECTED_ERROR[1]}\n")
            connection.send(("error", (*INJECTED_ERROR, [])))
            continue
        try:
            result = handler(event, context)
        except Exception as exc:
            trace = traceback.format_exception(exc)
            sys.stderr.write("".join(trace))
            connection.send(("error", (type(exc).__name__, str(exc), trace)))
        else:
            connection.send(("ok", result))


class _Worker:
    def __init__(self, spec: FunctionSpec, log_path: Path,
                 fault_plan: Path | None = None) -> None:
        context = multiprocessing.get_context("spawn")
        self._connection, child = context.Pipe()
        self.process = context.Process(
            target=_worker_main,
            args=(spec, str(log_path), child, str(fault_plan) if fault_plan else None),
            name=f"lambda:{spec.name}", daemon=True,
        )
        with stop_signals_blocked():
            self.process.start()
        child.close()
        if not self._connection.poll(INIT_TIMEOUT_SECONDS):
            self.kill()
            raise FunctionTimeoutError(f"{spec.name} did not finish its init phase")
        status, detail = self._receive()
        if status != "ready":
            self.kill()
            raise FunctionHandlerError("InitError", str(detail), [])

    def _receive(self) -> tuple[str, Any]:
        try:
            message: tuple[str, Any] = self._connection.recv()
        except (EOFError, OSError) as exc:
            raise FunctionCrashedError("the worker process died") from exc
        return message

    def invoke(self, event: Any, timeout_seconds: float, request_id: str = "",
               trace_header: str | None = None) -> Any:
        request_id = request_id or str(uuid.uuid4())
        deadline = time.time() + timeout_seconds
        try:
            self._connection.send((request_id, event, deadline, trace_header))
        except (BrokenPipeError, OSError) as exc:
            raise FunctionCrashedError("the worker process died") from exc
        if not self._connection.poll(timeout_seconds):
            self.kill()
            raise FunctionTimeoutError(f"timed out after {timeout_seconds:g} s")
        status, detail = self._receive()
        if status == "ok":
            return detail
        error_type, message, trace = detail
        raise FunctionHandlerError(error_type, message, trace)

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self._connection.close()


def _kill_quietly(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


class FunctionPool:
    """Up to `max_workers` warm workers of one function; `invoke` is thread-safe."""

    def __init__(self, spec: FunctionSpec, log_dir: Path, max_workers: int = 1,
                 observer: InvocationObserver | None = None,
                 faults: FaultSource | None = None) -> None:
        self.spec = spec
        # The fault plan (crudops_local/faults.py): its workers read the same file.
        self._faults = faults
        self._observer = observer
        self.log_path = log_dir / f"{spec.name}.log"
        log_dir.mkdir(parents=True, exist_ok=True)
        self._max_workers = max(1, max_workers)
        self._idle: list[_Worker] = []
        # When each idle worker last finished an invocation (for reaping).
        self._idle_since: dict[_Worker, float] = {}
        self._busy: set[_Worker] = set()
        self._started = 0
        self._closed = False
        self._condition = threading.Condition()

    def _acquire(self) -> _Worker:
        with self._condition:
            while True:
                if self._closed:
                    raise FunctionInvocationError(f"{self.spec.name} is shut down")
                if self._idle:
                    # The most recently used: the oldest idle ones are reaped first.
                    worker = self._idle.pop()
                    self._idle_since.pop(worker, None)
                    self._busy.add(worker)
                    return worker
                if self._started < self._max_workers:
                    self._started += 1
                    break
                self._condition.wait()
        try:
            worker = _Worker(self.spec, self.log_path,
                             self._faults.path if self._faults is not None else None)
        except BaseException:
            with self._condition:
                self._started -= 1
                self._condition.notify()
            raise
        with self._condition:
            self._busy.add(worker)
        return worker

    def _release(self, worker: _Worker) -> None:
        with self._condition:
            self._busy.discard(worker)
            if worker.alive and not self._closed:
                self._idle.append(worker)
                self._idle_since[worker] = time.monotonic()
            else:
                self._started -= 1
                worker.kill()
            self._condition.notify()

    def invoke(self, event: Any) -> Any:
        worker = self._acquire()
        request_id = str(uuid.uuid4())
        begun = self._observer.begin(self.spec, event) if self._observer else None
        header = getattr(begun, "trace_header", None)
        started = time.time()
        error: BaseException | None = None
        killer = self._killer(worker)
        try:
            return worker.invoke(event, self.spec.timeout_seconds, request_id,
                                 str(header) if header else None)
        except BaseException as exc:
            error = exc
            raise
        finally:
            if killer is not None:
                killer.cancel()
            self._release(worker)
            if self._observer is not None:
                self._observer.end(self.spec, begun, InvocationRecord(
                    request_id, started, time.time(), error))

    def follow_faults(self, faults: FaultSource) -> None:
        """From now on, its invocations and new workers follow the fault plan."""
        self._faults = faults

    def _killer(self, worker: _Worker) -> threading.Timer | None:
        """The fault plan's `kill`: SIGKILL the worker a moment into the invocation
        (an execution environment lost mid-batch)."""
        if self._faults is None or not self._faults.strikes("kill"):
            return None
        pid = worker.process.pid
        if pid is None:
            return None
        delay = self._faults.uniform(0.0, min(0.5, self.spec.timeout_seconds / 2))
        timer = threading.Timer(delay, lambda: _kill_quietly(pid))
        timer.daemon = True
        timer.start()
        return timer

    @property
    def busy_pids(self) -> list[int]:
        """Processes of the workers running an invocation right now."""
        with self._condition:
            return [w.process.pid for w in self._busy if w.process.pid is not None]

    def reap_idle(self, idle_seconds: float, keep: int = 1) -> int:
        """Stop workers idle for longer than `idle_seconds`, keeping `keep` warm, as
        Lambda reclaims idle execution environments; returns how many were stopped."""
        now = time.monotonic()
        reaped: list[_Worker] = []
        with self._condition:
            while len(self._idle) + len(self._busy) > keep and self._idle:
                oldest = self._idle[0]
                if now - self._idle_since.get(oldest, now) < idle_seconds:
                    break
                self._idle.pop(0)
                self._idle_since.pop(oldest, None)
                self._started -= 1
                reaped.append(oldest)
            self._condition.notify()
        for worker in reaped:
            worker.kill()
        return len(reaped)

    @property
    def worker_count(self) -> int:
        with self._condition:
            return len(self._idle) + len(self._busy)

    def close(self) -> None:
        with self._condition:
            self._closed = True
            self._idle_since.clear()
            idle, self._idle = self._idle, []
            self._condition.notify_all()
        for worker in idle:
            worker.kill()
