"""What a local stack leaves on disk under `.crudops/`, and the state file's contract.

The state file is what `crudops local up` writes (crudops_local/run.py) and every
`--local` command reads (tools/stacks.py): `LocalStackState` is its schema, written
with `write_state` (atomically: a reader never sees half a file) and read back with
`LocalStackState.read`, which turns a missing, garbled or stale file (its stack no longer
runs) into a `StateFileError`, printed by the CLI as one line with a hint. This
module imports nothing of the emulator, so the CLI reads the state file without
loading it.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Self

from crudops_local.errors import ConfigurationError

STATE_DIR: Final = Path(".crudops")
# The running local stack's description (JSON): its endpoints, resources, log dir, ...
STATE_FILE: Final = STATE_DIR / "local-stack.json"
# Where its functions write `<function name>.log`, unless the stack is told otherwise.
LOG_DIR: Final = STATE_DIR / "logs"
# The ledgers of what stacks created on endpoints they do not own.
RUNS_DIR: Final = STATE_DIR / "runs"
# The X-Ray daemon's requestId → trace index, relative to the log directory.
TRACE_INDEX: Final = Path("xray") / "index.jsonl"
# A fault plan (crudops_local/faults.py): present only while `crudops verify --faults`
# runs; the running stack and its workers read it as it changes.
FAULT_PLAN: Final = STATE_DIR / "faults.json"

# What `target` says of where the stack's AWS is (crudops_local/aws/targets.py `TargetKind`).
EMBEDDED_TARGET: Final = "embedded"
ACCOUNT_TARGET: Final = "account"
RESTART_HINT: Final = "restart the local stack with `crudops local up`"

log = logging.getLogger("crudops.local")


def trace_index_of(log_dir: Path) -> Path:
    """Where the X-Ray daemon of a stack logging to `log_dir` indexes its traces."""
    return log_dir / TRACE_INDEX


class StateFileError(ConfigurationError):
    """No usable state file: none, not one, or its stack no longer runs."""


@dataclass(frozen=True)
class ResourceState:
    """One provisioned resource: what `Ref` and `Fn::GetAtt` answer for it."""

    type: str
    ref: str
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LocalStackState:
    """The running local stack as its state file describes it (the running stack itself
    is `crudops_local.run.LocalStack`). Field names are the file's keys, but for
    `physical` ("resources") and `target_kind` ("target")."""

    stack: str
    region: str
    aws_endpoint: str | None  # None: AWS's own endpoints (`local up --aws-endpoint aws`)
    # logical id → the resource it provisioned
    physical: dict[str, ResourceState]
    # "embedded" (its own moto server), "emulator" (a URL it was pointed at), "account"
    target_kind: str = EMBEDDED_TARGET
    # Signed with placeholder keys (its own server, or an emulator without credentials).
    placeholder_credentials: bool = True
    # service → its own endpoint (`local up --service-endpoint`)
    service_endpoints: dict[str, str] = field(default_factory=dict)
    # its gateways (`crudops load --local`)
    rest_url: str = ""
    ws_url: str = ""
    # where its functions write `<function name>.log` (`crudops logs --local`), and
    # the index of its traces by requestId (`crudops trace --local`)
    log_dir: Path = LOG_DIR
    trace_index: Path | None = None
    # The template it runs (`crudops dashboard --local` reads the dashboard from it).
    template: Path | None = None
    account_id: str = ""
    # The process that runs it; None: not known (the file is not checked for staleness).
    pid: int | None = None
    # It publishes AWS/SQS and AWS/Lambda metrics (crudops_local/telemetry.py).
    metrics: bool = False
    # Percentiles of its own samples (crudops_local/cloudwatch/percentiles.py).
    percentiles_url: str | None = None
    # Where it reads a fault plan (`crudops verify --faults`); None: it follows none.
    fault_plan: Path | None = None

    @property
    def embedded(self) -> bool:
        """Its own moto server rather than an endpoint it was pointed at."""
        return self.target_kind == EMBEDDED_TARGET

    @property
    def own_alarms(self) -> bool:
        """Its alarms are its own (evaluated locally): not against a real account,
        where CloudWatch evaluates the run's `<stack>-*` alarms itself."""
        return self.target_kind != ACCOUNT_TARGET

    @property
    def trace_index_path(self) -> Path:
        """Where its X-Ray daemon indexes traces by requestId (`crudops trace --local`)."""
        return self.trace_index or trace_index_of(self.log_dir)

    @property
    def attributes(self) -> dict[str, dict[str, Any]]:
        """logical id → what `Fn::GetAtt` answers for it (queue names, ARNs, ...)."""
        return {logical_id: dict(r.attributes) for logical_id, r in self.physical.items()}

    def as_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack, "region": self.region, "aws_endpoint": self.aws_endpoint,
            "target": self.target_kind, "placeholder_credentials": self.placeholder_credentials,
            "service_endpoints": dict(self.service_endpoints),
            "rest_url": self.rest_url, "ws_url": self.ws_url, "log_dir": str(self.log_dir),
            "trace_index": str(self.trace_index_path),
            "template": None if self.template is None else str(self.template),
            "account_id": self.account_id, "pid": self.pid, "metrics": self.metrics,
            "percentiles_url": self.percentiles_url,
            "fault_plan": None if self.fault_plan is None else str(self.fault_plan),
            "resources": {logical_id: {"type": r.type, "ref": r.ref,
                                       "attributes": r.attributes}
                          for logical_id, r in self.physical.items()},
        }

    @classmethod
    def from_json(cls, state: Mapping[str, Any]) -> Self:
        """The state from the file's JSON; KeyError, TypeError, ValueError or
        AttributeError when it is not a state file. Keys added since a file was written
        take their defaults, so a stack started before an upgrade is still read."""
        target = str(state.get("target", EMBEDDED_TARGET))
        return cls(
            stack=str(state.get("stack", "local")),
            region=str(state["region"]),
            aws_endpoint=None if state["aws_endpoint"] is None else str(state["aws_endpoint"]),
            physical={str(logical_id): ResourceState(str(entry["type"]), str(entry["ref"]),
                                                      dict(entry.get("attributes") or {}))
                       for logical_id, entry in state["resources"].items()},
            target_kind=target,
            placeholder_credentials=state.get(
                "placeholder_credentials", target == EMBEDDED_TARGET) is True,
            service_endpoints={str(k): str(v)
                               for k, v in state.get("service_endpoints", {}).items()},
            rest_url=str(state.get("rest_url", "")),
            ws_url=str(state.get("ws_url", "")),
            log_dir=Path(str(state.get("log_dir", LOG_DIR))),
            trace_index=Path(str(state["trace_index"])) if state.get("trace_index") else None,
            template=Path(state["template"]) if state.get("template") else None,
            account_id=str(state.get("account_id", "")),
            pid=int(state["pid"]) if state.get("pid") is not None else None,
            metrics=state.get("metrics") is True,
            percentiles_url=str(state["percentiles_url"])
            if state.get("percentiles_url") else None,
            fault_plan=Path(str(state["fault_plan"])) if state.get("fault_plan") else None,
        )

    @classmethod
    def read(cls, path: Path = STATE_FILE) -> Self:
        """The state file at `path`; a `StateFileError` when there is none, it is not
        one, or its stack has stopped (a killed stack leaves its file behind)."""
        if not path.is_file():
            raise StateFileError(f"no running local stack ({path} not found)",
                                 hint="start one with `crudops local up`")
        try:
            state = cls.from_json(json.loads(path.read_text()))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise StateFileError(f"{path} is not a local stack description: {exc!r}",
                                 hint=RESTART_HINT) from exc
        if state.pid is not None and not process_is_running(state.pid):
            raise StateFileError(
                f"the local stack of {path} (process {state.pid}) is not running",
                hint="start one with `crudops local up`; "
                     "`crudops local down` removes what a killed one left")
        return state


def write_state(path: Path, state: LocalStackState) -> None:
    """Replace the state file at `path` in one step (write beside it, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state.as_json(), indent=2, default=str))
    temporary.replace(path)


def remove_state(path: Path, pid: int) -> None:
    """Remove the state file at `path` if the process `pid` wrote it (a second stack
    started since then owns it now). Best effort: the stack is stopping."""
    try:
        if path.is_file() and json.loads(path.read_text()).get("pid") == pid:
            path.unlink()
    except (OSError, ValueError):
        log.warning("could not remove %s", path)


def process_is_running(pid: int) -> bool:
    """Whether process `pid` is alive (someone else's counts: it is not ours to judge)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
