"""Per-partner pseudonyms: HMAC-SHA256 under a key derived from the ministry's secret and the
agreement's salt. The same record always maps to the same pseudonym for one partner; two
partners' keys differ, so their pseudonyms cannot be linked; and only the registry, which
holds the secret, can map a pseudonym back (by recomputing it over the candidates).

A pseudonym reads `<kind>-<52 base32 characters>`: the kind (`hh` a household, `in` a
person, or an identifier type such as `national_id`) says where to look when resolving.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import lru_cache

HOUSEHOLD = "hh"
INDIVIDUAL = "in"


def new_salt() -> str:
    return secrets.token_hex(16)


def partner_key(secret: bytes, partner_id: str, salt: str) -> bytes:
    return hmac.new(secret, f"inds-pseudonym-key:{partner_id}:{salt}".encode(), "sha256").digest()


def _pseudonym(key: bytes, kind: str, value: str) -> str:
    digest = hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).digest()
    return f"{kind}-{base64.b32encode(digest).decode().rstrip('=').lower()}"


# Remembered: a page of records names its household once per member, and partners page
# through the same records again. (Resolving, which tries every candidate, does not use it.)
pseudonym = lru_cache(maxsize=65_536)(_pseudonym)


def kind_of(value: str) -> str | None:
    kind, sep, rest = value.rpartition("-")
    return kind if sep and len(rest) == 52 else None


def find(key: bytes, kind: str, wanted: str, candidates: list[str]) -> list[str]:
    """The candidates whose pseudonym is `wanted` (CPU-bound: run in a thread)."""
    return [
        value for value in candidates if hmac.compare_digest(_pseudonym(key, kind, value), wanted)
    ]
