"""The local gateways enforce the template's auth: the Cognito pool and app client in
moto, the REST API's Cognito authorizer and stage throttling, and the WebSocket
`$connect` Lambda REQUEST authorizer, on a hand-written template
(tests/support/auth_template.py) with tokens moto's cognito-idp really issues."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient, WebSocketDenialResponse

from crudops_local.apigateway.app import build_gateway_app
from crudops_local.aws.endpoint import AwsEndpoint
from crudops_local.cloudformation.provision import Provisioned, provision
from crudops_local.cloudformation.template import Pseudo, Template
from crudops_local.lambda_.runtime import FunctionHandlerError
from functions.domain.tokens import (
    TokenRejected,
    TokenVerifier,
    bearer_token,
    issuer_url,
    jwks_client,
    jwks_url,
)
from tests.integration.local.gateway_support import REGION, FakeFunctions
from tests.support.auth_template import OPEN_BURST, REST_STAGE, WS_STAGE, auth_template
from tools.tokens import issue_id_token

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

PUBLIC_HOST = "127.0.0.1:4511"
DENIED_USER = "denied-user"


@dataclass
class AuthStack:
    app: Starlette
    functions: FakeFunctions
    provisioned: Provisioned
    aws: AwsEndpoint

    @property
    def pool_id(self) -> str:
        return self.provisioned.ref("Pool")

    @property
    def client_id(self) -> str:
        return self.provisioned.ref("AppClient")

    def arn(self, function: str) -> str:
        return str(self.provisioned.attribute(function, "Arn"))

    def id_token(self, user: str = "alice") -> str:
        return issue_id_token(self.aws.client("cognito-idp"), self.pool_id, self.client_id,
                              user).token


def _policy(effect: str, resource: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [
        {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}]}


def _authorizer(verifier: TokenVerifier) -> Any:
    """What functions/ws_authorizer.py does, in a few lines: the test's stand-in."""
    def answer(event: dict[str, Any]) -> dict[str, Any]:
        token = (bearer_token((event.get("headers") or {}).get("Authorization"))
                 or (event.get("queryStringParameters") or {}).get("token"))
        try:
            caller = verifier.verify(token)
        except TokenRejected:
            raise FunctionHandlerError("Exception", "Unauthorized", []) from None
        effect = "Deny" if caller.username == DENIED_USER else "Allow"
        return {"principalId": caller.sub, "policyDocument": _policy(effect, event["methodArn"]),
                "context": {"sub": caller.sub, "username": caller.username}}
    return answer


@pytest.fixture
def stack(moto_endpoint: str) -> Iterator[AuthStack]:
    aws = AwsEndpoint(moto_endpoint, REGION)
    template = Template(auth_template())
    pseudo = Pseudo(region=REGION, stack_name="AuthTest")
    provisioned = provision(template, aws, pseudo)
    assert provisioned.resolver is not None
    functions = FakeFunctions()
    pool_id = provisioned.ref("Pool")
    verifier = TokenVerifier(
        issuer=issuer_url(str(provisioned.attribute("Pool", "ProviderURL"))),
        keys=jwks_client(jwks_url(aws.service_url("cognito-idp"), pool_id)),
        client_ids=[provisioned.ref("AppClient")])
    app = build_gateway_app(template, provisioned.resolver, aws, functions,
                            public_host=PUBLIC_HOST)
    built = AuthStack(app, functions, provisioned, aws)
    functions.responses[built.arn("AuthorizerFunction")] = _authorizer(verifier)
    yield built
    aws.client("cognito-idp").delete_user_pool(UserPoolId=pool_id)


# --- the pool and its client ----------------------------------------------------------
def test_the_pool_and_client_are_created_as_the_template_says(stack: AuthStack) -> None:
    cognito = stack.aws.client("cognito-idp")
    pool = cognito.describe_user_pool(UserPoolId=stack.pool_id)["UserPool"]
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] == 12
    assert stack.provisioned.attribute("Pool", "ProviderURL") == \
        f"cognito-idp.{REGION}.amazonaws.com/{stack.pool_id}"
    assert stack.provisioned.attribute("Pool", "Arn").endswith(f":userpool/{stack.pool_id}")
    client = cognito.describe_user_pool_client(UserPoolId=stack.pool_id,
                                               ClientId=stack.client_id)["UserPoolClient"]
    assert "ALLOW_ADMIN_USER_PASSWORD_AUTH" in client["ExplicitAuthFlows"]
    assert "ClientSecret" not in client


def test_removing_the_pool_on_teardown(moto_endpoint: str) -> None:
    from crudops_local.cloudformation.providers import provider_for

    aws = AwsEndpoint(moto_endpoint, REGION)
    created: list[tuple[str, str]] = []
    provision(Template(auth_template()), aws, Pseudo(region=REGION),
              on_created=lambda logical_id, kind, physical: created.append((kind, physical.ref)))
    pools = [ref for kind, ref in created if kind == "AWS::Cognito::UserPool"]
    assert len(pools) == 1
    provider_for("AWS::Cognito::UserPool").delete(aws.client, pools[0])
    listed = aws.client("cognito-idp").list_user_pools(MaxResults=60)["UserPools"]
    assert pools[0] not in [p["Id"] for p in listed]


# --- REST: the Cognito authorizer ------------------------------------------------------
def test_a_method_behind_the_authorizer_refuses_a_missing_or_bad_token(
        stack: AuthStack) -> None:
    with TestClient(stack.app) as http:
        for headers in ({}, {"Authorization": ""}, {"Authorization": "not-a-jwt"},
                        {"Authorization": stack.id_token()[:-4] + "AAAA"}):
            answer = http.get(f"/{REST_STAGE}/whoami", headers=headers)
            assert answer.status_code == 401, headers
            assert answer.json() == {"message": "Unauthorized"}
            # what boto3 and the SDKs map to their exception class
            assert answer.headers["x-amzn-ErrorType"] == "UnauthorizedException"


def test_an_id_token_reaches_the_mapping_templates_as_claims(stack: AuthStack) -> None:
    token = stack.id_token("alice")
    cognito = stack.aws.client("cognito-idp")
    sub = next(a["Value"] for a in cognito.admin_get_user(
        UserPoolId=stack.pool_id, Username="alice")["UserAttributes"] if a["Name"] == "sub")
    with TestClient(stack.app) as http:
        for value in (token, f"Bearer {token}"):
            answer = http.get(f"/{REST_STAGE}/whoami", headers={"Authorization": value})
            assert answer.status_code == 200, answer.text
            assert answer.json() == {"sub": sub, "tokenUse": "id"}


def test_an_access_token_is_refused_on_a_method_without_scopes(stack: AuthStack) -> None:
    cognito = stack.aws.client("cognito-idp")
    issue_id_token(cognito, stack.pool_id, stack.client_id, "bob")
    cognito.admin_set_user_password(UserPoolId=stack.pool_id, Username="bob",
                                    Password="Another-secret-1", Permanent=True)
    access = cognito.admin_initiate_auth(
        UserPoolId=stack.pool_id, ClientId=stack.client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "bob", "PASSWORD": "Another-secret-1"},
    )["AuthenticationResult"]["AccessToken"]
    with TestClient(stack.app) as http:
        assert http.get(f"/{REST_STAGE}/whoami",
                        headers={"Authorization": access}).status_code == 401


def test_a_token_of_another_pool_is_refused(stack: AuthStack) -> None:
    cognito = stack.aws.client("cognito-idp")
    other = cognito.create_user_pool(PoolName="someone-else")["UserPool"]["Id"]
    try:
        client = cognito.create_user_pool_client(
            UserPoolId=other, ClientName="c",
            ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH"])["UserPoolClient"]["ClientId"]
        stranger = issue_id_token(cognito, other, client, "mallory").token
        with TestClient(stack.app) as http:
            assert http.get(f"/{REST_STAGE}/whoami",
                            headers={"Authorization": stranger}).status_code == 401
    finally:
        cognito.delete_user_pool(UserPoolId=other)


# --- REST: stage throttling ------------------------------------------------------------
def test_the_methods_own_burst_is_answered_429_past_it(stack: AuthStack) -> None:
    with TestClient(stack.app) as http:
        statuses = [http.get(f"/{REST_STAGE}/open").status_code for _ in range(OPEN_BURST + 2)]
        throttled = http.get(f"/{REST_STAGE}/open")
        # the other method keeps the stage's default (far above this)
        authorized = http.get(f"/{REST_STAGE}/whoami",
                              headers={"Authorization": stack.id_token()})
    assert statuses[:OPEN_BURST] == [200] * OPEN_BURST
    assert statuses[OPEN_BURST:] == [429, 429]
    assert throttled.status_code == 429
    assert throttled.json() == {"message": "Too Many Requests"}
    assert throttled.headers["x-amzn-ErrorType"] == "TooManyRequestsException"
    assert authorized.status_code == 200


# --- WebSocket: the $connect authorizer ------------------------------------------------
def _route(event: dict[str, Any]) -> str:
    """The route key of a route's event; "REQUEST" for the authorizer's."""
    return str(event.get("type") or event["requestContext"]["routeKey"])


def _denied(app: Starlette, url: str, headers: dict[str, str] | None = None) -> int:
    with TestClient(app) as http, pytest.raises(WebSocketDenialResponse) as denied, \
            http.websocket_connect(url, headers=headers or {}):
        pass
    return int(denied.value.status_code)


def test_connect_without_a_good_token_is_401_and_never_reaches_connect(
        stack: AuthStack) -> None:
    assert _denied(stack.app, f"/{WS_STAGE}") == 401
    assert _denied(stack.app, f"/{WS_STAGE}?token=garbage") == 401
    assert _denied(stack.app, f"/{WS_STAGE}", {"Authorization": "Bearer garbage"}) == 401
    called = {arn for arn, _ in stack.functions.events}
    assert called == {stack.arn("AuthorizerFunction")}


def test_a_deny_policy_is_403_and_an_authorizer_crash_500(stack: AuthStack) -> None:
    denied = stack.id_token(DENIED_USER)
    assert _denied(stack.app, f"/{WS_STAGE}?token={denied}") == 403
    stack.functions.responses[stack.arn("AuthorizerFunction")] = FunctionHandlerError(
        "KeyError", "'headers'", [])
    assert _denied(stack.app, f"/{WS_STAGE}?token={denied}") == 500
    stack.functions.responses[stack.arn("AuthorizerFunction")] = {"principalId": "x"}
    assert _denied(stack.app, f"/{WS_STAGE}?token={denied}") == 500


@pytest.mark.parametrize("where", ["header", "query"])
def test_an_allowed_connection_carries_the_authorizer_context_on_every_event(
        stack: AuthStack, where: str) -> None:
    token = stack.id_token("carol")
    url = f"/{WS_STAGE}?token={token}" if where == "query" else f"/{WS_STAGE}"
    headers = {"Authorization": f"Bearer {token}"} if where == "header" else {}
    with TestClient(stack.app) as http, http.websocket_connect(url, headers=headers) as ws:
        ws.send_text('{"action": "subscribe", "requestId": "r-1"}')
        stack.functions.wait_for(lambda e: _route(e) == "$default")
        ws.close(1000)
    stack.functions.wait_for(lambda e: _route(e) == "$disconnect")

    by_route = {_route(event): event for _, event in stack.functions.events}
    request = by_route["REQUEST"]
    assert request["methodArn"].endswith(f"/{WS_STAGE}/$connect")
    assert request["methodArn"].startswith(f"arn:aws:execute-api:{REGION}:")
    assert request["requestContext"]["eventType"] == "CONNECT"
    if where == "query":
        assert request["queryStringParameters"] == {"token": token}
    else:
        assert request["headers"]["Authorization"] == f"Bearer {token}"
    sub = by_route["$connect"]["requestContext"]["authorizer"]["sub"]
    assert sub
    for route in ("$connect", "$default", "$disconnect"):
        assert by_route[route]["requestContext"]["authorizer"] == {
            "principalId": sub, "sub": sub, "username": "carol"}, route
