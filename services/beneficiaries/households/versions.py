"""One new version per request that changes a record, however many flushes it takes."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.models import Household, Individual


def touch(session: AsyncSession, *rows: Household | Individual) -> None:
    bumped: set[tuple[str, object]] = session.info.setdefault("bumped_versions", set())
    for row in rows:
        key = (type(row).__name__, row.id)
        if key not in bumped:
            bumped.add(key)
            row.version += 1


def next_change(session: AsyncSession) -> None:
    """What follows is another change, though in the same transaction (each operation of a
    sync batch): records it touches get a new version even if an earlier one bumped them."""
    session.info.pop("bumped_versions", None)
    session.info.pop("created_households", None)
