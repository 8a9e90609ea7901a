"""The fault plan: parsed, written and read back, and the AWS answers it injects."""

from __future__ import annotations

import os
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from crudops_local.faults import (
    DEFAULT_RATES,
    FaultPlan,
    FaultSource,
    install_aws_faults,
    write_plan,
)


def test_all_turns_every_fault_on_and_a_list_picks() -> None:
    assert FaultPlan.parse("all").active == list(DEFAULT_RATES)
    plan = FaultPlan.parse("kill,errors=0.5")
    assert (plan.kill, plan.errors, plan.throttle) == (DEFAULT_RATES["kill"], 0.5, 0.0)


@pytest.mark.parametrize("text", ["explode", "errors=x", "errors=2"])
def test_a_bad_plan_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        FaultPlan.parse(text)


def test_no_file_no_faults_and_a_written_plan_takes_effect(tmp_path: Path) -> None:
    path = tmp_path / "faults.json"
    source = FaultSource(path, seed=1)
    assert not any(source.strikes("errors") for _ in range(100))
    write_plan(path, FaultPlan(errors=1.0))
    assert all(source.strikes("errors") for _ in range(10))
    path.unlink()
    assert not source.strikes("errors")


def test_the_rate_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "faults.json"
    write_plan(path, FaultPlan(duplicates=0.2))
    source = FaultSource(path, seed=7)
    hits = sum(source.strikes("duplicates") for _ in range(5_000))
    assert 800 < hits < 1_200


@pytest.fixture
def default_session() -> object:
    saved = boto3.DEFAULT_SESSION
    boto3.setup_default_session(region_name="us-east-1", aws_access_key_id="x",
                                aws_secret_access_key="x")
    yield boto3.DEFAULT_SESSION
    boto3.DEFAULT_SESSION = saved


def test_injected_aws_answers_are_aws_errors(tmp_path: Path, default_session: object) -> None:
    """The function sees what AWS would answer, before any request leaves (the
    endpoint below does not exist)."""
    path = tmp_path / "faults.json"
    write_plan(path, FaultPlan(throttle=1.0, conflicts=1.0, management=1.0))
    install_aws_faults(FaultSource(path, seed=1))
    dynamodb = boto3.client("dynamodb", endpoint_url="http://127.0.0.1:9")
    with pytest.raises(ClientError) as conflict:
        dynamodb.transact_write_items(TransactItems=[{"Put": {"TableName": "t", "Item": {}}}])
    assert conflict.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert conflict.value.response["CancellationReasons"][0]["Code"] == "TransactionConflict"
    with pytest.raises(ClientError) as throttled:
        dynamodb.get_item(TableName="t", Key={"id": {"S": "x"}})
    assert throttled.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    management = boto3.client("apigatewaymanagementapi", endpoint_url="http://127.0.0.1:9")
    with pytest.raises(ClientError) as failed:
        management.post_to_connection(ConnectionId="c", Data=b"x")
    assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    os.unlink(path)
