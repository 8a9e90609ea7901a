"""`local up --aws-endpoint`: the same gateways, pollers and functions on an AWS
endpoint the stack did not start (here a separate, unpatched moto server standing in
for LocalStack or an account), with the caller's identity there, a copy of the
resources named for the run, and nothing left behind when the stack stops (or, once
it has been killed, after `crudops local down`)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from crudops_local.cloudformation.providers.registration import STACK_TAG
from crudops_local.run import LocalStack, LocalStackOptions
from crudops_local.telemetry import ObservabilitySettings
from functions.contracts.tables import ITEMS_KEY
from tests.e2e.conftest import USER_A, api_of, id_token, receive_notification
from tests.support.moto_server import running_moto_server
from tools.tokens import token_sub

pytestmark = pytest.mark.e2e

OTHER_ACCOUNT = "210987654321"
REPOSITORY = Path(__file__).resolve().parents[2]
REGION = "eu-west-1"


@pytest.fixture
def other_endpoint() -> Iterator[str]:
    with running_moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def other_account(other_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The caller's default credentials become a role's in another account, as after
    `aws sso login`: the stack must find the account from them, not assume one."""
    credentials = boto3.client("sts", endpoint_url=other_endpoint).assume_role(
        RoleArn=f"arn:aws:iam::{OTHER_ACCOUNT}:role/developer",
        RoleSessionName="e2e")["Credentials"]
    environment = {"AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
                   "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
                   "AWS_SESSION_TOKEN": credentials["SessionToken"]}
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return environment


def _small_stack(template: Path, tmp_path: Path, **where: Any) -> LocalStackOptions:
    """One worker and poller each, no metrics: the endpoint is what these tests vary."""
    return LocalStackOptions(
        template=template, log_dir=tmp_path / "logs", runs_dir=tmp_path / "runs",
        max_workers_per_function=1, max_pollers_per_mapping=1, state_file=None,
        observability=ObservabilitySettings(metrics=False, alarms=False), **where)


def _left_in(endpoint: str, prefix: str, keys: tuple[str, ...] = (),
             alarms: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """What still exists on the endpoint under the caller's account, named `prefix…`,
    which of `keys` can still be used (KMS only schedules a deletion) and which of the
    local alarm evaluator's `alarms` are still there."""
    session = boto3.Session(region_name=REGION)
    dynamodb, sqs, sns, logs, kms, cloudwatch, cognito = (
        session.client(s, endpoint_url=endpoint)
        for s in ("dynamodb", "sqs", "sns", "logs", "kms", "cloudwatch", "cognito-idp"))
    lambda_, iam, apigateway, apigatewayv2 = (
        session.client(s, endpoint_url=endpoint)
        for s in ("lambda", "iam", "apigateway", "apigatewayv2"))
    return {
        # the copies of what the stack plays, registered for the endpoint's listings
        "functions": [f["FunctionName"] for f in lambda_.list_functions()["Functions"]
                      if f["FunctionName"].startswith(prefix)],
        "roles": [r["RoleName"] for r in iam.list_roles()["Roles"]
                  if r["RoleName"].startswith(prefix)],
        "rest apis": [a["id"] for a in apigateway.get_rest_apis()["items"]
                      if (a.get("tags") or {}).get(STACK_TAG) == prefix],
        "websocket apis": [a["ApiId"] for a in apigatewayv2.get_apis()["Items"]
                           if (a.get("Tags") or {}).get(STACK_TAG) == prefix],
        "tables": [t for t in dynamodb.list_tables()["TableNames"] if t.startswith(prefix)],
        "queues": [q for q in sqs.list_queues().get("QueueUrls", []) if prefix in q],
        "topics": [t["TopicArn"] for t in sns.list_topics()["Topics"] if prefix in t["TopicArn"]],
        "subscriptions": [s["SubscriptionArn"] for s in sns.list_subscriptions()["Subscriptions"]
                          if prefix in s["TopicArn"]],
        "log groups": [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]
                       if g["logGroupName"].startswith(prefix)],
        "usable keys": [k for k in keys
                        if kms.describe_key(KeyId=k)["KeyMetadata"]["KeyState"] == "Enabled"],
        "user pools": [p["Name"] for p in cognito.list_user_pools(MaxResults=60)["UserPools"]
                       if p["Name"].startswith(prefix)],
        "alarms": [a["AlarmName"] for a in cloudwatch.describe_alarms(
            AlarmNames=list(alarms))["MetricAlarms"]] if alarms else [],
    }


def test_the_stack_serves_on_another_endpoint_as_the_caller_and_cleans_up(
        e2e_template: Path, other_endpoint: str, other_account: dict[str, str],
        tmp_path: Path) -> None:
    options = _small_stack(e2e_template, tmp_path, aws_endpoint=other_endpoint,
                           region=REGION)
    with LocalStack(options) as stack, api_of(stack, id_token(stack, USER_A)) as api:
        assert stack.endpoints is not None and stack.ledger is not None
        assert stack.endpoints.aws_endpoint == other_endpoint
        # the account comes from STS, and every ARN the template builds carries it
        assert stack.pseudo.account_id == OTHER_ACCOUNT
        items_table = api.ref("StorageItems", "AWS::DynamoDB::Table")
        topic = api.ref("MessagingCommands", "AWS::SNS::Topic")
        assert topic.startswith(f"arn:aws:sns:{REGION}:{OTHER_ACCOUNT}:")
        # named for this run, so neither another run nor a deployed stack collides
        assert stack.pseudo.stack_name.startswith("Crudops-local-")
        assert items_table.startswith(stack.pseudo.stack_name)
        # functions resolve the caller's credential chain themselves (refreshable)
        environment = next(iter(stack.pools.values())).spec.environment
        assert {k: environment.get(k) for k in other_account} == other_account
        assert environment["AWS_ENDPOINT_URL"] == other_endpoint

        with api.connect() as connection:
            request_id = api.submit("POST", "/items", json={"name": "elsewhere"})
            connection.send(json.dumps({"action": "subscribe", "requestId": request_id}))
            notification = receive_notification(connection, request_id)
        assert notification["status"] == "success"

        dynamodb = boto3.Session(region_name=REGION).client(  # the caller, as now set
            "dynamodb", endpoint_url=other_endpoint)
        item = dynamodb.get_item(TableName=items_table, Key=ITEMS_KEY.of(
            token_sub(api.token or ""), notification["result"]["id"]))
        assert item["Item"]["name"]["S"] == "elsewhere"
        ledger_file = tmp_path / "runs" / f"{stack.pseudo.stack_name}.json"
        assert len(json.loads(ledger_file.read_text())["created"]) == len(stack.ledger.created)
        prefix = stack.pseudo.stack_name
        keys = tuple(r.ref for r in stack.ledger.created if r.type == "AWS::KMS::Key")
        assert len(keys) == 2 and _left_in(other_endpoint, prefix, keys)["usable keys"]
        # the user pool too, named for the run
        listed = _left_in(other_endpoint, prefix, keys)
        assert len(listed["user pools"]) == 1
        # and the endpoint lists the functions and APIs the stack serves (ADR 0031)
        assert len(listed["functions"]) == len(stack.pools)
        assert len(listed["rest apis"]) == len(listed["websocket apis"]) == 1

    assert stack.teardown_report is not None and stack.teardown_report.ok
    assert not ledger_file.exists()
    left = _left_in(other_endpoint, prefix, keys)
    assert not any(left.values()), left


def _local_up(template: Path, endpoint: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tools.cli", "local", "up", "--template", str(template),
         "--aws-endpoint", endpoint, "--region", REGION, "--workers", "1", "--json"],
        cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        start_new_session=True, env={**os.environ, "PYTHONPATH": str(REPOSITORY)})


def _run_cli(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tools.cli", *arguments], cwd=cwd,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPOSITORY)})


def test_local_down_removes_what_a_killed_stack_left(
        e2e_template: Path, other_endpoint: str, tmp_path: Path) -> None:
    process = _local_up(e2e_template, other_endpoint, tmp_path)
    try:
        assert process.stdout is not None
        ready: dict[str, Any] = json.loads(process.stdout.readline())
        assert ready["aws_endpoint"] == other_endpoint
        ledgers = list((tmp_path / ".crudops" / "runs").glob("*.json"))
        assert len(ledgers) == 1
        stack_name = ledgers[0].stem
        created = json.loads(ledgers[0].read_text())["created"]
        keys = tuple(entry["ref"] for entry in created if entry["type"] == "AWS::KMS::Key")
        alarms = tuple(entry["ref"] for entry in created
                       if entry["type"] == "AWS::CloudWatch::Alarm")
        # the local alarm evaluator's copies of the template's alarms are listed too
        assert len(alarms) > 10 and _left_in(other_endpoint, stack_name, alarms=alarms)[
            "alarms"]
        assert _left_in(other_endpoint, stack_name)["queues"]

        # WHILE it runs, `local down` leaves it alone
        running = _run_cli("local", "down", "--json", cwd=tmp_path)
        assert running.returncode == 0, running.stderr
        assert json.loads(running.stdout)["stacks"][0]["status"] == "running"
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the stack and its workers, no clean-up
        process.wait(30)
    assert _left_in(other_endpoint, stack_name)["queues"]

    down = _run_cli("local", "down", "--json", cwd=tmp_path)
    assert down.returncode == 0, down.stderr
    report = json.loads(down.stdout)
    assert report["ok"] and report["stacks"][0]["status"] == "removed"
    assert report["stacks"][0]["failed"] == {}
    left = _left_in(other_endpoint, stack_name, keys, alarms)
    assert not any(left.values()), left
    assert not ledgers[0].exists()

    again = _run_cli("local", "down", cwd=tmp_path)
    assert again.returncode == 0 and "nothing to remove" in again.stdout


def test_dynamodb_elsewhere_beside_the_embedded_server(
        e2e_template: Path, other_endpoint: str, tmp_path: Path) -> None:
    """`--service-endpoint dynamodb=URL` (DynamoDB Local's use): the tables, the
    functions' writes and the gateway's GetItem go there, the rest stays embedded."""
    options = _small_stack(e2e_template, tmp_path,
                           service_endpoints=(f"dynamodb={other_endpoint}",))
    with LocalStack(options) as stack, api_of(stack, id_token(stack, USER_A)) as api:
        assert stack.ledger is not None and stack.aws is not None
        # only what lives on the other endpoint is listed for removal
        assert {r.type for r in stack.ledger.created} == {"AWS::DynamoDB::Table"}
        items_table = api.ref("StorageItems", "AWS::DynamoDB::Table")
        with api.connect() as connection:
            request_id = api.submit("POST", "/items", json={"name": "in dynamodb local"})
            connection.send(json.dumps({"action": "subscribe", "requestId": request_id}))
            notification = receive_notification(connection, request_id)
        assert notification["status"] == "success"
        # the gateway's direct DynamoDB integration reads the outcome from there too
        outcome = api.http.get(f"/requests/{request_id}")
        assert outcome.status_code == 200 and outcome.json()["status"] == "success"

        other = boto3.Session(region_name="us-east-1").client(
            "dynamodb", endpoint_url=other_endpoint,
            aws_access_key_id="local", aws_secret_access_key="local")  # as the stack signs
        item = other.get_item(TableName=items_table, Key=ITEMS_KEY.of(
            token_sub(api.token or ""), notification["result"]["id"]))
        assert item["Item"]["name"]["S"] == "in dynamodb local"
        embedded = stack.aws.session.client("dynamodb", endpoint_url=stack.aws.url)
        assert embedded.list_tables()["TableNames"] == []
        prefix = stack.pseudo.stack_name

    assert stack.teardown_report is not None and stack.teardown_report.ok
    assert [t for t in other.list_tables()["TableNames"] if t.startswith(prefix)] == []
