"""`/sync`: what field apps send after working offline, and what they pull to stay current."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Response

from services.beneficiaries.access import Staff, allowed_regions
from services.beneficiaries.context import Audit, RequiredIdempotent, StaffWrite
from services.beneficiaries.sync import batch, changes
from services.beneficiaries.sync.schemas import (
    MAX_OPERATIONS,
    ChangesPage,
    SyncBatch,
    SyncBatchResult,
)
from shared.db import ReadSession

router = APIRouter(prefix="/api/v1/beneficiaries", tags=["sync"])


@router.post(
    "/sync/batch",
    response_model=SyncBatchResult,
    responses={
        428: {"description": "No Idempotency-Key"},
        422: {"description": f"Not a batch, or more than {MAX_OPERATIONS} operations"},
    },
)
async def sync_batch(data: SyncBatch, ctx: StaffWrite, idempotent: RequiredIdempotent) -> Response:
    """Apply a device's offline operations in order, each on its own: one bad operation
    never rejects the others. Each gets a result: `created`, `updated`, `unchanged` (it was
    applied already: a retry), `conflict` (the record changed since `base_version`; the
    current one comes with it), `invalid` (with field errors) or `forbidden` (another
    region). The answer is 200 whatever the items' outcomes; a retry with the same
    `Idempotency-Key` gets it back and changes nothing."""

    async def apply() -> Response:
        answer = await batch.apply(ctx, data.operations)
        # Which device sent what, for field supervision (each change has its own row too).
        await ctx.audit.record_write(
            ctx.session,
            ctx.principal,
            "sync_batch",
            "device",
            None,
            None,
            {"device_id": data.device_id, "counts": answer["counts"]},
        )
        body = orjson.dumps(answer, default=str)  # asyncpg's own UUID type too
        return Response(body, media_type="application/json")

    return await idempotent.run(data, apply, status_code=200)


@router.get(
    "/sync/changes",
    response_model=ChangesPage,
    responses={400: {"description": "`since` is not a cursor this API issued"}},
)
async def sync_changes(
    session: ReadSession,
    principal: Staff,
    audit: Audit,
    since: Annotated[
        str | None,
        Query(description="`next_cursor` of the last call; absent on a device's first sync."),
    ] = None,
    region: Annotated[
        list[str],
        Query(
            description="Region codes (repeat, or separate with commas). Registrars: their "
            "token's regions by default, never others."
        ),
    ] = [],  # noqa: B006 (FastAPI copies defaults)
    limit: Annotated[int, Query(ge=1, le=500)] = 500,
) -> Response:
    """Households changed since `since`, in change order, each as `GET /households/{id}`
    answers it, and the cursor to send next time. Follow `has_more` until it is false; a
    change is never missed nor sent twice, whatever else writes meanwhile."""
    answer = await changes.changes(session, principal, since, region, limit)
    await audit.record_reads(
        principal,
        "household",
        [record for document in answer.documents for record in document.read_records()],
        {"view": "sync"},
    )
    regions = allowed_regions(principal)
    items = b",".join(
        b'{"household_id":"%s","version":%d,"household":%s}'
        % (str(document.id).encode(), document.version, document.seen_from(regions).encode())
        for document in answer.documents
    )
    body = b'{"changes":[%s],"next_cursor":%s,"has_more":%s}' % (
        items,
        orjson.dumps(answer.next_cursor),
        b"true" if answer.has_more else b"false",
    )
    return Response(body, media_type="application/json")
