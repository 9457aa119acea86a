from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Header, Request, Response

from services.gateway.tokens import service
from services.gateway.tokens.keys import KeyRing
from services.gateway.tokens.repository import all_keys
from services.gateway.tokens.schemas import SigningKeyInfo, TokenResponse
from services.gateway.tokens.service import OAuthError
from shared.auth import Principal, require_roles
from shared.db import DbSession
from shared.logs import get_logger

router = APIRouter(tags=["auth"])
admin_router = APIRouter(prefix="/api/v1/admin/keys", tags=["admin"])
_log = get_logger("inds.gateway.tokens")


def key_ring(request: Request) -> KeyRing:
    return request.app.state.key_ring


@router.post(
    "/auth/token",
    response_model=TokenResponse,
    summary="Get an access token (OAuth2 client credentials or password grant)",
    responses={400: {"description": "Bad grant"}, 401: {"description": "Bad client"}},
)
async def issue_token(
    request: Request,
    response: Response,
    session: DbSession,
    grant_type: Annotated[str, Form(description="`client_credentials` or `password`")],
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
    username: Annotated[str | None, Form()] = None,
    password: Annotated[str | None, Form()] = None,
    scope: Annotated[str | None, Form(description="Ignored: roles decide access.")] = None,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> TokenResponse:
    """Client credentials come as form fields or HTTP Basic; a person's as `username` and
    `password`. The token is a JWT signed with the key published at
    `/.well-known/jwks.json`."""
    settings = request.app.state.settings
    if grant_type == "client_credentials":
        basic = service.basic_credentials(authorization)
        if basic is not None:
            client_id, client_secret = basic
        if not client_id or not client_secret:
            raise OAuthError(
                "invalid_client", "client_id and client_secret are required.", status=401
            )
        account = await service.authenticate(session, "client", client_id, client_secret)
    elif grant_type == "password":
        if not username or not password:
            raise OAuthError("invalid_request", "username and password are required.")
        account = await service.authenticate(session, "user", username, password)
    else:
        raise OAuthError(
            "unsupported_grant_type", "grant_type must be client_credentials or password."
        )

    ring = key_ring(request)
    await ring.refresh_if_stale(request.app.state.database)
    token = service.issue_token(
        ring,
        account,
        issuer=settings.common.jwt_issuer,
        audience=settings.common.jwt_audience,
        ttl_seconds=settings.token_ttl_seconds,
    )
    _log.info("token issued", subject=account.subject, roles=list(account.roles))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return TokenResponse(access_token=token, expires_in=settings.token_ttl_seconds)


@router.get("/.well-known/jwks.json", summary="Public keys that verify INDS tokens")
async def jwks(request: Request, response: Response) -> dict[str, Any]:
    ring = key_ring(request)
    await ring.refresh_if_stale(request.app.state.database)
    response.headers["Cache-Control"] = "public, max-age=60"
    return ring.jwks()


@admin_router.get("", response_model=list[SigningKeyInfo])
async def list_keys(
    session: DbSession, _: Annotated[Principal, Depends(require_roles("admin"))]
) -> list[SigningKeyInfo]:
    return [SigningKeyInfo.model_validate(key) for key in await all_keys(session)]


@admin_router.post("/rotate", response_model=SigningKeyInfo)
async def rotate_keys(
    request: Request,
    session: DbSession,
    admin: Annotated[Principal, Depends(require_roles("admin"))],
) -> SigningKeyInfo:
    """New tokens are signed with a new key; tokens signed with the old one stay valid until
    they expire (the old key stays published until then)."""
    key = await key_ring(request).rotate(session)
    _log.info("signing key rotated", kid=key.kid, actor=admin.subject)
    return SigningKeyInfo.model_validate(key)
