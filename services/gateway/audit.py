"""The gateway's security trail (`auth_event`): rows written in the transaction of what they
record, so a lock-out or a revoked sign-in and its row land together or not at all."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.models import AuthEvent
from shared.request_context import current_request_id


def record(
    session: AsyncSession,
    event: str,
    *,
    subject: str | None = None,
    address: str | None = None,
    **detail: Any,
) -> None:
    """`detail` holds counts, reasons and ids: never a secret, token or typed login."""
    session.add(
        AuthEvent(
            event=event,
            subject=subject,
            address=address[:64] if address else None,
            request_id=current_request_id(),
            detail=detail,
        )
    )
