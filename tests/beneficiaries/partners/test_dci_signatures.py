"""DCI message signatures: a partner that registered keys must sign every message (Ed25519
over the header and message), and every answer is signed by the registry's published key."""

from __future__ import annotations

import base64
import time
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import ed25519

from services.beneficiaries.dci import signatures
from shared.db import Database
from tests.beneficiaries.helpers import BASE
from tests.beneficiaries.partners.world import (
    DCI_SEARCH,
    add_agreement,
    build,
    partner,
    predicate,
    search_message,
    search_request,
)
from tests.support.tokens import TokenFactory

JWKS = f"{BASE}/dci/.well-known/jwks.json"


def _message() -> dict[str, Any]:
    return search_message(
        search_request(
            "predicate", [predicate("programmes", "eq", "pnsf")], pagination={"page_size": 5}
        )
    )


def _signed(
    body: dict[str, Any], key: ed25519.Ed25519PrivateKey, kid: str = "k1", **options: Any
) -> dict[str, Any]:
    body["signature"] = signatures.sign(
        key, f"wfp-dj|{kid}", body["header"], body["message"], **options
    )
    return body


def _registry_key(jwks: dict[str, Any]) -> ed25519.Ed25519PublicKey:
    [key] = jwks["keys"]
    assert (key["kty"], key["crv"], key["alg"]) == ("OKP", "Ed25519", "EdDSA")
    raw = base64.urlsafe_b64decode(key["x"] + "=" * (-len(key["x"]) % 4))
    return ed25519.Ed25519PublicKey.from_public_bytes(raw)


async def test_signed_messages_are_verified_and_answers_signed(
    registry: httpx.AsyncClient, beneficiaries_db: Database, tokens: TokenFactory
) -> None:
    await build(beneficiaries_db)
    key, stranger = ed25519.Ed25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()
    public = signatures.public_key_text(key.public_key())
    await add_agreement(
        registry, tokens, signing_keys=[{"kid": "k1", "algorithm": "ed25519", "public_key": public}]
    )
    headers = partner(tokens)

    answer = await registry.post(DCI_SEARCH, json=_signed(_message(), key), headers=headers)
    assert answer.status_code == 200, answer.text
    envelope = answer.json()
    assert envelope["message"]["search_response"][0]["status"] == "succ"
    # The answer's signature verifies with the key the registry publishes.
    jwks = (await registry.get(JWKS)).json()
    kid = jwks["keys"][0]["kid"]
    registry_key = _registry_key(jwks)
    published = signatures.public_key_text(registry_key)
    signatures.verify(
        envelope["signature"],
        envelope["header"],
        envelope["message"],
        "registry.inds.gov.dj",
        [{"kid": kid, "public_key": published}],
    )

    tampered = _signed(_message(), key)
    tampered["message"]["search_request"][0]["search_criteria"]["query"][0]["expression1"][
        "attribute_value"
    ] = "cantine"
    stale = _signed(_message(), key, now=int(time.time()) - 7200)
    cases = [
        (_message(), "err.signature.missing"),
        (tampered, "err.signature.invalid"),
        (_signed(_message(), stranger), "err.signature.invalid"),
        (_signed(_message(), key, kid="k2"), "err.signature.invalid"),
        (stale, "err.signature.invalid"),
        ({**_message(), "signature": 'Signature: namespace="dci"'}, "err.signature.invalid"),
    ]
    for body, code in cases:
        response = await registry.post(DCI_SEARCH, json=body, headers=headers)
        assert response.status_code == 401, response.text
        assert response.json()["errors"][0]["code"] == code
        assert "Amina" not in response.text


async def test_a_partner_without_registered_keys_is_not_asked_for_signatures(
    registry: httpx.AsyncClient, beneficiaries_db: Database, tokens: TokenFactory
) -> None:
    await build(beneficiaries_db)
    await add_agreement(registry, tokens)
    response = await registry.post(DCI_SEARCH, json=_message(), headers=partner(tokens))
    assert response.status_code == 200
    assert response.json()["signature"].startswith(
        'Signature: namespace="dci", kidId="registry.inds.gov.dj|'
    )
