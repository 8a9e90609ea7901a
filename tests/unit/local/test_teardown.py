"""Removing what the stack created on an endpoint it does not own: order, idempotency,
failures kept for later, and the ledger that survives a killed stack."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from crudops_local.aws.endpoint import AwsEndpoint
from crudops_local.cloudformation.providers import PROVIDERS
from crudops_local.cloudformation.providers.cloudwatch_alarm import ALARM_TYPE
from crudops_local.cloudformation.teardown import (
    CreatedResource,
    ResourceLedger,
    teardown,
)
from tools.local.down import do_local_down, find_ledgers, is_running

ENDPOINT = AwsEndpoint("http://127.0.0.1:1", "us-east-1", placeholder_credentials=False)
ACCOUNT_ID = "210987654321"
STACK_NAME = "Crudops-local-abc123"
EXAMPLES = {
    "AWS::DynamoDB::Table": "Crudops-local-abc123-Items",
    "AWS::SQS::Queue": "http://127.0.0.1:1/210987654321/Crudops-local-abc123-Queue",
    "AWS::SNS::Topic": "arn:aws:sns:us-east-1:210987654321:Crudops-local-abc123-Topic",
    "AWS::SNS::Subscription": "arn:aws:sns:us-east-1:210987654321:Crudops-local-abc123-Topic:1",
    "AWS::KMS::Key": "0d1f3c8e-0000-4000-8000-000000000000",
    "AWS::Logs::LogGroup": "Crudops-local-abc123-Logs",
    "AWS::Cognito::UserPool": "us-east-1_0123456789abcdef",
    ALARM_TYPE: "crudops-api-5xx",
    # the copies registered on an emulator for its listings (ADR 0031)
    "AWS::IAM::Role": "Crudops-local-abc123-Role",
    "AWS::Lambda::Function": "Crudops-local-abc123-Function",
    "AWS::ApiGateway::RestApi": "879f2d6d60",
    "AWS::ApiGatewayV2::Api": "egkzobjn",
}


class FakeAws:
    """Records every call; `errors[(operation, ref)]` answers with that error code."""

    def __init__(self, errors: dict[str, str] | None = None) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.errors = errors or {}

    def __call__(self, service: str) -> Any:
        fake = self

        class Client:
            def __getattr__(self, operation: str) -> Callable[..., dict[str, Any]]:
                def call(**kwargs: Any) -> dict[str, Any]:
                    fake.calls.append((service, operation, kwargs))
                    first = next(iter(kwargs.values()), None)
                    code = fake.errors.get(first) if isinstance(first, str) else None
                    if code:
                        raise ClientError({"Error": {"Code": code, "Message": code}},
                                          operation)
                    return {}
                return call

        return Client()


def _ledger(tmp_path: Path, types: list[str], pid: int | None = None) -> ResourceLedger:
    ledger = ResourceLedger(ENDPOINT, ACCOUNT_ID, STACK_NAME, tmp_path / f"{STACK_NAME}.json",
                            pid=pid)
    for index, kind in enumerate(types):
        ledger.record(CreatedResource(f"R{index}", kind, EXAMPLES[kind]))
    return ledger


def test_every_resource_the_stack_creates_can_be_removed(tmp_path: Path) -> None:
    gone_codes = {kind for kind, provider in PROVIDERS.items() if provider.gone_codes}
    created = {kind for kind, provider in PROVIDERS.items() if provider.created_in_endpoint}
    # a stage goes with its API: listed for removal only through it
    registered = {kind for kind, provider in PROVIDERS.items()
                  if provider.visible_in_endpoint and not kind.endswith("::Stage")}
    assert set(EXAMPLES) == gone_codes == created | registered | {ALARM_TYPE}
    aws = FakeAws()
    report = teardown(_ledger(tmp_path, sorted(EXAMPLES)), aws)
    assert report.ok and len(report.removed) == len(EXAMPLES)
    operations = {(service, operation) for service, operation, _ in aws.calls}
    assert operations == {("dynamodb", "delete_table"), ("sqs", "delete_queue"),
                          ("sns", "delete_topic"), ("sns", "unsubscribe"),
                          ("kms", "schedule_key_deletion"), ("logs", "delete_log_group"),
                          ("cognito-idp", "delete_user_pool"), ("cloudwatch", "delete_alarms"),
                          ("iam", "delete_role"), ("lambda", "delete_function"),
                          ("apigateway", "delete_rest_api"), ("apigatewayv2", "delete_api")}
    key_call = next(kwargs for _, operation, kwargs in aws.calls
                    if operation == "schedule_key_deletion")
    assert key_call["PendingWindowInDays"] == 7


def test_newest_first_so_subscriptions_go_before_their_topic(tmp_path: Path) -> None:
    aws = FakeAws()
    teardown(_ledger(tmp_path, ["AWS::SNS::Topic", "AWS::SQS::Queue",
                                "AWS::SNS::Subscription"]), aws)
    assert [operation for _, operation, _ in aws.calls] == [
        "unsubscribe", "delete_queue", "delete_topic"]


def test_already_gone_is_success_and_a_failure_stays_in_the_ledger(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path, ["AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::KMS::Key"])
    aws = FakeAws({EXAMPLES["AWS::DynamoDB::Table"]: "ResourceNotFoundException",
                   EXAMPLES["AWS::SQS::Queue"]: "AccessDenied"})
    report = teardown(ledger, aws)
    assert report.removed == ["R2"] and report.already_gone == ["R0"]
    assert set(report.failed) == {"R1"} and "AccessDenied" in report.failed["R1"]
    assert not report.ok
    # GIVEN the file a later `crudops local down` reads THEN only the failure is left
    assert [r.logical_id for r in ResourceLedger.load(ledger.path or Path()).created] == ["R1"]

    # WHEN the cause is fixed and it runs again THEN nothing is left, the file neither
    report = teardown(ResourceLedger.load(ledger.path or Path()), FakeAws())
    assert report.removed == ["R1"] and not (tmp_path / f"{STACK_NAME}.json").exists()


def test_an_unreachable_endpoint_fails_every_removal_after_one_attempt(
        tmp_path: Path) -> None:
    attempts: list[str] = []

    def unreachable(service: str) -> Any:
        attempts.append(service)
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")

    ledger = _ledger(tmp_path, ["AWS::SQS::Queue", "AWS::SNS::Topic", "AWS::KMS::Key"])
    report = teardown(ledger, unreachable)
    assert set(report.failed) == {"R0", "R1", "R2"}
    assert attempts == ["kms"]  # botocore retries each call for seconds: once is enough
    assert len(ResourceLedger.load(ledger.path or Path()).created) == 3


def test_any_other_error_fails_only_its_own_removal(tmp_path: Path) -> None:
    def expired(service: str) -> Any:
        if service == "sqs":
            raise RuntimeError("credentials expired")
        return FakeAws()(service)

    report = teardown(_ledger(tmp_path, ["AWS::SQS::Queue", "AWS::SNS::Topic"]), expired)
    assert report.removed == ["R1"] and set(report.failed) == {"R0"}


def test_the_ledger_is_written_as_each_resource_is_created(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path, ["AWS::SNS::Topic"])
    loaded = ResourceLedger.load(ledger.path or Path())
    assert loaded.endpoint == ENDPOINT and loaded.pid == ledger.pid
    assert (loaded.account_id, loaded.stack_name) == (ACCOUNT_ID, STACK_NAME)
    assert loaded.created == [CreatedResource("R0", "AWS::SNS::Topic",
                                              EXAMPLES["AWS::SNS::Topic"])]
    (tmp_path / "broken.json").write_text("{}")
    with pytest.raises(ValueError, match="not a resource ledger"):
        ResourceLedger.load(tmp_path / "broken.json")


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_down_removes_what_dead_stacks_left_and_leaves_running_ones(tmp_path: Path) -> None:
    dead = ResourceLedger(ENDPOINT, ACCOUNT_ID, STACK_NAME, tmp_path / "dead.json",
                          pid=_dead_pid())
    dead.record(CreatedResource("Queue", "AWS::SQS::Queue", EXAMPLES["AWS::SQS::Queue"]))
    alive_endpoint = AwsEndpoint(None, "eu-west-1", placeholder_credentials=False)
    alive = ResourceLedger(alive_endpoint, ACCOUNT_ID, "Crudops-local-def456",
                           tmp_path / "alive.json")  # this process's pid
    alive.record(CreatedResource("Topic", "AWS::SNS::Topic", EXAMPLES["AWS::SNS::Topic"]))

    ledgers = find_ledgers(tmp_path)
    assert [is_running(ledger) for ledger in ledgers] == [True, False]  # alive, dead
    aws = FakeAws()
    seen: list[str] = []
    report = do_local_down(ledgers, client_for=lambda ledger: aws,
                           on_resource=lambda ledger, resource: seen.append(resource.logical_id))
    assert report.ok and seen == ["Queue"]
    statuses = {o.stack_name: (o.status, o.endpoint) for o in report.outcomes}
    assert statuses == {"Crudops-local-abc123": ("removed", ENDPOINT.url),
                        "Crudops-local-def456": ("running", "AWS eu-west-1")}
    assert [call[1] for call in aws.calls] == ["get_caller_identity", "delete_queue"]
    assert not (tmp_path / "dead.json").exists() and (tmp_path / "alive.json").exists()


def test_down_reports_what_it_could_not_remove(tmp_path: Path) -> None:
    dead = ResourceLedger(ENDPOINT, ACCOUNT_ID, STACK_NAME, tmp_path / "dead.json",
                          pid=_dead_pid())
    dead.record(CreatedResource("Queue", "AWS::SQS::Queue", EXAMPLES["AWS::SQS::Queue"]))
    report = do_local_down(find_ledgers(tmp_path), client_for=lambda ledger: FakeAws(
        {EXAMPLES["AWS::SQS::Queue"]: "AccessDenied"}))
    assert not report.ok
    assert report.as_json()["stacks"][0]["status"] == "incomplete"
    assert (tmp_path / "dead.json").exists()


class AccountAws(FakeAws):
    """A fake whose STS says the caller is in `account`."""

    def __init__(self, account: str) -> None:
        super().__init__()
        self.account = account

    def __call__(self, service: str) -> Any:
        if service == "sts":
            account = self.account

            class Sts:
                def get_caller_identity(self) -> dict[str, str]:
                    return {"Account": account}

            return Sts()
        return super().__call__(service)


def test_down_touches_nothing_with_another_accounts_credentials(tmp_path: Path) -> None:
    # GIVEN resources created in 210987654321 and credentials of another account now
    dead = ResourceLedger(ENDPOINT, ACCOUNT_ID, STACK_NAME, tmp_path / "dead.json",
                          pid=_dead_pid())
    dead.record(CreatedResource("Table", "AWS::DynamoDB::Table",
                                EXAMPLES["AWS::DynamoDB::Table"]))
    other = AccountAws("111122223333")
    report = do_local_down(find_ledgers(tmp_path), client_for=lambda ledger: other)
    # THEN no delete was tried (there it would answer "not found": "already gone")
    assert other.calls == [] and not report.ok
    assert report.outcomes[0].status == "other-account"
    assert "111122223333" in report.outcomes[0].detail
    assert (tmp_path / "dead.json").exists()

    same = AccountAws(ACCOUNT_ID)
    assert do_local_down(find_ledgers(tmp_path), client_for=lambda ledger: same).ok
    assert [call[1] for call in same.calls] == ["delete_table"]


def test_down_force_removes_what_a_live_looking_stack_listed(tmp_path: Path) -> None:
    alive = ResourceLedger(ENDPOINT, ACCOUNT_ID, STACK_NAME,
                           tmp_path / "alive.json")  # this process's pid
    alive.record(CreatedResource("Topic", "AWS::SNS::Topic", EXAMPLES["AWS::SNS::Topic"]))
    aws = FakeAws()
    assert do_local_down(find_ledgers(tmp_path), client_for=lambda ledger: aws).outcomes[
        0].status == "running"
    assert aws.calls == []
    report = do_local_down(find_ledgers(tmp_path), client_for=lambda ledger: aws, force=True)
    assert report.outcomes[0].status == "removed"
    assert [call[1] for call in aws.calls] == ["get_caller_identity", "delete_topic"]
