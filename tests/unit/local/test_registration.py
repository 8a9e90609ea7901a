"""The copies of played types on the emulator (ADR 0031), without a network: a refusal
never stops a start nor changes what `Ref`/`GetAtt` answer, AWS itself is asked for
none, and the stand-in code raises one clear error wherever it is run."""

from __future__ import annotations

import importlib.util
import io
import logging
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from crudops_local.aws.endpoint import AwsEndpoint
from crudops_local.cloudformation.providers import PROVIDERS
from crudops_local.cloudformation.providers.base import CreateRequest
from crudops_local.cloudformation.providers.registration import tag_map
from crudops_local.cloudformation.providers.stand_in_code import (
    STAND_IN_MESSAGE,
    module_path,
    stand_in_zip,
)
from crudops_local.cloudformation.template import PhysicalResource, Pseudo, Resource

VISIBLE = sorted(kind for kind, provider in PROVIDERS.items() if provider.visible_in_endpoint)
PROPERTIES: dict[str, dict[str, Any]] = {
    "AWS::Lambda::Function": {"Handler": "functions.create.handler", "Runtime": "python3.13",
                              "Role": "arn:aws:iam::123456789012:role/R"},
    "AWS::IAM::Role": {"AssumeRolePolicyDocument": {"Version": "2012-10-17"}},
    "AWS::ApiGateway::RestApi": {"Name": "api"},
    "AWS::ApiGateway::Stage": {"RestApiId": "api0000000", "StageName": "v1"},
    "AWS::ApiGatewayV2::Api": {"Name": "ws", "ProtocolType": "WEBSOCKET"},
    "AWS::ApiGatewayV2::Stage": {"ApiId": "ws00000000", "StageName": "live"},
}


class _Client:
    """A client factory: records each call, refuses it with `code` or answers `{}`."""

    def __init__(self, code: str | None) -> None:
        self.code = code
        self.calls: list[str] = []

    def __call__(self, service: str) -> Any:
        code, calls = self.code, self.calls

        class Client:
            def __getattr__(self, operation: str) -> Any:
                def call(**kwargs: Any) -> Any:
                    calls.append(f"{service}.{operation}")
                    if code:
                        raise ClientError({"Error": {"Code": code, "Message": "refused"}},
                                          operation)
                    return {}
                return call

        return Client()


def _request(kind: str, client: _Client, reported: list[PhysicalResource],
             visible: bool, properties: dict[str, Any] | None = None) -> CreateRequest:
    return CreateRequest(
        resource=Resource("Thing", kind, {}, {}, ()),
        properties=PROPERTIES[kind] if properties is None else properties,
        pseudo=Pseudo(stack_name="Crudops-local-abc123"), client=client, shared=True,
        report=reported.append, visible=visible)


def test_every_visible_type_has_a_template_example() -> None:
    assert set(VISIBLE) == set(PROPERTIES)


@pytest.mark.parametrize("kind", VISIBLE)
def test_a_refused_registration_warns_and_changes_no_reference(
        kind: str, caplog: pytest.LogCaptureFixture) -> None:
    provider = PROVIDERS[kind]
    quiet: list[PhysicalResource] = []
    expected = provider.create(_request(kind, _Client(None), quiet, visible=False))

    refusing, reported = _Client("InternalFailure"), []  # e.g. a service the emulator lacks
    with caplog.at_level(logging.WARNING, logger="crudops.local.provision"):
        physical = provider.create(_request(kind, refusing, reported, visible=True))
    assert physical == expected and reported == [] and quiet == []
    assert refusing.calls, kind
    assert "Thing" in caplog.text and "InternalFailure" in caplog.text


@pytest.mark.parametrize("kind", VISIBLE)
def test_where_no_copy_is_wanted_no_call_is_made(kind: str) -> None:
    client, reported = _Client(None), []
    PROVIDERS[kind].create(_request(kind, client, reported, visible=False))
    assert client.calls == [] and reported == []


def test_a_function_the_template_gives_no_handler_is_not_registered(
        caplog: pytest.LogCaptureFixture) -> None:
    client, reported = _Client(None), []
    with caplog.at_level(logging.WARNING, logger="crudops.local.provision"):
        physical = PROVIDERS["AWS::Lambda::Function"].create(
            _request("AWS::Lambda::Function", client, reported, visible=True, properties={}))
    assert physical.ref == "Crudops-local-abc123-Thing"
    assert client.calls == [] and reported == []
    assert "no Handler, Role, Runtime" in caplog.text


def test_a_role_with_a_path_keeps_it_in_its_arn() -> None:
    physical = PROVIDERS["AWS::IAM::Role"].create(_request(
        "AWS::IAM::Role", _Client(None), [], visible=False,
        properties={"Path": "/service/", "AssumeRolePolicyDocument": {}}))
    assert physical.attributes["Arn"] == \
        "arn:aws:iam::123456789012:role/service/Crudops-local-abc123-Thing"


def test_tags_read_in_either_spelling() -> None:
    assert tag_map([{"Key": "a", "Value": "1"}, {"Key": "b", "Value": 2}]) == \
        {"a": "1", "b": "2"}
    assert tag_map({"a": 1}) == {"a": "1"}
    assert tag_map(None) == {}


# --- the stand-in code ------------------------------------------------------------------
def test_the_stand_in_raises_the_clear_error_at_the_handlers_path(tmp_path: Path) -> None:
    package = stand_in_zip("functions.create.handler")
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        assert archive.namelist() == ["functions/create.py"]
        archive.extractall(tmp_path)
    # WHEN a runtime imports the handler's module and calls it, as Lambda's would
    spec = importlib.util.spec_from_file_location("stand_in", tmp_path / "functions/create.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(RuntimeError) as raised:
        module.handler({}, None)
    # THEN it hears what runs the function instead
    assert type(raised.value).__name__ == "LocalRuntimeOnlyError"
    assert str(raised.value) == STAND_IN_MESSAGE


def test_the_stand_in_is_the_same_bytes_every_time() -> None:
    assert stand_in_zip("functions.notify.handler") == stand_in_zip("functions.notify.handler")
    assert stand_in_zip("functions.notify.handler") != stand_in_zip("functions.read.handler")


@pytest.mark.parametrize("handler", ["handler", "module.", ".handler", ""])
def test_a_handler_that_is_not_module_dot_function_is_refused(handler: str) -> None:
    with pytest.raises(ValueError, match=r"module\.function"):
        module_path(handler)


def test_a_function_whose_handler_has_no_module_is_not_registered(
        caplog: pytest.LogCaptureFixture) -> None:
    client, reported = _Client(None), []
    properties = {**PROPERTIES["AWS::Lambda::Function"], "Handler": "handler"}
    with caplog.at_level(logging.WARNING, logger="crudops.local.provision"):
        PROVIDERS["AWS::Lambda::Function"].create(
            _request("AWS::Lambda::Function", client, reported, visible=True,
                     properties=properties))
    assert client.calls == [] and reported == [] and "module.function" in caplog.text


# --- where copies go ----------------------------------------------------------------------
_PLAYED_TEMPLATE: dict[str, Any] = {"Resources": {
    "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}}},
    "Function": {"Type": "AWS::Lambda::Function", "Properties": {
        "Handler": "app.handler", "Runtime": "python3.13",
        "Role": {"Fn::GetAtt": ["Role", "Arn"]}}},
    "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "api"}},
    "Stage": {"Type": "AWS::ApiGateway::Stage", "Properties": {
        "RestApiId": {"Ref": "Api"}, "StageName": "v1"}},
    "WsApi": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {
        "Name": "ws", "ProtocolType": "WEBSOCKET"}},
    "WsStage": {"Type": "AWS::ApiGatewayV2::Stage", "Properties": {
        "ApiId": {"Ref": "WsApi"}, "StageName": "live"}},
}}


# What an empty emulator answers the calls whose answer the providers read.
_ANSWERS: dict[str, Any] = {
    "get_rest_api": ClientError({"Error": {"Code": "NotFoundException"}}, "GetRestApi"),
    "create_rest_api": {"id": "ce111709f5"}, "create_api": {"ApiId": "abcdefgh"},
}


@dataclass(frozen=True)
class _RecordingEndpoint(AwsEndpoint):
    """An endpoint whose clients record each call and answer it as an empty emulator."""

    calls: list[str] = field(default_factory=list, compare=False)

    def client(self, service: str) -> Any:
        calls = self.calls

        class Client:
            def __getattr__(self, operation: str) -> Any:
                def call(**kwargs: Any) -> Any:
                    calls.append(f"{service}.{operation}")
                    answer = _ANSWERS.get(operation, {})
                    if isinstance(answer, Exception):
                        raise answer
                    return answer
                return call

        return Client()


def _calls_made(url: str | None) -> list[str]:
    from crudops_local.cloudformation.provision import provision
    from crudops_local.cloudformation.template import Template

    endpoint = _RecordingEndpoint(url, "us-east-1")
    provision(Template(_PLAYED_TEMPLATE), endpoint, Pseudo())
    return endpoint.calls


def test_aws_itself_is_asked_for_nothing() -> None:
    """`--aws-endpoint aws` (no URL): no function, role or API nobody deploys."""
    assert _calls_made(None) == []


def test_an_emulator_is_asked_for_every_copy() -> None:
    calls = _calls_made("http://127.0.0.1:1")
    for call in ("iam.create_role", "lambda.create_function", "apigateway.create_rest_api",
                 "apigatewayv2.create_api"):
        assert call in calls, calls
