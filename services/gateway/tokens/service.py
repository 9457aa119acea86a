"""Checking credentials and minting tokens."""

from __future__ import annotations

import base64
import binascii
import secrets
import time
from urllib.parse import unquote

from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.accounts import repository as accounts
from services.gateway.accounts.secrets import verify_secret
from services.gateway.models import Account
from services.gateway.tokens.keys import KeyRing
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
        if kind == "client":
            raise OAuthError("invalid_client", "Unknown client or wrong secret.", status=401)
        raise OAuthError("invalid_grant", "Unknown user or wrong password.")
    if account.disabled_at is not None:
        _log.info("token refused", kind=kind, login=account.login, reason="disabled")
        if kind == "client":
            raise OAuthError("invalid_client", "This client is disabled.", status=401)
        raise OAuthError("invalid_grant", "This account is disabled.")
    return account


def issue_token(
    keys: KeyRing, account: Account, *, issuer: str, audience: str, ttl_seconds: int
) -> str:
    now = int(time.time())
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": account.subject,
        "iat": now,
        "nbf": now,
        "exp": now + ttl_seconds,
        "jti": secrets.token_urlsafe(12),
        "roles": list(account.roles),
        "regions": list(account.regions or []),
        "partner_id": account.partner_id,
    }
    return keys.sign(claims)
