"""`/individuals`: find people across households, read and correct a record."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from services.beneficiaries.access import Staff, allowed_regions
from services.beneficiaries.clock import today
from services.beneficiaries.deps import Audit
from services.beneficiaries.filters import RegistryFilters, registry_filters
from services.beneficiaries.households import repository
from services.beneficiaries.households.derived import age_on
from services.beneficiaries.households.endpoints import Ctx
from services.beneficiaries.households.schemas import IndividualUpdate
from services.beneficiaries.individuals import service
from services.beneficiaries.individuals.schemas import Individual, IndividualSummary
from shared.db import ReadSession
from shared.etag import IfMatch, etag
from shared.pagination import Page, PageParams, page_of, page_params

router = APIRouter(prefix="/api/v1/beneficiaries/individuals", tags=["individuals"])


@router.get("", response_model=Page[IndividualSummary])
async def list_individuals(
    session: ReadSession,
    principal: Staff,
    audit: Audit,
    filters: Annotated[RegistryFilters, Depends(registry_filters)],
    paging: Annotated[PageParams, Depends(page_params)],
) -> Page[IndividualSummary]:
    """Present members of active households, in name order. `name` ignores case, accents
    and the usual spellings (Mohamed, Maxamed, Mahamed); `identifier` is `type:value`."""
    rows = await repository.list_individuals(session, filters, allowed_regions(principal), paging)
    page = page_of(rows, paging, key=lambda row: [row.name_folded, row.id])
    as_of = today()
    items = [
        IndividualSummary(
            id=row.id,
            household_id=row.household_id,
            registry_number=row.registry_number,
            region_code=row.region_code,
            locality_code=row.locality_code,
            given_name=row.given_name,
            father_name=row.father_name,
            grandfather_name=row.grandfather_name,
            sex=row.sex,
            birth_date=row.birth_date,
            age=age_on(row.birth_date, as_of),
            legal_status=row.legal_status,
            relationship_to_head=row.relationship_to_head,
        )
        for row in page.items
    ]
    await audit.record_reads(principal, "individual", [(i.id, i.household_id) for i in items])
    return Page[IndividualSummary](items=items, next_cursor=page.next_cursor)


@router.get("/{individual_id}", response_model=Individual)
async def get_individual(
    individual_id: uuid.UUID,
    session: ReadSession,
    principal: Staff,
    audit: Audit,
    response: Response,
) -> Individual:
    person = await service.get(session, principal, individual_id)
    await audit.record_reads(principal, "individual", [(person.id, person.household_id)])
    response.headers["ETag"] = etag(person.version)
    return person


@router.patch("/{individual_id}", response_model=Individual)
async def patch_individual(
    individual_id: uuid.UUID,
    data: IndividualUpdate,
    ctx: Ctx,
    response: Response,
    if_match: IfMatch = None,
) -> Individual:
    """Correct a person's record (`If-Match` with the person's ETag). Sent `identifiers`
    replace the list; a head change goes through `/households/{id}/head`."""
    person = await service.update(ctx, individual_id, data, if_match)
    response.headers["ETag"] = etag(person.version)
    return person
