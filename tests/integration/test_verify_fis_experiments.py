"""The FIS driver of `crudops verify --faults fis` (tools/verify/fis.py) against moto's
FIS: an experiment template like the stack's, started, seen running, and ended before
the driver lets go. moto moves an experiment's state by itself on every read (pending,
initiating, running, completed), so this shows the calls and the waits fit FIS's API;
the sequences AWS gives that moto does not (a failed start, a stop never confirmed)
are in tests/unit/test_verify_fis.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tools.verify.fis import Experiments

API_ALARM = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:Crudops-api-5xx"


@pytest.fixture
def fis() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("fis", region_name="eu-west-1")


def _template(fis: Any) -> str:
    template = fis.create_experiment_template(
        clientToken="crudops-test", description="crudops: consumer faults",
        roleArn="arn:aws:iam::123456789012:role/crudops-fis",
        stopConditions=[{"source": "aws:cloudwatch:alarm", "value": API_ALARM}],
        targets={"Consumers": {
            "resourceType": "aws:lambda:function", "selectionMode": "ALL",
            "resourceArns": ["arn:aws:lambda:eu-west-1:123456789012:function:create"]}},
        actions={"InvocationErrors": {
            "actionId": "aws:lambda:invocation-error", "targets": {"Functions": "Consumers"},
            "parameters": {"duration": "PT600S", "invocationPercentage": "10",
                           "preventExecution": "false"}}},
        tags={"crudops:experiment": "consumer-faults"})
    return str(template["experimentTemplate"]["id"])


def test_the_experiment_runs_inside_and_has_ended_after(fis: Any) -> None:
    template_id = _template(fis)
    experiments = Experiments(fis, [template_id], run_id="r1", ramp_up_seconds=0,
                              poll_seconds=0.01)
    with experiments:
        (record,) = experiments.records
        assert record.state == "running"
        (listed,) = fis.list_experiments()["experiments"]
        assert listed["experimentTemplateId"] == template_id
        assert fis.list_tags_for_resource(
            resourceArn=fis.get_experiment(id=record.experiment_id)["experiment"]["arn"]
        )["tags"] == {"crudops:verify-run": "r1"}
    assert record.ended and record.state in {"stopped", "completed"}
    assert experiments.problems() == []

