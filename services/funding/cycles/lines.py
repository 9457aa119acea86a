"""Payment lines in the database: pages of a payroll, its totals, the amounts to convert, the
statement a payment file streams, and the lines of a cancelled payroll let go."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, Row, Select, cast, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.models import PaymentLine
from shared.pagination import PageParams, keyset_page


async def amount_groups(
    session: AsyncSession, cycle_id: uuid.UUID, statuses: Sequence[str] = ("pending",)
) -> list[tuple[int, int]]:
    """(amount, how many lines of that amount): a payroll of 100,000 equal benefits is one
    conversion, not 100,000."""
    rows = await session.execute(
        select(PaymentLine.amount_minor, func.count())
        .where(PaymentLine.cycle_id == cycle_id, PaymentLine.status.in_(statuses))
        .group_by(PaymentLine.amount_minor)
    )
    return [(amount, count) for amount, count in rows]


async def count_pending(session: AsyncSession, cycle_id: uuid.UUID) -> int:
    found = await session.execute(
        select(func.count())
        .select_from(PaymentLine)
        .where(PaymentLine.cycle_id == cycle_id, PaymentLine.status == "pending")
    )
    return found.scalar_one()


async def cancel_pending(session: AsyncSession, cycle_id: uuid.UUID) -> int:
    """A cancelled payroll's lines stop holding their households, who may then be paid by
    another cycle of the same period."""
    result = await session.execute(
        update(PaymentLine)
        .where(PaymentLine.cycle_id == cycle_id, PaymentLine.status == "pending")
        .values(status="cancelled", status_changed_at=func.now())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def page(
    session: AsyncSession,
    cycle_id: uuid.UUID,
    params: PageParams,
    *,
    status: str | None,
    region: str | None,
) -> Sequence[PaymentLine]:
    statement = select(PaymentLine).where(PaymentLine.cycle_id == cycle_id)
    if status is not None:
        statement = statement.where(PaymentLine.status == status)
    if region is not None:
        statement = statement.where(PaymentLine.region_code == region)
    statement = keyset_page(statement, [PaymentLine.line_no], params, [int])
    return (await session.execute(statement)).scalars().all()


async def totals(session: AsyncSession, cycle_id: uuid.UUID) -> Sequence[Row[Any]]:
    """Lines and amounts by status, by region and status, and by region (one query,
    GROUPING SETS); `all_statuses`/`all_regions` say which grouping a row is."""
    status, region = PaymentLine.status, PaymentLine.region_code
    statement = (
        select(
            status,
            region,
            func.count().label("lines"),
            cast(func.coalesce(func.sum(PaymentLine.amount_minor), 0), BigInteger).label(
                "amount_minor"
            ),
            func.grouping(status).label("all_statuses"),
            func.grouping(region).label("all_regions"),
        )
        .where(PaymentLine.cycle_id == cycle_id)
        .group_by(func.grouping_sets(tuple_(status), tuple_(region, status), tuple_(region)))
        .order_by(region.nulls_first(), status.nulls_first())
    )
    return (await session.execute(statement)).all()


def payment_file(cycle_id: uuid.UUID) -> Select[*tuple[Any, ...]]:
    """A payroll's lines in line order, what a payment file holds (household first: its
    read is audited)."""
    return (
        select(
            PaymentLine.household_id,
            PaymentLine.reference,
            PaymentLine.registry_number,
            PaymentLine.payee_id,
            PaymentLine.payee_given_name,
            PaymentLine.payee_father_name,
            PaymentLine.payee_grandfather_name,
            PaymentLine.payee_phone,
            PaymentLine.amount_minor,
            PaymentLine.currency,
            PaymentLine.status,
            PaymentLine.region_code,
            PaymentLine.locality_code,
        )
        .where(PaymentLine.cycle_id == cycle_id)
        .order_by(PaymentLine.line_no)
    )
