"""A hand-written template with the auth shapes of the stack's, small enough to read:
a Cognito pool and app client, a REST API with one method behind a Cognito authorizer
and one open method that its own stage setting throttles hard, and a WebSocket API
whose `$connect` runs a Lambda REQUEST authorizer (no identity source, as the stack's).

MOCK integrations echo what the mapping templates see (`$context.authorizer.claims`),
so a test reads what the authorizer put there without any function behind the API.
"""

from __future__ import annotations

from typing import Any, Final

REST_STAGE: Final = "prod"
WS_STAGE: Final = "live"
# The open method's own throttling (the stage default is far above what tests send).
OPEN_BURST: Final = 3
OPEN_RATE_PER_SECOND: Final = 0.5
FUNCTIONS: Final = ("AuthorizerFunction", "ConnectFunction", "DefaultFunction",
                    "DisconnectFunction")

_ECHO = ('{"sub": "$context.authorizer.claims.sub", '
         '"tokenUse": "$context.authorizer.claims.token_use"}')


def _invocation_uri(function: str) -> dict[str, Any]:
    return {"Fn::Join": ["", [
        "arn:", {"Ref": "AWS::Partition"}, ":apigateway:", {"Ref": "AWS::Region"},
        ":lambda:path/2015-03-31/functions/", {"Fn::GetAtt": [function, "Arn"]},
        "/invocations"]]}


def _mock_method(resource: str, authorized: bool, template: str) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "RestApiId": {"Ref": "Api"}, "ResourceId": {"Ref": resource}, "HttpMethod": "GET",
        "AuthorizationType": "COGNITO_USER_POOLS" if authorized else "NONE",
        "Integration": {
            "Type": "MOCK", "RequestTemplates": {"application/json": '{"statusCode": 200}'},
            "IntegrationResponses": [{"StatusCode": "200", "ResponseTemplates": {
                "application/json": template}}]},
        "MethodResponses": [{"StatusCode": "200"}],
    }
    if authorized:
        properties["AuthorizerId"] = {"Ref": "Authorizer"}
    return {"Type": "AWS::ApiGateway::Method", "Properties": properties}


def _resource(part: str) -> dict[str, Any]:
    return {"Type": "AWS::ApiGateway::Resource", "Properties": {
        "RestApiId": {"Ref": "Api"}, "ParentId": {"Fn::GetAtt": ["Api", "RootResourceId"]},
        "PathPart": part}}


def _ws_route(key: str, integration: str, authorized: bool = False) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "ApiId": {"Ref": "WsApi"}, "RouteKey": key,
        "Target": {"Fn::Join": ["", ["integrations/", {"Ref": integration}]]},
        "AuthorizationType": "CUSTOM" if authorized else "NONE"}
    if authorized:
        properties["AuthorizerId"] = {"Ref": "WsAuthorizer"}
    return {"Type": "AWS::ApiGatewayV2::Route", "Properties": properties}


def _ws_integration(function: str) -> dict[str, Any]:
    return {"Type": "AWS::ApiGatewayV2::Integration", "Properties": {
        "ApiId": {"Ref": "WsApi"}, "IntegrationType": "AWS_PROXY",
        "IntegrationUri": _invocation_uri(function)}}


def auth_template() -> dict[str, Any]:
    resources: dict[str, Any] = {
        "Pool": {"Type": "AWS::Cognito::UserPool", "Properties": {
            "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True},
            "Policies": {"PasswordPolicy": {"MinimumLength": 12, "RequireNumbers": True}}}},
        "AppClient": {"Type": "AWS::Cognito::UserPoolClient", "Properties": {
            "UserPoolId": {"Ref": "Pool"}, "GenerateSecret": False,
            "ExplicitAuthFlows": ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH",
                                  "ALLOW_REFRESH_TOKEN_AUTH"]}},
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "auth"}},
        "Authorizer": {"Type": "AWS::ApiGateway::Authorizer", "Properties": {
            "Name": "users", "RestApiId": {"Ref": "Api"}, "Type": "COGNITO_USER_POOLS",
            "ProviderARNs": [{"Fn::GetAtt": ["Pool", "Arn"]}],
            "IdentitySource": "method.request.header.Authorization"}},
        "Whoami": _resource("whoami"),
        "WhoamiGet": _mock_method("Whoami", True, _ECHO),
        "Open": _resource("open"),
        "OpenGet": _mock_method("Open", False, '{"open": true}'),
        "Stage": {"Type": "AWS::ApiGateway::Stage", "Properties": {
            "RestApiId": {"Ref": "Api"}, "StageName": REST_STAGE,
            "MethodSettings": [
                {"HttpMethod": "*", "ResourcePath": "/*", "ThrottlingRateLimit": 1000,
                 "ThrottlingBurstLimit": 500},
                {"HttpMethod": "GET", "ResourcePath": "/~1open",
                 "ThrottlingRateLimit": OPEN_RATE_PER_SECOND,
                 "ThrottlingBurstLimit": OPEN_BURST}]}},
        "WsApi": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {
            "Name": "live", "ProtocolType": "WEBSOCKET",
            "RouteSelectionExpression": "$request.body.action"}},
        "WsAuthorizer": {"Type": "AWS::ApiGatewayV2::Authorizer", "Properties": {
            "ApiId": {"Ref": "WsApi"}, "AuthorizerType": "REQUEST", "Name": "connect",
            "AuthorizerUri": _invocation_uri("AuthorizerFunction")}},
        "ConnectIntegration": _ws_integration("ConnectFunction"),
        "DefaultIntegration": _ws_integration("DefaultFunction"),
        "DisconnectIntegration": _ws_integration("DisconnectFunction"),
        "ConnectRoute": _ws_route("$connect", "ConnectIntegration", authorized=True),
        "DefaultRoute": _ws_route("$default", "DefaultIntegration"),
        "DisconnectRoute": _ws_route("$disconnect", "DisconnectIntegration"),
        "WsStage": {"Type": "AWS::ApiGatewayV2::Stage", "Properties": {
            "ApiId": {"Ref": "WsApi"}, "StageName": WS_STAGE}},
    }
    for function in FUNCTIONS:
        resources[function] = {"Type": "AWS::Lambda::Function", "Properties": {}}
    return {"Resources": resources}
