"""Signing keys at rest: each private key is kept in the database encrypted (Fernet:
AES-128-CBC with an HMAC-SHA256, from the `cryptography` package) with the key-encryption key
of `INDS_GATEWAY_KEY_ENCRYPTION_KEY`. A copy of the database alone cannot sign tokens.

The setting may list several keys, comma-separated: the first encrypts, any of them decrypts,
and at start every stored key is re-encrypted with the first — how the key-encryption key is
rotated. A key stored in the clear (before this existed, or by a development gateway run
without the setting) is encrypted at the next start that has one.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

SEALED_PREFIX = "fernet:"
SETTING = "INDS_GATEWAY_KEY_ENCRYPTION_KEY"


class KeyEncryptionError(RuntimeError):
    """The stored signing keys cannot be read with the configured key-encryption key."""


def parse_keys(value: str) -> list[Fernet]:
    """The comma-separated Fernet keys of the setting (ValueError naming it if malformed)."""
    try:
        return [Fernet(part.strip()) for part in value.split(",") if part.strip()]
    except ValueError as exc:
        raise ValueError(
            f"{SETTING} must be Fernet keys (32 url-safe base64 bytes each, comma-separated; "
            "make one with `python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'`)"
        ) from exc


def new_key() -> str:
    return Fernet.generate_key().decode()


class KeySealer:
    """Encrypts private keys for storage and decrypts them back; without a key-encryption
    key (development only) it stores them as they are."""

    def __init__(self, keys: str | None) -> None:
        fernets = parse_keys(keys) if keys else []
        self._primary = fernets[0] if fernets else None
        self._fernet = MultiFernet(fernets) if fernets else None

    @property
    def encrypts(self) -> bool:
        return self._fernet is not None

    def seal(self, pem: str) -> str:
        if self._fernet is None:
            return pem
        return SEALED_PREFIX + self._fernet.encrypt(pem.encode()).decode()

    def open(self, stored: str) -> str:
        if not is_sealed(stored):
            return stored
        if self._fernet is None:
            raise KeyEncryptionError(
                f"the gateway's signing keys are encrypted: set {SETTING} to the key they "
                "were encrypted with"
            )
        try:
            return self._fernet.decrypt(stored.removeprefix(SEALED_PREFIX).encode()).decode()
        except InvalidToken as exc:
            raise KeyEncryptionError(
                f"{SETTING} does not decrypt the gateway's stored signing keys: it is not the "
                "key they were encrypted with (to change it, list the new key first and the "
                "old one after it, comma-separated)"
            ) from exc

    def reseal(self, stored: str) -> str | None:
        """The stored form under the current first key, or None when it already is."""
        if self._primary is None:
            return None
        if is_sealed(stored):
            try:
                self._primary.decrypt(stored.removeprefix(SEALED_PREFIX).encode())
                return None
            except InvalidToken:
                pass
        return self.seal(self.open(stored))


def is_sealed(stored: str) -> bool:
    return stored.startswith(SEALED_PREFIX)
