"""Payment cycles in the database: reading them, the build queue (claimed with SKIP LOCKED,
kept with a heartbeat, taken over when the heartbeat stops), and every status change as a
conditional UPDATE, so two requests racing for one change cannot both make it. The
agreements, projects and organisations a cycle refers to are read through their own
repositories."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.agreements import repository as agreements
from services.funding.models import (
    Agreement,
    PaymentCycle,
    Project,
    ReconciliationReport,
    Transaction,
)
from services.funding.organisations import repository as organisations
from services.funding.projects import repository as projects
from shared.errors import NotFound
from shared.pagination import PageParams, keyset_page


def _found(cycle: PaymentCycle | None) -> PaymentCycle:
    if cycle is None:
        raise NotFound("No such payment cycle.")
    return cycle


def add(session: AsyncSession, cycle: PaymentCycle) -> None:
    session.add(cycle)


async def agreement(session: AsyncSession, agreement_id: uuid.UUID) -> Agreement | None:
    """The agreement as the database has it now (its balance moves outside the ORM)."""
    return await agreements.get(session, agreement_id)


async def project(session: AsyncSession, project_id: uuid.UUID) -> Project | None:
    return await projects.get(session, project_id)


async def organisation_exists(session: AsyncSession, organisation_id: uuid.UUID) -> bool:
    return organisation_id in await organisations.existing(session, {organisation_id})


async def get(session: AsyncSession, cycle_id: uuid.UUID) -> PaymentCycle:
    """The cycle as the database has it now (not as this session saw it before)."""
    return _found(await session.get(PaymentCycle, cycle_id, populate_existing=True))


async def lock(session: AsyncSession, cycle_id: uuid.UUID) -> PaymentCycle:
    """The cycle, locked until the transaction ends: its changes are made one at a time."""
    return _found(
        await session.get(PaymentCycle, cycle_id, with_for_update=True, populate_existing=True)
    )


async def currency_of(session: AsyncSession, agreement_id: uuid.UUID) -> str:
    found = await agreements.get(session, agreement_id)
    if found is None:  # the foreign key keeps every cycle's agreement
        raise NotFound("No such agreement.")
    return found.currency


async def with_currencies(
    session: AsyncSession, rows: Sequence[PaymentCycle]
) -> dict[uuid.UUID, str]:
    """The currency of each cycle's agreement (what its reservation is in), in one query."""
    return await agreements.currencies(session, {row.agreement_id for row in rows})


async def list_cycles(
    session: AsyncSession,
    params: PageParams,
    *,
    programme: str | None,
    period: str | None,
    status: str | None,
) -> Sequence[PaymentCycle]:
    statement = select(PaymentCycle)
    if programme is not None:
        statement = statement.where(PaymentCycle.programme_code == programme)
    if period is not None:
        statement = statement.where(PaymentCycle.period == period)
    if status is not None:
        statement = statement.where(PaymentCycle.status == status)
    statement = keyset_page(
        statement,
        [PaymentCycle.created_at, PaymentCycle.id],
        params,
        [datetime, uuid.UUID],
        descending=True,
    )
    return (await session.execute(statement)).scalars().all()


async def _move(
    session: AsyncSession,
    cycle_id: uuid.UUID,
    from_statuses: Sequence[str],
    *conditions: ColumnElement[bool],
    **values: Any,
) -> bool:
    """Change the cycle if it is in one of `from_statuses` (and meets `conditions`) when the
    UPDATE reaches its row; whether it did. Concurrent moves queue on the row's lock, and
    each after the first sees the status the first left."""
    moved = await session.scalar(
        update(PaymentCycle)
        .where(PaymentCycle.id == cycle_id, PaymentCycle.status.in_(from_statuses), *conditions)
        .values(version=PaymentCycle.version + 1, **values)
        .returning(PaymentCycle.id)
        .execution_options(synchronize_session=False)
    )
    return moved is not None


async def approve(
    session: AsyncSession,
    cycle_id: uuid.UUID,
    *,
    approved_by: str,
    cycle_rate_to_djf: Decimal,
    agreement_rate_to_djf: Decimal,
    reserved_minor: int,
) -> bool:
    """draft (its payroll built) -> approved, with the rates fixed and what was reserved."""
    return await _move(
        session,
        cycle_id,
        ("draft",),
        PaymentCycle.build_status == "built",
        status="approved",
        approved_by=approved_by,
        approved_at=func.now(),
        cycle_rate_to_djf=cycle_rate_to_djf,
        agreement_rate_to_djf=agreement_rate_to_djf,
        reserved_minor=reserved_minor,
    )


async def send(session: AsyncSession, cycle_id: uuid.UUID, sent_by: str) -> bool:
    """approved -> sent."""
    return await _move(
        session, cycle_id, ("approved",), status="sent", sent_by=sent_by, sent_at=func.now()
    )


_BUILD_PENDING = PaymentCycle.build_status.in_(("queued", "building"))


async def cancel(session: AsyncSession, cycle_id: uuid.UUID, was: str, reason: str) -> bool:
    """`was` (draft or approved) -> cancelled. A build still to come or under way is dropped
    (its builder finds it cancelled, and failed)."""
    return await _move(
        session,
        cycle_id,
        (was,),
        status="cancelled",
        cancelled_at=func.now(),
        cancel_reason=reason,
        build_status=case((_BUILD_PENDING, "failed"), else_=PaymentCycle.build_status),
        build_message=case(
            (_BUILD_PENDING, "Cancelled before its payroll was built."),
            else_=PaymentCycle.build_message,
        ),
    )


async def start_reconciling(session: AsyncSession, cycle_id: uuid.UUID) -> bool:
    """sent -> reconciling, with the first report applied."""
    return await _move(session, cycle_id, ("sent",), status="reconciling")


async def close(session: AsyncSession, cycle_id: uuid.UUID) -> bool:
    """reconciling -> closed."""
    return await _move(session, cycle_id, ("reconciling",), status="closed", closed_at=func.now())


# The build queue


async def claim_build(session: AsyncSession, stale_seconds: int) -> PaymentCycle | None:
    """The oldest draft waiting for its payroll, or one whose builder stopped beating (its
    writes were never committed: it starts again). Skipped while another builder holds it."""
    stale_before = func.clock_timestamp() - timedelta(seconds=stale_seconds)
    cycle_id = await session.scalar(
        select(PaymentCycle.id)
        .where(
            PaymentCycle.status == "draft",
            or_(
                PaymentCycle.build_status == "queued",
                (PaymentCycle.build_status == "building")
                & (
                    func.coalesce(PaymentCycle.build_heartbeat_at, PaymentCycle.created_at)
                    < stale_before
                ),
            ),
        )
        .order_by(PaymentCycle.created_at)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if cycle_id is None:
        return None
    await session.execute(
        update(PaymentCycle)
        .where(PaymentCycle.id == cycle_id)
        .values(
            build_status="building",
            build_message=None,
            build_started_at=func.clock_timestamp(),
            build_heartbeat_at=func.clock_timestamp(),
            build_finished_at=None,
            enrollments_read=0,
            lines_count=0,
            total_minor=0,
            excluded={},
        )
        .execution_options(synchronize_session=False)
    )
    return await get(session, cycle_id)


def _own_build(cycle_id: uuid.UUID, started_at: datetime) -> list[ColumnElement[bool]]:
    """The build this builder claimed: still a draft, building, and not taken over since
    (a takeover restarts `build_started_at`)."""
    return [
        PaymentCycle.id == cycle_id,
        PaymentCycle.status == "draft",
        PaymentCycle.build_status == "building",
        PaymentCycle.build_started_at == started_at,
    ]


async def beat(
    session: AsyncSession, cycle_id: uuid.UUID, started_at: datetime, enrollments_read: int
) -> bool:
    """Progress and heartbeat; whether the build is still this builder's to finish."""
    kept = await session.scalar(
        update(PaymentCycle)
        .where(*_own_build(cycle_id, started_at))
        .values(build_heartbeat_at=func.clock_timestamp(), enrollments_read=enrollments_read)
        .returning(PaymentCycle.id)
        .execution_options(synchronize_session=False)
    )
    return kept is not None


async def lock_own_build(session: AsyncSession, cycle_id: uuid.UUID, started_at: datetime) -> bool:
    """Lock the cycle for writing its lines, if the build is still this builder's: a cancel
    or a takeover waits for the lines, or the lines are not written."""
    kept = await session.scalar(
        select(PaymentCycle.id).where(*_own_build(cycle_id, started_at)).with_for_update()
    )
    return kept is not None


async def end_build(
    session: AsyncSession, cycle_id: uuid.UUID, started_at: datetime, **values: Any
) -> bool:
    ended = await session.scalar(
        update(PaymentCycle)
        .where(*_own_build(cycle_id, started_at))
        .values(build_finished_at=func.clock_timestamp(), **values)
        .returning(PaymentCycle.id)
        .execution_options(synchronize_session=False)
    )
    return ended is not None


async def requeue(session: AsyncSession, cycle_id: uuid.UUID) -> bool:
    """A failed build queued again (for a draft only)."""
    queued = await session.scalar(
        update(PaymentCycle)
        .where(
            PaymentCycle.id == cycle_id,
            PaymentCycle.status == "draft",
            PaymentCycle.build_status == "failed",
        )
        .values(build_status="queued", build_message=None, version=PaymentCycle.version + 1)
        .returning(PaymentCycle.id)
        .execution_options(synchronize_session=False)
    )
    return queued is not None


# Providers' reports


async def report_of_file(
    session: AsyncSession, cycle_id: uuid.UUID, file_sha256: str
) -> ReconciliationReport | None:
    return await session.scalar(
        select(ReconciliationReport).where(
            ReconciliationReport.cycle_id == cycle_id,
            ReconciliationReport.file_sha256 == file_sha256,
        )
    )


def add_report(session: AsyncSession, report: ReconciliationReport) -> None:
    session.add(report)


async def first_transaction(
    session: AsyncSession, cycle_id: uuid.UUID, type: int, value_date: date | None = None
) -> Transaction | None:
    """The first transaction of `type` (a positive amount) the cycle recorded, of
    `value_date` if given: whose rates a correction of it reuses."""
    statement = select(Transaction).where(
        Transaction.payment_cycle_id == cycle_id,
        Transaction.type == type,
        Transaction.amount_minor > 0,
    )
    if value_date is not None:
        statement = statement.where(Transaction.value_date == value_date)
    return await session.scalar(statement.order_by(Transaction.created_at).limit(1))
