"""`crudops openapi` on a small hand-written template: the builder's reading of a
REST API (routes, parameters, models, authorizer, refusals) and the command's output
and exit codes through the CLI. The stack's own template is tests/infra/test_openapi.py's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from functions.contracts.command import Operation
from infra import mapping_templates as templates
from tools.cli import app
from tools.errors import USER_ERROR_EXIT_CODE
from tools.openapi_document import openapi_document

API = {"Ref": "Api"}


def _method(http_method: str, resource: str, operation: Operation, **extra: Any) -> Any:
    return {"Type": "AWS::ApiGateway::Method", "Properties": {
        "RestApiId": API, "HttpMethod": http_method, "ResourceId": {"Ref": resource},
        "AuthorizationType": "COGNITO_USER_POOLS", "AuthorizerId": {"Ref": "Authorizer"},
        "Integration": {
            "Type": "AWS", "PassthroughBehavior": "NEVER",
            "RequestTemplates": {"application/json": {"Fn::Join": ["", [
                templates.sns_publish_template(operation, "TOPIC").split("TOPIC")[0],
                {"Ref": "Topic"},
                templates.sns_publish_template(operation, "TOPIC").split("TOPIC")[1]]]}},
            "IntegrationResponses": [{"StatusCode": "202", "SelectionPattern": "2\\d{2}"},
                                     {"StatusCode": "500"}]},
        "MethodResponses": [{"StatusCode": "202"}, {"StatusCode": "500"}],
        **extra}}


def _template() -> dict[str, Any]:
    return {"Resources": {
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "small"}},
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {}},
        "Pool": {"Type": "AWS::Cognito::UserPool", "Properties": {}},
        "Authorizer": {"Type": "AWS::ApiGateway::Authorizer", "Properties": {
            "RestApiId": API, "Name": "Cognito", "Type": "COGNITO_USER_POOLS",
            "IdentitySource": "method.request.header.Authorization",
            "ProviderARNs": [{"Fn::GetAtt": ["Pool", "Arn"]}]}},
        "Things": {"Type": "AWS::ApiGateway::Resource", "Properties": {
            "RestApiId": API, "ParentId": {"Fn::GetAtt": ["Api", "RootResourceId"]},
            "PathPart": "things"}},
        "Thing": {"Type": "AWS::ApiGateway::Resource", "Properties": {
            "RestApiId": API, "ParentId": {"Ref": "Things"}, "PathPart": "{id}"}},
        "Validator": {"Type": "AWS::ApiGateway::RequestValidator", "Properties": {
            "RestApiId": API, "ValidateRequestBody": True,
            "ValidateRequestParameters": True}},
        "Model": {"Type": "AWS::ApiGateway::Model", "Properties": {
            "RestApiId": API, "ContentType": "application/json",
            "Schema": {"$schema": "http://json-schema.org/draft-04/schema#",
                       "title": "Thing", "type": "object"}}},
        "Create": _method("POST", "Things", Operation.CREATE,
                          RequestModels={"application/json": {"Ref": "Model"}},
                          RequestValidatorId={"Ref": "Validator"},
                          RequestParameters={"method.request.header.Idempotency-Key": False}),
        "Read": _method("GET", "Thing", Operation.GET,
                        RequestParameters={"method.request.path.id": True}),
        "Unauthorized": {"Type": "AWS::ApiGateway::GatewayResponse", "Properties": {
            "RestApiId": API, "ResponseType": "UNAUTHORIZED", "StatusCode": "401",
            "ResponseParameters": {"gatewayresponse.header.WWW-Authenticate": "'Bearer'"},
            "ResponseTemplates": {"application/json": "{}"}}},
    }}


def test_routes_parameters_models_and_security_come_from_the_template() -> None:
    document = openapi_document(_template())
    assert list(document["paths"]) == ["/things", "/things/{id}"]
    create = document["paths"]["/things"]["post"]
    assert create["operationId"] == "createItem"
    assert create["parameters"][0] | {"description": ""} == {
        "name": "Idempotency-Key", "in": "header", "required": False,
        "schema": {"type": "string"}, "description": ""}
    assert create["requestBody"] == {"required": True, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Thing"}}}}
    assert document["components"]["schemas"]["Thing"] == {"title": "Thing", "type": "object"}
    assert create["security"] == [{"Cognito": []}]
    scheme = document["components"]["securitySchemes"]["Cognito"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header",
                                                              "Authorization")
    assert scheme["x-amazon-apigateway-authorizer"]["providerARNs"] == ["${Pool.Arn}"]
    read = document["paths"]["/things/{id}"]["get"]
    assert read["parameters"][0]["in"] == "path" and read["parameters"][0]["required"]
    assert "requestBody" not in read


def test_each_method_lists_the_refusals_that_can_reach_it() -> None:
    document = openapi_document(_template())
    create = document["paths"]["/things"]["post"]["responses"]
    read = document["paths"]["/things/{id}"]["get"]["responses"]
    # the body is validated on create only; both have the authorizer, size and throttle
    assert set(create) == {"202", "400", "401", "413", "415", "429", "500"}
    assert set(read) == set(create) - {"400"}
    assert create["401"]["headers"]["WWW-Authenticate"]["schema"]["enum"] == ["Bearer"]
    assert create["202"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Accepted"}
    # there is no outcome lookup in this API, so a 202 links nowhere
    assert "links" not in create["202"]


def test_a_method_the_description_does_not_know_is_refused(tmp_path: Path) -> None:
    template = _template()
    template["Resources"]["Read"]["Properties"]["Integration"]["RequestTemplates"] = {
        "application/json": "{}"}
    source = tmp_path / "template.json"
    source.write_text(json.dumps(template))
    result = CliRunner().invoke(app, ["openapi", "--template", str(source),
                                      "--output", str(tmp_path / "out.json")])
    assert result.exit_code == USER_ERROR_EXIT_CODE
    assert "cannot describe this template's REST API" in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "out.json").exists()


def test_cli_writes_checks_and_prints_json(tmp_path: Path) -> None:
    source, out = tmp_path / "template.json", tmp_path / "openapi.json"
    source.write_text(json.dumps(_template()))
    runner = CliRunner()
    written = runner.invoke(app, ["openapi", "--template", str(source), "--output", str(out)])
    assert written.exit_code == 0, written.output
    assert "written (2 operations)" in written.stdout
    assert json.loads(out.read_text())["openapi"] == "3.0.1"
    checked = runner.invoke(app, ["openapi", "--template", str(source), "--output", str(out),
                                  "--check", "--json"])
    assert checked.exit_code == 0
    assert json.loads(checked.stdout) == {"path": str(out), "changed": False,
                                          "written": False, "operations": 2}
    out.write_text("{}\n")
    drifted = runner.invoke(app, ["openapi", "--template", str(source), "--output", str(out),
                                  "--check"])
    assert drifted.exit_code == 1
    assert "differs from the code; run `crudops openapi`" in drifted.stderr
    assert out.read_text() == "{}\n"


def test_help_names_a_working_example() -> None:
    result = CliRunner().invoke(app, ["openapi", "--help"])
    assert result.exit_code == 0
    assert "Example: crudops openapi --check --json" in result.stdout


@pytest.mark.parametrize("content", ["not json", "[]"])
def test_an_unreadable_template_is_one_line_and_exit_2(tmp_path: Path, content: str) -> None:
    source = tmp_path / "template.json"
    source.write_text(content)
    result = CliRunner().invoke(app, ["openapi", "--template", str(source)])
    assert result.exit_code == USER_ERROR_EXIT_CODE
    assert result.stderr.count("\n") == 1 and "hint:" in result.stderr
