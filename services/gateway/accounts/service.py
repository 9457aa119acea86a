"""Creating, listing, disabling accounts and rotating their secrets."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.accounts import repository
from services.gateway.accounts.schemas import (
    Client,
    ClientCreate,
    ClientWithSecret,
    User,
    UserCreate,
    UserWithPassword,
)
from services.gateway.accounts.secrets import hash_secret, new_secret
from services.gateway.clients.registry import RegistryClient
from services.gateway.models import Account
from services.gateway.throttle import repository as throttle
from services.gateway.throttle.service import account_key
from services.gateway.tokens import refresh
from shared.errors import Conflict, NotFound, UnprocessableEntity
from shared.logs import get_logger
from shared.pagination import Page, PageParams, page_of

_log = get_logger("inds.gateway.accounts")
KIND_NOUN = {"client": "API client", "user": "user"}


def client_view(account: Account) -> Client:
    return Client(client_id=account.login, name=account.display_name, **_common_fields(account))


def user_view(account: Account) -> User:
    return User(username=account.login, full_name=account.display_name, **_common_fields(account))


def _common_fields(account: Account) -> dict:
    return {
        "id": account.id,
        "roles": list(account.roles),
        "regions": list(account.regions or []),
        "partner_id": account.partner_id,
        "disabled": account.disabled_at is not None,
        "created_at": account.created_at,
        "secret_changed_at": account.secret_changed_at,
        "created_by": account.created_by,
    }


async def create_client(
    session: AsyncSession, registry: RegistryClient, data: ClientCreate, actor: str
) -> ClientWithSecret:
    await check_regions(registry, data.regions)
    secret = new_secret()
    account = await _create(session, "client", data.client_id, data.name, secret, data, actor)
    return ClientWithSecret(**client_view(account).model_dump(), client_secret=secret)


async def create_user(
    session: AsyncSession, registry: RegistryClient, data: UserCreate, actor: str
) -> UserWithPassword:
    await check_regions(registry, data.regions)
    generated = None if data.password else new_secret()
    password = data.password or generated
    assert password is not None
    account = await _create(session, "user", data.username, data.full_name, password, data, actor)
    return UserWithPassword(**user_view(account).model_dump(), password=generated)


async def check_regions(registry: RegistryClient, regions: list[str]) -> None:
    """Every code is one of the registry's regions (422 naming those that are not). Asked
    before anything is written: if the registry cannot say, no account is made."""
    if not regions:
        return
    known = await registry.region_codes()
    unknown = [(index, code) for index, code in enumerate(regions) if code not in known]
    if unknown:
        codes = ", ".join(code for _, code in unknown)
        raise UnprocessableEntity(
            f"Unknown region code(s): {codes}. Use the registry's regions "
            "(GET /api/v1/beneficiaries/admin-areas?level=1).",
            errors=[
                {
                    "path": f"body.regions.{index}",
                    "message": f"{code} is not a region of the registry",
                    "type": "unknown_region",
                }
                for index, code in unknown
            ],
        )


async def _create(
    session: AsyncSession,
    kind: str,
    login: str,
    display_name: str,
    secret: str,
    data: ClientCreate | UserCreate,
    actor: str,
) -> Account:
    if await repository.get(session, kind, login) is not None:
        raise Conflict(f"An {KIND_NOUN[kind]} named '{login}' already exists.")
    now = datetime.now(UTC)
    account = Account(
        kind=kind,
        login=login,
        display_name=display_name,
        secret_hash=await hash_secret(secret),
        roles=sorted(set(data.roles)),
        regions=sorted(set(data.regions)),
        partner_id=data.partner_id,
        secret_changed_at=now,
        created_by=actor,
    )
    repository.add(session, account)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent create of the same login
        raise Conflict(f"An {KIND_NOUN[kind]} named '{login}' already exists.") from exc
    await session.refresh(account)
    _log.info("account created", kind=kind, login=login, roles=account.roles, actor=actor)
    return account


async def get(session: AsyncSession, kind: str, login: str, *, for_update: bool = False) -> Account:
    account = await repository.get(session, kind, login, for_update=for_update)
    if account is None:
        raise NotFound(f"No {KIND_NOUN[kind]} named '{login}'.")
    return account


async def list_accounts(session: AsyncSession, kind: str, params: PageParams) -> Page[Account]:
    rows = await repository.list_page(session, kind, params)
    return page_of(rows, params, key=lambda account: [account.login])


async def set_disabled(
    session: AsyncSession, kind: str, login: str, disabled: bool, actor: str
) -> Account:
    account = await get(session, kind, login, for_update=True)
    account.disabled_at = datetime.now(UTC) if disabled else None
    if disabled:
        await refresh.revoke_account(session, account, "account_disabled", actor)
    await session.flush()
    await session.refresh(account)
    _log.info(
        "account disabled" if disabled else "account enabled", kind=kind, login=login, actor=actor
    )
    return account


async def rotate_secret(session: AsyncSession, kind: str, login: str, actor: str) -> str:
    account = await get(session, kind, login, for_update=True)
    secret = new_secret()
    account.secret_hash = await hash_secret(secret)
    account.secret_changed_at = datetime.now(UTC)
    await refresh.revoke_account(session, account, "password_changed", actor)
    # Whoever was locked out gets in with the new secret at once: a reset is the way out
    # of a lock-out an attacker keeps renewing.
    await throttle.forget(session, account_key(kind, login))
    await session.flush()
    _log.info("account secret rotated", kind=kind, login=login, actor=actor)
    return secret
