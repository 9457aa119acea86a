"""`/individuals`: find people across households, read and correct a record."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from services.beneficiaries.access import Staff
from services.beneficiaries.context import Audit, StaffWrite
from services.beneficiaries.individuals import service
from services.beneficiaries.individuals.schemas import IndividualSummary
from services.beneficiaries.records.documents import PersonDocument
from services.beneficiaries.records.filters import RegistryFilters, registry_filters
from services.beneficiaries.records.schemas import Individual, IndividualUpdate
from shared.db import ReadSession
from shared.etag import ExpectedVersion, etag
from shared.pagination import Page, PageParams, page_params

router = APIRouter(prefix="/api/v1/beneficiaries/individuals", tags=["individuals"])


def _answer(person: PersonDocument) -> Response:
    """The person's JSON as PostgreSQL built it, with its ETag."""
    return Response(
        person.json, media_type="application/json", headers={"ETag": etag(person.version)}
    )


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
    page = await service.list_individuals(session, principal, filters, paging)
    await audit.record_reads(principal, "individual", [(i.id, i.household_id) for i in page.items])
    return page


@router.get("/{individual_id}", response_model=Individual)
async def get_individual(
    individual_id: uuid.UUID, session: ReadSession, principal: Staff, audit: Audit
) -> Response:
    person = await service.get(session, principal, individual_id)
    await audit.record_reads(principal, "individual", [(person.id, person.household_id)])
    return _answer(person)


@router.patch("/{individual_id}", response_model=Individual)
async def patch_individual(
    individual_id: uuid.UUID,
    data: IndividualUpdate,
    ctx: StaffWrite,
    expected_version: ExpectedVersion,
) -> Response:
    """Correct a person's record (`If-Match` with the person's ETag). Sent `identifiers`
    replace the list; a head change goes through `/households/{id}/head`."""
    return _answer(await service.update(ctx, individual_id, data, expected_version))
