"""`crudops local token` / `crudops token --stack`: an ID token of the stack's pool from
moto's cognito-idp, the user created on first use, a new password every time, and
one line for a stack without a pool or an endpoint that does not answer."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest

from crudops_local.aws.endpoint import AwsEndpoint
from crudops_local.state import LocalStackState, ResourceState, write_state
from tests.integration.local.gateway_support import REGION
from tools.errors import UserError
from tools.tokens import DEFAULT_USER, IssuedToken, do_token, print_token


@pytest.fixture
def pool(moto_endpoint: str) -> Iterator[tuple[str, str]]:
    cognito = AwsEndpoint(moto_endpoint, REGION).client("cognito-idp")
    pool_id = cognito.create_user_pool(PoolName="tokens")["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id, ClientName="app",
        ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH"])["UserPoolClient"]["ClientId"]
    yield pool_id, client_id
    cognito.delete_user_pool(UserPoolId=pool_id)


def _state_file(tmp_path: Path, endpoint: str, resources: dict[str, ResourceState]) -> Path:
    path = tmp_path / "local-stack.json"
    write_state(path, LocalStackState(stack="Crudops", region=REGION, aws_endpoint=endpoint,
                                      physical=resources))
    return path


def _resources(pool_id: str, client_id: str) -> dict[str, ResourceState]:
    return {"IdentityUserPool1": ResourceState("AWS::Cognito::UserPool", pool_id),
            "IdentityAppClient1": ResourceState("AWS::Cognito::UserPoolClient", client_id)}


def _claims(issued: IssuedToken) -> dict[str, Any]:
    return dict(jwt.decode(issued.token, options={"verify_signature": False}))


def test_a_local_token_for_a_new_then_known_user(tmp_path: Path, moto_endpoint: str,
                                                 pool: tuple[str, str]) -> None:
    state = _state_file(tmp_path, moto_endpoint, _resources(*pool))
    first = do_token(local=True, local_state_file=state)
    again = do_token(local=True, local_state_file=state)
    other = do_token(user="bob", local=True, local_state_file=state)

    assert first.user == DEFAULT_USER
    claims = _claims(first)
    assert claims["token_use"] == "id" and claims["aud"] == pool[1]
    assert claims["iss"].endswith(f"/{pool[0]}")
    assert claims["cognito:username"] == DEFAULT_USER
    assert _claims(again)["sub"] == claims["sub"] != _claims(other)["sub"]
    expires = datetime.datetime.fromisoformat(first.expires_at.replace("Z", "+00:00"))
    assert expires.timestamp() == claims["exp"]
    assert expires > datetime.datetime.now(datetime.UTC)


def test_the_json_line_and_the_bare_token(capsys: pytest.CaptureFixture[str]) -> None:
    issued = IssuedToken("alice", "a.b.c", "2026-12-01T17:00:00Z")
    print_token(issued, as_json=True)
    print_token(issued, as_json=False)
    lines = capsys.readouterr().out.splitlines()
    assert json.loads(lines[0]) == {"user": "alice", "token": "a.b.c",
                                    "expiresAt": "2026-12-01T17:00:00Z"}
    assert lines[1] == "a.b.c"


def test_a_local_stack_without_a_pool_is_one_line(tmp_path: Path, moto_endpoint: str) -> None:
    state = _state_file(tmp_path, moto_endpoint, {})
    with pytest.raises(UserError, match="0 user pools"):
        do_token(local=True, local_state_file=state)


def test_an_unreachable_endpoint_is_one_line(tmp_path: Path, pool: tuple[str, str]) -> None:
    state = _state_file(tmp_path, "http://127.0.0.1:9", _resources(*pool))
    with pytest.raises(UserError, match="cannot reach"):
        do_token(local=True, local_state_file=state)


def test_a_pool_that_is_gone_is_one_line(tmp_path: Path, moto_endpoint: str) -> None:
    state = _state_file(tmp_path, moto_endpoint,
                        _resources("us-east-1_nothere", "no-such-client"))
    with pytest.raises(UserError, match="cognito-idp refused"):
        do_token(local=True, local_state_file=state)


def test_a_deployed_stacks_pool_comes_from_its_outputs(moto_endpoint: str,
                                                       pool: tuple[str, str]) -> None:
    aws = AwsEndpoint(moto_endpoint, REGION)
    cloudformation = aws.client("cloudformation")
    body = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
            "Outputs": {"UserPoolId": {"Value": pool[0]},
                        "UserPoolClientId": {"Value": pool[1]}}}
    cloudformation.create_stack(StackName="Deployed", TemplateBody=json.dumps(body))
    bare = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}
    cloudformation.create_stack(StackName="NoPool", TemplateBody=json.dumps(bare))
    try:
        issued = do_token(user="alice", stack="Deployed", clients=aws.client)
        assert _claims(issued)["aud"] == pool[1]
        with pytest.raises(UserError, match="no UserPoolId / UserPoolClientId outputs"):
            do_token(user="alice", stack="NoPool", clients=aws.client)
        with pytest.raises(UserError, match="does not exist"):
            do_token(user="alice", stack="Missing", clients=aws.client)
    finally:
        cloudformation.delete_stack(StackName="Deployed")
        cloudformation.delete_stack(StackName="NoPool")


def test_exactly_one_of_stack_and_local() -> None:
    with pytest.raises(UserError, match="exactly one"):
        do_token()
