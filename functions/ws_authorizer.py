"""Lambda entry point of the WebSocket API's `$connect` REQUEST authorizer.

A browser cannot set headers on a WebSocket handshake, so the token may come as
`?token=<jwt>` as well as in an `Authorization` header (with or without `Bearer `).
The authorizer has no identity source, which is what lets either arrive: API Gateway
then calls it on every connect (no authorizer cache) instead of refusing a handshake
that lacks the header before the function runs.

A good token answers an IAM policy allowing `execute-api:Invoke` on the event's
`methodArn` (this `$connect` only), with `principalId` = the caller's `sub` and the
context `{"sub", "username"}`; API Gateway hands that context to `$connect`,
`$default` and `$disconnect` of the connection as `requestContext.authorizer`. A
missing or rejected token raises `Exception("Unauthorized")`, API Gateway's
convention for answering the handshake 401. The rejection reason is logged; the token
never is. When the pool's keys cannot be fetched at all, no token can be judged: that
is `SigningKeysUnavailableError` (a 500, logged as an error), not a 401 that would send
a client with a good token off to sign in again.

The verifier (and the cached JWKS inside it) is built once per execution environment,
on the first connect, so a warm authorizer verifies without a network call.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, Final

import boto3
import jwt
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions import runtime
from functions.domain.tokens import (
    Caller,
    SigningKeys,
    TokenRejected,
    TokenVerifier,
    bearer_token,
    jwks_client,
    jwks_url,
)
from functions.settings import FunctionSettings

AUTHORIZATION_HEADER: Final = "authorization"
TOKEN_QUERY_PARAMETER: Final = "token"
# The exact message API Gateway turns into a 401 (any other error is a 500).
UNAUTHORIZED: Final = "Unauthorized"

logger, tracer = runtime.logger, runtime.tracer


class SigningKeysUnavailableError(RuntimeError):
    """The JWKS endpoint did not answer: the token is neither good nor bad."""


def token_of(event: Mapping[str, Any]) -> str | None:
    """The JWT of a connect request: the `Authorization` header (any case of its name)
    first, else the `token` query string parameter."""
    for name, value in (event.get("headers") or {}).items():
        if name.lower() == AUTHORIZATION_HEADER:
            token = bearer_token(value)
            if token:
                return token
    query = event.get("queryStringParameters") or {}
    return bearer_token(query.get(TOKEN_QUERY_PARAMETER))


def allow_policy(caller: Caller, method_arn: str) -> dict[str, Any]:
    """The authorizer's answer for a verified caller: this route only, and who it is."""
    return {
        "principalId": caller.sub,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow",
                           "Resource": method_arn}],
        },
        "context": {"sub": caller.sub, "username": caller.username},
    }


def signing_keys(settings: FunctionSettings) -> SigningKeys:
    """The pool's JWKS under the endpoint boto3 resolves for `cognito-idp`: AWS's
    regional Cognito endpoint when deployed, the emulator's when AWS_ENDPOINT_URL (or
    AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER) points elsewhere."""
    endpoint = boto3.client("cognito-idp").meta.endpoint_url
    return jwks_client(jwks_url(endpoint, settings.user_pool_id))


@functools.cache
def verifier() -> TokenVerifier:
    """Tokens of this stack's pool, issued to its app client, ID or access tokens."""
    if not jwt.algorithms.has_crypto:
        # PyJWT without `cryptography` knows no RS256 and would call every token
        # invalid: fail as a server error an operator sees, not as a wall of 401s.
        raise RuntimeError("the cryptography package is missing (the Powertools layer "
                           "carries it): RS256 tokens cannot be verified")
    settings = runtime.settings()
    settings.require("user_pool_id", "user_pool_client_id", "token_issuer")
    return TokenVerifier(issuer=settings.token_issuer, keys=signing_keys(settings),
                         client_ids=[settings.user_pool_client_id])


# log_event stays off whatever POWERTOOLS_LOGGER_LOG_EVENT says: the event holds the token.
@logger.inject_lambda_context(clear_state=True, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        caller = verifier().verify(token_of(event))
    except TokenRejected as exc:
        if isinstance(exc.__cause__, jwt.PyJWKClientConnectionError):
            logger.error("signing keys unavailable", reason=exc.reason)
            raise SigningKeysUnavailableError(exc.reason) from exc
        logger.info("connection refused", reason=exc.reason)
        raise Exception(UNAUTHORIZED) from None
    logger.info("connection authorized", sub=caller.sub, token_use=caller.token_use)
    return allow_policy(caller, str(event["methodArn"]))
