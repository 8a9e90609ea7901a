"""Which AWS the local stack runs against: the choice of endpoint, region and
credentials, decided without a network call."""

from __future__ import annotations

from pathlib import Path

import pytest

from crudops_local.aws.targets import (
    TargetKind,
    caller_endpoint,
    check_service_endpoints,
    run_stack_name,
    service_endpoints,
    target_kind,
    target_region,
)
from crudops_local.errors import ConfigurationError
from crudops_local.lambda_.specs import ServiceEnvironment, function_environment


@pytest.fixture
def no_configured_region(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    empty = tmp_path / "config"
    empty.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    empty = tmp_path / "empty"
    empty.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.mark.parametrize(("endpoint", "kind"), [
    (None, TargetKind.EMBEDDED), ("", TargetKind.EMBEDDED),
    ("aws", TargetKind.ACCOUNT), (" AWS ", TargetKind.ACCOUNT),
    ("http://localhost:4566", TargetKind.EMULATOR),
    ("https://ls.example:443/", TargetKind.EMULATOR),
])
def test_the_endpoint_option_names_the_target(endpoint: str | None, kind: TargetKind) -> None:
    assert target_kind(endpoint) is kind


def test_an_endpoint_that_is_neither_url_nor_aws_is_a_user_error() -> None:
    with pytest.raises(ConfigurationError, match="neither a URL nor 'aws'"):
        target_kind("localhost:4566")


def test_a_real_account_needs_a_region_said_not_guessed(no_configured_region: None) -> None:
    with pytest.raises(ConfigurationError, match="no AWS region"):
        target_region(TargetKind.ACCOUNT, None)
    assert target_region(TargetKind.ACCOUNT, "eu-west-1") == "eu-west-1"
    # an emulator or the embedded server may default
    assert target_region(TargetKind.EMULATOR, None) == "us-east-1"


def test_another_endpoint_uses_the_callers_configured_region(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-southeast-2")
    assert target_region(TargetKind.ACCOUNT, None) == "ap-southeast-2"
    assert target_region(TargetKind.EMULATOR, None) == "ap-southeast-2"
    # the embedded server is the same everywhere, whatever the caller's profile says
    assert target_region(TargetKind.EMBEDDED, None) == "us-east-1"


def test_a_real_account_is_reached_on_aws_regional_endpoints(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # an endpoint left configured from emulator work must not divert the calls
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    aws = caller_endpoint(None, "eu-west-1")
    # the default credential chain, resolved (and refreshed) by boto3 itself
    assert not aws.placeholder_credentials
    assert aws.client("sqs").meta.endpoint_url == "https://sqs.eu-west-1.amazonaws.com"
    assert aws.client("dynamodb").meta.endpoint_url == "https://dynamodb.eu-west-1.amazonaws.com"
    assert aws.service_url("sns") == "https://sns.eu-west-1.amazonaws.com"
    assert aws.credentials().access_key == "testing"  # tests/conftest.py's identity


def test_no_credentials_is_a_user_error_for_an_account_and_placeholders_for_an_emulator(
        no_credentials: None) -> None:
    with pytest.raises(ConfigurationError, match="no AWS credentials"):
        caller_endpoint(None, "eu-west-1")
    emulator = caller_endpoint("http://127.0.0.1:4566", "us-east-1")
    credentials = emulator.credentials()
    assert (credentials.access_key, credentials.secret_key) == ("local", "local")


def test_each_run_gets_its_own_stack_name() -> None:
    names = {run_stack_name("Crudops") for _ in range(20)}
    assert len(names) == 20
    assert all(name.startswith("Crudops-local-") for name in names)


def test_against_an_account_functions_use_aws_endpoints_and_telemetry_stays_local(
        tmp_path: Path) -> None:
    from crudops_local.run import LocalStack, LocalStackOptions
    from crudops_local.telemetry import ObservabilitySettings

    template = tmp_path / "Crudops.template.json"
    template.write_text('{"Resources": {}}')
    stack = LocalStack(LocalStackOptions(
        template=template, aws_endpoint="aws", region="eu-west-1", state_file=None,
        runs_dir=None, observability=ObservabilitySettings(metrics=True, alarms=True)))
    # the deployed stack's alarms (fixed names) and dashboards live in that account
    assert (stack.telemetry.metrics, stack.telemetry.alarms) == (False, False)
    assert stack.telemetry.tracing
    environment = function_environment(
        "fn", {"Environment": {"Variables": {"TABLE": "t"}}},
        ServiceEnvironment(caller_endpoint(None, "eu-west-1"), stack.pseudo, "http://127.0.0.1:1"))
    assert "AWS_ENDPOINT_URL" not in environment
    assert environment["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] == "true"
    assert environment["AWS_REGION"] == "eu-west-1"
    # the caller's credential chain, passed on for the worker's boto3 to resolve
    assert environment["AWS_ACCESS_KEY_ID"] == "testing"
    assert environment["AWS_SESSION_TOKEN"] == "testing"
    assert environment["TABLE"] == "t"


def test_status_of_a_local_stack_in_an_account_asks_aws_itself(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from tools.stacks import read_local_stack

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    state = tmp_path / "local-stack.json"
    state.write_text(json.dumps({"stack": "Crudops-local-abc123", "region": "eu-west-1",
                                 "aws_endpoint": None, "target": "account",
                                 "resources": {}}))
    described = read_local_stack(state)
    assert described.aws_endpoint is None and not described.embedded
    assert described.target == "local (Crudops-local-abc123 at AWS eu-west-1)"
    sqs = described.clients()("sqs")
    assert sqs.meta.endpoint_url == "https://sqs.eu-west-1.amazonaws.com"
    assert sqs._request_signer._credentials.access_key == "testing"  # the caller's


def test_one_service_can_be_sent_elsewhere_by_option_or_the_sdk_variable() -> None:
    environ = {"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000",
               "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000"}  # not a service of the stack
    assert service_endpoints((), environ) == {"dynamodb": "http://127.0.0.1:8000"}
    assert service_endpoints(("DynamoDB = http://127.0.0.1:8001", "kms=http://k:1"),
                             environ) == {"dynamodb": "http://127.0.0.1:8001",
                                          "kms": "http://k:1"}
    for bad in ("dynamodb", "dynamodb=localhost:8000", "s3=http://127.0.0.1:9000"):
        with pytest.raises(ConfigurationError, match="is not SERVICE=URL"):
            service_endpoints((bad,), {})


def test_splits_that_would_deliver_nothing_are_refused() -> None:
    check_service_endpoints(TargetKind.EMBEDDED, {"dynamodb": "http://127.0.0.1:8000"})
    check_service_endpoints(TargetKind.EMULATOR, {"sqs": "http://q:1", "sns": "http://q:1"})
    with pytest.raises(ConfigurationError, match="sqs and sns need the same endpoint"):
        check_service_endpoints(TargetKind.EMBEDDED, {"sqs": "http://elasticmq:9324"})
    with pytest.raises(ConfigurationError, match="cannot be combined with --aws-endpoint aws"):
        check_service_endpoints(TargetKind.ACCOUNT, {"dynamodb": "http://127.0.0.1:8000"})


def test_a_service_endpoint_reaches_clients_gateway_and_functions(tmp_path: Path) -> None:
    from crudops_local.aws.endpoint import AwsEndpoint
    from crudops_local.run import LocalStack, LocalStackOptions

    aws = AwsEndpoint("http://127.0.0.1:5000", "us-east-1",
                      service_urls={"dynamodb": "http://127.0.0.1:8000"})
    assert aws.client("dynamodb").meta.endpoint_url == "http://127.0.0.1:8000"
    assert aws.client("sqs").meta.endpoint_url == "http://127.0.0.1:5000"
    assert aws.service_url("dynamodb") == "http://127.0.0.1:8000"
    assert aws.service_url("sns") == "http://127.0.0.1:5000"

    template = tmp_path / "Crudops.template.json"
    template.write_text('{"Resources": {}}')
    stack = LocalStack(LocalStackOptions(
        template=template, service_endpoints=("dynamodb=http://127.0.0.1:8000",),
        state_file=None, runs_dir=None))
    environment = function_environment(
        "fn", {}, ServiceEnvironment(aws, stack.pseudo, "http://127.0.0.1:1"))
    assert environment["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5000"
    assert environment["AWS_ENDPOINT_URL_DYNAMODB"] == "http://127.0.0.1:8000"


def test_status_of_a_local_stack_follows_its_service_endpoints(tmp_path: Path) -> None:
    import json

    from tools.stacks import read_local_stack

    state = tmp_path / "local-stack.json"
    state.write_text(json.dumps({
        "stack": "Crudops-local-abc123", "region": "us-east-1",
        "aws_endpoint": "http://127.0.0.1:5000", "target": "embedded", "resources": {},
        "service_endpoints": {"dynamodb": "http://127.0.0.1:8000"}}))
    clients = read_local_stack(state).clients()
    assert clients("dynamodb").meta.endpoint_url == "http://127.0.0.1:8000"
    assert clients("sqs").meta.endpoint_url == "http://127.0.0.1:5000"


def test_a_local_stack_on_an_emulator_without_credentials_is_read_with_its_keys(
        tmp_path: Path) -> None:
    import json

    from tools.stacks import read_local_stack

    state = tmp_path / "local-stack.json"
    state.write_text(json.dumps({
        "stack": "Crudops-local-abc123", "region": "us-east-1", "target": "emulator",
        "aws_endpoint": "http://127.0.0.1:4566", "placeholder_credentials": True,
        "resources": {}}))
    sqs = read_local_stack(state).clients()("sqs")
    assert sqs._request_signer._credentials.access_key == "local"


def test_status_of_a_local_run_in_an_account_leaves_the_deployed_alarms_out(
        tmp_path: Path) -> None:
    import json
    from typing import Any

    from tools.status import do_status

    state = tmp_path / "local-stack.json"
    state.write_text(json.dumps({
        "stack": "Crudops-local-abc123", "region": "eu-west-1", "target": "account",
        "aws_endpoint": None, "placeholder_credentials": False, "resources": {}}))
    used: list[str] = []

    def clients(service: str) -> Any:
        used.append(service)
        raise AssertionError(f"{service} was not expected to be called")

    report = do_status(local=True, local_state_file=state,
                       clients=lambda service: clients(service) if service == "cloudwatch"
                       else _Empty())
    assert report.alarms == [] and used == []


class _Empty:
    """An AWS client with nothing in it."""

    def __getattr__(self, name: str) -> object:
        return lambda **kwargs: {}
