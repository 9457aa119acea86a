"""A programme's enrollments as JSON Lines, for payrolls: read through a server-side cursor
in batches, so memory stays flat however many households a programme pays."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.models import Programme
from services.beneficiaries.programmes import repository
from shared.audit import AuditTrail
from shared.auth import Principal

BATCH_SIZE = 1000
MEDIA_TYPE = "application/x-ndjson"


async def enrollment_lines(
    session: AsyncSession,
    programme: Programme,
    status: str | None,
    principal: Principal,
    audit: AuditTrail,
    *,
    batch_size: int = BATCH_SIZE,
) -> AsyncIterator[bytes]:
    """One JSON object per line and enrollment; each batch sent as one chunk, after its
    reads (heads' names and phones) are put on the audit trail."""
    statement = repository.enrollment_list(programme.id, status).execution_options(
        yield_per=batch_size
    )
    benefit = {
        "programme": programme.code,
        "benefit_amount": programme.benefit_amount,
        "benefit_currency": programme.benefit_currency,
        "benefit_period": programme.benefit_period,
    }
    result = await session.stream(statement)
    async for rows in result.partitions():
        await audit.record_reads(
            principal, "household", [(row.household_id, row.household_id) for row in rows]
        )
        yield b"".join(_encode(_line(row, benefit)) for row in rows)


def _line(row: Row[Any], benefit: dict[str, Any]) -> dict[str, Any]:
    head = None
    if row.head_id is not None:
        head = {
            "individual_id": row.head_id,
            "given_name": row.given_name,
            "father_name": row.father_name,
            "grandfather_name": row.grandfather_name,
            "phone": row.phone,
        }
    return {
        "enrollment_id": row.enrollment_id,
        "household_id": row.household_id,
        "registry_number": row.registry_number,
        "programme": benefit["programme"],
        "status": row.status,
        "enrolled_on": row.enrolled_on,
        "benefit_amount": benefit["benefit_amount"],
        "benefit_currency": benefit["benefit_currency"],
        "benefit_period": benefit["benefit_period"],
        "region_code": row.region_code,
        "locality_code": row.locality_code,
        "head": head,
    }


def _encode(line: dict) -> bytes:
    # asyncpg hands back its own UUID type, which orjson does not know: str() it.
    return orjson.dumps(line, default=str) + b"\n"
