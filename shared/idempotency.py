"""`Idempotency-Key` on POSTs: the first answer is stored with the write, in the same
transaction; a retry with the same key and body gets that answer again and changes nothing;
the same key with another body is refused.

Endpoints take an `IdempotentPost` (a dependency bound to their service's record table, see
`idempotent_posts`) and run their write through it:

    return await idempotent.run(data, lambda: service.create(...), status_code=201)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Header, Request
from pydantic import BaseModel
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import JSONResponse, Response

from shared.auth import CurrentPrincipal
from shared.db import DbSession
from shared.errors import PreconditionRequired, ProblemError
from shared.etag import etag

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=128,
        description="Send the same key when retrying: the write happens once.",
    ),
]
RequiredIdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=128,
        description="Required: a retried request with the same key gets the first answer "
        "back and changes nothing.",
    ),
]
Answer = TypeVar("Answer")
# The headers of an answer, from its body: what a replay carries besides the body.
HeadersOf = Callable[[Any], Mapping[str, str]]


def created_headers(base: str, *, versioned: bool = True) -> HeadersOf:
    """The headers of a resource created under `base`, from its body (a dict with `id` and,
    when `versioned`, `version`): its `Location` and `ETag`. Made once for the first answer
    and for every replay, so a retry carries what the first answer did."""

    def headers(body: Any) -> dict[str, str]:
        answer = {"Location": f"{base}/{body['id']}"}
        if versioned:
            answer["ETag"] = etag(body["version"])
        return answer

    return headers


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
    session: AsyncSession,
    model: type,
    principal: str,
    key: str,
    fingerprint: str,
    headers_of: HeadersOf | None = None,
) -> JSONResponse | None:
    """The stored answer for this key, or None the first time, with the headers
    `headers_of` gives for its body (a Location, an ETag: those of the first answer). Same-key
    requests are serialised (a transaction-scoped advisory lock) so two retries cannot both
    write."""
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
    headers = dict(headers_of(record.response_body)) if headers_of is not None else {}
    return JSONResponse(
        record.response_body,
        status_code=record.status_code,
        headers={**headers, "Idempotent-Replayed": "true"},
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


def _stored_body(answer: Any) -> Any:
    if isinstance(answer, BaseModel):
        return answer.model_dump(mode="json")
    if isinstance(answer, Response):  # a body the endpoint rendered itself (JSON)
        return orjson.loads(bytes(answer.body))
    return answer


@dataclass(frozen=True)
class IdempotentPost:
    """One POST, made safe to retry with its `Idempotency-Key` (none sent: it simply runs)."""

    session: AsyncSession
    principal: str
    key: str | None
    method: str
    path: str
    record: type
    # A request without a key is refused (428) rather than run.
    required: bool = False

    async def run(
        self,
        data: BaseModel,
        write: Callable[[], Awaitable[Answer]],
        *,
        status_code: int,
        headers_of: HeadersOf | None = None,
    ) -> Answer | JSONResponse:
        """The stored answer of an earlier request with this key, or `write()`'s, stored.
        `headers_of`: the headers the first answer had, from its body, for a replay to carry
        them too (the same function should make the first answer's)."""
        if self.key is None:
            if self.required:
                raise PreconditionRequired(
                    "Send an Idempotency-Key: a retried request must not apply twice."
                )
            return await write()
        # The path is part of the request: the same key and body sent to another
        # programme's enrollments is another request.
        fingerprint = request_hash(
            {"method": self.method, "path": self.path, "body": data.model_dump(mode="json")}
        )
        replay = await stored_answer(
            self.session, self.record, self.principal, self.key, fingerprint, headers_of
        )
        if replay is not None:
            return replay
        answer = await write()
        await remember(
            self.session,
            self.record,
            self.principal,
            self.key,
            fingerprint,
            status_code,
            _stored_body(answer),
        )
        return answer


def idempotent_posts(
    record: type, *, required: bool = False
) -> Callable[..., Awaitable[IdempotentPost]]:
    """The dependency giving endpoints their `IdempotentPost`, answers kept in `record`'s
    table; `required`: a request without a key is refused (428)."""

    async def optional(
        request: Request,
        session: DbSession,
        principal: CurrentPrincipal,
        key: IdempotencyKey = None,
    ) -> IdempotentPost:
        return IdempotentPost(
            session, principal.subject, key, request.method, request.url.path, record
        )

    async def mandatory(
        request: Request,
        session: DbSession,
        principal: CurrentPrincipal,
        key: RequiredIdempotencyKey = None,
    ) -> IdempotentPost:
        return IdempotentPost(
            session, principal.subject, key, request.method, request.url.path, record, True
        )

    return mandatory if required else optional
