"""Registry events partners subscribe to (DCI `subscribe`): a household registered, a
member joining one, an enrollment made or changing status. Each is written to the callback
outbox in the transaction of the change it tells of (committed with it, or not at all),
one row per live subscription to its type; what a notification says is read when it is
first sent, under the partner's agreement as it then stands (callbacks/notifications.py)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.callbacks import repository
from services.beneficiaries.dci.codes import (
    EVENT_ENROLLMENT,
    EVENT_ENROLLMENT_STATUS,
    EVENT_NEW_MEMBER,
    EVENT_REGISTER,
)

__all__ = [
    "EVENT_ENROLLMENT",
    "EVENT_ENROLLMENT_STATUS",
    "EVENT_NEW_MEMBER",
    "EVENT_REGISTER",
    "registrations",
    "registry_event",
]


async def registry_event(
    session: AsyncSession,
    event_type: str,
    household_id: uuid.UUID,
    individual_id: uuid.UUID | None = None,
) -> None:
    await repository.fan_out(session, event_type, [_event(event_type, household_id, individual_id)])


async def registrations(session: AsyncSession, household_ids: Sequence[uuid.UUID]) -> None:
    """Households registered together (an import or sync batch): one event each."""
    events = [_event(EVENT_REGISTER, household_id) for household_id in household_ids]
    await repository.fan_out(session, EVENT_REGISTER, events)


def _event(
    event_type: str, household_id: uuid.UUID, individual_id: uuid.UUID | None = None
) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "type": event_type,
        "household_id": str(household_id),
        "individual_id": str(individual_id) if individual_id else None,
        "at": datetime.now(UTC).isoformat(),
    }
