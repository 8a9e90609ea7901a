"""The WebSocket API: routes, the $connect authorizer, stage logging and throttling."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Match, Template

from functions.settings import EnvVar
from infra.settings import StackSettings
from tests.infra.helpers import Resources, logical_id_of, of_type, props

ROUTES = {"$connect": "WsConnect", "$disconnect": "WsDisconnect", "$default": "WsDefault"}


def test_routes_go_to_their_functions(resources: Resources) -> None:
    routes = {props(r)["RouteKey"]: props(r) for r in
              of_type(resources, "AWS::ApiGatewayV2::Route").values()}
    assert set(routes) == set(ROUTES)
    for route_key, function_name in ROUTES.items():
        target = routes[route_key]["Target"]["Fn::Join"][1][1]["Ref"]
        integration = props(resources[target])
        assert integration["IntegrationType"] == "AWS_PROXY"
        function_id = logical_id_of(resources, "AWS::Lambda::Function", function_name)
        assert function_id in str(integration["IntegrationUri"]), route_key


def test_stage_auto_deploys_logs_and_throttles(
    template: Template, settings: StackSettings
) -> None:
    template.has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {
            "AutoDeploy": True,
            "AccessLogSettings": {"DestinationArn": Match.any_value(), "Format": Match.any_value()},
            "DefaultRouteSettings": {
                "ThrottlingRateLimit": settings.websocket_throttle.rate_limit,
                "ThrottlingBurstLimit": settings.websocket_throttle.burst_limit,
            },
        },
    )


def test_stage_waits_for_the_account_logging_role(resources: Resources) -> None:
    stage_id = logical_id_of(resources, "AWS::ApiGatewayV2::Stage", "WebSocket")
    (account_id,) = of_type(resources, "AWS::ApiGateway::Account")
    assert account_id in resources[stage_id].get("DependsOn", [])


def _routes(resources: Resources) -> dict[str, dict[str, Any]]:
    return {props(r)["RouteKey"]: props(r)
            for r in of_type(resources, "AWS::ApiGatewayV2::Route").values()}


def test_connect_alone_is_authorized_by_the_ws_authorizer(resources: Resources) -> None:
    (authorizer_id,) = of_type(resources, "AWS::ApiGatewayV2::Authorizer")
    routes = _routes(resources)
    assert routes["$connect"]["AuthorizationType"] == "CUSTOM"
    assert routes["$connect"]["AuthorizerId"] == {"Ref": authorizer_id}
    for route_key in ("$default", "$disconnect"):
        # API Gateway authorizes a WebSocket connection on $connect only.
        assert routes[route_key]["AuthorizationType"] == "NONE", route_key
        assert "AuthorizerId" not in routes[route_key], route_key


def test_the_authorizer_is_a_request_authorizer_without_identity_source(
        resources: Resources) -> None:
    """No identity source: a token in the header or in `?token=` both reach the function
    (API Gateway would refuse a handshake lacking a named source before calling it)."""
    (authorizer,) = map(props, of_type(resources, "AWS::ApiGatewayV2::Authorizer").values())
    api_id = logical_id_of(resources, "AWS::ApiGatewayV2::Api", "WebSocket")
    function_id = logical_id_of(resources, "AWS::Lambda::Function", "WsAuthorizer")
    assert authorizer["ApiId"] == {"Ref": api_id}
    assert authorizer["AuthorizerType"] == "REQUEST"
    assert "IdentitySource" not in authorizer
    uri = json.dumps(authorizer["AuthorizerUri"])
    assert json.dumps({"Fn::GetAtt": [function_id, "Arn"]}) in uri
    assert ":lambda:path/2015-03-31/functions/" in uri and uri.endswith('"/invocations"]]}')


def test_only_this_api_s_authorizer_may_invoke_the_function(resources: Resources) -> None:
    function_id = logical_id_of(resources, "AWS::Lambda::Function", "WsAuthorizer")
    (authorizer_id,) = of_type(resources, "AWS::ApiGatewayV2::Authorizer")
    permissions = [p for p in map(props, of_type(resources, "AWS::Lambda::Permission").values())
                   if p["FunctionName"] == {"Fn::GetAtt": [function_id, "Arn"]}]
    assert len(permissions) == 1
    (permission,) = permissions
    assert permission["Principal"] == "apigateway.amazonaws.com"
    assert permission["Action"] == "lambda:InvokeFunction"
    source = permission["SourceArn"]["Fn::Join"][1]
    assert source[-2:] == ["/authorizers/", {"Ref": authorizer_id}]


def test_the_authorizer_function_knows_the_pool_client_and_issuer(
        resources: Resources, settings: StackSettings) -> None:
    function = props(resources[logical_id_of(resources, "AWS::Lambda::Function",
                                             "WsAuthorizer")])
    pool_id = logical_id_of(resources, "AWS::Cognito::UserPool", "IdentityUserPool")
    client_id = logical_id_of(resources, "AWS::Cognito::UserPoolClient", "IdentityAppClient")
    variables = function["Environment"]["Variables"]
    assert variables[EnvVar.USER_POOL_ID.value] == {"Ref": pool_id}
    assert variables[EnvVar.USER_POOL_CLIENT_ID.value] == {"Ref": client_id}
    assert variables[EnvVar.TOKEN_ISSUER.value] == {
        "Fn::Join": ["", ["https://", {"Fn::GetAtt": [pool_id, "ProviderURL"]}]]}
    assert variables[EnvVar.FUNCTION.value] == "ws-authorizer"
    assert function["Handler"] == "functions.ws_authorizer.handler"
    sizing = settings.websocket_authorizer_function
    assert (function["Timeout"], function["MemorySize"]) == (sizing.timeout_seconds,
                                                             sizing.memory_mb)


def test_the_subscribing_functions_know_the_per_connection_limit(
        resources: Resources, settings: StackSettings) -> None:
    for function_id in ("WsConnect", "WsDefault"):
        function = props(resources[logical_id_of(resources, "AWS::Lambda::Function",
                                                 function_id)])
        variables = function["Environment"]["Variables"]
        assert variables[EnvVar.MAX_SUBSCRIPTIONS_PER_CONNECTION.value] == str(
            settings.max_subscriptions_per_connection)
