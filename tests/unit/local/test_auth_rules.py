"""The local gateways' auth rules without sockets: the Cognito authorizer's answers
(missing, bad, expired, foreign, Bearer), the claims as strings, a Lambda authorizer's
policy read as API Gateway reads it, and the stage's throttling settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from crudops_local.apigateway.exceptions import UnauthorizedError
from crudops_local.apigateway.rest.authorizers import (
    EXPIRED_MESSAGE,
    CognitoAuthorizer,
    CognitoAuthorizerSpec,
    UserPool,
    claims_map,
)
from crudops_local.apigateway.rest.throttling import ThrottleSetting, stage_throttle
from crudops_local.apigateway.websocket.authorizer import (
    RequestAuthorizer,
    Verdict,
    decide,
    identity_present,
)
from tests.support.jwt_keys import Signer, StaticKeys

POOL = UserPool("arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_Abc")
ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc"
SIGNER = Signer("k1")
STRANGER = Signer("k1")
METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:api1/live/$connect"


def _authorizer() -> CognitoAuthorizer:
    spec = CognitoAuthorizerSpec("Auth", "users", "Authorization", (POOL,))
    return CognitoAuthorizer(spec, "http://cognito.local",
                             keys_for=lambda url: StaticKeys(SIGNER.public_jwk))


def test_the_pool_arn_names_its_issuer() -> None:
    assert POOL.issuer == ISSUER
    assert POOL.pool_id == "eu-west-1_Abc" and POOL.region == "eu-west-1"


def test_a_good_id_token_bare_or_bearer_is_the_caller() -> None:
    token = SIGNER.token(ISSUER, sub="s-1")
    for value in (token, f"Bearer {token}", f"bearer {token}"):
        assert _authorizer().authorize({"Authorization": value}).sub == "s-1"
    # header names are not case sensitive
    assert _authorizer().authorize({"authorization": token}).sub == "s-1"


# Built when the test runs, not when it is collected: a token made at collection time
# could expire before a long session reaches it.
BAD_HEADERS: dict[str, Callable[[], dict[str, str]]] = {
    "none": dict,
    "empty": lambda: {"Authorization": ""},
    "bearer-only": lambda: {"Authorization": "Bearer "},
    "not-a-jwt": lambda: {"Authorization": "x.y.z"},
    "stranger-key": lambda: {"Authorization": STRANGER.token(ISSUER)},
    "other-pool": lambda: {"Authorization": SIGNER.token(
        "https://cognito-idp.eu-west-1.amazonaws.com/other")},
    "access-token": lambda: {"Authorization": SIGNER.token(ISSUER, token_use="access")},
    "other-header": lambda: {"X-Token": SIGNER.token(ISSUER)},
}


@pytest.mark.parametrize("case", sorted(BAD_HEADERS))
def test_anything_else_is_unauthorized(case: str) -> None:
    with pytest.raises(UnauthorizedError) as refused:
        _authorizer().authorize(BAD_HEADERS[case]())
    assert refused.value.status == 401 and refused.value.message == "Unauthorized"


def test_an_expired_token_says_so() -> None:
    expired = SIGNER.token(ISSUER, exp=1_000_000_000, iat=999_999_000)
    with pytest.raises(UnauthorizedError) as refused:
        _authorizer().authorize({"Authorization": expired})
    assert refused.value.message == EXPIRED_MESSAGE


def test_claims_are_strings_as_the_mapping_templates_see_them() -> None:
    assert claims_map({"sub": "s", "exp": 17, "email_verified": True, "groups": ["a"]}) == {
        "sub": "s", "exp": "17", "email_verified": "true", "groups": '["a"]'}


# --- the $connect Lambda authorizer's answer ----------------------------------------------
def _answer(*statements: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"principalId": "p-1", "policyDocument": {"Version": "2012-10-17",
                                                      "Statement": list(statements)}, **extra}


def _statement(effect: str, resource: Any = METHOD_ARN,
               action: Any = "execute-api:Invoke") -> dict[str, Any]:
    return {"Effect": effect, "Action": action, "Resource": resource}


def test_an_allow_on_the_method_arn_or_a_wildcard_allows_with_the_context() -> None:
    for resource in (METHOD_ARN, [METHOD_ARN], "arn:aws:execute-api:us-east-1:*:api1/*"):
        decision = decide(_answer(_statement("Allow", resource), context={"sub": "s"}),
                          METHOD_ARN)
        assert decision.verdict is Verdict.ALLOW
        assert decision.authorizer_context == {"principalId": "p-1", "sub": "s"}
    assert decide(_answer(_statement("Allow", action="execute-api:*")),
                  METHOD_ARN).verdict is Verdict.ALLOW


@pytest.mark.parametrize("statements", [
    [_statement("Deny")],
    [_statement("Allow"), _statement("Deny", "*")],
    [_statement("Allow", "arn:aws:execute-api:us-east-1:123456789012:other/live/$connect")],
    [_statement("Allow", action="execute-api:ManageConnections")],
    [],
])
def test_no_allow_or_any_deny_is_forbidden(statements: list[dict[str, Any]]) -> None:
    assert decide(_answer(*statements), METHOD_ARN).verdict is Verdict.DENY


@pytest.mark.parametrize("answer", [None, "Allow", {"principalId": "p"},
                                    _answer(_statement("Allow"), context="not a map")])
def test_an_answer_that_is_no_policy_is_a_failure(answer: Any) -> None:
    assert decide(answer, METHOD_ARN).verdict is Verdict.FAILED


def test_identity_sources_must_all_be_present() -> None:
    none = RequestAuthorizer("A", "arn")
    assert identity_present(none, {}, {})
    both = RequestAuthorizer("A", "arn", ("route.request.header.Authorization",
                                          "route.request.querystring.token"))
    assert identity_present(both, {"authorization": "t"}, {"token": "t"})
    assert not identity_present(both, {"Authorization": "t"}, {})
    assert not identity_present(both, {}, {"token": "t"})


# --- stage throttling -------------------------------------------------------------------
def test_the_stage_default_and_a_methods_own_setting() -> None:
    throttle = stage_throttle({"MethodSettings": [
        {"HttpMethod": "*", "ResourcePath": "/*", "ThrottlingRateLimit": 50,
         "ThrottlingBurstLimit": 100},
        {"HttpMethod": "POST", "ResourcePath": "/~1items", "ThrottlingBurstLimit": 2},
    ]})
    assert throttle.setting_for("/items/{id}", "GET") == ThrottleSetting(50.0, 100)
    assert throttle.setting_for("/items", "POST") == ThrottleSetting(50.0, 2)
    assert throttle.admit("/items", "POST") and throttle.admit("/items", "POST")
    assert not throttle.admit("/items", "POST")
    # another method has its own bucket
    assert throttle.admit("/items", "GET")


def test_no_setting_admits_everything_and_zero_refuses_everything() -> None:
    assert not stage_throttle({}).active
    assert all(stage_throttle({}).admit("/items", "GET") for _ in range(1000))
    closed = stage_throttle({"MethodSettings": [
        {"HttpMethod": "*", "ResourcePath": "/*", "ThrottlingRateLimit": 0,
         "ThrottlingBurstLimit": 0}]})
    assert not closed.admit("/items", "GET")


def test_uvicorns_line_after_a_denied_handshake_is_dropped_and_nothing_else() -> None:
    import logging

    from crudops_local.apigateway.websocket.server import SPURIOUS_DENIAL_ERROR, DenialLogFilter

    def record(message: str) -> logging.LogRecord:
        return logging.LogRecord("uvicorn.error", logging.ERROR, __file__, 1, message, None, None)

    assert not DenialLogFilter().filter(record(SPURIOUS_DENIAL_ERROR))
    assert DenialLogFilter().filter(record("Exception in ASGI application\n"))
