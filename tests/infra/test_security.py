"""Least privilege, no hard-coded environment, and cdk-nag enforcement."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack, Validations
from aws_cdk import aws_sqs as sqs
from cdk_nag import AwsSolutionsChecks

from infra.lambda_function import (
    POWERTOOLS_LAYER_ACCOUNT,
    POWERTOOLS_LAYER_ACCOUNT_BY_PARTITION,
    POWERTOOLS_LAYER_ACCOUNT_BY_REGION,
)
from tests.infra.helpers import Resources, logical_id_of, of_type, props
from tools.synth import SynthResult


def _statements_of_role(resources: Resources, role_part: str) -> list[dict[str, Any]]:
    role_id = logical_id_of(resources, "AWS::IAM::Role", role_part)
    statements: list[dict[str, Any]] = []
    for policy in of_type(resources, "AWS::IAM::Policy").values():
        if {"Ref": role_id} in props(policy)["Roles"]:
            statements.extend(props(policy)["PolicyDocument"]["Statement"])
    assert "ManagedPolicyArns" not in props(resources[role_id])
    assert "Policies" not in props(resources[role_id])
    return statements


def _actions(statement: dict[str, Any]) -> set[str]:
    actions = statement["Action"]
    return {actions} if isinstance(actions, str) else set(actions)


def test_api_publish_role_may_only_publish_to_the_topic(resources: Resources) -> None:
    topic_id = logical_id_of(resources, "AWS::SNS::Topic", "Commands")
    key_id = logical_id_of(resources, "AWS::KMS::Key", "TopicKey")
    statements = _statements_of_role(resources, "PublishRole")
    assert statements == [
        {"Action": "sns:Publish", "Effect": "Allow", "Resource": {"Ref": topic_id}},
        {
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [key_id, "Arn"]},
        },
    ]
    role = props(resources[logical_id_of(resources, "AWS::IAM::Role", "PublishRole")])
    principal = role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
    assert principal == {"Service": "apigateway.amazonaws.com"}


def test_api_read_role_may_only_get_outcomes(resources: Resources) -> None:
    table_id = logical_id_of(resources, "AWS::DynamoDB::Table", "Outcomes")
    assert _statements_of_role(resources, "OutcomesReadRole") == [
        {"Action": "dynamodb:GetItem", "Effect": "Allow",
         "Resource": {"Fn::GetAtt": [table_id, "Arn"]}}
    ]


def test_no_statement_allows_a_service_wildcard_action(resources: Resources) -> None:
    for logical_id, policy in of_type(resources, "AWS::IAM::Policy").items():
        for statement in props(policy)["PolicyDocument"]["Statement"]:
            for action in _actions(statement):
                assert not action.endswith(":*"), (logical_id, action)
                if statement["Resource"] == "*":
                    assert action.startswith("xray:"), (logical_id, action)


@pytest.mark.parametrize("worker", ["WorkersCreate", "WorkersRead", "WorkersUpdateDelete"])
def test_command_handlers_may_change_visibility_of_their_own_queue_only(
    resources: Resources, worker: str
) -> None:
    own = {"Create": "Create", "Read": "Read", "UpdateDelete": "Write"}[
        worker.removeprefix("Workers")
    ]
    queue_id = logical_id_of(resources, "AWS::SQS::Queue", f"Messaging{own}ConsumerQueue")
    statements = _statements_of_role(resources, f"{worker}HandlerRole")
    resources_with_visibility = [
        s["Resource"] for s in statements if "sqs:ChangeMessageVisibility" in _actions(s)
    ]
    assert resources_with_visibility
    assert all(r == {"Fn::GetAtt": [queue_id, "Arn"]} for r in resources_with_visibility)
    for statement in statements:
        if any(a.startswith("dynamodb:") for a in _actions(statement)):
            assert not _actions(statement) & {"dynamodb:GetRecords", "dynamodb:DescribeTable"}


@pytest.mark.parametrize("role", ["WorkersNotifyHandlerRole", "WebSocketWsDefaultRole"])
def test_connection_management_is_scoped_to_the_stage(resources: Resources, role: str) -> None:
    api_id = logical_id_of(resources, "AWS::ApiGatewayV2::Api", "WebSocket")
    manage = [s for s in _statements_of_role(resources, role)
              if "execute-api:ManageConnections" in _actions(s)]
    assert len(manage) == 1
    parts = manage[0]["Resource"]["Fn::Join"][1]
    assert {"Ref": api_id} in parts
    assert parts[-1] == "/live/*/@connections/*"


def test_only_notify_and_ws_default_may_post_to_connections(resources: Resources) -> None:
    holders = set()
    for policy in of_type(resources, "AWS::IAM::Policy").values():
        for statement in props(policy)["PolicyDocument"]["Statement"]:
            if "execute-api:ManageConnections" in _actions(statement):
                holders.update(r["Ref"] for r in props(policy)["Roles"])
    assert len(holders) == 2
    assert all("Notify" in h or "WsDefault" in h for h in holders)


def test_no_hard_coded_region_or_account(template_json: dict[str, Any]) -> None:
    """Only the conditions choosing the Powertools layer's publisher name a Region or
    an account: that choice is by the deployment's own partition and Region."""
    region = re.compile(r"\b(?:us|eu|ap|sa|ca|me|af|il|mx|cn|us-gov)-[a-z]+-\d\b")
    account = re.compile(r"(?<![0-9a-f])\d{12}(?![0-9a-f])")
    layer_conditions = {k: v for k, v in template_json.get("Conditions", {}).items()
                        if k.startswith("PowertoolsLayerIn")}
    rest = {**template_json, "Conditions": {
        k: v for k, v in template_json.get("Conditions", {}).items()
        if k not in layer_conditions}}
    text = json.dumps(rest)
    assert not region.findall(text)
    assert set(account.findall(text)) <= {
        POWERTOOLS_LAYER_ACCOUNT, *POWERTOOLS_LAYER_ACCOUNT_BY_PARTITION.values(),
        *POWERTOOLS_LAYER_ACCOUNT_BY_REGION.values()}
    assert set(region.findall(json.dumps(layer_conditions))) == set(
        POWERTOOLS_LAYER_ACCOUNT_BY_REGION)


def test_cdk_nag_ran_and_left_no_finding(synthesized: SynthResult) -> None:
    report = json.loads((synthesized.template.parent / "validation-report.json").read_text())
    assert report["pluginReports"] == []


def test_an_unacknowledged_finding_fails_synthesis(tmp_path: Path) -> None:
    # GIVEN a queue without DLQ, encryption or a TLS-only policy, under the same checks
    app = App(outdir=str(tmp_path))
    stack = Stack(app, "NonCompliant")
    sqs.Queue(stack, "Bare", encryption=sqs.QueueEncryption.UNENCRYPTED)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    # WHEN synthesizing THEN the plugin's findings stop it
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    rules = {v["ruleName"] for p in report["pluginReports"] for v in p["violations"]}
    assert {"AwsSolutions-SQS3", "AwsSolutions-SQS4"} <= rules


def test_the_connect_authorizer_may_only_write_its_logs_and_traces(
        resources: Resources) -> None:
    """It reads the pool's public keys over HTTPS; it needs no AWS data access."""
    log_group = logical_id_of(resources, "AWS::Logs::LogGroup", "WebSocketWsAuthorizerLogs")
    statements = _statements_of_role(resources, "WebSocketWsAuthorizerRole")
    actions = set().union(*(_actions(s) for s in statements))
    assert actions == {"logs:CreateLogStream", "logs:PutLogEvents",
                       "xray:PutTraceSegments", "xray:PutTelemetryRecords"}
    for statement in statements:
        if any(a.startswith("logs:") for a in _actions(statement)):
            assert statement["Resource"] == {"Fn::GetAtt": [log_group, "Arn"]}
        else:
            assert statement["Resource"] == "*"


def test_notify_may_only_read_outcomes_never_write_them(resources: Resources) -> None:
    outcomes = logical_id_of(resources, "AWS::DynamoDB::Table", "StorageOutcomes")
    on_outcomes = [
        statement for statement in _statements_of_role(resources, "WorkersNotifyHandlerRole")
        if outcomes in json.dumps(statement["Resource"])
    ]
    assert on_outcomes, "Notify must read stored outcomes to answer replay requests"
    # A Query by requestId: whose the outcome is decides what the replay posts.
    assert set().union(*(_actions(s) for s in on_outcomes)) == {"dynamodb:Query"}
