"""Registry events partners subscribe to (DCI `subscribe`): a household registered, a
member joining one, an enrollment made or changing status. Each is written to the callback
outbox in the transaction of the change it tells of (committed with it, or not at all),
one row per live subscription to its type; what a notification says is read when it is
first sent, under the partner's agreement as it then stands (callbacks/notifications.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

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
    "registry_event",
]


async def registry_event(
    session: AsyncSession,
    event_type: str,
    household_id: uuid.UUID,
    individual_id: uuid.UUID | None = None,
) -> None:
    event = {
        "id": str(uuid.uuid4()),
        "type": event_type,
        "household_id": str(household_id),
        "individual_id": str(individual_id) if individual_id else None,
        "at": datetime.now(UTC).isoformat(),
    }
    await repository.fan_out(session, event_type, event)
