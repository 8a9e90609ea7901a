"""The functions and APIs the local stack plays, as the AWS endpoint lists them (ADR 0031).

After provisioning on a moto server (the embedded endpoint's stand-in here), the
endpoint's own Lambda, IAM and API Gateway list what the template declares, under the
names, ARNs and ids the local runtime and gateways use; invoking a listed function
there fails rather than pretending to run it; and on an endpoint shared by several
runs each run's copies are its own and removed with it. (That AWS itself gets no copy
is tests/unit/local/test_registration.py's.)

moto servers in one process share their state, and the gateway tests keep a session
server's: these tests never reset it (`running_moto_server` would), and each works in
a region of its own, so that what it lists is its own.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from moto.server import ThreadedMotoServer
from starlette.testclient import TestClient

from crudops_local.apigateway.app import build_gateway_app
from crudops_local.apigateway.rest.routes import rest_apis
from crudops_local.apigateway.websocket.routes import websocket_apis
from crudops_local.aws.endpoint import AwsEndpoint
from crudops_local.cloudformation.providers.registration import CUSTOM_ID_TAG, STACK_TAG
from crudops_local.cloudformation.providers.stand_in_code import (
    STAND_IN_MESSAGE,
    stand_in_zip,
)
from crudops_local.cloudformation.provision import Provisioned, provision
from crudops_local.cloudformation.teardown import CreatedResource, ResourceLedger, teardown
from crudops_local.cloudformation.template import PhysicalResource, Pseudo, Resolver, Template
from tests.integration.local.gateway_support import FakeFunctions

STACK_NAME = "Crudops"


@contextmanager
def moto_server_in(region: str) -> Iterator[AwsEndpoint]:
    """A moto server on 127.0.0.1, its state left as it is, reached in `region`."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield AwsEndpoint(f"http://{host}:{port}", region)
    finally:
        server.stop()


@dataclass
class Provisioning:
    aws: AwsEndpoint
    template: Template
    provisioned: Provisioned

    @property
    def resolver(self) -> Resolver:
        assert self.provisioned.resolver is not None
        return self.provisioned.resolver

    def resolved(self, logical_id: str) -> dict[str, Any]:
        properties: dict[str, Any] = self.resolver.resolve(
            self.template.resources[logical_id].properties)
        return properties

    def of_type(self, resource_type: str) -> list[str]:
        return sorted(r.logical_id for r in self.template.of_type(resource_type))


@pytest.fixture(scope="module")
def provisioned(crudops_template: Template) -> Iterator[Provisioning]:
    """The synthesized template, provisioned once on a moto server."""
    with moto_server_in("eu-north-1") as aws:
        yield Provisioning(aws, crudops_template, provision(
            crudops_template, aws, Pseudo(region=aws.region, stack_name=STACK_NAME)))


def _listed_functions(aws: AwsEndpoint) -> dict[str, dict[str, Any]]:
    pages = aws.client("lambda").get_paginator("list_functions").paginate()
    return {f["FunctionName"]: f for page in pages for f in page["Functions"]}


# --- Lambda -----------------------------------------------------------------------------
def test_every_function_is_listed_with_the_templates_configuration(
        provisioned: Provisioning) -> None:
    listed = _listed_functions(provisioned.aws)
    functions = provisioned.of_type("AWS::Lambda::Function")
    assert len(functions) == 8 and len(listed) == len(functions)
    for logical_id in functions:
        physical = provisioned.provisioned.physical[logical_id]
        properties = provisioned.resolved(logical_id)
        function = listed[physical.ref]
        # the name and ARN the event source mappings and the gateway address it by
        assert function["FunctionArn"] == physical.attributes["Arn"], logical_id
        assert function["Handler"] == properties["Handler"]
        assert function["Runtime"] == properties["Runtime"]
        assert function["Role"] == properties["Role"]
        # the template's own variables, resolved (table names, queue URLs, ...)
        assert function["Environment"]["Variables"] == properties["Environment"]["Variables"]
        assert function["MemorySize"] == properties["MemorySize"]
        assert function["Timeout"] == properties["Timeout"]
        assert function["Description"] == properties["Description"]
        assert function["TracingConfig"] == properties["TracingConfig"]
        assert function["Architectures"] == properties["Architectures"]
        # the stand-in code, not the asset (stand_in_code.py says why)
        expected = base64.b64encode(hashlib.sha256(
            stand_in_zip(properties["Handler"])).digest()).decode()
        assert function["CodeSha256"] == expected


def test_each_functions_role_is_listed_by_iam_under_the_arn_the_function_names(
        provisioned: Provisioning) -> None:
    pages = provisioned.aws.client("iam").get_paginator("list_roles").paginate()
    roles = {r["Arn"]: r for page in pages for r in page["Roles"]}
    for logical_id in provisioned.of_type("AWS::IAM::Role"):
        arn = provisioned.provisioned.attribute(logical_id, "Arn")
        assert arn in roles, logical_id
        trust = provisioned.resolved(logical_id)["AssumeRolePolicyDocument"]
        assert roles[arn]["AssumeRolePolicyDocument"] == trust
    for logical_id in provisioned.of_type("AWS::Lambda::Function"):
        assert provisioned.resolved(logical_id)["Role"] in roles


def test_invoking_a_listed_function_on_the_endpoint_fails_and_never_pretends_to_run_it(
        provisioned: Provisioning) -> None:
    name = provisioned.provisioned.ref(provisioned.of_type("AWS::Lambda::Function")[0])
    answer = provisioned.aws.client("lambda").invoke(FunctionName=name, Payload=b"{}")
    payload = answer["Payload"].read().decode()
    # moto runs code only in Docker: without it, its own error; with it, the stand-in's
    assert answer.get("FunctionError"), payload
    assert STAND_IN_MESSAGE in payload or "docker" in payload, payload


# --- API Gateway ------------------------------------------------------------------------
def test_the_rest_api_is_listed_under_the_id_the_gateway_serves_with_its_stage(
        provisioned: Provisioning) -> None:
    apigateway = provisioned.aws.client("apigateway")
    (served,) = rest_apis(provisioned.template, provisioned.resolver)
    (api,) = apigateway.get_rest_apis()["items"]
    assert api["id"] == served.api_id
    assert api["name"] == provisioned.resolved(served.logical_id)["Name"]
    assert api["endpointConfiguration"]["types"] == ["REGIONAL"]
    assert api["tags"][STACK_TAG] == STACK_NAME
    stages = apigateway.get_stages(restApiId=api["id"])["item"]
    assert [s["stageName"] for s in stages] == sorted(served.stages) == ["v1"]
    (stage_id,) = provisioned.of_type("AWS::ApiGateway::Stage")
    stage = provisioned.resolved(stage_id)
    assert stages[0]["deploymentId"] == stage["DeploymentId"]
    assert stages[0]["tracingEnabled"] is True


def test_the_websocket_api_is_listed_with_its_stage_and_the_id_the_gateway_serves(
        provisioned: Provisioning) -> None:
    apigatewayv2 = provisioned.aws.client("apigatewayv2")
    (served,) = websocket_apis(provisioned.template, provisioned.resolver)
    (api,) = apigatewayv2.get_apis()["Items"]
    properties = provisioned.resolved(served.logical_id)
    assert api["ProtocolType"] == "WEBSOCKET"
    assert api["Name"] == properties["Name"]
    assert api["RouteSelectionExpression"] == properties["RouteSelectionExpression"]
    # moto draws its own id: the one the gateway serves is in the tag that asked for it
    assert api["Tags"][CUSTOM_ID_TAG] == served.api_id
    assert api["Tags"][STACK_TAG] == STACK_NAME
    stages = apigatewayv2.get_stages(ApiId=api["ApiId"])["Items"]
    assert [s["StageName"] for s in stages] == served.stages == ["live"]
    assert stages[0]["AutoDeploy"] is True


def _echo_template() -> dict[str, Any]:
    """A REST API whose one method answers with the id and stage the gateway serves."""
    return {"Resources": {
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "echo"}},
        "RootGet": {"Type": "AWS::ApiGateway::Method", "Properties": {
            "RestApiId": {"Ref": "Api"}, "ResourceId": {"Fn::GetAtt": ["Api", "RootResourceId"]},
            "HttpMethod": "GET", "AuthorizationType": "NONE",
            "Integration": {
                "Type": "MOCK", "RequestTemplates": {"application/json": '{"statusCode": 200}'},
                "IntegrationResponses": [{"StatusCode": "200", "ResponseTemplates": {
                    "application/json":
                        '{"apiId": "$context.apiId", "stage": "$context.stage"}'}}]},
            "MethodResponses": [{"StatusCode": "200"}]}},
        "Deployment": {"Type": "AWS::ApiGateway::Deployment", "DependsOn": ["RootGet"],
                       "Properties": {"RestApiId": {"Ref": "Api"}}},
        "Stage": {"Type": "AWS::ApiGateway::Stage", "Properties": {
            "RestApiId": {"Ref": "Api"}, "DeploymentId": {"Ref": "Deployment"},
            "StageName": "prod"}},
    }}


def test_the_url_built_from_the_listing_is_the_one_the_gateway_serves() -> None:
    template = Template(_echo_template())
    with moto_server_in("eu-south-1") as aws:
        provisioned = provision(template, aws, Pseudo(region=aws.region, stack_name="Echo"))
        assert provisioned.resolver is not None
        apigateway = aws.client("apigateway")
        # GIVEN the id and stage a client reads from the endpoint
        (api,) = apigateway.get_rest_apis()["items"]
        (stage,) = apigateway.get_stages(restApiId=api["id"])["item"]
        # WHEN it calls that API's stage on the local gateway (an execute-api host's path)
        app = build_gateway_app(template, provisioned.resolver, aws, FakeFunctions(),
                                public_host=f"{api['id']}.execute-api.localhost")
        with TestClient(app) as http:
            answer = http.get(f"/{stage['stageName']}/")
        # THEN the gateway answers as that API, at that stage
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"apiId": api["id"], "stage": stage["stageName"]}


# --- runs sharing an endpoint --------------------------------------------------------------
def _run(template: Template, aws: AwsEndpoint, stack_name: str) -> ResourceLedger:
    """One run on an endpoint it shares: provisioned, with the ledger its stop reads."""
    ledger = ResourceLedger(aws, "123456789012", stack_name, None)

    def record(logical_id: str, resource_type: str, physical: PhysicalResource) -> None:
        ledger.record(CreatedResource(logical_id, resource_type, physical.ref))

    provision(template, aws, Pseudo(region=aws.region, stack_name=stack_name), record,
              shared=lambda resource_type: True)
    return ledger


def _of_run(aws: AwsEndpoint, stack_name: str) -> dict[str, list[str]]:
    """What the endpoint lists of one run's copies."""
    return {
        "functions": [n for n in _listed_functions(aws) if n.startswith(f"{stack_name}-")],
        "roles": [r["RoleName"] for r in aws.client("iam").list_roles()["Roles"]
                  if r["RoleName"].startswith(f"{stack_name}-")],
        "rest apis": [a["id"] for a in aws.client("apigateway").get_rest_apis()["items"]
                      if (a.get("tags") or {}).get(STACK_TAG) == stack_name],
        "websocket apis": [a["ApiId"] for a in aws.client("apigatewayv2").get_apis()["Items"]
                           if (a.get("Tags") or {}).get(STACK_TAG) == stack_name],
    }


def test_runs_sharing_an_endpoint_each_remove_only_their_own_copies(
        crudops_template: Template, caplog: pytest.LogCaptureFixture) -> None:
    with moto_server_in("ap-south-1") as aws:
        first = _run(crudops_template, aws, "Crudops-local-aaaaaa")
        # GIVEN a second run: its REST API's id is the first's (ids come from logical ids)
        with caplog.at_level(logging.WARNING, logger="crudops.local.provision"):
            second = _run(crudops_template, aws, "Crudops-local-bbbbbb")
        # THEN it is not registered over the first's, and says so
        assert "exists there already" in caplog.text
        assert "AWS::ApiGateway::RestApi" not in {r.type for r in second.created}
        listed_first = _of_run(aws, "Crudops-local-aaaaaa")
        assert {kind: len(ids) for kind, ids in listed_first.items()} == {
            "functions": 8, "roles": 11, "rest apis": 1, "websocket apis": 1}
        assert {kind: len(ids) for kind, ids in _of_run(aws, "Crudops-local-bbbbbb").items()} \
            == {"functions": 8, "roles": 11, "rest apis": 0, "websocket apis": 1}

        # WHEN the second stops THEN its copies are gone and the first's all there
        report = teardown(second, aws.client)
        assert report.ok, report.failed
        assert not any(_of_run(aws, "Crudops-local-bbbbbb").values())
        assert _of_run(aws, "Crudops-local-aaaaaa") == listed_first
        stages = aws.client("apigateway").get_stages(restApiId=listed_first["rest apis"][0])
        assert [s["stageName"] for s in stages["item"]] == ["v1"]

        # WHEN the first stops THEN nothing of either is left
        assert teardown(first, aws.client).ok
        assert not any(_of_run(aws, "Crudops-local-aaaaaa").values())
