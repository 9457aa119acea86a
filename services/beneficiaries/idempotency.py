"""`Idempotency-Key` for the registry's create endpoints, on top of shared/idempotency.py:
a retried POST gets the first answer back instead of creating a second record."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from services.beneficiaries.models import IdempotencyRecord
from shared.auth import Principal
from shared.idempotency import remember, request_hash, stored_answer


def _fingerprint(request: Request, data: BaseModel) -> str:
    # The path is part of the request: the same key and body sent to another programme's
    # enrollments is another request.
    return request_hash(
        {"method": request.method, "path": request.url.path, "body": data.model_dump(mode="json")}
    )


async def replayed(
    session: AsyncSession,
    principal: Principal,
    key: str | None,
    request: Request,
    data: BaseModel,
) -> Response | None:
    """The stored answer when this key was used before (for the same request), else None."""
    if key is None:
        return None
    return await stored_answer(
        session, IdempotencyRecord, principal.subject, key, _fingerprint(request, data)
    )


async def store_answer(
    session: AsyncSession,
    principal: Principal,
    key: str | None,
    request: Request,
    data: BaseModel,
    status_code: int,
    answer: BaseModel | dict[str, Any],
) -> None:
    """Keep the answer with the write, in its transaction."""
    if key is None:
        return
    await remember(
        session,
        IdempotencyRecord,
        principal.subject,
        key,
        _fingerprint(request, data),
        status_code,
        answer.model_dump(mode="json") if isinstance(answer, BaseModel) else answer,
    )
