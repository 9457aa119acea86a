"""Checking credentials and minting tokens."""

from __future__ import annotations

import base64
import binascii
import secrets
import time
from typing import Any
from urllib.parse import unquote

from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.accounts import repository as accounts
from services.gateway.accounts.secrets import verify_secret
from services.gateway.models import Account
from services.gateway.throttle.service import BadCredentials
from services.gateway.tokens.keys import KeyRing
from shared.db import Database
from shared.errors import ProblemError
from shared.logs import get_logger

_log = get_logger("inds.gateway.tokens")


class OAuthError(ProblemError):
    """An RFC 6749 token error, as problem+json with the OAuth `error` code alongside."""

    status, type, title = 400, "oauth-error", "Token request refused"

    def __init__(self, error: str, detail: str, *, status: int = 400) -> None:
        headers = {"WWW-Authenticate": 'Basic realm="inds"'} if error == "invalid_client" else {}
        super().__init__(detail, status=status, headers=headers, error=error)
        self.headers["Cache-Control"] = "no-store"


class InvalidCredentials(OAuthError, BadCredentials):
    """Credentials that are wrong or name nobody: counted by the login throttle."""

    def __init__(
        self, error: str, detail: str, *, status: int = 400, subject: str | None = None
    ) -> None:
        super().__init__(error, detail, status=status)
        self.subject = subject


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """`client_id:client_secret` from an HTTP Basic header (form-urlencoded per RFC 6749)."""
    if not authorization or authorization[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise OAuthError("invalid_client", "Malformed Basic credentials.", status=401) from exc
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise OAuthError("invalid_client", "Malformed Basic credentials.", status=401)
    return unquote(client_id), unquote(secret)


async def authenticate(session: AsyncSession, kind: str, login: str, secret: str) -> Account:
    account = await accounts.get(session, kind, login.strip().lower())
    valid = await verify_secret(account.secret_hash if account else None, secret)
    if account is None or not valid:
        _log.info("token refused", kind=kind, reason="bad credentials")
        subject = account.subject if account else None
        if kind == "client":
            raise InvalidCredentials(
                "invalid_client", "Unknown client or wrong secret.", status=401, subject=subject
            )
        raise InvalidCredentials(
            "invalid_grant", "Unknown user or wrong password.", subject=subject
        )
    if account.disabled_at is not None:
        _log.info("token refused", kind=kind, login=account.login, reason="disabled")
        if kind == "client":
            raise OAuthError("invalid_client", "This client is disabled.", status=401)
        raise OAuthError("invalid_grant", "This account is disabled.")
    return account


def issue_token(
    keys: KeyRing, account: Account, *, issuer: str, audience: str, ttl_seconds: int
) -> str:
    return _sign(
        keys,
        issuer=issuer,
        audience=audience,
        ttl_seconds=ttl_seconds,
        sub=account.subject,
        roles=list(account.roles),
        regions=list(account.regions or []),
        partner_id=account.partner_id,
    )


def _sign(keys: KeyRing, *, issuer: str, audience: str, ttl_seconds: int, **claims: Any) -> str:
    now = int(time.time())
    claims |= {
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "nbf": now,
        "exp": now + ttl_seconds,
        "jti": secrets.token_urlsafe(12),
    }
    return keys.sign(claims)


class GatewayIdentity:
    """The gateway's own bearer token for the calls it makes (the registry's admin areas).

    Signed with its own key rather than got with a client secret: it needs no account, no
    secret to configure, and no round trip to itself. It carries no role, so it opens only
    what any signed-in caller may read; it is cached until a minute before it expires."""

    SUBJECT = "service:gateway"

    def __init__(
        self,
        keys: KeyRing,
        database: Database,
        *,
        issuer: str,
        audience: str,
        ttl_seconds: int = 300,
    ) -> None:
        self.keys = keys
        self.database = database
        self.issuer = issuer
        self.audience = audience
        self.ttl_seconds = ttl_seconds
        self._token: str | None = None
        self._renew_at = float("-inf")

    async def token(self) -> str:
        if self._token is None or time.monotonic() >= self._renew_at:
            await self.keys.refresh_if_stale(self.database)
            self._token = _sign(
                self.keys,
                issuer=self.issuer,
                audience=self.audience,
                ttl_seconds=self.ttl_seconds,
                sub=self.SUBJECT,
                roles=[],
                regions=[],
                partner_id=None,
            )
            self._renew_at = time.monotonic() + max(self.ttl_seconds - 60, self.ttl_seconds / 2)
        return self._token
