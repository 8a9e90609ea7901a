"""Verifying a Cognito user pool JWT: the check the WebSocket `$connect` authorizer and
the local REST gateway's Cognito authorizer share, so both accept the same tokens.

A token is good when its RS256 signature verifies against the pool's key named by its
`kid`, it has not expired, its issuer is the pool's, its `token_use` is one the caller
accepts, and it was issued to an accepted app client (`aud` of an ID token,
`client_id` of an access token). Keys come from the pool's JWKS through PyJWT's
`PyJWKClient`, which caches them and fetches the set again only for a `kid` it does
not know (a key rotation), so a warm authorizer verifies without a network call.

The JWKS lives where the Cognito API lives: `jwks_url` takes the endpoint boto3
resolves for `cognito-idp` (AWS's regional endpoint, or the local emulator's), and
the issuer comes from the stack (the pool's provider URL), because an emulator
signs tokens with AWS's issuer while serving them from its own address.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

import jwt

ALGORITHMS: Final = ("RS256",)
ID_TOKEN: Final = "id"
ACCESS_TOKEN: Final = "access"
BEARER_PREFIX: Final = "bearer "
JWKS_TIMEOUT_SECONDS: Final = 5
# How long fetched keys are trusted before the set is read again (Cognito rotates
# rarely; an unknown kid triggers a fetch at once anyway).
JWKS_LIFESPAN_SECONDS: Final = 3600


class TokenRejected(Exception):
    """The token is missing, malformed, badly signed, expired or not for us."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SigningKeys(Protocol):
    """Where the public key of a token's `kid` comes from (`jwt.PyJWKClient`)."""

    def get_signing_key_from_jwt(self, token: str) -> jwt.PyJWK: ...


@dataclass(frozen=True)
class Caller:
    """Who a verified token speaks for; `sub` is what items and outcomes are bound to."""

    sub: str
    username: str
    token_use: str
    claims: Mapping[str, Any] = field(default_factory=dict)


def jwks_url(cognito_endpoint: str, user_pool_id: str) -> str:
    """The pool's JWKS document under the Cognito endpoint boto3 resolved."""
    return f"{cognito_endpoint.rstrip('/')}/{user_pool_id}/.well-known/jwks.json"


def issuer_url(provider_url: str) -> str:
    """`https://` + a pool's provider URL (CloudFormation's `ProviderURL` has no scheme)."""
    return provider_url if provider_url.startswith("https://") else f"https://{provider_url}"


def jwks_client(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=JWKS_LIFESPAN_SECONDS,
                           timeout=JWKS_TIMEOUT_SECONDS)


def bearer_token(value: str | None) -> str | None:
    """The token of an `Authorization` value, with or without a `Bearer ` prefix."""
    if value is None:
        return None
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() == BEARER_PREFIX.strip():
        value = rest
    return value.strip() or None


class TokenVerifier:
    """Verifies tokens of one user pool.

    `client_ids=None` accepts any app client of the pool (API Gateway's Cognito
    authorizer checks only the pool); `token_uses` is `("id",)` for such an authorizer
    without OAuth scopes, both kinds for the `$connect` authorizer.
    """

    def __init__(self, *, issuer: str, keys: SigningKeys,
                 client_ids: Collection[str] | None,
                 token_uses: Collection[str] = (ID_TOKEN, ACCESS_TOKEN),
                 leeway_seconds: int = 0) -> None:
        self._issuer = issuer
        self._keys = keys
        self._client_ids = set(client_ids) if client_ids is not None else None
        self._token_uses = set(token_uses)
        self._leeway = leeway_seconds

    def verify(self, token: str | None) -> Caller:
        if not token:
            raise TokenRejected("no token")
        try:
            key = self._keys.get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token, key=key, algorithms=list(ALGORITHMS), issuer=self._issuer,
                leeway=self._leeway,
                # The audience is checked below, per token_use: an access token
                # names its client in `client_id`, not `aud`.
                options={"verify_aud": False, "require": ["exp", "iss", "sub", "token_use"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenRejected("token expired") from exc
        except jwt.InvalidIssuerError as exc:
            raise TokenRejected("token from another issuer") from exc
        except (jwt.PyJWKClientError, jwt.InvalidTokenError) as exc:
            raise TokenRejected(f"token not valid: {exc}") from exc
        token_use = str(claims["token_use"])
        if token_use not in self._token_uses:
            raise TokenRejected(f"a {token_use} token is not accepted here")
        client = claims.get("aud") if token_use == ID_TOKEN else claims.get("client_id")
        if self._client_ids is not None and client not in self._client_ids:
            raise TokenRejected("token issued to another app client")
        username = claims.get("cognito:username") or claims.get("username") or ""
        return Caller(sub=str(claims["sub"]), username=str(username), token_use=token_use,
                      claims=claims)
