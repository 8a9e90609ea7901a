"""The REST API: AWS integrations only, 202s, validation, gateway responses, WAF, stage."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from functions.contracts.schemas import ITEM_CREATE_SCHEMA, ITEM_UPDATE_SCHEMA
from infra.settings import StackSettings
from tests.infra.helpers import Resources, logical_id_of, of_type, props

METHOD = "AWS::ApiGateway::Method"

COMMAND_METHODS = {
    ("POST", "items"): "create",
    ("GET", "items"): "list",
    ("GET", "{id}"): "get",
    ("PUT", "{id}"): "update",
    ("DELETE", "{id}"): "delete",
}


def _path_parts(resources: Resources) -> dict[str, str]:
    return {
        logical_id: props(r)["PathPart"]
        for logical_id, r in of_type(resources, "AWS::ApiGateway::Resource").items()
    }


def _method(resources: Resources, http_method: str, path_part: str) -> dict[str, Any]:
    parts = _path_parts(resources)
    matches = [
        props(m) for m in of_type(resources, METHOD).values()
        if props(m)["HttpMethod"] == http_method
        and parts.get(props(m)["ResourceId"].get("Ref", "")) == path_part
    ]
    assert len(matches) == 1, (http_method, path_part)
    return matches[0]


def _joined(value: Any) -> str:
    """A Fn::Join of strings and tokens, tokens shown as <Ref> / <GetAtt>."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        return "".join(_joined(p) for p in value["Fn::Join"][1])
    if "Ref" in value:
        return f"<{value['Ref']}>"
    if "Fn::GetAtt" in value:
        return f"<{'.'.join(value['Fn::GetAtt'])}>"
    raise AssertionError(value)


def test_no_lambda_behind_the_rest_api(resources: Resources) -> None:
    methods = of_type(resources, METHOD)
    assert len(methods) == 6
    for logical_id, method in methods.items():
        integration = props(method)["Integration"]
        assert integration["Type"] == "AWS", logical_id
        assert "lambda" not in _joined(integration["Uri"]), logical_id


@pytest.mark.parametrize(("route", "operation"), COMMAND_METHODS.items())
def test_command_method_publishes_to_sns_and_answers_202(
    resources: Resources, route: tuple[str, str], operation: str
) -> None:
    method = _method(resources, *route)
    integration = method["Integration"]
    topic_id = logical_id_of(resources, "AWS::SNS::Topic", "Commands")
    role_id = logical_id_of(resources, "AWS::IAM::Role", "PublishRole")
    assert _joined(integration["Uri"]).endswith(":sns:path//")
    assert integration["IntegrationHttpMethod"] == "POST"
    assert integration["Credentials"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert integration["PassthroughBehavior"] == "NEVER"
    assert integration["RequestParameters"][
        "integration.request.header.Content-Type"
    ] == "'application/x-www-form-urlencoded'"
    request_template = _joined(integration["RequestTemplates"]["application/json"])
    assert f"TopicArn=$util.urlEncode('<{topic_id}>')" in request_template
    assert f"MessageAttributes.entry.1.Value.StringValue={operation}&" in request_template
    responses = {r["StatusCode"]: r for r in integration["IntegrationResponses"]}
    assert responses["202"]["SelectionPattern"] == r"2\d{2}"
    assert "requestId" in responses["202"]["ResponseTemplates"]["application/json"]
    assert responses["502"]["SelectionPattern"] == r"5\d{2}"
    assert "SelectionPattern" not in responses["500"]  # anything unexpected is a 500
    assert {r["StatusCode"] for r in method["MethodResponses"]} == {"202", "500", "502"}


@pytest.mark.parametrize(
    ("route", "schema"), [(("POST", "items"), ITEM_CREATE_SCHEMA),
                          (("PUT", "{id}"), ITEM_UPDATE_SCHEMA)]
)
def test_bodies_are_validated_against_the_contract_schemas(
    resources: Resources, route: tuple[str, str], schema: dict[str, Any]
) -> None:
    method = _method(resources, *route)
    validator = props(resources[method["RequestValidatorId"]["Ref"]])
    assert validator["ValidateRequestBody"] is True
    assert validator["ValidateRequestParameters"] is True
    model = props(resources[method["RequestModels"]["application/json"]["Ref"]])
    assert model["ContentType"] == "application/json"
    expected = {k: v for k, v in schema.items() if k != "$schema"}
    actual = dict(model["Schema"])
    assert actual.pop("$schema") == "http://json-schema.org/draft-04/schema#"
    assert actual == expected


def test_list_declares_its_optional_query_strings(resources: Resources) -> None:
    method = _method(resources, "GET", "items")
    assert method["RequestParameters"]["method.request.querystring.limit"] is False
    assert method["RequestParameters"]["method.request.querystring.cursor"] is False
    validator = props(resources[method["RequestValidatorId"]["Ref"]])
    assert validator["ValidateRequestParameters"] is True


def test_outcome_lookup_is_a_direct_dynamodb_get_item(resources: Resources) -> None:
    method = _method(resources, "GET", "{requestId}")
    integration = method["Integration"]
    table_id = logical_id_of(resources, "AWS::DynamoDB::Table", "Outcomes")
    assert _joined(integration["Uri"]).endswith(":dynamodb:action/GetItem")
    request_template = _joined(integration["RequestTemplates"]["application/json"])
    assert f'"TableName": "<{table_id}>"' in request_template
    assert '"ConsistentRead": true' in request_template
    responses = {r["StatusCode"]: r for r in integration["IntegrationResponses"]}
    ok_template = responses["200"]["ResponseTemplates"]["application/json"]
    assert "$input.path('$.Item.document.S')" in ok_template
    assert "$context.responseOverride.status = 404" in ok_template
    assert {r["StatusCode"] for r in method["MethodResponses"]} >= {"200", "404"}


def test_every_method_requires_a_token_of_the_user_pool(resources: Resources) -> None:
    """ID tokens: the Cognito authorizer checks the pool, and no OAuth scope is asked."""
    (authorizer_id,) = of_type(resources, "AWS::ApiGateway::Authorizer")
    pool_id = logical_id_of(resources, "AWS::Cognito::UserPool", "IdentityUserPool")
    api_id = logical_id_of(resources, "AWS::ApiGateway::RestApi", "Rest")
    authorizer = props(resources[authorizer_id])
    assert authorizer == {
        "Name": authorizer["Name"], "RestApiId": {"Ref": api_id},
        "Type": "COGNITO_USER_POOLS",
        "ProviderARNs": [{"Fn::GetAtt": [pool_id, "Arn"]}],
        "IdentitySource": "method.request.header.Authorization",
    }
    methods = of_type(resources, METHOD)
    assert len(methods) == 6
    for logical_id, method in methods.items():
        assert props(method)["AuthorizationType"] == "COGNITO_USER_POOLS", logical_id
        assert props(method)["AuthorizerId"] == {"Ref": authorizer_id}, logical_id
        assert "AuthorizationScopes" not in props(method), logical_id


@pytest.mark.parametrize(
    ("response_type", "status"),
    [("BAD_REQUEST_BODY", "400"), ("BAD_REQUEST_PARAMETERS", "400"),
     ("REQUEST_TOO_LARGE", "413"), ("UNAUTHORIZED", "401"), ("ACCESS_DENIED", "403"),
     ("THROTTLED", "429"), ("DEFAULT_4XX", None), ("DEFAULT_5XX", None)],
)
def test_gateway_responses_are_json(
    resources: Resources, response_type: str, status: str | None
) -> None:
    (response,) = [
        props(r) for r in of_type(resources, "AWS::ApiGateway::GatewayResponse").values()
        if props(r)["ResponseType"] == response_type
    ]
    assert response.get("StatusCode") == status
    body = response["ResponseTemplates"]["application/json"]
    assert body.startswith('{"error": {"code": "')
    assert '"message": $context.error.messageString' in body
    assert '"requestId": "$context.requestId"' in body
    if response_type.startswith("BAD_REQUEST"):
        assert "$context.error.validationErrorString" in body


def test_a_401_names_the_bearer_scheme(resources: Resources) -> None:
    (response,) = [
        props(r) for r in of_type(resources, "AWS::ApiGateway::GatewayResponse").values()
        if props(r)["ResponseType"] == "UNAUTHORIZED"
    ]
    assert response["ResponseParameters"] == {
        "gatewayresponse.header.WWW-Authenticate": "'Bearer'"}


def test_stage_traces_logs_throttles(template: Template, settings: StackSettings) -> None:
    template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "TracingEnabled": True,
            "AccessLogSetting": {
                "DestinationArn": Match.any_value(),
                "Format": Match.string_like_regexp(r'^\{"requestId":"\$context.requestId"'),
            },
            "MethodSettings": [
                {
                    "HttpMethod": "*",
                    "ResourcePath": "/*",
                    "LoggingLevel": "ERROR",
                    "MetricsEnabled": True,
                    "DataTraceEnabled": False,
                    "ThrottlingRateLimit": settings.rest_throttle.rate_limit,
                    "ThrottlingBurstLimit": settings.rest_throttle.burst_limit,
                }
            ],
        },
    )


def test_waf_is_associated_with_the_rest_stage(resources: Resources) -> None:
    (association,) = [
        props(a) for a in of_type(resources, "AWS::WAFv2::WebACLAssociation").values()
    ]
    stage_id = logical_id_of(resources, "AWS::ApiGateway::Stage", "Rest")
    assert f"/stages/<{stage_id}>" in _joined(association["ResourceArn"])
