"""Fixtures of the gateway tests: a moto server, the request path in it, the app.

The gateway calls AWS over HTTP like API Gateway does, so these tests use moto's
server (bound to 127.0.0.1, port chosen by the OS) rather than in-process mocks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from crudops_local.apigateway.app import build_gateway_app
from crudops_local.aws.endpoint import AwsEndpoint
from crudops_local.cloudformation.template import Pseudo, Resolver, Template
from tests.integration.local.gateway_support import (
    REGION,
    FakeFunctions,
    RequestPath,
    create_request_path,
)
from tests.support.moto_server import running_moto_server
from tools.tokens import issue_id_token

PUBLIC_HOST = "127.0.0.1:4510"


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    with running_moto_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def request_path(crudops_template: Template, moto_endpoint: str) -> RequestPath:
    return create_request_path(crudops_template, moto_endpoint, Pseudo(region=REGION))


@dataclass
class Gateway:
    app: Starlette
    functions: FakeFunctions
    path: RequestPath
    endpoint: str
    template: Template

    token: str = ""

    @property
    def sub(self) -> str:
        """The caller's `sub`: what the mapping templates bind its commands to."""
        import jwt

        return str(jwt.decode(self.token, options={"verify_signature": False})["sub"])

    def http(self) -> TestClient:
        """A client of the app that sends the pool's ID token, as a signed-in user."""
        return TestClient(self.app, headers={"Authorization": self.token})

    def function_arn(self, route_key: str) -> str:
        logical = {"$connect": "WsConnect", "$default": "WsDefault",
                   "$disconnect": "WsDisconnect", "authorizer": "WsAuthorizer"}[route_key]
        name = next(r.logical_id for r in self.template.of_type("AWS::Lambda::Function")
                    if logical in r.logical_id)
        arn: Any = self.path.physical[name].attributes["Arn"]
        return str(arn)


@pytest.fixture
def gateway(crudops_template: Template, request_path: RequestPath,
            moto_endpoint: str) -> Gateway:
    functions = FakeFunctions()
    resolver = Resolver(crudops_template, Pseudo(region=REGION), request_path.physical)
    aws = AwsEndpoint(moto_endpoint, REGION)
    app = build_gateway_app(crudops_template, resolver, aws, functions,
                            public_host=PUBLIC_HOST)
    token = issue_id_token(aws.client("cognito-idp"), request_path.user_pool_id,
                           request_path.app_client_id, "gateway-tests").token
    gateway = Gateway(app, functions, request_path, moto_endpoint, crudops_template, token)
    # The $connect authorizer's answer for a caller it lets in (its own checks are
    # tests/unit/test_ws_authorizer.py's; the gateway's reading of it, test_gateway_auth's).
    functions.responses[gateway.function_arn("authorizer")] = allow_everyone
    return gateway


def allow_everyone(event: dict[str, Any]) -> dict[str, Any]:
    return {"principalId": "sub-1", "context": {"sub": "sub-1", "username": "tester"},
            "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow",
                 "Resource": event["methodArn"]}]}}
