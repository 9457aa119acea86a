"""`/households`: register, read, change and list households and their members."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response, status

from services.beneficiaries.access import Staff, allowed_regions
from services.beneficiaries.context import Audit, Idempotent, StaffWrite
from services.beneficiaries.households import membership, service
from services.beneficiaries.records.documents import HouseholdDocument
from services.beneficiaries.records.filters import RegistryFilters, registry_filters
from services.beneficiaries.records.schemas import (
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
from shared.auth import Principal
from shared.db import ReadSession
from shared.etag import ExpectedVersion, etag, if_match_versions
from shared.idempotency import created_headers
from shared.pagination import Page, PageParams, page_params

router = APIRouter(prefix="/api/v1/beneficiaries", tags=["households"])
Paging = Annotated[PageParams, Depends(page_params)]
Filters = Annotated[RegistryFilters, Depends(registry_filters)]


def _answer(
    document: HouseholdDocument, reader: Principal, status_code: int = 200, **headers: str
) -> Response:
    """The household JSON as PostgreSQL built it, with its ETag (re-serialised only to hide
    from a registrar a probable duplicate outside their regions)."""
    return Response(
        document.seen_from(allowed_regions(reader)),
        status_code=status_code,
        media_type="application/json",
        headers={"ETag": etag(document.version), **headers},
    )


# A registration's headers, from the household answered (for a replay too).
_registered_headers = created_headers(f"{router.prefix}/households")


@router.post(
    "/households",
    status_code=status.HTTP_201_CREATED,
    response_model=Household,
    responses={409: {"description": "An identifier or id is registered already"}},
)
async def register_household(
    data: HouseholdWrite, ctx: StaffWrite, idempotent: Idempotent
) -> Response:
    """Register a household with its members, answered in the order sent. A probable
    duplicate is saved and flagged (`possible_duplicates`); an identifier registered to
    someone else is refused (409); a household without consent is refused (422). A retry
    with the same `Idempotency-Key` gets the same answer, `Location` and `ETag` included."""

    async def register() -> Response:
        household = await service.create(ctx, data)
        headers = _registered_headers({"id": household.id, "version": household.version})
        return Response(
            household.seen_from(allowed_regions(ctx.principal)),
            status_code=201,
            media_type="application/json",
            headers=headers,
        )

    return await idempotent.run(data, register, status_code=201, headers_of=_registered_headers)


@router.get("/households", response_model=Page[HouseholdSummary])
async def list_households(
    session: ReadSession, principal: Staff, audit: Audit, filters: Filters, paging: Paging
) -> Page[HouseholdSummary]:
    """Households by registry number, filtered; `name` and `identifier` match any present
    member."""
    page = await service.list_households(session, principal, filters, paging)
    await audit.record_reads(principal, "household", [(h.id, h.id) for h in page.items])
    return page


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
    return _answer(household, principal)


@router.put(
    "/households/{household_id}",
    response_model=Household,
    responses={
        200: {"description": "Replaced, or unchanged (`X-Outcome` says which)"},
        201: {"model": Household, "description": "Created under this id"},
    },
)
async def put_household(
    household_id: uuid.UUID,
    data: HouseholdWrite,
    ctx: StaffWrite,
    expected_version: ExpectedVersion,
) -> Response:
    """Create the household under this (client-generated) id, or replace it whole with
    `If-Match`. Resending what is stored already answers 200 (`X-Outcome: unchanged`) and
    changes nothing, with or without member ids: a member without an id is the present one
    with the same name, sex and birth date. Members are kept in the order sent."""
    household, outcome = await service.replace(ctx, household_id, data, expected_version)
    return _answer(
        household, ctx.principal, 201 if outcome == "created" else 200, **{"X-Outcome": outcome}
    )


@router.patch("/households/{household_id}", response_model=Household)
async def patch_household(
    household_id: uuid.UUID,
    data: HouseholdUpdate,
    ctx: StaffWrite,
    expected_version: ExpectedVersion,
) -> Response:
    """Change location, living conditions, displacement status or consent. Needs `If-Match`
    (428 without, 412 when someone changed it since you read it)."""
    return _answer(await service.update(ctx, household_id, data, expected_version), ctx.principal)


@router.post("/households/{household_id}/members", response_model=Household, tags=["membership"])
async def add_member(
    household_id: uuid.UUID, data: MemberAdd, ctx: StaffWrite, expected_version: ExpectedVersion
) -> Response:
    """A person joins (birth, marriage, moving in)."""
    return _answer(
        await membership.add_member(ctx, household_id, data, expected_version), ctx.principal
    )


@router.post(
    "/households/{household_id}/members/{individual_id}/leave",
    response_model=Household,
    tags=["membership"],
)
async def member_leaves(
    household_id: uuid.UUID,
    individual_id: uuid.UUID,
    data: MemberLeave,
    ctx: StaffWrite,
    expected_version: ExpectedVersion,
) -> Response:
    """A member leaves (moves out, dies, marries out). The head leaves only alone."""
    household = await membership.member_leaves(
        ctx, household_id, individual_id, data, expected_version
    )
    return _answer(household, ctx.principal)


@router.post("/households/{household_id}/head", response_model=Household, tags=["membership"])
async def change_head(
    household_id: uuid.UUID,
    data: HeadChange,
    ctx: StaffWrite,
    expected_version: ExpectedVersion,
) -> Response:
    return _answer(
        await membership.change_head(ctx, household_id, data, expected_version), ctx.principal
    )


@router.post(
    "/households/{household_id}/split",
    status_code=status.HTTP_201_CREATED,
    tags=["membership"],
)
async def split_household(
    household_id: uuid.UUID, data: Split, ctx: StaffWrite, expected_version: ExpectedVersion
) -> Response:
    """Members leave to form a new household (answered with both)."""
    remaining, created = await membership.split(ctx, household_id, data, expected_version)
    regions = allowed_regions(ctx.principal)
    return Response(
        f'{{"household": {remaining.seen_from(regions)}, '
        f'"new_household": {created.seen_from(regions)}}}',
        status_code=201,
        media_type="application/json",
        headers={
            "ETag": etag(remaining.version),
            "Location": f"{router.prefix}/households/{created.id}",
        },
    )


@router.post("/households/{household_id}/merge", response_model=Household, tags=["membership"])
async def merge_households(
    household_id: uuid.UUID, data: Merge, ctx: StaffWrite, expected_version: ExpectedVersion
) -> Response:
    """Another household's members join this one; the other is closed as merged."""
    return _answer(await membership.merge(ctx, household_id, data, expected_version), ctx.principal)


@router.get(
    "/households/{household_id}/history",
    tags=["membership"],
    response_model=list[MembershipSpan],
)
async def membership_history(
    household_id: uuid.UUID, session: ReadSession, principal: Staff, audit: Audit
) -> list[MembershipSpan]:
    """Every membership span of the household, closed ones included, oldest first."""
    spans = await service.membership_history(session, principal, household_id)
    await audit.record_reads(
        principal, "household", [(household_id, household_id)], {"view": "history"}
    )
    return [MembershipSpan.model_validate(span) for span in spans]
