"""Tokens signed by a key a test holds (an expired one, one from a stranger's key),
which moto's pool cannot be asked to issue."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa


class StaticKeys:
    """A JWKS held in memory, looked up by kid like `PyJWKClient` does."""

    def __init__(self, *public_jwks: dict[str, Any]) -> None:
        self._keys = jwt.PyJWKSet.from_dict({"keys": list(public_jwks)})

    def get_signing_key_from_jwt(self, token: str) -> jwt.PyJWK:
        kid = jwt.get_unverified_header(token).get("kid")
        for key in self._keys.keys:
            if key.key_id == kid:
                return key
        raise jwt.PyJWKClientError(f'Unable to find a signing key that matches: "{kid}"')


class Signer:
    """An RSA key pair named `kid`, signing Cognito-shaped ID tokens."""

    def __init__(self, kid: str = "k1") -> None:
        self.kid = kid
        self._private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._private.public_key()))
        self.public_jwk: dict[str, Any] = {**public, "kid": kid, "alg": "RS256", "use": "sig"}

    def token(self, issuer: str, **overrides: Any) -> str:
        now = int(time.time())
        claims = {"iss": issuer, "sub": "user-sub", "aud": "client-1", "token_use": "id",
                  "cognito:username": "alice", "email_verified": True, "iat": now,
                  "exp": now + 600, **overrides}
        return jwt.encode({k: v for k, v in claims.items() if v is not None}, self._private,
                          algorithm="RS256", headers={"kid": self.kid})
