"""Token verification done by each service itself, and role dependencies.

Network position grants nothing: every request carries a JWT signed by the gateway, checked
here for signature (keys from the gateway's JWKS or a configured JWKS), algorithm (from an
allow-list, and it must match the key's own), audience, issuer and expiry, and refused when
its account has been disabled since (`Revocations`: the gateway's list of disabled accounts).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Protocol, get_args

import httpx
import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.errors import Forbidden, Unauthorized
from shared.logs import get_logger

ALLOWED_ALGORITHMS = ("EdDSA", "RS256")
Role = Literal[
    "admin",
    "registrar",
    "data_manager",
    "finance_officer",
    "finance_approver",
    "me_officer",
    "analyst",
    "partner",
    "system",
    "service",
]
ROLES: tuple[str, ...] = get_args(Role)
_log = get_logger("inds.auth")
KeySource = Callable[[], Awaitable[dict[str, Any]]]


class Revocations(Protocol):
    """The accounts whose tokens are refused before they expire (disabled ones)."""

    async def contains(self, subject: str) -> bool: ...


@dataclass(frozen=True)
class Principal:
    """Who is calling, as the token says."""

    subject: str
    roles: frozenset[str]
    regions: tuple[str, ...] = ()
    partner_id: str | None = None
    name: str | None = None
    claims: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def has_any_role(self, roles: Iterable[str]) -> bool:
        return not self.roles.isdisjoint(roles)

    @property
    def is_region_limited(self) -> bool:
        """A registrar with regions on the token may act only there."""
        return bool(self.regions) and not self.has_any_role(("admin", "data_manager", "service"))


class TokenVerifier:
    """Verifies bearer tokens against a key set it refreshes when it meets an unknown `kid`."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        jwks: dict[str, Any] | None = None,
        key_source: KeySource | None = None,
        leeway_seconds: int = 30,
        cache_size: int = 10_000,
        refresh_interval_seconds: float = 10.0,
        revocations: Revocations | None = None,
    ) -> None:
        self.issuer = issuer
        self.revocations = revocations
        self.audience = audience
        self.key_source = key_source
        self.leeway = leeway_seconds
        self._keys: dict[str, jwt.PyJWK] = {}
        self._cache: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._cache_size = cache_size
        self._refresh_interval = refresh_interval_seconds
        self._last_refresh = float("-inf")
        self._lock = asyncio.Lock()
        if jwks is not None:
            self.set_keys(jwks)

    def set_keys(self, jwks: dict[str, Any]) -> None:
        keys: dict[str, jwt.PyJWK] = {}
        for entry in jwks.get("keys", []):
            kid = entry.get("kid")
            if not kid or entry.get("alg") not in ALLOWED_ALGORITHMS:
                continue
            keys[kid] = jwt.PyJWK(entry)
        self._keys = keys

    async def _refresh(self) -> None:
        if self.key_source is None:
            return
        async with self._lock:
            if time.monotonic() - self._last_refresh < self._refresh_interval:
                return
            self._last_refresh = time.monotonic()
            try:
                self.set_keys(await self.key_source())
            except Exception as exc:  # a key source that fails leaves the known keys in place
                _log.warning("signing keys could not be refreshed", error=type(exc).__name__)

    async def verify(self, token: str) -> Principal:
        principal = await self._verified(token)
        if self.revocations is not None and await self.revocations.contains(principal.subject):
            raise Unauthorized("The token's client or user has been disabled.")
        return principal

    async def _verified(self, token: str) -> Principal:
        cached = self._cache.get(token)
        now = time.time()
        if cached is not None:
            principal, expires_at = cached
            if now < expires_at + self.leeway:
                return principal
            self._cache.pop(token, None)

        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("The bearer token is malformed.") from exc
        algorithm = header.get("alg")
        if algorithm not in ALLOWED_ALGORITHMS:
            raise Unauthorized("The token's signing algorithm is not accepted.")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthorized("The token names no signing key.")
        key = self._keys.get(kid)
        if key is None:
            await self._refresh()
            key = self._keys.get(kid)
        if key is None:
            raise Unauthorized("The token was signed by an unknown key.")
        if key.algorithm_name != algorithm:
            raise Unauthorized("The token's algorithm does not match its key.")
        try:
            claims = jwt.decode(
                token,
                key=key.key,
                algorithms=[algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("The token has expired.") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("The token is not valid.") from exc

        principal = principal_from_claims(claims)
        self._remember(token, principal, float(claims["exp"]))
        return principal

    def _remember(self, token: str, principal: Principal, expires_at: float) -> None:
        self._cache[token] = (principal, expires_at)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)


def jwks_over_http(url: str) -> KeySource:
    """A key source reading the gateway's published JWKS."""

    async def fetch() -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=5.0) as client:
            response = await client.get(url)
            response.raise_for_status()
            return response.json()

    return fetch


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    roles = claims.get("roles") or []
    regions = claims.get("regions") or []
    if not isinstance(roles, list) or not isinstance(regions, list):
        raise Unauthorized("The token's roles or regions are malformed.")
    return Principal(
        subject=str(claims["sub"]),
        roles=frozenset(str(role) for role in roles),
        regions=tuple(str(region) for region in regions),
        partner_id=claims.get("partner_id"),
        name=claims.get("name"),
        claims=claims,
    )


_bearer = HTTPBearer(auto_error=False, description="A token from `POST /auth/token`.")


async def authenticated(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("A bearer token is required.", error="invalid_request")
    verifier: TokenVerifier = request.app.state.token_verifier
    principal = await verifier.verify(credentials.credentials)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(authenticated)]


class RoleCheck:
    """The dependency letting through callers holding at least one of `roles` (403 for the
    others); `roles` is read by the access table's test, which checks each endpoint's."""

    def __init__(self, roles: Iterable[str]) -> None:
        self.roles = frozenset(roles)
        unknown = self.roles - set(ROLES)
        if unknown:
            raise ValueError(f"unknown roles: {sorted(unknown)}")

    async def __call__(self, principal: CurrentPrincipal) -> Principal:
        if principal.roles.isdisjoint(self.roles):
            raise Forbidden(
                "This operation needs one of the roles: " + ", ".join(sorted(self.roles)) + "."
            )
        return principal


def require_roles(*roles: str) -> RoleCheck:
    """A dependency that lets through callers holding at least one of `roles`."""
    return RoleCheck(roles)
