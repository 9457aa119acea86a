"""Each service verifies tokens itself: signature, algorithm, audience, issuer, expiry."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import httpx
import pytest

from shared.auth import TokenVerifier
from shared.errors import Unauthorized
from tests.shared.kit_app import BASE
from tests.support.tokens import AUDIENCE, ISSUER, TokenFactory

ME = f"{BASE}/me"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict, claims: dict) -> str:
    return _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())


async def assert_refused(service: httpx.AsyncClient, token: str) -> None:
    response = await service.get(ME, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_valid_token_is_accepted(service: httpx.AsyncClient, tokens: TokenFactory) -> None:
    response = await service.get(
        ME, headers=tokens.bearer(sub="user:amina", roles=["registrar"], regions=["DJ-AS"])
    )
    assert response.status_code == 200
    assert response.json() == {
        "service": "kit",
        "subject": "user:amina",
        "roles": ["registrar"],
        "regions": ["DJ-AS"],
        "partner_id": None,
    }


async def test_missing_token(service: httpx.AsyncClient) -> None:
    response = await service.get(ME)
    assert response.status_code == 401
    assert 'error="invalid_request"' in response.headers["www-authenticate"]


async def test_expired_token(service: httpx.AsyncClient, tokens: TokenFactory) -> None:
    past = int(time.time()) - 3600
    await assert_refused(service, tokens.token(iat=past - 900, exp=past))


async def test_wrong_audience_and_issuer(service: httpx.AsyncClient, tokens: TokenFactory) -> None:
    await assert_refused(service, tokens.token(aud="some-other-api"))
    await assert_refused(service, tokens.token(iss="https://evil.example"))


async def test_token_from_another_key(service: httpx.AsyncClient) -> None:
    stranger = TokenFactory()
    await assert_refused(service, stranger.token())
    # Same kid, other key: the signature fails.
    stranger.kid = TokenFactory().kid
    await assert_refused(service, stranger.token())


async def test_alg_none_is_refused(service: httpx.AsyncClient, tokens: TokenFactory) -> None:
    header = {"alg": "none", "typ": "JWT", "kid": tokens.kid}
    await assert_refused(service, _unsigned(header, tokens.claims()) + ".")


async def test_hs256_signed_with_the_public_key_is_refused(
    service: httpx.AsyncClient, tokens: TokenFactory
) -> None:
    header = {"alg": "HS256", "typ": "JWT", "kid": tokens.kid}
    signing_input = _unsigned(header, tokens.claims(roles=["admin"]))
    public = json.dumps(tokens.public_jwk).encode()
    for secret in (public, tokens.public_jwk["x"].encode()):
        signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        await assert_refused(service, signing_input + "." + _b64(signature))


async def test_tampered_claims_are_refused(
    service: httpx.AsyncClient, tokens: TokenFactory
) -> None:
    header, _, signature = tokens.token(roles=["analyst"]).split(".")
    forged = _b64(json.dumps(tokens.claims(roles=["admin"])).encode())
    await assert_refused(service, f"{header}.{forged}.{signature}")


async def test_garbage(service: httpx.AsyncClient) -> None:
    await assert_refused(service, "not-a-jwt")


async def test_rotated_keys_are_fetched_and_old_tokens_still_verify() -> None:
    old, new = TokenFactory(), TokenFactory("RS256")
    published = {"keys": [old.public_jwk]}
    fetches = 0

    async def key_source() -> dict:
        nonlocal fetches
        fetches += 1
        return published

    verifier = TokenVerifier(
        issuer=ISSUER,
        audience=AUDIENCE,
        jwks=published,
        key_source=key_source,
        refresh_interval_seconds=0,
    )
    assert (await verifier.verify(old.token(sub="client:a"))).subject == "client:a"
    assert fetches == 0

    published = {"keys": [new.public_jwk, old.public_jwk]}
    assert (await verifier.verify(new.token(sub="client:b"))).subject == "client:b"
    assert fetches == 1
    assert (await verifier.verify(old.token(sub="client:c"))).subject == "client:c"

    with pytest.raises(Unauthorized):
        await verifier.verify(TokenFactory().token())
