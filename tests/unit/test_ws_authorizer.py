"""The `$connect` REQUEST authorizer (functions/ws_authorizer.py), keys served in memory."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import jwt
import pytest

from functions import runtime, ws_authorizer
from functions.domain.tokens import SigningKeys
from functions.settings import EnvVar, FunctionSettings
from tests.support.events import load_event
from tests.support.jwt_keys import StaticKeys
from tests.support.lambda_context import FakeLambdaContext
from tests.unit.test_tokens import OTHER_PRIVATE, PRIVATE, PUBLIC_JWK

POOL_ID = "us-east-1_Pool"
ISSUER = f"https://cognito-idp.us-east-1.amazonaws.com/{POOL_ID}"
CLIENT = "app-client-1"
SUB = "0f6a8b3c-1d2e-4f5a-9b8c-7d6e5f4a3b2c"


class UnreachableKeys:
    """A JWKS endpoint that does not answer, as `PyJWKClient` reports it."""

    def get_signing_key_from_jwt(self, token: str) -> jwt.PyJWK:
        raise jwt.PyJWKClientConnectionError('Fail to fetch data from the url, err: "timed out"')


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[FunctionSettings]]:
    """The stack's environment, and the pool's keys in memory instead of its JWKS URL.

    Yields the settings each `signing_keys` call was made with (one per verifier built).
    """
    for name, value in ((EnvVar.USER_POOL_ID, POOL_ID), (EnvVar.USER_POOL_CLIENT_ID, CLIENT),
                        (EnvVar.TOKEN_ISSUER, ISSUER)):
        monkeypatch.setenv(name.value, value)
    built: list[FunctionSettings] = []

    def static_keys(settings: FunctionSettings) -> SigningKeys:
        built.append(settings)
        return StaticKeys(PUBLIC_JWK)

    monkeypatch.setattr(ws_authorizer, "signing_keys", static_keys)
    runtime.reset()
    ws_authorizer.verifier.cache_clear()
    yield built
    runtime.reset()
    ws_authorizer.verifier.cache_clear()


def _token(private: Any = PRIVATE, kid: str = "k1", **overrides: Any) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": SUB, "aud": CLIENT, "token_use": "id",
              "cognito:username": "alice", "iat": now, "exp": now + 600, **overrides}
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, private, algorithm="RS256", headers={"kid": kid})


def _connect(*, header: tuple[str, str] | None = None,
             query_token: str | None = None) -> dict[str, Any]:
    event = load_event("ws_authorizer")
    if header is not None:
        event["headers"][header[0]] = header[1]
        event["multiValueHeaders"][header[0]] = [header[1]]
    if query_token is not None:
        event["queryStringParameters"]["token"] = query_token
        event["multiValueQueryStringParameters"]["token"] = [query_token]
    return event


def _authorize(event: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = ws_authorizer.handler(event, FakeLambdaContext())
    return answer


def test_a_good_id_token_in_the_header_allows_this_connect_only(
        keys: list[FunctionSettings]) -> None:
    event = _connect(header=("Authorization", f"Bearer {_token()}"))
    answer = _authorize(event)
    assert answer == {
        "principalId": SUB,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow",
                           "Resource": event["methodArn"]}],
        },
        "context": {"sub": SUB, "username": "alice"},
    }
    assert event["methodArn"].endswith("/live/$connect")


def test_a_browser_passes_the_token_in_the_query_string(keys: list[FunctionSettings]) -> None:
    answer = _authorize(_connect(query_token=_token()))
    assert answer["principalId"] == SUB
    assert answer["context"]["sub"] == SUB


@pytest.mark.parametrize("name", ["authorization", "AUTHORIZATION", "Authorization"])
def test_the_header_name_is_matched_in_any_case_with_or_without_bearer(
        keys: list[FunctionSettings], name: str) -> None:
    assert _authorize(_connect(header=(name, _token())))["principalId"] == SUB


def test_the_header_is_read_before_the_query_string(keys: list[FunctionSettings]) -> None:
    event = _connect(header=("Authorization", f"Bearer {_token()}"), query_token="not-a-jwt")
    assert _authorize(event)["principalId"] == SUB


def test_an_access_token_of_the_app_client_is_accepted(keys: list[FunctionSettings]) -> None:
    token = _token(aud=None, token_use="access", client_id=CLIENT, username="alice")
    assert _authorize(_connect(query_token=token))["context"] == {"sub": SUB,
                                                                   "username": "alice"}


def _tampered() -> str:
    header, _, signature = _token().split(".")
    claims = jwt.decode(_token(), options={"verify_signature": False})
    forged = jwt.utils.base64url_encode(json.dumps({**claims, "sub": "victim"}).encode())
    return f"{header}.{forged.decode()}.{signature}"


@pytest.mark.parametrize(
    ("header", "query_token"),
    [
        (None, None),
        (("Authorization", "Bearer "), None),
        (None, ""),
        (None, lambda: _token(exp=int(time.time()) - 5)),
        (None, lambda: _token(iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other")),
        (None, lambda: _token(aud="another-client")),
        (None, lambda: _token(aud=None, token_use="access", client_id="another-client")),
        (None, _tampered),
        (None, lambda: _token(private=OTHER_PRIVATE)),
        (None, lambda: _token(kid="unknown")),
        (None, lambda: _token(token_use="refresh")),
        (("Authorization", "Bearer not-a-jwt"), None),
    ],
    ids=["none", "empty-bearer", "empty-query", "expired", "wrong-issuer",
         "wrong-audience", "access-token-of-another-client", "tampered",
         "signed-by-another-key", "unknown-kid", "refresh-token", "garbage"],
)
def test_a_missing_or_bad_token_is_unauthorized(
        keys: list[FunctionSettings], header: tuple[str, str] | None,
        query_token: str | Callable[[], str] | None) -> None:
    # Tokens are made when the case runs, so each fails for its own reason, not for
    # having expired while a long suite ran.
    token = query_token() if callable(query_token) else query_token
    with pytest.raises(Exception) as raised:
        _authorize(_connect(header=header, query_token=token))
    # API Gateway answers 401 only for exactly this message; anything else is a 500.
    assert type(raised.value) is Exception
    assert str(raised.value) == "Unauthorized"


def test_the_reason_is_logged_and_the_token_never_is(keys: list[FunctionSettings]) -> None:
    expired = _token(exp=int(time.time()) - 5)
    good = _token()
    handler = runtime.logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    level, lines = runtime.logger.log_level, io.StringIO()
    runtime.logger.setLevel("INFO")
    stream = handler.setStream(lines)
    try:
        with pytest.raises(Exception, match="Unauthorized"):
            _authorize(_connect(header=("Authorization", f"Bearer {expired}")))
        _authorize(_connect(query_token=good))
    finally:
        handler.setStream(stream)
        runtime.logger.setLevel(level)
    records = [json.loads(line) for line in lines.getvalue().splitlines() if line]
    assert [(r["message"], r.get("reason")) for r in records] == [
        ("connection refused", "token expired"), ("connection authorized", None)]
    assert records[1]["sub"] == SUB
    text = json.dumps(records)
    for token in (expired, good):
        assert token not in text
        assert token.split(".")[2] not in text


def test_unreachable_signing_keys_are_a_server_error_not_a_401(
        keys: list[FunctionSettings], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ws_authorizer, "signing_keys", lambda settings: UnreachableKeys())
    ws_authorizer.verifier.cache_clear()
    with pytest.raises(ws_authorizer.SigningKeysUnavailableError, match="Fail to fetch"):
        _authorize(_connect(query_token=_token()))


def test_the_verifier_is_built_once_per_execution_environment(
        keys: list[FunctionSettings]) -> None:
    for _ in range(3):
        _authorize(_connect(query_token=_token()))
    with pytest.raises(Exception, match="Unauthorized"):
        _authorize(_connect())
    assert [(s.user_pool_id, s.user_pool_client_id, s.token_issuer) for s in keys] == [
        (POOL_ID, CLIENT, ISSUER)]


def test_without_cryptography_every_connect_fails_loudly_not_as_401(
        keys: list[FunctionSettings], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jwt.algorithms, "has_crypto", False)
    with pytest.raises(RuntimeError, match="cryptography"):
        _authorize(_connect(query_token=_token()))


def test_a_missing_pool_setting_names_its_variable(
        keys: list[FunctionSettings], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(EnvVar.TOKEN_ISSUER.value)
    runtime.reset()
    with pytest.raises(RuntimeError, match="CRUDOPS_TOKEN_ISSUER"):
        _authorize(_connect(query_token=_token()))


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [(None, f"https://cognito-idp.us-east-1.amazonaws.com/{POOL_ID}/.well-known/jwks.json"),
     ("http://127.0.0.1:4566", f"http://127.0.0.1:4566/{POOL_ID}/.well-known/jwks.json")],
    ids=["aws", "emulator"],
)
def test_the_jwks_is_read_where_boto3_finds_cognito(
        monkeypatch: pytest.MonkeyPatch, endpoint: str | None, expected: str) -> None:
    """No request is made: PyJWKClient fetches on the first token it must verify."""
    if endpoint is not None:
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    client = ws_authorizer.signing_keys(FunctionSettings(user_pool_id=POOL_ID))
    assert isinstance(client, jwt.PyJWKClient)
    assert client.uri == expected
