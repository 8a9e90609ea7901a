"""The REST API's Cognito user pool authorizers (`AWS::ApiGateway::Authorizer` of Type
`COGNITO_USER_POOLS`), checked as API Gateway checks them.

A method with `AuthorizationType: COGNITO_USER_POOLS` names its authorizer by
`AuthorizerId`; the authorizer names its pools (`ProviderARNs`) and where the token is
(`IdentitySource`, `method.request.header.Authorization`). The token is verified with
functions/domain/tokens.py, the same check as the WebSocket `$connect` authorizer:
signature by `kid` from the pool's JWKS (served by the endpoint's cognito-idp: moto's
locally, AWS's deployed), expiry, the pool's issuer, an ID token (a method without
OAuth scopes takes ID tokens only), any app client of the pool.

What the client sees, as API Gateway answers (`UNAUTHORIZED`, 401): no token or one
that does not verify → "Unauthorized"; an expired one → "The incoming token has
expired". A `Bearer ` prefix is accepted as well as the bare token (API Gateway's
Cognito authorizer accepts both).

On success the token's claims are `$context.authorizer.claims` (a map of strings:
numbers printed as digits, booleans `true`/`false`, lists as JSON), which the mapping
templates read (`$context.authorizer.claims.sub`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import jwt

from crudops_local.apigateway.exceptions import (
    AuthorizerConfigurationError,
    UnauthorizedError,
)
from crudops_local.cloudformation.template import Resolver, Template
from functions.domain.tokens import (
    ID_TOKEN,
    Caller,
    SigningKeys,
    TokenRejected,
    TokenVerifier,
    bearer_token,
    issuer_url,
    jwks_client,
    jwks_url,
)

COGNITO: Final = "COGNITO_USER_POOLS"
HEADER_SOURCE: Final = "method.request.header."
DEFAULT_IDENTITY_SOURCE: Final = HEADER_SOURCE + "Authorization"
EXPIRED_MESSAGE: Final = "The incoming token has expired"


@dataclass(frozen=True)
class UserPool:
    """One pool an authorizer trusts, named by its ARN
    (`arn:aws:cognito-idp:<region>:<account>:userpool/<id>`)."""

    arn: str

    @property
    def region(self) -> str:
        return self.arn.split(":")[3]

    @property
    def pool_id(self) -> str:
        return self.arn.rpartition("/")[2]

    @property
    def issuer(self) -> str:
        return issuer_url(f"cognito-idp.{self.region}.amazonaws.com/{self.pool_id}")


@dataclass(frozen=True)
class CognitoAuthorizerSpec:
    logical_id: str
    name: str
    # The request header the token is read from (API Gateway's identity source).
    header: str
    pools: tuple[UserPool, ...]


def _logical_target(value: Any) -> str | None:
    if isinstance(value, dict) and "Ref" in value and isinstance(value["Ref"], str):
        return value["Ref"]
    return None


def cognito_authorizers(template: Template, resolver: Resolver,
                        api_logical_id: str) -> dict[str, CognitoAuthorizerSpec]:
    """The API's Cognito authorizers by logical id (what a method's `AuthorizerId`
    references). Other authorizer types are not emulated on the REST API."""
    found: dict[str, CognitoAuthorizerSpec] = {}
    for resource in template.of_type("AWS::ApiGateway::Authorizer"):
        properties = resource.properties
        if (_logical_target(properties.get("RestApiId")) != api_logical_id
                or str(properties.get("Type", "")).upper() != COGNITO):
            continue
        source = str(properties.get("IdentitySource") or DEFAULT_IDENTITY_SOURCE)
        arns = resolver.resolve(properties.get("ProviderARNs", []))
        found[resource.logical_id] = CognitoAuthorizerSpec(
            logical_id=resource.logical_id,
            name=str(properties.get("Name", resource.logical_id)),
            header=source.removeprefix(HEADER_SOURCE),
            pools=tuple(UserPool(str(arn)) for arn in arns),
        )
    return found


def claims_map(claims: Mapping[str, Any]) -> dict[str, str]:
    """The claims as `$context.authorizer.claims` holds them: every value a string."""
    def text(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, list | dict):
            return json.dumps(value)
        return str(value)

    return {name: text(value) for name, value in claims.items()}


# cognito-idp's base URL → a JWKS URL's signing keys (a test passes its own).
KeysFor = Callable[[str], SigningKeys]


class CognitoAuthorizer:
    """One authorizer's verifiers, one per pool, built once with their key caches."""

    def __init__(self, spec: CognitoAuthorizerSpec, cognito_endpoint: str,
                 keys_for: KeysFor = jwks_client) -> None:
        self.spec = spec
        self._verifiers = [
            TokenVerifier(issuer=pool.issuer,
                          keys=keys_for(jwks_url(cognito_endpoint, pool.pool_id)),
                          client_ids=None, token_uses=(ID_TOKEN,))
            for pool in spec.pools
        ]

    def authorize(self, headers: Mapping[str, str]) -> Caller:
        """The caller the request's token speaks for; `UnauthorizedError` when there is
        no token or no pool of the authorizer verifies it. Blocking on a JWKS fetch
        (the first token, or an unknown `kid`): call it off the event loop."""
        if not self._verifiers:
            raise AuthorizerConfigurationError()
        wanted = self.spec.header.lower()
        value = next((v for k, v in headers.items() if k.lower() == wanted), None)
        token = bearer_token(value)
        if token is None:
            raise UnauthorizedError()
        expired = False
        for verifier in self._verifiers:
            try:
                return verifier.verify(token)
            except TokenRejected as rejected:
                expired = expired or isinstance(rejected.__cause__, jwt.ExpiredSignatureError)
        raise UnauthorizedError(EXPIRED_MESSAGE if expired else None)
