"""Tokens for service tests, signed by a key the test owns, as the gateway would sign them."""

from __future__ import annotations

import time
from typing import Any

import jwt
import orjson
from cryptography.hazmat.primitives import serialization

from services.gateway.tokens.keys import generate_key

ISSUER = "urn:inds:gateway"
AUDIENCE = "inds-api"


class TokenFactory:
    def __init__(self, algorithm: str = "EdDSA") -> None:
        key = generate_key(algorithm)
        self.kid = key.kid
        self.algorithm = algorithm
        self.public_jwk = key.public_jwk
        self.private_key = serialization.load_pem_private_key(
            key.private_key_pem.encode(), password=None
        )

    @property
    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.public_jwk]}

    @property
    def jwks_json(self) -> str:
        return orjson.dumps(self.jwks).decode()

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "client:test",
            "iat": now,
            "exp": now + 600,
            "roles": ["admin"],
            "regions": [],
            "partner_id": None,
        }
        claims.update(overrides)
        return claims

    def token(self, *, headers: dict[str, Any] | None = None, **claims: Any) -> str:
        return jwt.encode(
            self.claims(**claims),
            self.private_key,
            algorithm=self.algorithm,
            headers={"kid": self.kid, **(headers or {})},
        )

    def bearer(self, **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(**claims)}"}
