from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Header, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.throttle.service import BadCredentials, Throttle
from services.gateway.tokens import refresh as refresh_tokens
from services.gateway.tokens import service
from services.gateway.tokens.keys import KeyRing
from services.gateway.tokens.refresh import RefreshPolicy
from services.gateway.tokens.repository import all_keys
from services.gateway.tokens.revocation import DisabledAccounts
from services.gateway.tokens.schemas import DisabledAccountsList, SigningKeyInfo, TokenResponse
from services.gateway.tokens.service import OAuthError
from shared.auth import Principal, require_roles
from shared.db import Database, DatabaseOf, DbSession
from shared.logs import get_logger

router = APIRouter(tags=["auth"])
admin_router = APIRouter(prefix="/api/v1/admin/keys", tags=["admin"])
_log = get_logger("inds.gateway.tokens")


def key_ring(request: Request) -> KeyRing:
    return request.app.state.key_ring


@asynccontextmanager
async def _grant_transaction(database: Database) -> AsyncIterator[AsyncSession]:
    """The token endpoints' own transaction, in place of the request session: a refused
    request must still keep what it recorded (the failure the throttle counted, the chain a
    replayed refresh token revoked), so it commits on `BadCredentials` as on success."""
    async with database.sessionmaker() as session:
        try:
            yield session
        except BadCredentials:
            await session.commit()
            raise
        await session.commit()


def _client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.post(
    "/auth/token",
    response_model=TokenResponse,
    response_model_exclude_none=True,
    summary="Get an access token (OAuth2 client credentials, password or refresh token grant)",
    responses={
        400: {"description": "Bad grant"},
        401: {"description": "Bad client"},
        429: {
            "description": "Too many failed attempts for this account or from this address: "
            "wait the `Retry-After` seconds"
        },
    },
)
async def issue_token(
    request: Request,
    response: Response,
    database: DatabaseOf,
    grant_type: Annotated[
        str, Form(description="`client_credentials`, `password` or `refresh_token`")
    ],
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
    username: Annotated[str | None, Form()] = None,
    password: Annotated[str | None, Form()] = None,
    refresh_token: Annotated[
        str | None, Form(description="For `refresh_token`: the newest refresh token.")
    ] = None,
    scope: Annotated[str | None, Form(description="Ignored: roles decide access.")] = None,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> TokenResponse:
    """Client credentials come as form fields or HTTP Basic; a person's as `username` and
    `password`. The token is a JWT signed with the key published at
    `/.well-known/jwks.json`.

    A person (password grant) also gets a `refresh_token`: exchange it with
    `grant_type=refresh_token` for a new access token and a new refresh token; each refresh
    token works once, lives `INDS_GATEWAY_REFRESH_TOKEN_DAYS` (3 days by default) and the
    sign-in ends `INDS_GATEWAY_REFRESH_TOKEN_MAX_DAYS` (30) after the password was typed.
    Presenting a used refresh token again ends the sign-in. API clients get none.

    After repeated failures an account, or a client address, is refused with 429 for a
    while (`Retry-After`); a success clears the account's count."""
    settings = request.app.state.settings
    throttle: Throttle = request.app.state.throttle
    address = _client_address(request)
    policy = RefreshPolicy.of(settings)
    refresh: str | None = None
    if grant_type == "client_credentials":
        basic = service.basic_credentials(authorization)
        if basic is not None:
            client_id, client_secret = basic
        if not client_id or not client_secret:
            raise OAuthError(
                "invalid_client", "client_id and client_secret are required.", status=401
            )
        async with (
            _grant_transaction(database) as session,
            throttle.attempt(session, account=("client", client_id), address=address),
        ):
            account = await service.authenticate(session, "client", client_id, client_secret)
    elif grant_type == "password":
        if not username or not password:
            raise OAuthError("invalid_request", "username and password are required.")
        async with (
            _grant_transaction(database) as session,
            throttle.attempt(session, account=("user", username), address=address),
        ):
            account = await service.authenticate(session, "user", username, password)
            refresh = await refresh_tokens.start_chain(session, account, policy)
    elif grant_type == "refresh_token":
        if not refresh_token:
            raise OAuthError("invalid_request", "refresh_token is required.")
        # No account is named before the token is looked up: only the address is throttled
        # (a refresh token is 256 random bits; nobody guesses one).
        async with (
            _grant_transaction(database) as session,
            throttle.attempt(session, account=None, address=address),
        ):
            account, refresh = await refresh_tokens.rotate(
                session, refresh_token, policy, address=address
            )
    else:
        raise OAuthError(
            "unsupported_grant_type",
            "grant_type must be client_credentials, password or refresh_token.",
        )

    ring = key_ring(request)
    await ring.refresh_if_stale(database)
    token = service.issue_token(
        ring,
        account,
        issuer=settings.common.jwt_issuer,
        audience=settings.common.jwt_audience,
        ttl_seconds=settings.token_ttl_seconds,
    )
    _log.info("token issued", subject=account.subject, roles=list(account.roles), grant=grant_type)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return TokenResponse(
        access_token=token, expires_in=settings.token_ttl_seconds, refresh_token=refresh
    )


@router.post(
    "/auth/revoke",
    status_code=200,
    response_class=Response,
    summary="Sign out: revoke a refresh token and its whole sign-in (RFC 7009)",
    responses={
        200: {"description": "Revoked, or nothing to revoke"},
        400: {"description": "`token_type_hint=access_token`: access tokens are not revoked"},
    },
)
async def revoke_token(
    request: Request,
    session: DbSession,
    token: Annotated[str, Form(description="The refresh token to revoke.")],
    token_type_hint: Annotated[
        str | None, Form(description="`refresh_token` (access tokens expire on their own).")
    ] = None,
) -> Response:
    """Every refresh token of the same sign-in stops working; access tokens already issued
    run out within `expires_in`. An unknown, expired or already revoked token is answered
    the same 200: the caller learns nothing, and there is nothing left to do."""
    if token_type_hint == "access_token":  # noqa: S105 - a token type name, not a secret
        raise OAuthError(
            "unsupported_token_type",
            "Access tokens cannot be revoked: they expire on their own within minutes.",
        )
    await refresh_tokens.sign_out(session, token, address=_client_address(request))
    return Response(status_code=200, headers={"Cache-Control": "no-store"})


@router.get(
    "/auth/disabled-accounts",
    response_model=DisabledAccountsList,
    summary="The disabled accounts whose tokens are refused (read by the services)",
)
async def disabled_accounts(
    request: Request, _: Annotated[Principal, Depends(require_roles("service"))]
) -> DisabledAccountsList:
    """What each service reads every few seconds, with its own token, to refuse the tokens
    of accounts disabled since they were issued when it is called directly."""
    disabled: DisabledAccounts = request.app.state.disabled_accounts
    return DisabledAccountsList(subjects=sorted(await disabled.subjects()))


@router.get("/.well-known/jwks.json", summary="Public keys that verify INDS tokens")
async def jwks(request: Request, response: Response) -> dict[str, Any]:
    # Read from the database each time (services ask when they meet an unknown key, at
    # most every few seconds): a key another gateway process just rotated in is published
    # by this one too, or a service asking here would refuse its tokens for a while.
    ring = key_ring(request)
    await ring.load(request.app.state.database)
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
