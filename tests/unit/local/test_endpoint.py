"""The one endpoint type: one session and one client per service, shared by threads,
its serialized form, and the environment a worker reaches it with."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from crudops_local.aws.endpoint import MAX_POOL_CONNECTIONS, AwsEndpoint
from crudops_local.cloudformation.teardown import ResourceLedger


def test_each_service_gets_one_client_built_from_one_session() -> None:
    aws = AwsEndpoint("http://127.0.0.1:5000", "us-east-1")
    barrier = threading.Barrier(8)
    seen: list[object] = []

    def build() -> None:
        barrier.wait()
        seen.append(aws.client("sqs"))

    threads = [threading.Thread(target=build) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(seen) == 8 and len({id(client) for client in seen}) == 1
    assert aws.client("sns") is not aws.client("sqs")
    assert aws.session is aws.session
    assert aws.client("sqs")._client_config.max_pool_connections == MAX_POOL_CONNECTIONS


def test_the_endpoint_round_trips_through_its_json_form() -> None:
    aws = AwsEndpoint(None, "eu-west-1", placeholder_credentials=False,
                      service_urls={"dynamodb": "http://127.0.0.1:8000"})
    assert AwsEndpoint.from_json(json.loads(json.dumps(aws.to_json()))) == aws
    assert AwsEndpoint.from_json({"url": "http://127.0.0.1:4566", "region": "us-east-1",
                                  "placeholder_credentials": True}) == AwsEndpoint(
        "http://127.0.0.1:4566", "us-east-1")


def test_a_ledger_written_before_the_endpoint_had_its_own_form_still_loads(
        tmp_path: Path) -> None:
    path = tmp_path / "Crudops-local-abc123.json"
    path.write_text(json.dumps({
        "endpoint": {"url": "http://127.0.0.1:4566", "region": "us-east-1",
                     "account_id": "210987654321", "stack_name": "Crudops-local-abc123",
                     "service_urls": {}, "placeholder_credentials": True},
        "pid": 1, "created": [{"logical_id": "Q", "type": "AWS::SQS::Queue", "ref": "u"}]}))
    ledger = ResourceLedger.load(path)
    assert ledger.endpoint == AwsEndpoint("http://127.0.0.1:4566", "us-east-1")
    assert (ledger.account_id, ledger.stack_name) == ("210987654321", "Crudops-local-abc123")
    assert [r.logical_id for r in ledger.created] == ["Q"]


def test_a_worker_reaches_an_emulator_with_its_placeholder_keys() -> None:
    aws = AwsEndpoint("http://127.0.0.1:5000", "eu-west-1",
                      service_urls={"dynamodb": "http://127.0.0.1:8000"})
    environment = aws.environment({"AWS_PROFILE": "mine", "AWS_SESSION_TOKEN": "t"})
    assert environment == {
        "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:5000",
        "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000"}


def test_configured_urls_leave_the_choice_to_the_callers_configuration(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    assert AwsEndpoint(None, "eu-west-1", placeholder_credentials=False).client(
        "sqs").meta.endpoint_url == "https://sqs.eu-west-1.amazonaws.com"
    assert AwsEndpoint(None, "eu-west-1", placeholder_credentials=False,
                       configured_urls=True).client(
        "sqs").meta.endpoint_url == "http://127.0.0.1:4566"
