"""`crudops verify --stack NAME --faults fis`: the stack's AWS FIS experiments run while
the workload is sent (docs/adr/0028-fis-experiments-on-the-consumers.md).

The experiment templates are the stack's own (`AWS::FIS::ExperimentTemplate`, deployed
with `-c crudops:fis=true`). Each is started, and the workload waits until FIS says it
runs and the extension has had time to read it (`ramp_up_seconds`: the extension
polls S3 every 60 s between experiments). Once every command is sent they are
stopped, as the local fault plan is removed, so what they parked can settle; they are
stopped again on any failure and on Ctrl-C (`Experiments` is a context manager), and
each stop is awaited until FIS reports the experiment ended. An experiment that
cannot be confirmed ended is a problem of the run, with the command that stops it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final

from tools.errors import UserError
from tools.stacks import Resource, resources_of_type

EXPERIMENT_TEMPLATE_TYPE: Final = "AWS::FIS::ExperimentTemplate"
FIS_FAULT: Final = "fis"
# FIS's experiment states (GetExperiment `state.status`).
RUNNING: Final = "running"
ENDED: Final = frozenset({"completed", "stopped", "failed", "cancelled"})
DEPLOY_HINT: Final = ("deploy it with the experiment: npx cdk deploy -c crudops:fis=true "
                      "(ADR 0028)")
# Copies of accepted commands sent again (tools/verify/duplicates.py), by default.
DEFAULT_DUPLICATES: Final = 0.05
# The extension polls S3 for a configuration every 60 s while no experiment runs
# (AWS_FIS_SLOW_POLL_INTERVAL_SECONDS, whose default the stack keeps).
RAMP_UP_SECONDS: Final = 60.0
POLL_SECONDS: Final = 2.0
START_TIMEOUT_SECONDS: Final = 120.0
STOP_TIMEOUT_SECONDS: Final = 120.0


@dataclass(frozen=True)
class FisFaults:
    """What `--faults fis[,duplicates=RATE]` asks for."""

    duplicates: float = DEFAULT_DUPLICATES
    ramp_up_seconds: float = RAMP_UP_SECONDS

    def __post_init__(self) -> None:
        if not 0.0 <= self.duplicates <= 1.0:
            raise ValueError(f"duplicates: rate {self.duplicates} is not between 0 and 1")

    @property
    def names(self) -> list[str]:
        """What the report lists as injected."""
        return [FIS_FAULT, *(["duplicates"] if self.duplicates > 0 else [])]

    @classmethod
    def parse(cls, text: str) -> FisFaults | None:
        """None when `text` does not start with `fis` (a local plan, then)."""
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if not parts or parts[0] != FIS_FAULT:
            if FIS_FAULT in parts:
                raise ValueError("fis goes first and alone with duplicates: "
                                 "--faults fis,duplicates=0.05")
            return None
        duplicates = DEFAULT_DUPLICATES
        for part in parts[1:]:
            name, _, rate = part.partition("=")
            if name != "duplicates":
                raise ValueError(f"{name!r} is a local fault; with fis only duplicates=RATE "
                                 "(copies of commands sent again) is added")
            try:
                duplicates = float(rate) if rate else DEFAULT_DUPLICATES
            except ValueError:
                raise ValueError(f"duplicates: {rate!r} is not a rate") from None
        return cls(duplicates=duplicates)


def experiment_template_ids(stack: str, resources: Iterable[Resource]) -> list[str]:
    """The ids of the stack's experiment templates; a user error when it has none."""
    found = [r.physical_id for r in resources_of_type(resources, EXPERIMENT_TEMPLATE_TYPE)]
    if not found:
        raise UserError(f"stack {stack} has no FIS experiment template", hint=DEPLOY_HINT)
    return found


@dataclass
class ExperimentRecord:
    """One experiment this run started, and what FIS last said of it."""

    template_id: str
    experiment_id: str
    state: str = "pending"
    reason: str = ""
    # Whether FIS confirmed it ended (it must, before the run ends).
    ended: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"template": self.template_id, "experiment": self.experiment_id,
                "state": self.state, "reason": self.reason, "ended": self.ended}


@dataclass
class Experiments:
    """The stack's experiments, started together and never left running.

    `fis`: a boto3 FIS client. `clock`/`sleep` are the waits' (tests pass fakes).
    """

    fis: Any
    template_ids: Sequence[str]
    run_id: str
    ramp_up_seconds: float = RAMP_UP_SECONDS
    poll_seconds: float = POLL_SECONDS
    start_timeout_seconds: float = START_TIMEOUT_SECONDS
    stop_timeout_seconds: float = STOP_TIMEOUT_SECONDS
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    records: list[ExperimentRecord] = field(default_factory=list)

    def __enter__(self) -> Experiments:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    # --- start ----------------------------------------------------------------------
    def start(self) -> None:
        """Start each experiment, wait until all run, then the extension's ramp-up.

        A user error when one ends before it runs (a stop condition in alarm, targets
        or a role FIS cannot resolve); the reason is FIS's own."""
        for index, template_id in enumerate(self.template_ids):
            answer = self.fis.start_experiment(
                clientToken=f"crudops-verify-{self.run_id}-{index}",
                experimentTemplateId=template_id,
                tags={"crudops:verify-run": self.run_id})
            experiment = answer["experiment"]
            record = ExperimentRecord(template_id, experiment["id"])
            self._note(record, experiment)
            self.records.append(record)
        deadline = self.clock() + self.start_timeout_seconds
        while True:
            for record in self.records:
                if record.ended:
                    raise UserError(
                        f"FIS experiment {record.experiment_id} (template "
                        f"{record.template_id}) is {record.state} before it ran: "
                        f"{record.reason or 'no reason given'}",
                        hint="a stop condition in alarm (commands parked in a DLQ, or "
                             "API 5XX) ends it: `crudops status --stack NAME "
                             "--problems-only`")
            if all(record.state == RUNNING for record in self.records):
                break
            if self.clock() > deadline:
                states = ", ".join(f"{r.experiment_id} {r.state}" for r in self.records)
                raise UserError(f"FIS experiments not running after "
                                f"{self.start_timeout_seconds:.0f} s: {states}",
                                hint="see the experiment in the FIS console or its log group")
            self.sleep(self.poll_seconds)  # polling FIS, bounded by the deadline above
            self.refresh()
        if self.ramp_up_seconds > 0:
            self.sleep(self.ramp_up_seconds)  # the extension's poll interval, documented

    # --- stop -----------------------------------------------------------------------
    def stop(self) -> None:
        """Stop every experiment not ended yet and wait until FIS says each ended.

        Never raises for FIS's answers (it runs in `finally` and on Ctrl-C, where it
        must not hide the first error); what it could not confirm stays `ended=False`
        and the report names it."""
        from botocore.exceptions import BotoCoreError, ClientError

        with contextlib.suppress(ClientError, BotoCoreError):
            self.refresh()  # one that ended by itself (its duration) needs no stop
        for record in self.records:
            if record.ended:
                continue
            try:
                self._note(record, self.fis.stop_experiment(id=record.experiment_id)[
                    "experiment"])
            except ClientError as exc:
                record.reason = f"stop_experiment: {exc}"
            except BotoCoreError as exc:
                record.reason = f"stop_experiment: {exc}"
        deadline = self.clock() + self.stop_timeout_seconds
        while any(not record.ended for record in self.records):
            if self.clock() > deadline:
                return
            self.sleep(self.poll_seconds)  # polling FIS, bounded by the deadline above
            try:
                self.refresh()
            except (ClientError, BotoCoreError):
                continue

    def refresh(self) -> None:
        for record in self.records:
            if not record.ended:
                self._note(record, self.fis.get_experiment(id=record.experiment_id)[
                    "experiment"])

    @staticmethod
    def _note(record: ExperimentRecord, experiment: dict[str, Any]) -> None:
        state = experiment.get("state") or {}
        record.state = str(state.get("status", record.state))
        record.reason = str(state.get("reason", ""))
        record.ended = record.state in ENDED

    def problems(self) -> list[str]:
        """An experiment the run could not confirm ended, with how to stop it."""
        return [f"FIS experiment {r.experiment_id} may still run ({r.state}): aws fis "
                f"stop-experiment --id {r.experiment_id}" for r in self.records if not r.ended]
