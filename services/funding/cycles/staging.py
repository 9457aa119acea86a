"""The bulk SQL of payrolls, through temporary staging tables filled with COPY.

Building: the registry's enrollments are copied into `payroll_staging` batch by batch, then
one INSERT ... SELECT writes the lines in registry-number order, leaving out (and counting)
households that hold a line of the same programme and period already. Two builds of one
programme and period take turns for that statement (a transaction-scoped advisory lock), so
each sees the other's committed lines and counts them by reason; the partial unique index
`uq_payment_line_household_period` is what guarantees it regardless, with ON CONFLICT DO
NOTHING (its predicate repeated): a household taken by a writer that did not wait its turn
is skipped and counted, never paid twice.

Reconciling: the provider's report is copied into `report_staging` and compared with the
lines in SQL; the allowed changes are made in one UPDATE and come back grouped by amount
and date (for a payment reversed, the day it was paid), for the ledger.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.vocabulary import ReportedStatus
from shared.db import driver_connection

PAYROLL_COLUMNS = (
    "enrollment_id",
    "household_id",
    "registry_number",
    "payee_id",
    "given_name",
    "father_name",
    "grandfather_name",
    "phone",
    "region_code",
    "locality_code",
)

_CREATE_PAYROLL = """
CREATE TEMPORARY TABLE payroll_staging (
    enrollment_id uuid NOT NULL,
    household_id uuid NOT NULL,
    registry_number text NOT NULL,
    payee_id uuid,
    given_name text,
    father_name text,
    grandfather_name text,
    phone text,
    region_code text NOT NULL,
    locality_code text
) ON COMMIT DROP
"""

_TURN = "SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"

# Which line already holds each household for the programme and period (the partial unique
# index allows one), then the reason a household is left out, then the lines.
_WRITE_LINES = """
WITH classified AS MATERIALIZED (
    SELECT s.*,
        CASE
            WHEN held.status = 'paid' THEN 'already_paid'
            WHEN held.status = 'pending' THEN 'in_another_cycle'
            WHEN s.payee_id IS NULL THEN 'no_head'
            WHEN s.phone IS NULL OR s.phone = '' THEN 'no_phone'
        END AS reason
    FROM payroll_staging s
    LEFT JOIN LATERAL (
        SELECT p.status FROM payment_line p
        WHERE p.programme_code = :programme AND p.period = :period
          AND p.household_id = s.household_id AND p.status IN ('pending', 'paid')
        LIMIT 1
    ) held ON true
),
numbered AS MATERIALIZED (
    SELECT c.*, row_number() OVER (ORDER BY c.registry_number, c.household_id) AS line_no
    FROM classified c
    WHERE c.reason IS NULL
),
inserted AS (
    INSERT INTO payment_line (
        cycle_id, line_no, reference, programme_code, period, household_id, registry_number,
        enrollment_id, payee_id, payee_given_name, payee_father_name, payee_grandfather_name,
        payee_phone, region_code, locality_code, amount_minor, currency, status
    )
    SELECT
        :cycle_id, n.line_no,
        :cycle_reference || '-' || CASE WHEN n.line_no < 1000000
            THEN lpad(n.line_no::text, 6, '0') ELSE n.line_no::text END,
        :programme, :period, n.household_id, n.registry_number, n.enrollment_id, n.payee_id,
        n.given_name, n.father_name, n.grandfather_name, n.phone, n.region_code,
        n.locality_code, :amount_minor, :currency, 'pending'
    FROM numbered n
    ORDER BY n.line_no
    ON CONFLICT (programme_code, period, household_id) WHERE status IN ('pending', 'paid')
    DO NOTHING
    RETURNING 1
)
SELECT reason, count(*) FROM classified WHERE reason IS NOT NULL GROUP BY reason
UNION ALL SELECT '.candidates', count(*) FROM numbered
UNION ALL SELECT '.inserted', count(*) FROM inserted
"""


async def start_payroll(session: AsyncSession) -> None:
    # A rebuild in the same transaction (tests run every session inside one) finds the
    # table of the last one: dropped first.
    await session.execute(text("DROP TABLE IF EXISTS payroll_staging"))
    await session.execute(text(_CREATE_PAYROLL))


async def copy_enrollments(session: AsyncSession, records: Sequence[tuple[Any, ...]]) -> None:
    raw = await driver_connection(session)
    await raw.copy_records_to_table("payroll_staging", records=records, columns=PAYROLL_COLUMNS)


@dataclass(frozen=True)
class Written:
    lines: int
    excluded: dict[str, int]


async def write_lines(
    session: AsyncSession,
    *,
    cycle_id: uuid.UUID,
    cycle_reference: str,
    programme: str,
    period: str,
    amount_minor: int,
    currency: str,
) -> Written:
    """The staged enrollments as the cycle's lines, after any other build of the same
    programme and period has committed or rolled back its own."""
    await session.execute(text(_TURN), {"key": f"payment-lines:{programme}\x1f{period}"})
    result = await session.execute(
        text(_WRITE_LINES),
        {
            "cycle_id": cycle_id,
            "cycle_reference": cycle_reference,
            "programme": programme,
            "period": period,
            "amount_minor": amount_minor,
            "currency": currency,
        },
    )
    counts: dict[str, int] = {reason: count for reason, count in result}
    await session.execute(text("DROP TABLE payroll_staging"))
    candidates, inserted = counts.pop(".candidates"), counts.pop(".inserted")
    if candidates > inserted:
        counts["taken_by_concurrent_build"] = candidates - inserted
    return Written(lines=inserted, excluded=counts)


# Providers' reports

REPORT_COLUMNS = ("row_no", "reference", "status", "provider_reference", "settled_on")

_CREATE_REPORT = """
CREATE TEMPORARY TABLE report_staging (
    row_no integer NOT NULL,
    reference text NOT NULL,
    status text NOT NULL,
    provider_reference text,
    settled_on date NOT NULL
) ON COMMIT DROP
"""

# A line may go from pending to any reported status, and from paid to reversed (the money
# came back); reporting the status a line has already is a no-op. Anything else is refused.
_ALLOWED = "(l.status = 'pending' OR (l.status = 'paid' AND s.status = 'reversed'))"

_REFUSED_ROWS = f"""
SELECT s.row_no, s.status AS reported, l.status AS current, count(*) OVER () AS total
FROM report_staging s
LEFT JOIN payment_line l ON l.reference = s.reference AND l.cycle_id = :cycle_id
WHERE l.id IS NULL OR NOT (l.status = s.status OR {_ALLOWED})
ORDER BY s.row_no
LIMIT :limit
"""  # noqa: S608 (constant text, no values)

_UNCHANGED = """
SELECT count(*) FROM report_staging s
JOIN payment_line l ON l.reference = s.reference AND l.cycle_id = :cycle_id
WHERE l.status = s.status
"""

_APPLY = f"""
WITH target AS MATERIALIZED (
    -- A payment reversed keeps the day it was paid (when it was reversed is
    -- status_changed_at): its refund is valued on that day, as the payment was.
    SELECT l.id, l.status AS was, s.status AS now, l.amount_minor,
        CASE WHEN l.status = 'paid' THEN coalesce(l.settled_on, s.settled_on)
            ELSE s.settled_on END AS settled_on,
        s.provider_reference
    FROM report_staging s
    JOIN payment_line l ON l.reference = s.reference AND l.cycle_id = :cycle_id
    WHERE {_ALLOWED}
),
changed AS (
    UPDATE payment_line p
    SET status = t.now,
        provider_reference = coalesce(t.provider_reference, p.provider_reference),
        settled_on = t.settled_on,
        status_changed_at = now()
    FROM target t
    WHERE p.id = t.id
    RETURNING p.id
)
SELECT t.was, t.now, t.amount_minor, t.settled_on, count(*) AS lines
FROM target t
GROUP BY t.was, t.now, t.amount_minor, t.settled_on
ORDER BY t.settled_on, t.was, t.now, t.amount_minor
"""  # noqa: S608 (constant text, no values)


@dataclass(frozen=True)
class Refused:
    row: int
    reported: str
    current: str | None  # None: no such line in this cycle


@dataclass(frozen=True)
class Change:
    was: str
    now: ReportedStatus
    amount_minor: int
    settled_on: date  # the day reported; for a payment reversed, the day it was paid
    lines: int


async def stage_report(session: AsyncSession, records: Sequence[tuple[Any, ...]]) -> None:
    await session.execute(text("DROP TABLE IF EXISTS report_staging"))
    await session.execute(text(_CREATE_REPORT))
    raw = await driver_connection(session)
    await raw.copy_records_to_table("report_staging", records=records, columns=REPORT_COLUMNS)


async def refused_rows(
    session: AsyncSession, cycle_id: uuid.UUID, limit: int
) -> tuple[list[Refused], int]:
    """The first `limit` rows that cannot be applied, and how many there are."""
    rows = (
        await session.execute(text(_REFUSED_ROWS), {"cycle_id": cycle_id, "limit": limit})
    ).all()
    total = rows[0].total if rows else 0
    return [Refused(row.row_no, row.reported, row.current) for row in rows], total


async def unchanged_rows(session: AsyncSession, cycle_id: uuid.UUID) -> int:
    count: int = await session.scalar(text(_UNCHANGED), {"cycle_id": cycle_id})
    return count


async def apply_report(session: AsyncSession, cycle_id: uuid.UUID) -> list[Change]:
    rows = (await session.execute(text(_APPLY), {"cycle_id": cycle_id})).all()
    await session.execute(text("DROP TABLE report_staging"))
    return [Change(row.was, row.now, row.amount_minor, row.settled_on, row.lines) for row in rows]
