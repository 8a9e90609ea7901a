"""The AWS FIS experiment on the queue consumers (infra/fault_injection.py, ADR 0028).

The opt-in template is synthesized once for this module, the way the CDK CLI does
with the context value an operator deploys with (`-c crudops:fis=true`), and with
cdk-nag on: getting past the fixture proves there is no unacknowledged finding.
The default template (the session's) must carry none of it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from infra.fault_injection import (
    CONFIGURATION_PREFIX,
    EXEC_WRAPPER,
    INVOCATION_ADD_DELAY,
    INVOCATION_ERROR,
    LOG_DELIVERY_ACTIONS,
)
from infra.settings import (
    FIS_CONTEXT_KEY,
    FIS_EXTENSION_LAYER_PARAMETER,
    FaultInjectionSettings,
    SettingsError,
    StackSettings,
)
from tests.infra.helpers import Resources, logical_id_of, of_type, props, stack_scoped
from tests.infra.test_cfn_lint import IGNORED_CHECKS, _cfn_lint

CONSUMERS = ("WorkersCreateHandler", "WorkersReadHandler", "WorkersUpdateDeleteHandler",
             "WorkersNotifyHandler")
NOT_TARGETED = ("WebSocketWsConnect", "WebSocketWsDefault", "WebSocketWsDisconnect",
                "WebSocketWsAuthorizer")
FIS_ENVIRONMENT = ("AWS_LAMBDA_EXEC_WRAPPER", "AWS_FIS_CONFIGURATION_LOCATION",
                   "AWS_FIS_POLL_MAX_WAIT_MILLISECONDS")
_HASH = re.compile(r"[0-9A-F]{8}$")


@pytest.fixture(scope="module")
def opted_in(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template as `npx cdk deploy -c crudops:fis=true` builds it: the CDK CLI runs
    `python -m infra.app` with the context in CDK_CONTEXT_JSON (cdk.json's `app`)."""
    outdir = tmp_path_factory.mktemp("cdk.out.fis")
    environment = {**os.environ, "CDK_OUTDIR": str(outdir),
                   "CDK_CONTEXT_JSON": json.dumps({FIS_CONTEXT_KEY: "true"})}
    result = subprocess.run([sys.executable, "-m", "infra.app"], env=environment,
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return outdir / "Crudops.template.json"


@pytest.fixture(scope="module")
def fis_template(opted_in: Path) -> dict[str, Any]:
    return dict(json.loads(opted_in.read_text()))


@pytest.fixture(scope="module")
def fis_resources(fis_template: dict[str, Any]) -> Resources:
    return dict(fis_template["Resources"])


def _function(resources: Resources, construct: str) -> dict[str, Any]:
    return props(resources[logical_id_of(resources, "AWS::Lambda::Function",
                                         f"{construct}Function")])


def _experiment(resources: Resources) -> dict[str, Any]:
    (template,) = of_type(resources, "AWS::FIS::ExperimentTemplate").values()
    return props(template)


def _policy_statements(resources: Resources, role_part: str) -> list[dict[str, Any]]:
    role_id = logical_id_of(resources, "AWS::IAM::Role", role_part)
    return [statement for policy in of_type(resources, "AWS::IAM::Policy").values()
            if {"Ref": role_id} in props(policy)["Roles"]
            for statement in props(policy)["PolicyDocument"]["Statement"]]


def _bucket_id(resources: Resources) -> str:
    return logical_id_of(resources, "AWS::S3::Bucket", "FaultInjectionConfigurations")


def _objects(resources: Resources) -> dict[str, Any]:
    return {"Fn::Join": ["", [{"Fn::GetAtt": [_bucket_id(resources), "Arn"]},
                              f"/{CONFIGURATION_PREFIX}/*"]]}


# --- the default template ------------------------------------------------------------
def test_the_default_template_has_none_of_it(template_json: dict[str, Any]) -> None:
    text = json.dumps(template_json)
    assert not of_type(template_json["Resources"], "AWS::FIS::ExperimentTemplate")
    assert not of_type(template_json["Resources"], "AWS::S3::Bucket")
    for absent in (*FIS_ENVIRONMENT, "fis.amazonaws.com", FIS_EXTENSION_LAYER_PARAMETER,
                   "FaultExperimentTemplateId", "fault-experiment"):
        assert absent not in text, absent


def test_settings_read_the_context_switch() -> None:
    assert not StackSettings.from_context(None).fault_injection.enabled
    assert StackSettings.from_context(None, fis="true").fault_injection.enabled
    assert StackSettings.from_context(None, fis=True).fault_injection.enabled
    turned_off = StackSettings.from_context({"fault_injection": {"enabled": True}}, fis="false")
    assert not turned_off.fault_injection.enabled
    nested = StackSettings.from_context('{"fault_injection": {"error_percentage": 50}}',
                                        fis="1")
    assert nested.fault_injection.enabled and nested.fault_injection.error_percentage == 50


@pytest.mark.parametrize("context", ["maybe", "on", 2])
def test_a_context_switch_that_is_neither_true_nor_false_is_an_error(context: object) -> None:
    with pytest.raises(SettingsError, match="crudops:fis"):
        StackSettings.from_context(None, fis=context)


@pytest.mark.parametrize("overrides", [
    {"duration_seconds": 59}, {"duration_seconds": 12 * 3600 + 1}, {"error_percentage": 0},
    {"delay_percentage": 101}, {"delay_milliseconds": 900_001}, {"max_parked_commands": -1},
    {"poll_max_wait_milliseconds": 10_001}, {"extension_layer_arn": "not-an-arn"},
])
def test_settings_fis_would_refuse_are_refused(overrides: dict[str, Any]) -> None:
    with pytest.raises(SettingsError, match=f"fault_injection.{next(iter(overrides))}"):
        FaultInjectionSettings(**overrides)


def test_an_explicit_layer_arn_replaces_the_ssm_parameter() -> None:
    from aws_cdk import App, Stack

    from infra.fault_injection import extension_layer_arn

    arn = "arn:aws:lambda:eu-west-1:123456789012:layer:aws-fis-extension-x86_64:9"
    stack = Stack(App(), "S")
    assert extension_layer_arn(stack, FaultInjectionSettings(extension_layer_arn=arn)) == arn
    assert not stack.node.children


# --- the experiment template ---------------------------------------------------------
def test_the_experiment_fails_and_delays_every_consumer(fis_resources: Resources) -> None:
    experiment = _experiment(fis_resources)
    settings = StackSettings().fault_injection
    (target_name, target), = experiment["Targets"].items()
    assert target["ResourceType"] == "aws:lambda:function"
    assert target["SelectionMode"] == "ALL"
    assert sorted(_HASH.sub("", arn["Fn::GetAtt"][0]) for arn in target["ResourceArns"]) == \
        sorted(f"{c}Function" for c in CONSUMERS)
    assert all(arn["Fn::GetAtt"][1] == "Arn" for arn in target["ResourceArns"])
    actions = {a["ActionId"]: a for a in experiment["Actions"].values()}
    assert set(actions) == {INVOCATION_ERROR, INVOCATION_ADD_DELAY}
    assert actions[INVOCATION_ERROR]["Parameters"] == {
        "duration": f"PT{settings.duration_seconds}S",
        "invocationPercentage": str(settings.error_percentage), "preventExecution": "false"}
    assert actions[INVOCATION_ADD_DELAY]["Parameters"] == {
        "duration": f"PT{settings.duration_seconds}S",
        "invocationPercentage": str(settings.delay_percentage),
        "startupDelayMilliseconds": str(settings.delay_milliseconds)}
    # Both act at once (no startAfter) on the one target, by FIS's target key.
    for action in actions.values():
        assert action["Targets"] == {"Functions": target_name}
        assert "StartAfter" not in action
    assert experiment["ExperimentOptions"] == {"AccountTargeting": "single-account",
                                               "EmptyTargetResolutionMode": "fail"}
    assert experiment["Tags"]["crudops:experiment"] == "consumer-faults"
    assert stack_scoped(experiment["Tags"]["Name"], "Crudops") == "Crudops-consumer-faults"


def test_it_stops_on_parked_commands_and_api_errors(fis_resources: Resources) -> None:
    experiment = _experiment(fis_resources)
    guard_id = logical_id_of(fis_resources, "AWS::CloudWatch::Alarm", "ParkedCommands")
    conditions = experiment["StopConditions"]
    assert all(c["Source"] == "aws:cloudwatch:alarm" for c in conditions)
    assert conditions[0]["Value"] == {"Fn::GetAtt": [guard_id, "Arn"]}
    separator, parts = conditions[1]["Value"]["Fn::Join"]
    assert separator == "" and parts[-2:] == [{"Ref": "AWS::StackName"}, "-api-5xx"]
    assert ":alarm:" in parts
    # The API 5XX alarm exists before FIS checks it.
    api_alarm = logical_id_of(fis_resources, "AWS::CloudWatch::Alarm", "api5xx")
    (template_id,) = of_type(fis_resources, "AWS::FIS::ExperimentTemplate")
    assert api_alarm in fis_resources[template_id]["DependsOn"]
    api_alarm_name = props(fis_resources[api_alarm])["AlarmName"]
    assert stack_scoped(api_alarm_name, "Crudops") == "Crudops-api-5xx"


def test_the_guard_sums_the_consumers_dlqs_and_pages_no_one(fis_resources: Resources) -> None:
    guard = props(fis_resources[logical_id_of(fis_resources, "AWS::CloudWatch::Alarm",
                                              "ParkedCommands")])
    settings = StackSettings().fault_injection
    assert guard["ActionsEnabled"] is False
    assert "AlarmActions" not in guard and "OKActions" not in guard
    assert guard["Threshold"] == settings.max_parked_commands
    assert guard["ComparisonOperator"] == "GreaterThanThreshold"
    assert (guard["EvaluationPeriods"], guard["DatapointsToAlarm"]) == (1, 1)
    assert guard["TreatMissingData"] == "notBreaching"
    assert stack_scoped(guard["AlarmName"], "Crudops") == "Crudops-fault-experiment-parked-commands"
    expression, *queries = guard["Metrics"]
    assert expression["Expression"] == "+".join(q["Id"] for q in queries)
    queues = sorted(_HASH.sub("", q["MetricStat"]["Metric"]["Dimensions"][0]["Value"]
                               ["Fn::GetAtt"][0]) for q in queries)
    assert queues == sorted(["MessagingCreateConsumerDlq", "MessagingReadConsumerDlq",
                             "MessagingWriteConsumerDlq", "MessagingNotificationsDlq"])
    for query in queries:
        stat = query["MetricStat"]
        assert stat["Metric"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
        assert (stat["Period"], stat["Stat"]) == (60, "Maximum")
    assert guard["AlarmDescription"].endswith("runbooks/dlq-not-empty.md")


def test_the_experiment_logs_to_its_own_log_group(fis_resources: Resources) -> None:
    log_group = logical_id_of(fis_resources, "AWS::Logs::LogGroup", "ExperimentLogs")
    configuration = _experiment(fis_resources)["LogConfiguration"]
    assert configuration == {"LogSchemaVersion": 2, "CloudWatchLogsConfiguration": {
        "LogGroupArn": {"Fn::GetAtt": [log_group, "Arn"]}}}
    assert props(fis_resources[log_group])["RetentionInDays"] == \
        StackSettings().log_retention_days


# --- the role FIS assumes ------------------------------------------------------------
def test_only_fis_of_this_account_assumes_the_experiment_role(fis_resources: Resources) -> None:
    role_id = logical_id_of(fis_resources, "AWS::IAM::Role", "FaultInjectionExperimentRole")
    assert _experiment(fis_resources)["RoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
    (trust,) = props(fis_resources[role_id])["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "fis.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert trust["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Join"][1][-1] == \
        ":experiment/*"
    assert "ManagedPolicyArns" not in props(fis_resources[role_id])


def test_the_experiment_role_holds_what_the_lambda_actions_need(
        fis_resources: Resources) -> None:
    statements = _policy_statements(fis_resources, "FaultInjectionExperimentRole")
    functions = [{"Fn::GetAtt": [logical_id_of(fis_resources, "AWS::Lambda::Function",
                                               f"{c}Function"), "Arn"]} for c in CONSUMERS]
    assert statements == [
        {"Action": ["s3:PutObject", "s3:DeleteObject"], "Effect": "Allow",
         "Resource": _objects(fis_resources)},
        {"Action": "lambda:GetFunction", "Effect": "Allow", "Resource": functions},
        {"Action": "tag:GetResources", "Effect": "Allow", "Resource": "*"},
        {"Action": list(LOG_DELIVERY_ACTIONS), "Effect": "Allow", "Resource": "*"},
    ]


# --- the functions -------------------------------------------------------------------
@pytest.mark.parametrize("consumer", CONSUMERS)
def test_each_consumer_carries_the_extension(fis_template: dict[str, Any],
                                             fis_resources: Resources, consumer: str) -> None:
    function = _function(fis_resources, consumer)
    layer = function["Layers"][-1]
    assert fis_template["Parameters"][layer["Ref"]] == {
        "Type": "AWS::SSM::Parameter::Value<String>", "Default": FIS_EXTENSION_LAYER_PARAMETER}
    variables = function["Environment"]["Variables"]
    assert variables["AWS_LAMBDA_EXEC_WRAPPER"] == EXEC_WRAPPER
    assert variables["AWS_FIS_CONFIGURATION_LOCATION"] == {"Fn::Join": ["", [
        {"Fn::GetAtt": [_bucket_id(fis_resources), "Arn"]}, f"/{CONFIGURATION_PREFIX}/"]]}
    assert variables["AWS_FIS_POLL_MAX_WAIT_MILLISECONDS"] == "2000"
    # Its role may list and read the configuration folder, and no more of the bucket.
    on_bucket = [s for s in _policy_statements(fis_resources, f"{consumer}Role")
                 if "s3:" in json.dumps(s["Action"])]
    assert on_bucket == [
        {"Action": "s3:ListBucket", "Effect": "Allow",
         "Condition": {"StringLike": {"s3:prefix": [f"{CONFIGURATION_PREFIX}/*"]}},
         "Resource": {"Fn::GetAtt": [_bucket_id(fis_resources), "Arn"]}},
        {"Action": "s3:GetObject", "Effect": "Allow", "Resource": _objects(fis_resources)},
    ]


@pytest.mark.parametrize("function", NOT_TARGETED)
def test_the_websocket_functions_carry_none_of_it(fis_resources: Resources,
                                                  function: str) -> None:
    properties = _function(fis_resources, function)
    assert not set(FIS_ENVIRONMENT) & set(properties["Environment"]["Variables"])
    assert len(properties["Layers"]) == 1  # Powertools only


def test_the_configuration_bucket_is_private_and_short_lived(fis_resources: Resources) -> None:
    bucket = props(fis_resources[_bucket_id(fis_resources)])
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True}
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
    assert bucket["LifecycleConfiguration"]["Rules"] == [{"ExpirationInDays": 1,
                                                          "Status": "Enabled"}]
    (policy,) = of_type(fis_resources, "AWS::S3::BucketPolicy").values()
    (deny,) = props(policy)["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_template_id_is_an_output(fis_template: dict[str, Any]) -> None:
    (template_id,) = of_type(fis_template["Resources"], "AWS::FIS::ExperimentTemplate")
    assert fis_template["Outputs"]["FaultExperimentTemplateId"]["Value"] == {
        "Fn::GetAtt": [template_id, "Id"]}


def test_the_opted_in_template_passes_cfn_lint(opted_in: Path) -> None:
    result = subprocess.run(
        [_cfn_lint(), "--format", "parseable", "--ignore-checks", *IGNORED_CHECKS, "--",
         str(opted_in)], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
