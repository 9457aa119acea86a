"""Secret generation and argon2 hashing, off the event loop (a hash costs tens of ms)."""

from __future__ import annotations

import secrets

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified when the login is unknown, so an unknown login costs as much as a wrong secret.
_DUMMY_HASH = _hasher.hash("inds-dummy-secret-for-timing")


def new_secret() -> str:
    return secrets.token_urlsafe(32)


async def hash_secret(secret: str) -> str:
    return await anyio.to_thread.run_sync(_hasher.hash, secret)


async def verify_secret(secret_hash: str | None, secret: str) -> bool:
    def check() -> bool:
        try:
            return _hasher.verify(secret_hash or _DUMMY_HASH, secret) and secret_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(check)
