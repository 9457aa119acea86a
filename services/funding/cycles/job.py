"""Building payrolls in the background: a queued draft's lines, from the registry's stream of
the programme's active enrollments.

The lines are written in one transaction, committed at the end: a registry that stops
answering part-way (or anything else going wrong) leaves no line at all, and the cycle's
build `failed` with the reason; `POST /payment-cycles/{id}/build` queues it again. Memory
stays one batch's whatever the programme's size: each batch of the stream is COPYed into a
staging table, and the lines are made from it in SQL. Progress and the heartbeat go through
their own short transactions, so `GET /payment-cycles/{id}` shows them while the build runs;
a builder that dies stops beating, and another takes its cycle over from the start.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.clients.registry import EnrollmentLine, RegistryClient
from services.funding.config import FundingSettings
from services.funding.cycles import repository, staging
from services.funding.models import PaymentCycle
from shared.audit import AuditTrail
from shared.auth import Principal
from shared.db import Database
from shared.logs import get_logger
from shared.service_client import UpstreamError

STALE_AFTER_SECONDS = 120
# Who the audit trail names for a build: the service, on behalf of the cycle's creator.
BUILDER = Principal(subject="service:payroll-builder", roles=frozenset({"service"}))
_log = get_logger("inds.funding.cycles")
T = TypeVar("T")


@dataclass
class _Progress:
    read: int = 0


class Abandoned(Exception):
    """The build is no longer this builder's: the cycle was cancelled, or taken over."""


async def run_pending(
    database: Database, settings: FundingSettings, registry: RegistryClient, audit: AuditTrail
) -> int:
    """Build every queued payroll, one after the other; how many builds ran."""
    ran = 0
    while True:
        async with database.sessionmaker() as session, session.begin():
            cycle = await repository.claim_build(session, STALE_AFTER_SECONDS)
        if cycle is None:
            return ran
        await build(database, settings, registry, audit, cycle)
        ran += 1


async def build(
    database: Database,
    settings: FundingSettings,
    registry: RegistryClient,
    audit: AuditTrail,
    cycle: PaymentCycle,
) -> None:
    assert cycle.build_started_at is not None
    started = cycle.build_started_at
    _log.info("payroll build started", cycle_id=str(cycle.id), programme=cycle.programme_code)
    progress = _Progress()
    try:
        await _build(database, settings, registry, audit, cycle, started, progress)
    except Abandoned:
        _log.info("payroll build abandoned", cycle_id=str(cycle.id))
    except UpstreamError as exc:
        _log.warning("payroll build failed: registry", cycle_id=str(cycle.id), error=exc.type)
        await _fail(
            database,
            audit,
            cycle,
            started,
            f"The registry failed while the enrollments were read ({exc.status} {exc.title}: "
            f"{exc.detail}) after {progress.read} of them. Nothing was kept; queue the build "
            f"again (POST /payment-cycles/{cycle.id}/build) once the registry answers.",
        )
    except Exception:
        _log.error("payroll build failed", cycle_id=str(cycle.id), exc_info=True)
        await _fail(
            database,
            audit,
            cycle,
            started,
            "The build failed on our side; nothing was kept. Queue it again "
            f"(POST /payment-cycles/{cycle.id}/build); if it fails again, report it.",
        )
    finally:
        _log.info(
            "payroll build finished",
            cycle_id=str(cycle.id),
            seconds=round((datetime.now(UTC) - started).total_seconds(), 1),
        )


async def _build(
    database: Database,
    settings: FundingSettings,
    registry: RegistryClient,
    audit: AuditTrail,
    cycle: PaymentCycle,
    started: datetime,
    progress: _Progress,
) -> None:
    async with database.sessionmaker() as session, session.begin():
        await staging.start_payroll(session)
        stream = registry.active_enrollments(cycle.programme_code)
        async with contextlib.aclosing(_batches(stream, settings.build_batch_size)) as batches:
            async for batch in batches:
                await staging.copy_enrollments(session, [_record(line) for line in batch])
                progress.read += len(batch)
                await _beat(database, cycle.id, started, progress.read)
        if not await repository.lock_own_build(session, cycle.id, started):
            raise Abandoned
        written = await staging.write_lines(
            session,
            cycle_id=cycle.id,
            cycle_reference=cycle.reference,
            programme=cycle.programme_code,
            period=cycle.period,
            amount_minor=cycle.benefit_minor,
            currency=cycle.currency,
        )
        total = written.lines * cycle.benefit_minor
        await repository.end_build(
            session,
            cycle.id,
            started,
            build_status="built",
            build_message=_outcome(written),
            build_heartbeat_at=datetime.now(UTC),
            enrollments_read=progress.read,
            lines_count=written.lines,
            total_minor=total,
            excluded=written.excluded,
        )
        await _audit_build(
            session,
            audit,
            cycle,
            {
                "build_status": "built",
                "lines": written.lines,
                "total_minor": total,
                "currency": cycle.currency,
                "excluded": written.excluded,
            },
            enrollments_read=progress.read,
        )


def _outcome(written: staging.Written) -> str:
    left_out = ", ".join(f"{count} {reason}" for reason, count in sorted(written.excluded.items()))
    return f"{written.lines} lines" + (f"; left out: {left_out}" if left_out else "") + "."


async def _beat(database: Database, cycle_id: uuid.UUID, started: datetime, read: int) -> None:
    async with database.sessionmaker() as session, session.begin():
        if not await repository.beat(session, cycle_id, started, read):
            raise Abandoned


async def _fail(
    database: Database, audit: AuditTrail, cycle: PaymentCycle, started: datetime, message: str
) -> None:
    async with database.sessionmaker() as session, session.begin():
        if await repository.end_build(
            session, cycle.id, started, build_status="failed", build_message=message[:500]
        ):
            await _audit_build(session, audit, cycle, {"build_status": "failed"})


async def _audit_build(
    session: AsyncSession,
    audit: AuditTrail,
    cycle: PaymentCycle,
    after: dict[str, Any],
    **detail: Any,
) -> None:
    """The build's end on the audit trail, by the builder for the cycle's creator."""
    await audit.record_write(
        session,
        BUILDER,
        "build",
        "payment_cycle",
        cycle.id,
        detail={
            "on_behalf_of": cycle.created_by,
            "before": {"build_status": "building"},
            "after": after,
            **detail,
        },
    )


def _record(line: EnrollmentLine) -> tuple[Any, ...]:
    head = line.head
    return (
        line.enrollment_id,
        line.household_id,
        line.registry_number,
        head.individual_id if head else None,
        head.given_name if head else None,
        head.father_name if head else None,
        head.grandfather_name if head else None,
        head.phone if head else None,
        line.region_code,
        line.locality_code,
    )


async def _batches(items: AsyncIterator[T], size: int) -> AsyncGenerator[Sequence[T], None]:
    batch: list[T] = []
    async with contextlib.aclosing(items):  # type: ignore[type-var]
        async for item in items:
            batch.append(item)
            if len(batch) >= size:
                yield batch
                batch = []
    if batch:
        yield batch
