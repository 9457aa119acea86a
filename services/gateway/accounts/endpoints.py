"""Admin API for API clients and users. Secrets are shown once, at creation or rotation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status

from services.gateway.accounts import service
from services.gateway.accounts.schemas import (
    Client,
    ClientCreate,
    ClientWithSecret,
    PasswordReset,
    SecretRotated,
    User,
    UserCreate,
    UserWithPassword,
)
from services.gateway.clients.registry import RegistryClient
from shared.auth import Principal, require_roles
from shared.db import DbSession
from shared.pagination import Page, PageParams, page_params

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])
Admin = Annotated[Principal, Depends(require_roles("admin"))]
Paging = Annotated[PageParams, Depends(page_params)]


def registry_client(request: Request) -> RegistryClient:
    return request.app.state.registry


Registry = Annotated[RegistryClient, Depends(registry_client)]


def _creation_refusals(kind: str) -> dict[int | str, dict[str, Any]]:
    return {
        409: {"description": f"A {kind} with this name exists"},
        503: {"description": f"The registry cannot be asked about the regions: no {kind} made"},
    }


@router.post(
    "/clients",
    status_code=status.HTTP_201_CREATED,
    response_model=ClientWithSecret,
    responses=_creation_refusals("client"),
)
async def create_client(
    data: ClientCreate, session: DbSession, admin: Admin, registry: Registry
) -> ClientWithSecret:
    """Create an API client (client-credentials grant). The secret is in this answer only.
    `regions` must be region codes the registry knows (422 otherwise; 503 when it cannot
    be asked, and no client is created)."""
    return await service.create_client(session, registry, data, admin.subject)


@router.get("/clients", response_model=Page[Client])
async def list_clients(session: DbSession, _: Admin, paging: Paging) -> Page[Client]:
    page = await service.list_accounts(session, "client", paging)
    return Page[Client](
        items=[service.client_view(a) for a in page.items], next_cursor=page.next_cursor
    )


@router.get("/clients/{client_id}", response_model=Client)
async def get_client(client_id: str, session: DbSession, _: Admin) -> Client:
    return service.client_view(await service.get(session, "client", client_id))


@router.post("/clients/{client_id}/disable", response_model=Client)
async def disable_client(client_id: str, session: DbSession, admin: Admin) -> Client:
    """A disabled client gets no new token; tokens already issued expire on their own."""
    account = await service.set_disabled(session, "client", client_id, True, admin.subject)
    return service.client_view(account)


@router.post("/clients/{client_id}/enable", response_model=Client)
async def enable_client(client_id: str, session: DbSession, admin: Admin) -> Client:
    account = await service.set_disabled(session, "client", client_id, False, admin.subject)
    return service.client_view(account)


@router.post("/clients/{client_id}/rotate-secret", response_model=SecretRotated)
async def rotate_client_secret(client_id: str, session: DbSession, admin: Admin) -> SecretRotated:
    """A new secret replaces the old one at once. It is in this answer only."""
    secret = await service.rotate_secret(session, "client", client_id, admin.subject)
    return SecretRotated(client_secret=secret)


@router.post(
    "/users",
    status_code=status.HTTP_201_CREATED,
    response_model=UserWithPassword,
    responses=_creation_refusals("user"),
)
async def create_user(
    data: UserCreate, session: DbSession, admin: Admin, registry: Registry
) -> UserWithPassword:
    """Create a person who signs in with a password (password grant). `regions` must be
    region codes the registry knows (422 otherwise; 503 when it cannot be asked, and no
    user is created)."""
    return await service.create_user(session, registry, data, admin.subject)


@router.get("/users", response_model=Page[User])
async def list_users(session: DbSession, _: Admin, paging: Paging) -> Page[User]:
    page = await service.list_accounts(session, "user", paging)
    return Page[User](
        items=[service.user_view(a) for a in page.items], next_cursor=page.next_cursor
    )


@router.get("/users/{username}", response_model=User)
async def get_user(username: str, session: DbSession, _: Admin) -> User:
    return service.user_view(await service.get(session, "user", username))


@router.post("/users/{username}/disable", response_model=User)
async def disable_user(username: str, session: DbSession, admin: Admin) -> User:
    """A disabled user gets no new token and every refresh token of theirs is revoked;
    access tokens already issued expire on their own."""
    account = await service.set_disabled(session, "user", username, True, admin.subject)
    return service.user_view(account)


@router.post("/users/{username}/enable", response_model=User)
async def enable_user(username: str, session: DbSession, admin: Admin) -> User:
    account = await service.set_disabled(session, "user", username, False, admin.subject)
    return service.user_view(account)


@router.post("/users/{username}/reset-password", response_model=PasswordReset)
async def reset_user_password(username: str, session: DbSession, admin: Admin) -> PasswordReset:
    """A generated password replaces the old one. It is in this answer only. The user's
    refresh tokens are revoked (every device signs in again) and a lock-out after failed
    attempts is lifted."""
    password = await service.rotate_secret(session, "user", username, admin.subject)
    return PasswordReset(password=password)
