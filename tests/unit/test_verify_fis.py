"""`crudops verify --faults fis`: driving the stack's FIS experiments (tools/verify/fis.py)
with botocore's Stubber, and the option rules (tools/verify/command.py).

The Stubber answers exactly the calls it expects, in order, and fails on any other:
a start that is not stopped, or a stop sent twice, fails the test. moto 5.2.5 has FIS
too; its experiments move pending → running → completed by themselves
(`ManagedState`), so the sequences that matter here (a stop condition already in
alarm, a stop that never confirms) are given by the Stubber.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tools.errors import UserError
from tools.stacks import Resource
from tools.verify.command import do_verify, do_verify_command
from tools.verify.fis import (
    DEPLOY_HINT,
    ExperimentRecord,
    Experiments,
    FisFaults,
    experiment_template_ids,
)
from tools.verify.run import RunSettings

TEMPLATE = "EXTabc123"
OTHER_TEMPLATE = "EXTdef456"
RUN = "a1b2c3"


class FakeClock:
    """`clock` and `sleep` for the waits: sleeping advances the clock."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def fis() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("fis", region_name="eu-west-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _experiment(experiment_id: str, status: str, reason: str = "") -> dict[str, Any]:
    return {"experiment": {"id": experiment_id, "experimentTemplateId": TEMPLATE,
                           "state": {"status": status, "reason": reason}}}


def _expect_start(stubber: Stubber, template: str, index: int, experiment_id: str,
                  status: str = "initiating", reason: str = "") -> None:
    stubber.add_response("start_experiment", _experiment(experiment_id, status, reason), {
        "clientToken": f"crudops-verify-{RUN}-{index}", "experimentTemplateId": template,
        "tags": {"crudops:verify-run": RUN}})


def _expect_get(stubber: Stubber, experiment_id: str, status: str, reason: str = "") -> None:
    stubber.add_response("get_experiment", _experiment(experiment_id, status, reason),
                         {"id": experiment_id})


def _expect_stop(stubber: Stubber, experiment_id: str, status: str = "stopping") -> None:
    stubber.add_response("stop_experiment", _experiment(experiment_id, status),
                         {"id": experiment_id})


def _experiments(client: Any, clock: FakeClock, templates: tuple[str, ...] = (TEMPLATE,),
                 ramp_up: float = 60.0) -> Experiments:
    return Experiments(client, templates, run_id=RUN, ramp_up_seconds=ramp_up,
                       poll_seconds=2.0, start_timeout_seconds=30.0, stop_timeout_seconds=30.0,
                       clock=clock, sleep=clock.sleep)


def test_it_starts_waits_until_running_and_the_ramp_up_then_stops_until_stopped(
        fis: tuple[Any, Stubber]) -> None:
    client, stubber = fis
    clock = FakeClock()
    # GIVEN FIS moves the experiment initiating → running, and stopping → stopped
    _expect_start(stubber, TEMPLATE, 0, "EXP1")
    _expect_get(stubber, "EXP1", "initiating")
    _expect_get(stubber, "EXP1", "running")
    _expect_get(stubber, "EXP1", "running")  # the look before stopping
    _expect_stop(stubber, "EXP1")
    _expect_get(stubber, "EXP1", "stopping")
    _expect_get(stubber, "EXP1", "stopped", "Experiment stopped")

    # WHEN the workload runs inside it
    with _experiments(client, clock) as experiments:
        ramped_up_at = clock.now
        assert [r.state for r in experiments.records] == ["running"]

    # THEN the workload started only after the ramp-up, and the run ends stopped
    assert clock.slept[:3] == [2.0, 2.0, 60.0] and ramped_up_at == 64.0
    (record,) = experiments.records
    assert (record.state, record.ended, record.reason) == ("stopped", True,
                                                          "Experiment stopped")
    assert experiments.problems() == []
    assert record.as_json() == {"template": TEMPLATE, "experiment": "EXP1",
                                "state": "stopped", "reason": "Experiment stopped",
                                "ended": True}


def test_stopping_twice_sends_one_stop(fis: tuple[Any, Stubber]) -> None:
    client, stubber = fis
    clock = FakeClock()
    _expect_start(stubber, TEMPLATE, 0, "EXP1", status="running")
    _expect_get(stubber, "EXP1", "running")
    _expect_stop(stubber, "EXP1", status="stopped")
    with _experiments(client, clock, ramp_up=0) as experiments:
        experiments.stop()  # after the last command is sent
    # the context's own stop at the end asked FIS nothing more (the Stubber would fail)
    assert experiments.records[0].ended


def test_an_experiment_that_ended_by_itself_is_not_stopped(fis: tuple[Any, Stubber]) -> None:
    client, stubber = fis
    clock = FakeClock()
    _expect_start(stubber, TEMPLATE, 0, "EXP1", status="running")
    _expect_get(stubber, "EXP1", "completed", "Experiment completed")
    with _experiments(client, clock, ramp_up=0) as experiments:
        pass
    assert experiments.records[0].state == "completed"


def test_a_stop_condition_already_in_alarm_is_one_line_with_fis_reason(
        fis: tuple[Any, Stubber]) -> None:
    client, stubber = fis
    clock = FakeClock()
    reason = "Stop condition arn:aws:cloudwatch:eu-west-1:1:alarm:Crudops-api-5xx is in ALARM"
    _expect_start(stubber, TEMPLATE, 0, "EXP1")
    _expect_get(stubber, "EXP1", "failed", reason)
    with pytest.raises(UserError) as raised, _experiments(client, clock):
        raise AssertionError("the workload must not start")
    assert reason in raised.value.one_line() and "\n" not in raised.value.one_line()
    assert "stop condition in alarm" in raised.value.hint


def test_when_the_second_cannot_start_the_first_is_stopped(fis: tuple[Any, Stubber]) -> None:
    client, stubber = fis
    clock = FakeClock()
    _expect_start(stubber, TEMPLATE, 0, "EXP1", status="running")
    _expect_start(stubber, OTHER_TEMPLATE, 1, "EXP2", status="failed", reason="no targets")
    _expect_get(stubber, "EXP1", "running")  # the look before stopping
    _expect_stop(stubber, "EXP1", status="stopped")
    with pytest.raises(UserError, match=r"EXP2.*no targets"), _experiments(
            client, clock, templates=(TEMPLATE, OTHER_TEMPLATE)):
        raise AssertionError("the workload must not start")


def test_an_experiment_never_running_is_a_user_error_and_is_stopped(
        fis: tuple[Any, Stubber]) -> None:
    client, stubber = fis
    clock = FakeClock()
    _expect_start(stubber, TEMPLATE, 0, "EXP1")
    for _ in range(16):  # 30 s of 2 s polls, then the deadline
        _expect_get(stubber, "EXP1", "initiating")
    _expect_stop(stubber, "EXP1", status="stopped")
    with pytest.raises(UserError, match="not running after 30 s: EXP1 initiating"), \
            _experiments(client, clock):
        raise AssertionError("the workload must not start")


def test_ctrl_c_during_the_workload_stops_the_experiment(fis: tuple[Any, Stubber]) -> None:
    client, stubber = fis
    clock = FakeClock()
    _expect_start(stubber, TEMPLATE, 0, "EXP1", status="running")
    _expect_get(stubber, "EXP1", "running")
    _expect_stop(stubber, "EXP1")
    _expect_get(stubber, "EXP1", "stopped")
    with pytest.raises(KeyboardInterrupt), _experiments(client, clock, ramp_up=0):
        raise KeyboardInterrupt


def test_ctrl_c_during_the_ramp_up_stops_the_experiment(fis: tuple[Any, Stubber]) -> None:
    client, stubber = fis
    clock = FakeClock()

    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    _expect_start(stubber, TEMPLATE, 0, "EXP1", status="running")
    _expect_get(stubber, "EXP1", "running")
    _expect_stop(stubber, "EXP1", status="stopped")
    experiments = _experiments(client, clock)
    experiments.sleep = interrupted
    with pytest.raises(KeyboardInterrupt), experiments:
        raise AssertionError("the workload must not start")
    assert experiments.records[0].ended


def test_a_stop_fis_never_confirms_is_a_problem_with_the_command_to_stop_it(
        fis: tuple[Any, Stubber]) -> None:
    client, stubber = fis
    clock = FakeClock()
    _expect_start(stubber, TEMPLATE, 0, "EXP1", status="running")
    stubber.add_client_error("get_experiment", "ThrottlingException", "Rate exceeded")
    stubber.add_client_error("stop_experiment", "ThrottlingException", "Rate exceeded",
                             expected_params={"id": "EXP1"})
    for _ in range(16):
        _expect_get(stubber, "EXP1", "stopping")
    experiments = _experiments(client, clock, ramp_up=0)
    experiments.start()
    experiments.stop()  # never raises: it runs in finally and on Ctrl-C
    assert experiments.problems() == [
        "FIS experiment EXP1 may still run (stopping): aws fis stop-experiment --id EXP1"]


# --- options and the stack ----------------------------------------------------------
@pytest.mark.parametrize(("text", "expected"), [
    ("fis", FisFaults()), ("fis,duplicates=0.2", FisFaults(duplicates=0.2)),
    ("fis,duplicates=0", FisFaults(duplicates=0.0)), ("fis, duplicates", FisFaults()),
    ("all", None), ("kill,errors=0.1", None),
])
def test_faults_fis_is_read_and_local_plans_are_left_alone(
        text: str, expected: FisFaults | None) -> None:
    assert FisFaults.parse(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("fis,kill", "'kill' is a local fault"), ("kill,fis", "fis goes first"),
    ("fis,duplicates=lots", "not a rate"), ("fis,duplicates=2", "not between 0 and 1"),
])
def test_faults_fis_refuses_what_it_cannot_do(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FisFaults.parse(text)


def test_the_report_names_what_was_injected() -> None:
    assert FisFaults().names == ["fis", "duplicates"]
    assert FisFaults(duplicates=0).names == ["fis"]


def test_a_stack_without_an_experiment_template_says_how_to_deploy_one() -> None:
    resources = [Resource("Queue", "AWS::SQS::Queue", "https://sqs/q")]
    with pytest.raises(UserError) as raised:
        experiment_template_ids("Crudops", resources)
    assert "stack Crudops has no FIS experiment template" in raised.value.one_line()
    assert raised.value.hint == DEPLOY_HINT and "-c crudops:fis=true" in DEPLOY_HINT
    found = experiment_template_ids("Crudops", [
        *resources, Resource("FaultInjectionConsumerFaults1", "AWS::FIS::ExperimentTemplate",
                             TEMPLATE)])
    assert found == [TEMPLATE]


@pytest.mark.parametrize(("stack", "local"), [(None, True), (None, False)])
def test_faults_fis_on_the_local_stack_is_a_user_error(stack: str | None, local: bool) -> None:
    with pytest.raises(UserError) as raised:
        do_verify(stack=stack, local=local, region=None, commands=10, seed=1,
                  settings=RunSettings(), on_progress=lambda *_: None, fis=FisFaults())
    assert "deployed stack" in raised.value.one_line()
    assert "--stack Crudops --faults fis" in raised.value.hint
    assert "--faults all" in raised.value.hint


def test_the_command_turns_a_bad_faults_value_into_one_line() -> None:
    with pytest.raises(UserError, match="--faults: 'kill' is a local fault"):
        do_verify_command(stack="Crudops", local=False, region=None, commands=10, seed=1,
                          settings=RunSettings(), faults="fis,kill", as_json=True)


def test_an_unconfirmed_experiment_fails_the_run() -> None:
    from tools.verify.conservation import VerifyReport

    report = VerifyReport()
    assert report.ok
    report.experiments_not_ended = 1
    assert not report.ok
    assert ExperimentRecord(TEMPLATE, "EXP1").as_json()["ended"] is False


def test_the_report_says_which_experiments_ran_and_how_many_copies_went(
        capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from tools.verify.command import print_verify
    from tools.verify.conservation import VerifyReport

    record = ExperimentRecord(TEMPLATE, "EXP1", "stopped", "Experiment stopped", ended=True)
    report = VerifyReport(faults=FisFaults().names, experiments=[record.as_json()],
                          duplicates_sent=7)
    assert print_verify(report, as_json=False) == 0
    text = capsys.readouterr().out
    assert "faults injected while sending: fis, duplicates" in text
    assert f"FIS experiment EXP1 (template {TEMPLATE}): stopped, Experiment stopped" in text
    assert "copies of accepted commands published again: 7" in text

    report.experiments_not_ended = 1
    assert print_verify(report, as_json=True) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["experiments"] == [record.as_json()]
    assert (document["duplicates_sent"], document["experiments_not_ended"]) == (7, 1)
    assert document["ok"] is False
