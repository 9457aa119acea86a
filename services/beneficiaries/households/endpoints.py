"""`/households`: register, read, change and list households and their members."""

from __future__ import annotations

import json
import math
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response, status

from services.beneficiaries.access import Staff, allowed_regions, ensure_region
from services.beneficiaries.deps import Audit, Settings
from services.beneficiaries.filters import RegistryFilters, registry_filters
from services.beneficiaries.households import membership, repository, service
from services.beneficiaries.households.documents import HouseholdDocument
from services.beneficiaries.households.schemas import (
    HeadChange,
    Household,
    HouseholdSummary,
    HouseholdUpdate,
    HouseholdWrite,
    MemberAdd,
    MemberLeave,
    MembershipSpan,
    Merge,
    Split,
)
from services.beneficiaries.households.service import Registrar
from services.beneficiaries.idempotency import replayed, store_answer
from shared.db import DbSession, ReadSession
from shared.errors import NotFound
from shared.etag import IfMatch, etag, if_match_versions
from shared.idempotency import IdempotencyKey
from shared.pagination import Page, PageParams, page_of, page_params

router = APIRouter(prefix="/api/v1/beneficiaries", tags=["households"])
Paging = Annotated[PageParams, Depends(page_params)]
Filters = Annotated[RegistryFilters, Depends(registry_filters)]


async def registrar(
    session: DbSession, principal: Staff, audit: Audit, settings: Settings
) -> Registrar:
    return Registrar(session, principal, audit, settings)


Ctx = Annotated[Registrar, Depends(registrar)]


def _answer(document: HouseholdDocument, status_code: int = 200, **headers: str) -> Response:
    """The household JSON as PostgreSQL built it, with its ETag (no re-serialisation)."""
    return Response(
        document.json,
        status_code=status_code,
        media_type="application/json",
        headers={"ETag": etag(document.version), **headers},
    )


@router.post(
    "/households",
    status_code=status.HTTP_201_CREATED,
    response_model=Household,
    responses={409: {"description": "An identifier or id is registered already"}},
)
async def register_household(
    data: HouseholdWrite, ctx: Ctx, request: Request, idempotency_key: IdempotencyKey = None
) -> Response:
    """Register a household with its members. A probable duplicate is saved and flagged
    (`possible_duplicates`); an identifier registered to someone else is refused (409)."""
    replay = await replayed(ctx.session, ctx.principal, idempotency_key, request, data)
    if replay is not None:
        return replay
    household = await service.create(ctx, data)
    await store_answer(
        ctx.session, ctx.principal, idempotency_key, request, data, 201, json.loads(household.json)
    )
    return _answer(household, 201, Location=f"{router.prefix}/households/{household.id}")


@router.get("/households", response_model=Page[HouseholdSummary])
async def list_households(
    session: ReadSession, principal: Staff, audit: Audit, filters: Filters, paging: Paging
) -> Page[HouseholdSummary]:
    """Households by registry number, filtered; `name` and `identifier` match any present
    member."""
    rows = await repository.list_households(session, filters, allowed_regions(principal), paging)
    page = page_of(rows, paging, key=lambda row: [row[0].registry_number])
    items = [_summary(*row) for row in page.items]
    await audit.record_reads(principal, "household", [(h.id, h.id) for h in items])
    return Page[HouseholdSummary](items=items, next_cursor=page.next_cursor)


def _summary(household, given, father, grandfather) -> HouseholdSummary:
    head = " ".join(part for part in (given, father, grandfather) if part) or None
    return HouseholdSummary(
        id=household.id,
        registry_number=household.registry_number,
        status=household.status,
        region_code=household.region_code,
        locality_code=household.locality_code,
        area=household.area,
        member_count=household.member_count,
        head_name=head,
        predicted_consumption=(
            round(math.exp(float(household.pmt_score))) if household.pmt_score is not None else None
        ),
        registration_date=household.registration_date,
        version=household.version,
    )


@router.get("/households/{household_id}", response_model=Household)
async def get_household(
    household_id: uuid.UUID,
    session: ReadSession,
    principal: Staff,
    audit: Audit,
    if_none_match: Annotated[str | None, Header(alias="If-None-Match")] = None,
) -> Response:
    household = await service.get(session, principal, household_id)
    await audit.record_reads(principal, "household", household.read_records())
    if if_none_match and household.version in if_match_versions(if_none_match):
        return Response(status_code=304, headers={"ETag": etag(household.version)})
    return _answer(household)


@router.put("/households/{household_id}", response_model=Household)
async def put_household(
    household_id: uuid.UUID,
    data: HouseholdWrite,
    ctx: Ctx,
    if_match: IfMatch = None,
) -> Response:
    """Create the household under this (client-generated) id, or replace it whole with
    `If-Match`. Resending what is stored already answers 200 and changes nothing."""
    household, outcome = await service.replace(ctx, household_id, data, if_match)
    return _answer(household, 201 if outcome == "created" else 200, **{"X-Outcome": outcome})


@router.patch("/households/{household_id}", response_model=Household)
async def patch_household(
    household_id: uuid.UUID,
    data: HouseholdUpdate,
    ctx: Ctx,
    if_match: IfMatch = None,
) -> Response:
    """Change location, living conditions, displacement status or consent. Needs `If-Match`
    (428 without, 412 when someone changed it since you read it)."""
    return _answer(await service.update(ctx, household_id, data, if_match))


@router.post("/households/{household_id}/members", response_model=Household, tags=["membership"])
async def add_member(
    household_id: uuid.UUID, data: MemberAdd, ctx: Ctx, if_match: IfMatch = None
) -> Response:
    """A person joins (birth, marriage, moving in)."""
    return _answer(await membership.add_member(ctx, household_id, data, if_match))


@router.post(
    "/households/{household_id}/members/{individual_id}/leave",
    response_model=Household,
    tags=["membership"],
)
async def member_leaves(
    household_id: uuid.UUID,
    individual_id: uuid.UUID,
    data: MemberLeave,
    ctx: Ctx,
    if_match: IfMatch = None,
) -> Response:
    """A member leaves (moves out, dies, marries out). The head leaves only alone."""
    household = await membership.member_leaves(ctx, household_id, individual_id, data, if_match)
    return _answer(household)


@router.post("/households/{household_id}/head", response_model=Household, tags=["membership"])
async def change_head(
    household_id: uuid.UUID,
    data: HeadChange,
    ctx: Ctx,
    if_match: IfMatch = None,
) -> Response:
    return _answer(await membership.change_head(ctx, household_id, data, if_match))


@router.post(
    "/households/{household_id}/split",
    status_code=status.HTTP_201_CREATED,
    tags=["membership"],
)
async def split_household(
    household_id: uuid.UUID, data: Split, ctx: Ctx, if_match: IfMatch = None
) -> Response:
    """Members leave to form a new household (answered with both)."""
    remaining, created = await membership.split(ctx, household_id, data, if_match)
    return Response(
        f'{{"household": {remaining.json}, "new_household": {created.json}}}',
        status_code=201,
        media_type="application/json",
        headers={
            "ETag": etag(remaining.version),
            "Location": f"{router.prefix}/households/{created.id}",
        },
    )


@router.post("/households/{household_id}/merge", response_model=Household, tags=["membership"])
async def merge_households(
    household_id: uuid.UUID, data: Merge, ctx: Ctx, if_match: IfMatch = None
) -> Response:
    """Another household's members join this one; the other is closed as merged."""
    return _answer(await membership.merge(ctx, household_id, data, if_match))


@router.get(
    "/households/{household_id}/history",
    tags=["membership"],
    response_model=list[MembershipSpan],
)
async def membership_history(
    household_id: uuid.UUID, session: ReadSession, principal: Staff, audit: Audit
) -> list[MembershipSpan]:
    """Every membership span of the household, closed ones included, oldest first."""
    household = await repository.get_household(session, household_id)
    if household is None:
        raise NotFound("No such household.")
    ensure_region(principal, household.region_code)
    spans = await repository.membership_history(session, household_id)
    await audit.record_reads(
        principal, "household", [(household_id, household_id)], {"view": "history"}
    )
    return [MembershipSpan.model_validate(span) for span in spans]
