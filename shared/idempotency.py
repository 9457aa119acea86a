"""`Idempotency-Key` on POSTs: the first answer is stored with the write, in the same
transaction; a retry with the same key and body gets that answer again and changes nothing;
the same key with another body is refused."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

import orjson
from fastapi import Header
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import JSONResponse

from shared.errors import ProblemError

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=128,
        description="Send the same key when retrying: the write happens once.",
    ),
]


class IdempotencyKeyReused(ProblemError):
    status, type, title = 422, "idempotency-key-reused", "Idempotency key reused"


def request_hash(payload: Any) -> str:
    try:
        canonical = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        # What orjson refuses but a JSON body can hold (integers past 64 bits, lone
        # surrogate escapes): the standard library, all escaped. The same payload always
        # takes the same path, so its hash is stable.
        canonical = json.dumps(payload, sort_keys=True, default=str).encode()
    return hashlib.sha256(canonical).hexdigest()


async def stored_answer(
    session: AsyncSession, model: type, principal: str, key: str, fingerprint: str
) -> JSONResponse | None:
    """The stored answer for this key, or None the first time. Same-key requests are
    serialised (a transaction-scoped advisory lock) so two retries cannot both write."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
        {"k": f"{principal}\x1f{key}"},
    )
    record = await session.scalar(
        select(model).where(model.principal == principal, model.key == key)  # type: ignore[attr-defined]
    )
    if record is None:
        return None
    if record.request_hash != fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was used for a different request; use a new key."
        )
    return JSONResponse(
        record.response_body,
        status_code=record.status_code,
        headers={"Idempotent-Replayed": "true"},
    )


async def remember(
    session: AsyncSession,
    model: type,
    principal: str,
    key: str,
    fingerprint: str,
    status_code: int,
    body: Any,
) -> None:
    session.add(
        model(
            principal=principal,
            key=key,
            request_hash=fingerprint,
            status_code=status_code,
            response_body=orjson.loads(orjson.dumps(body, default=str)),
            created_at=func.now(),
        )
    )
    await session.flush()
