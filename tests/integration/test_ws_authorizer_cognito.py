"""The `$connect` authorizer against moto's Cognito: real RS256 tokens, the JWKS read
over HTTP from where boto3 finds cognito-idp (AWS_ENDPOINT_URL), as on the local stack.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from functions import runtime, ws_authorizer
from functions.settings import EnvVar
from tests.support.events import load_event
from tests.support.lambda_context import FakeLambdaContext
from tests.support.moto_server import running_moto_server

PASSWORD = "Correct-horse-battery-9"


@dataclass(frozen=True)
class Pool:
    cognito: Any
    pool_id: str
    client_id: str

    @property
    def issuer(self) -> str:
        # What the stack passes: https:// + the pool's ProviderURL (AWS's host, even
        # though the emulator serves the keys from its own address).
        return f"https://cognito-idp.us-east-1.amazonaws.com/{self.pool_id}"

    def sign_in(self, username: str, client_id: str | None = None) -> dict[str, str]:
        answer = self.cognito.admin_initiate_auth(
            UserPoolId=self.pool_id, ClientId=client_id or self.client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD})
        return dict(answer["AuthenticationResult"])

    def add_user(self, username: str) -> str:
        self.cognito.admin_create_user(UserPoolId=self.pool_id, Username=username,
                                       MessageAction="SUPPRESS")
        self.cognito.admin_set_user_password(UserPoolId=self.pool_id, Username=username,
                                             Password=PASSWORD, Permanent=True)
        attributes = self.cognito.admin_get_user(UserPoolId=self.pool_id,
                                                 Username=username)["UserAttributes"]
        return next(str(a["Value"]) for a in attributes if a["Name"] == "sub")


def _pool(cognito: Any, name: str) -> Pool:
    pool_id = cognito.create_user_pool(PoolName=name)["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id, ClientName=f"{name}-client", GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    return Pool(cognito, pool_id, client_id)


@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[Pool]:
    """A moto server with one pool and client, the authorizer configured for them."""
    with running_moto_server() as endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
        the_pool = _pool(boto3.client("cognito-idp"), "crudops")
        for name, value in ((EnvVar.USER_POOL_ID, the_pool.pool_id),
                            (EnvVar.USER_POOL_CLIENT_ID, the_pool.client_id),
                            (EnvVar.TOKEN_ISSUER, the_pool.issuer)):
            monkeypatch.setenv(name.value, value)
        runtime.reset()
        ws_authorizer.verifier.cache_clear()
        yield the_pool
        runtime.reset()
        ws_authorizer.verifier.cache_clear()


def _connect(token: str) -> Any:
    event = load_event("ws_authorizer")
    event["queryStringParameters"]["token"] = token
    return ws_authorizer.handler(event, FakeLambdaContext())


def test_the_id_and_access_tokens_of_a_pool_user_are_allowed(pool: Pool) -> None:
    sub = pool.add_user("alice")
    tokens = pool.sign_in("alice")
    for kind in ("IdToken", "AccessToken"):
        answer = _connect(tokens[kind])
        assert answer["principalId"] == sub, kind
        assert answer["context"] == {"sub": sub, "username": "alice"}, kind


def test_a_token_of_another_client_or_another_pool_is_unauthorized(pool: Pool) -> None:
    """The emulator signs every pool's tokens with one key: only the issuer and the
    client tell them apart, and the authorizer checks both."""
    pool.add_user("bob")
    other_client = pool.cognito.create_user_pool_client(
        UserPoolId=pool.pool_id, ClientName="other", GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    other_pool = _pool(pool.cognito, "elsewhere")
    other_pool.add_user("bob")
    for token in (pool.sign_in("bob", client_id=other_client)["IdToken"],
                  other_pool.sign_in("bob")["IdToken"],
                  other_pool.sign_in("bob")["AccessToken"]):
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            _connect(token)
    # and the pool's own token still passes
    assert _connect(pool.sign_in("bob")["IdToken"])["context"]["username"] == "bob"
