"""DCI message signatures (common/schema/MsgSignature.yaml, common/security/Signature.yaml):

    Signature: namespace="dci", kidId="{sender_id}|{unique_key_id}|ed25519",
      algorithm="ed25519", created="1606970629", expires="1607030629",
      headers="(created) (expires) digest", signature="Base64(signing string)"

The signing string is the three named lines

    (created): 1606970629
    (expires): 1607030629
    digest: BLAKE-512=<base64 of BLAKE2b-512 of the content>

where the content is `{header}+{message}` as canonical JSON: `{"header": …, "message": …}`
with keys sorted and no white space (UTF-8). A partner's messages are verified with the
Ed25519 keys registered in its agreement (when it registered any, every message must be
signed); every answer is signed with the registry's key, published as a JWKS at
`/api/v1/beneficiaries/dci/.well-known/jwks.json`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from services.beneficiaries.dci import codes
from services.beneficiaries.dci.messages import DciError

ALGORITHM = "ed25519"
# How far a signature's `created` may be ahead of the registry's clock, and the longest
# validity a signature may claim.
CLOCK_SKEW_SECONDS = 60
MAX_VALIDITY_SECONDS = 3600
_PARAMETER = re.compile(r'(\w+)="([^"]*)"')


def content_digest(header: Any, message: Any) -> str:
    content = orjson.dumps({"header": header, "message": message}, option=orjson.OPT_SORT_KEYS)
    return (
        "BLAKE-512=" + base64.b64encode(hashlib.blake2b(content, digest_size=64).digest()).decode()
    )


def signing_string(created: int, expires: int, digest: str) -> bytes:
    return f"(created): {created}\n(expires): {expires}\ndigest: {digest}".encode()


def sign(
    private_key: ed25519.Ed25519PrivateKey,
    key_id: str,
    header: Any,
    message: Any,
    *,
    now: int | None = None,
    validity: int = 300,
) -> str:
    created = int(time.time()) if now is None else now
    expires = created + validity
    signature = private_key.sign(signing_string(created, expires, content_digest(header, message)))
    return (
        f'Signature: namespace="dci", kidId="{key_id}|{ALGORITHM}", algorithm="{ALGORITHM}", '
        f'created="{created}", expires="{expires}", headers="(created) (expires) digest", '
        f'signature="{base64.b64encode(signature).decode()}"'
    )


def _invalid(message: str) -> DciError:
    return DciError(401, codes.ERR_SIGNATURE_INVALID, message)


def verify(
    signature: str | None,
    header: Any,
    message: Any,
    sender_id: str,
    keys: Sequence[Mapping[str, str]],
    *,
    now: int | None = None,
) -> None:
    """Nothing when `keys` is empty (the partner signs nothing) or the signature holds;
    err.signature.missing / err.signature.invalid otherwise."""
    if not keys:
        return
    if not signature:
        raise DciError(
            401,
            codes.ERR_SIGNATURE_MISSING,
            "Your agreement registers signing keys: sign every message.",
        )
    parameters = dict(_PARAMETER.findall(signature))
    key_id = parameters.get("kidId") or parameters.get("keyId") or ""
    parts = key_id.split("|")
    if len(parts) != 3 or parts[0] != sender_id:
        raise _invalid('kidId is "{sender_id}|{key id}|ed25519", with the header\'s sender_id.')
    if parts[2].lower() != ALGORITHM or parameters.get("algorithm", ALGORITHM).lower() != ALGORITHM:
        raise _invalid("The signature algorithm is ed25519.")
    key = next((k for k in keys if k.get("kid") == parts[1]), None)
    if key is None:
        raise _invalid(f"No signing key {parts[1]!r} is registered for you.")
    try:
        created, expires = int(parameters["created"]), int(parameters["expires"])
        signed = base64.b64decode(parameters["signature"], validate=True)
    except (KeyError, ValueError, binascii.Error) as exc:
        raise _invalid("The signature needs created, expires and a base64 signature.") from exc
    moment = int(time.time()) if now is None else now
    if (
        created > moment + CLOCK_SKEW_SECONDS
        or expires <= moment
        or expires - created > MAX_VALIDITY_SECONDS
    ):
        raise _invalid("The signature is expired or not yet valid.")
    try:
        public_key = ed25519.Ed25519PublicKey.from_public_bytes(base64.b64decode(key["public_key"]))
        public_key.verify(signed, signing_string(created, expires, content_digest(header, message)))
    except (InvalidSignature, ValueError, binascii.Error) as exc:
        raise _invalid("The signature does not match the message.") from exc


def public_key_text(key: ed25519.Ed25519PublicKey) -> str:
    return base64.b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


class RegistrySigner:
    """The registry's signing key for DCI answers, and its JWKS."""

    def __init__(self, private_key: ed25519.Ed25519PrivateKey, registry_id: str) -> None:
        self.private_key = private_key
        raw = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.kid = hashlib.sha256(raw).hexdigest()[:16]
        self.key_id = f"{registry_id}|{self.kid}"
        self.jwks = {
            "keys": [
                {
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "x": base64.urlsafe_b64encode(raw).decode().rstrip("="),
                    "kid": self.kid,
                    "alg": "EdDSA",
                    "use": "sig",
                }
            ]
        }

    @classmethod
    def from_setting(cls, secret: str | None, registry_id: str) -> RegistrySigner:
        """From the base64 raw 32-byte private key, or a fresh key (development, tests)."""
        if secret is None:
            return cls(ed25519.Ed25519PrivateKey.generate(), registry_id)
        return cls(
            ed25519.Ed25519PrivateKey.from_private_bytes(base64.b64decode(secret)), registry_id
        )

    def sign(self, envelope: dict[str, Any]) -> dict[str, Any]:
        signature = sign(self.private_key, self.key_id, envelope["header"], envelope["message"])
        return {"signature": signature, **envelope}
