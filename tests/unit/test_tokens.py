"""The JWT check shared by the `$connect` authorizer and the local Cognito authorizer."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from functions.domain.tokens import (
    TokenRejected,
    TokenVerifier,
    bearer_token,
    issuer_url,
    jwks_url,
)
from tests.support.jwt_keys import StaticKeys

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool"
CLIENT = "client-1"


def _key_pair(kid: str) -> tuple[rsa.RSAPrivateKey, dict[str, Any]]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    return private, {**public, "kid": kid, "alg": "RS256", "use": "sig"}


PRIVATE, PUBLIC_JWK = _key_pair("k1")
OTHER_PRIVATE, _ = _key_pair("k1")


def _token(private: Any = PRIVATE, kid: str = "k1", **overrides: Any) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "user-sub", "aud": CLIENT, "token_use": "id",
              "cognito:username": "alice", "iat": now, "exp": now + 600, **overrides}
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, private, algorithm="RS256", headers={"kid": kid})


def _verifier(**kwargs: Any) -> TokenVerifier:
    return TokenVerifier(issuer=ISSUER, keys=StaticKeys(PUBLIC_JWK),
                         client_ids=kwargs.pop("client_ids", [CLIENT]), **kwargs)


def test_a_good_id_token_names_its_caller() -> None:
    caller = _verifier().verify(_token())
    assert (caller.sub, caller.username, caller.token_use) == ("user-sub", "alice", "id")


def test_a_good_access_token_is_checked_by_its_client_id() -> None:
    token = _token(aud=None, token_use="access", client_id=CLIENT, username="alice")
    assert _verifier().verify(token).token_use == "access"
    wrong = _token(aud=None, token_use="access", client_id="someone-else")
    with pytest.raises(TokenRejected, match="another app client"):
        _verifier().verify(wrong)


# Each case is the claims (or key, kid) that make a token bad; the token is made when
# the test runs, so "expired" means expired and nothing else does in a long suite.
BAD_TOKENS: dict[str, tuple[dict[str, Any] | None, str]] = {
    "none": (None, "no token"),
    "garbage": ({"raw": "not-a-jwt"}, "not valid"),
    "expired": ({"exp": -5}, "expired"),
    "wrong-issuer": ({"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"},
                     "another issuer"),
    "wrong-audience": ({"aud": "another-client"}, "another app client"),
    "signed-by-another-key": ({"private": "other"}, "not valid"),
    "unknown-kid": ({"kid": "unknown"}, "not valid"),
    "wrong-token-use": ({"token_use": "refresh"}, "not accepted"),
    "no-sub": ({"sub": None}, "not valid"),
}


def _bad_token(case: dict[str, Any] | None) -> str | None:
    if case is None:
        return None
    if "raw" in case:
        return str(case["raw"])
    overrides = dict(case)
    if "exp" in overrides:
        overrides["exp"] = int(time.time()) + overrides["exp"]
    if overrides.pop("private", None) == "other":
        return _token(private=OTHER_PRIVATE, **overrides)
    return _token(**overrides)


@pytest.mark.parametrize("case", list(BAD_TOKENS))
def test_a_bad_token_is_rejected_with_its_reason(case: str) -> None:
    claims, reason = BAD_TOKENS[case]
    with pytest.raises(TokenRejected, match=reason):
        _verifier().verify(_bad_token(claims))


def test_an_empty_token_is_no_token() -> None:
    with pytest.raises(TokenRejected, match="no token"):
        _verifier().verify("")


def test_a_tampered_payload_fails_the_signature() -> None:
    header, payload, signature = _token().split(".")
    forged = jwt.utils.base64url_encode(json.dumps(
        {**jwt.decode(_token(), options={"verify_signature": False}), "sub": "victim"}
    ).encode()).decode()
    with pytest.raises(TokenRejected, match="not valid"):
        _verifier().verify(f"{header}.{forged}.{signature}")
    assert payload != forged


def test_an_hmac_token_keyed_with_the_public_key_is_refused() -> None:
    """The algorithm confusion attack: HS256 'signed' with the published key."""
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "x", "aud": CLIENT, "token_use": "id", "exp": now + 60}
    token = jwt.encode(claims, "public-key-bytes-of-the-pool-jwks-k1", algorithm="HS256",
                       headers={"kid": "k1"})
    with pytest.raises(TokenRejected):
        _verifier().verify(token)


def test_only_the_token_uses_asked_for_pass() -> None:
    access = _token(aud=None, token_use="access", client_id=CLIENT)
    with pytest.raises(TokenRejected, match="access token is not accepted"):
        _verifier(token_uses=("id",)).verify(access)


def test_any_client_of_the_pool_passes_when_none_is_named() -> None:
    assert _verifier(client_ids=None).verify(_token(aud="any-client")).sub == "user-sub"


def test_bearer_prefix_and_urls() -> None:
    assert bearer_token("Bearer abc ") == "abc"
    assert bearer_token("abc") == "abc"
    assert bearer_token("bearer ") is None
    assert bearer_token(None) is None
    assert jwks_url("http://127.0.0.1:4566/", "us-east-1_P") == (
        "http://127.0.0.1:4566/us-east-1_P/.well-known/jwks.json")
    assert issuer_url("cognito-idp.us-east-1.amazonaws.com/us-east-1_P") == (
        "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_P")
