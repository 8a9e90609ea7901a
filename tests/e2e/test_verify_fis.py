"""`crudops verify --faults fis` wired through a whole run on the local stack.

The local stack has no FIS (ADR 0028), so FIS alone is botocore's Stubber, on a client
the run's target hands out for "fis", and the stack's resources gain one experiment
template; everything else is the local stack's: the commands, the subscriptions, and
the copies of accepted commands published to its commands topic, which its handlers
must absorb. The Stubber's calls are recorded with how many commands had been sent:
the experiment runs before the first and is stopped once the last is sent, before
the wait for outcomes.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
from botocore.stub import ANY, Stubber

from tests.e2e.conftest import Api
from tools.stacks import Resource, resolve_stack_target
from tools.tokens import api_tokens
from tools.verify.command import verify_on
from tools.verify.fis import FisFaults
from tools.verify.run import RunSettings

SETTINGS = RunSettings(rate=40, concurrency=6, settle_seconds=20, timeout_seconds=120)
TEMPLATE = "EXTlocal0001"
COMMANDS = 60


def _experiment(status: str) -> dict[str, Any]:
    return {"experiment": {"id": "EXPlocal", "experimentTemplateId": TEMPLATE,
                           "state": {"status": status, "reason": f"Experiment {status}"}}}


def test_the_experiment_runs_while_the_commands_are_sent_and_copies_are_absorbed(
        api: Api) -> None:
    state_file = api.stack.options.state_file
    assert isinstance(state_file, Path)
    local = resolve_stack_target(stack=None, local=True, local_state_file=state_file,
                                 command="verify")
    described = local.described
    assert described is not None and described.rest_url and described.ws_url
    fis = boto3.client("fis", region_name=described.region)
    seen: dict[str, Any] = {"stage": "", "sent": 0, "total": 0}
    calls: list[tuple[str, str, int]] = []
    fis.meta.events.register("before-parameter-build.fis.*", lambda model, **_: calls.append(
        (model.name, seen["stage"], seen["sent"])))

    def on_progress(stage: str, done: int, total: int) -> None:
        seen["stage"] = stage
        if stage == "send":
            seen["sent"], seen["total"] = done, total

    target = replace(
        local, clients=lambda service, *rest: fis if service == "fis" else local.clients(
            service, *rest),
        local_resources=[*local.resources(), Resource(
            "FaultInjectionConsumerFaults0A1B2C3D", "AWS::FIS::ExperimentTemplate",
            TEMPLATE)])
    with Stubber(fis) as stubber:
        stubber.add_response("start_experiment", _experiment("running"), {
            "clientToken": ANY, "experimentTemplateId": TEMPLATE, "tags": ANY})
        stubber.add_response("get_experiment", _experiment("running"), {"id": "EXPlocal"})
        stubber.add_response("stop_experiment", _experiment("stopping"), {"id": "EXPlocal"})
        stubber.add_response("get_experiment", _experiment("stopped"), {"id": "EXPlocal"})
        report = verify_on(
            target, described.rest_url, described.ws_url, commands=COMMANDS, seed=4,
            settings=SETTINGS, on_progress=on_progress,
            token=api_tokens(stack=None, local=True, local_state_file=state_file)[0],
            fis=FisFaults(duplicates=0.25, ramp_up_seconds=0))
        stubber.assert_no_pending_responses()

    # The experiment ran from before the first command until the last was sent, and
    # was stopped before the wait for the outcomes began.
    assert calls[0] == ("StartExperiment", "experiments", 0)
    assert ("StopExperiment", "send", COMMANDS) in calls and seen["total"] == COMMANDS
    assert report.experiments == [{"template": TEMPLATE, "experiment": "EXPlocal",
                                   "state": "stopped", "reason": "Experiment stopped",
                                   "ended": True}]
    assert report.faults == ["fis", "duplicates"]
    # The copies reached the handlers as redeliveries: nothing applied twice.
    assert report.duplicates_sent > 5, report.duplicates_sent
    assert report.ok, report.problems
    assert report.accepted == report.outcomes == COMMANDS
    assert (report.lost, report.double_applied, report.lost_updates) == (0, 0, 0)
    assert report.duplicate_notifications > 0
