"""The SQL of a DCI search: the export statements (exports/repository.py: one place that
knows each catalogue field's SQL) narrowed to the agreement's fields, scope and the query's
conditions, cut into the requested page; and the count of what a search finds, asked only
when the page cannot tell it (dci/counts.py)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from services.beneficiaries.exports.fields import CATALOGUE
from services.beneficiaries.exports.repository import household_export, individual_export
from services.beneficiaries.models import DciMessage, Household, Individual
from services.beneficiaries.partners.scope import PartnerScope
from services.beneficiaries.records.filters import RegistryFilters
from services.beneficiaries.records.mapping import Field

_NO_FILTERS = RegistryFilters()


@lru_cache(maxsize=128)
def _household_statement(names: tuple[str, ...], today: date) -> Select[Any]:
    """The export statement of these fields (built once per field set and day: building
    one costs more than running it for a page)."""
    return household_export([CATALOGUE["households"][n] for n in names], _NO_FILTERS, None, today)


@lru_cache(maxsize=128)
def _person_statement(names: tuple[str, ...], today: date) -> Select[Any]:
    return individual_export([CATALOGUE["individuals"][n] for n in names], _NO_FILTERS, None, today)


def household_fields(scope: PartnerScope) -> list[Field]:
    return [CATALOGUE["households"][name] for name in scope.allowed(CATALOGUE["households"])]


def person_fields(scope: PartnerScope) -> list[Field]:
    return [CATALOGUE["individuals"][name] for name in scope.allowed(CATALOGUE["individuals"])]


_MESSAGES = cast(Table, DciMessage.__table__)
_MESSAGE_COLUMNS = ("sender_id", "message_id", "transaction_id")
# Built once (its SQL and cache key made once, not per message). Committed durably: the
# same transaction may hold an acknowledged asynchronous request's outbox row, and a
# replay check that a crash could forget would not be one.
_REMEMBER = (
    pg_insert(_MESSAGES)
    .from_select(
        list(_MESSAGE_COLUMNS),
        select(*(bindparam(name, type_=_MESSAGES.c[name].type) for name in _MESSAGE_COLUMNS)),
    )
    .on_conflict_do_nothing()
    .returning(_MESSAGES.c.message_id)
)


async def remember_message(
    session: AsyncSession, sender_id: str, message_id: str, transaction_id: str | None
) -> bool:
    """False when this sender sent this message id before (a replay)."""
    values = {"sender_id": sender_id, "message_id": message_id, "transaction_id": transaction_id}
    return (await session.execute(_REMEMBER, values)).scalar_one_or_none() is not None


async def count_households(session: AsyncSession, conditions: Sequence[ColumnElement[bool]]) -> int:
    statement = select(func.count()).select_from(Household).where(*conditions)
    return int(await session.scalar(statement) or 0)


async def household_page(
    session: AsyncSession,
    fields: Sequence[Field],
    conditions: Sequence[ColumnElement[bool]],
    order_by: Sequence[Any],
    offset: int,
    limit: int,
    today: date,
) -> list[tuple[uuid.UUID, dict[str, Any]]]:
    """The households the search finds from `offset`, at most `limit` (not counted here:
    counting every household found costs more than finding a page)."""
    statement = (
        _household_statement(tuple(f.name for f in fields), today)
        .where(*conditions)
        .order_by(None)
        .order_by(*order_by, Household.registry_number)
        .offset(offset)
        .limit(limit)
    )
    names = [field.name for field in fields]
    return [
        (row[0], dict(zip(names, row[2:], strict=True))) for row in await session.execute(statement)
    ]


async def members(
    session: AsyncSession,
    scope: PartnerScope,
    fields: Sequence[Field],
    household_ids: Sequence[uuid.UUID],
    today: date,
) -> list[tuple[uuid.UUID, uuid.UUID, bool, dict[str, Any]]]:
    """(person id, household id, is head, allowed fields) of the present members the
    agreement covers, head first."""
    if not household_ids:
        return []
    statement = (
        _person_statement(tuple(f.name for f in fields), today)
        .add_columns(Individual.relationship_to_head == "head")
        .where(Individual.household_id.in_(household_ids), *scope.person_conditions())
    )
    rows = (await session.execute(statement)).all()
    names = [field.name for field in fields]
    return [
        (row[0], row[1], bool(row[-1]), dict(zip(names, row[2:-1], strict=True))) for row in rows
    ]


async def count_people(session: AsyncSession, conditions: Sequence[ColumnElement[bool]]) -> int:
    statement = (
        select(func.count())
        .select_from(Individual)
        .join(Household, Household.id == Individual.household_id)
        .where(*conditions)
    )
    return int(await session.scalar(statement) or 0)


async def person_page(
    session: AsyncSession,
    fields: Sequence[Field],
    conditions: Sequence[ColumnElement[bool]],
    order_by: Sequence[Any],
    offset: int,
    limit: int,
    today: date,
) -> list[tuple[uuid.UUID, uuid.UUID, dict[str, Any]]]:
    """The people the search finds from `offset`, at most `limit`."""
    statement = _person_statement(tuple(f.name for f in fields), today).where(*conditions)
    if order_by:
        # Asked for: that order, then the person's id. Otherwise the export's: household by
        # household in registry-number order, each head first.
        statement = statement.order_by(None).order_by(*order_by, Individual.id)
    names = [field.name for field in fields]
    return [
        (row[0], row[1], dict(zip(names, row[2:], strict=True)))
        for row in await session.execute(statement.offset(offset).limit(limit))
    ]


async def uncovered_heads(
    session: AsyncSession, scope: PartnerScope, household_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """The households whose head is a person the agreement does not cover."""
    if not household_ids or scope.legal_statuses is None:
        return set()
    statement = select(Household.id).where(Household.id.in_(household_ids), ~scope.head_covered())
    return set((await session.execute(statement)).scalars())


async def household_sizes(
    session: AsyncSession, scope: PartnerScope, household_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """Each household's present members of the agreement's legal statuses."""
    if not household_ids:
        return {}
    statement = (
        select(Individual.household_id, func.count())
        .where(Individual.household_id.in_(household_ids), *scope.person_conditions())
        .group_by(Individual.household_id)
    )
    rows = await session.execute(statement)
    return {household_id: int(size) for household_id, size in rows if household_id is not None}
