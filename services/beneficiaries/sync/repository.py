"""The sync package's own queries: whether a departure was recorded already, and the change
feed."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.models import Membership
from services.beneficiaries.records.documents import DOCUMENT_COLUMNS, HouseholdDocument
from shared.db import driver_connection


async def last_departure(
    session: AsyncSession, household_id: uuid.UUID, individual_id: uuid.UUID
) -> tuple[date | None, str | None] | None:
    """(ended_on, end_reason) of the person's latest membership span in the household."""
    statement = (
        select(Membership.ended_on, Membership.end_reason)
        .where(Membership.household_id == household_id, Membership.individual_id == individual_id)
        .order_by(Membership.started_on.desc(), Membership.recorded_at.desc())
        .limit(1)
    )
    row = (await session.execute(statement)).first()
    return (row[0], row[1]) if row else None


@dataclass
class ChangedPage:
    # The oldest transaction still running when the page was read (its snapshot's xmin).
    horizon: int
    # ((change_txid, change_seq), household) in change order.
    changes: list[tuple[tuple[int, int], HouseholdDocument]]


# Everything in one statement, so one snapshot: the horizon, which rows are before it and
# the documents built from those very row versions. Per region, the region's change index
# is walked in order (LATERAL ... LIMIT) and the branches merged, so a page costs `limit`
# index entries per region whatever the registry's size.
_CHANGES_HEAD = """
WITH snap AS MATERIALIZED (
    SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS horizon
),
page AS MATERIALIZED (
"""
_CHANGES_ALL = """
    SELECT h.id, h.change_txid, h.change_seq FROM household h
    WHERE (h.change_txid, h.change_seq) > ($1::bigint, $2::bigint)
      AND h.change_txid < (SELECT horizon FROM snap)
    ORDER BY h.change_txid, h.change_seq
    LIMIT $3
"""
_CHANGES_REGIONS = """
    SELECT c.id, c.change_txid, c.change_seq
    FROM unnest($4::text[]) AS r(code)
    CROSS JOIN LATERAL (
        SELECT h.id, h.change_txid, h.change_seq FROM household h
        WHERE h.region_code = r.code
          AND (h.change_txid, h.change_seq) > ($1::bigint, $2::bigint)
          AND h.change_txid < (SELECT horizon FROM snap)
        ORDER BY h.change_txid, h.change_seq
        LIMIT $3
    ) AS c
    ORDER BY c.change_txid, c.change_seq
    LIMIT $3
"""
_CHANGES_TAIL = (
    """
)
SELECT snap.horizon, p.change_txid, p.change_seq, d.*
FROM snap
LEFT JOIN (page p CROSS JOIN LATERAL (SELECT"""
    + DOCUMENT_COLUMNS
    + """FROM household h WHERE h.id = p.id) AS d) ON true
ORDER BY p.change_txid, p.change_seq
"""
)
CHANGES_ALL = _CHANGES_HEAD + _CHANGES_ALL + _CHANGES_TAIL
CHANGES_IN_REGIONS = _CHANGES_HEAD + _CHANGES_REGIONS + _CHANGES_TAIL


async def changes_after(
    session: AsyncSession,
    after: tuple[int, int],
    regions: Sequence[str] | None,
    limit: int,
) -> ChangedPage:
    """Households whose current version was written by a transaction that had finished
    before this snapshot's oldest running one, after `after`, in change order."""
    raw = await driver_connection(session)
    if regions is None:
        rows = await raw.fetch(CHANGES_ALL, after[0], after[1], limit)
    else:
        rows = await raw.fetch(CHANGES_IN_REGIONS, after[0], after[1], limit, list(regions))
    horizon = rows[0][0]
    changes = [
        ((row[1], row[2]), HouseholdDocument(*row[3:])) for row in rows if row[1] is not None
    ]
    return ChangedPage(horizon, changes)
