from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.models import Account
from shared.pagination import PageParams, keyset_page


async def get(
    session: AsyncSession, kind: str, login: str, *, for_update: bool = False
) -> Account | None:
    statement = select(Account).where(Account.kind == kind, Account.login == login)
    if for_update:
        statement = statement.with_for_update()
    return (await session.execute(statement)).scalar_one_or_none()


async def list_page(session: AsyncSession, kind: str, params: PageParams) -> Sequence[Account]:
    statement = keyset_page(
        select(Account).where(Account.kind == kind), [Account.login], params, [str]
    )
    return (await session.execute(statement)).scalars().all()


def add(session: AsyncSession, account: Account) -> None:
    session.add(account)


async def disabled_subjects(session: AsyncSession) -> list[str]:
    """`kind:login` of every disabled account (the subject its tokens carry)."""
    statement = select(Account.kind, Account.login).where(Account.disabled_at.is_not(None))
    return [f"{kind}:{login}" for kind, login in (await session.execute(statement)).all()]
