"""Agreements, their usage counters and what resolving a pseudonym reads."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Select, bindparam, literal, select
from sqlalchemy import Table as SqlTable
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.exports import repository as exports
from services.beneficiaries.models import (
    AdminArea,
    DataSharingAgreement,
    Household,
    Identifier,
    Individual,
    PartnerUsage,
    Programme,
)
from services.beneficiaries.records.filters import RegistryFilters
from services.beneficiaries.records.mapping import Field
from shared.db import NO_DISK_WAIT
from shared.pagination import PageParams, keyset_page
from shared.repository import Table

if TYPE_CHECKING:
    from services.beneficiaries.partners.scope import PartnerScope

Agreement = DataSharingAgreement
agreements = Table(Agreement, "No data-sharing agreement with this id.")


async def list_agreements(
    session: AsyncSession, params: PageParams, partner_id: str | None
) -> Sequence[Agreement]:
    statement = select(Agreement)
    if partner_id is not None:
        statement = statement.where(Agreement.partner_id == partner_id)
    statement = keyset_page(
        statement,
        [Agreement.partner_id, Agreement.valid_from, Agreement.id],
        params,
        [str, date, uuid.UUID],
    )
    return (await session.execute(statement)).scalars().all()


# Every partner request asks: built once.
_OF_PARTNER = (
    select(Agreement)
    .where(Agreement.partner_id == bindparam("partner_id"))
    .order_by(Agreement.valid_from.desc(), Agreement.created_at.desc())
)


async def of_partner(session: AsyncSession, partner_id: str) -> Sequence[Agreement]:
    """The partner's agreements, latest period first."""
    return (await session.execute(_OF_PARTNER, {"partner_id": partner_id})).scalars().all()


async def overlapping(
    session: AsyncSession,
    partner_id: str,
    valid_from: date,
    valid_to: date,
    exclude: uuid.UUID | None = None,
) -> uuid.UUID | None:
    statement = select(Agreement.id).where(
        Agreement.partner_id == partner_id,
        Agreement.valid_from <= valid_to,
        Agreement.valid_to >= valid_from,
    )
    if exclude is not None:
        statement = statement.where(Agreement.id != exclude)
    return await session.scalar(statement.limit(1))


async def unknown_programmes(session: AsyncSession, codes: Sequence[str]) -> list[str]:
    found = set(
        (await session.execute(select(Programme.code).where(Programme.code.in_(codes)))).scalars()
    )
    return [code for code in codes if code not in found]


async def unknown_regions(session: AsyncSession, codes: Sequence[str]) -> list[str]:
    statement = select(AdminArea.code).where(AdminArea.code.in_(codes), AdminArea.level == 1)
    found = set((await session.execute(statement)).scalars())
    return [code for code in codes if code not in found]


# The usage counters are written in autocommit, one statement each, that commits without
# waiting for the disk (NO_DISK_WAIT): the counter's row lock is held inside that statement,
# never across a round trip to the service, so a partner's concurrent requests do not queue
# at it (a crash can lose the last fraction of a second of counts; the audit trail's queued
# reads likewise).


_USAGE = cast(SqlTable, PartnerUsage.__table__)
_DAY_OF = (_USAGE.c.agreement_id, _USAGE.c.day)


def _usage_row(requests: Any, records: Any) -> Any:
    """Today's usage row of `:agreement_id` (on `:day`) with these counts, when new. (Built
    once: a statement's SQL and cache key are then made once, not per request.)"""
    values = select(
        bindparam("agreement_id", type_=_USAGE.c.agreement_id.type),
        bindparam("day", type_=_USAGE.c.day.type),
        requests,
        records,
    ).where(NO_DISK_WAIT)
    return insert(_USAGE).from_select(
        [_USAGE.c.agreement_id, _USAGE.c.day, _USAGE.c.requests, _USAGE.c.records], values
    )


_TAKE_REQUEST = (
    _usage_row(literal(1, _USAGE.c.requests.type), literal(0, _USAGE.c.records.type))
    .on_conflict_do_update(
        index_elements=_DAY_OF,
        set_={"requests": _USAGE.c.requests + 1},
        where=_USAGE.c.requests < bindparam("quota", type_=_USAGE.c.requests.type),
    )
    .returning(_USAGE.c.requests)
)
_ADD_RECORDS = _usage_row(
    literal(0, _USAGE.c.requests.type), bindparam("records", type_=_USAGE.c.records.type)
).on_conflict_do_update(
    index_elements=_DAY_OF,
    set_={"records": _USAGE.c.records + bindparam("records", type_=_USAGE.c.records.type)},
)


async def take_request(
    session: AsyncSession, agreement_id: uuid.UUID, day: date, quota: int
) -> bool:
    """One more request today if the quota allows it (False when it is used up)."""
    if quota <= 0:
        return False
    values = {"agreement_id": agreement_id, "day": day, "quota": quota}
    return (await session.execute(_TAKE_REQUEST, values)).scalar_one_or_none() is not None


async def add_records(
    session: AsyncSession, agreement_id: uuid.UUID, day: date, records: int
) -> None:
    values = {"agreement_id": agreement_id, "day": day, "records": records}
    await session.execute(_ADD_RECORDS, values)


async def usage(
    session: AsyncSession, agreement_id: uuid.UUID, since: date | None, until: date | None
) -> Sequence[PartnerUsage]:
    statement = select(PartnerUsage).where(PartnerUsage.agreement_id == agreement_id)
    if since is not None:
        statement = statement.where(PartnerUsage.day >= since)
    if until is not None:
        statement = statement.where(PartnerUsage.day <= until)
    return (await session.execute(statement.order_by(PartnerUsage.day))).scalars().all()


_BATCH = 50_000


async def candidate_batches(
    session: AsyncSession, kind: str
) -> AsyncIterator[list[tuple[str, uuid.UUID, uuid.UUID | None]]]:
    """(value pseudonymised, individual or household id, household id) in batches: every
    household (kind `hh`), every person (`in`), or every identifier of a type."""
    if kind == "hh":
        statement: Any = select(Household.id, Household.id, Household.id)
    elif kind == "in":
        statement = select(Individual.id, Individual.id, Individual.household_id)
    else:
        statement = (
            select(Identifier.value, Individual.id, Individual.household_id)
            .join(Individual, Individual.id == Identifier.individual_id)
            .where(Identifier.type == kind)
        )
    result = await session.stream(statement.execution_options(yield_per=_BATCH))
    async for partition in result.partitions(_BATCH):
        yield [(str(value), first, second) for value, first, second in partition]


def household_export(scope: PartnerScope, fields: Sequence[Field], today: date) -> Select[Any]:
    """The registry's household export (exports/repository.py) of these fields, narrowed to
    the agreement's households, with two more columns: whether the head is a person the
    agreement covers, and the household's size as the partner may count it."""
    return (
        exports.household_export(fields, RegistryFilters(), None, today)
        .add_columns(
            scope.head_covered().label("_head_covered"), scope.household_size().label("_size")
        )
        .where(*scope.household_conditions())
    )


def individual_export(scope: PartnerScope, fields: Sequence[Field], today: date) -> Select[Any]:
    """The registry's individual export of these fields, narrowed to the people the
    agreement covers in the households it covers."""
    return exports.individual_export(fields, RegistryFilters(), None, today).where(
        *scope.person_conditions(), *scope.household_conditions()
    )
