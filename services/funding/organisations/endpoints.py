"""`/organisations`: partners, implementers and payment providers."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from services.funding.access import LedgerReader
from services.funding.context import Idempotent, OfficerChange
from services.funding.models import Organisation as OrganisationRow
from services.funding.organisations import service
from services.funding.organisations.schemas import (
    Organisation,
    OrganisationCreate,
    OrganisationUpdate,
)
from services.funding.vocabulary import OrganisationType
from shared.db import ReadSession
from shared.etag import ExpectedVersion, etag
from shared.idempotency import created_headers
from shared.pagination import Page, PageParams, page_params

router = APIRouter(prefix="/api/v1/funding", tags=["organisations"])
_created = created_headers(f"{router.prefix}/organisations")
Paging = Annotated[PageParams, Depends(page_params)]


def organisation_view(row: OrganisationRow, response: Response) -> Organisation:
    response.headers["ETag"] = etag(row.version)
    return Organisation.model_validate(row)


@router.post(
    "/organisations",
    status_code=status.HTTP_201_CREATED,
    response_model=Organisation,
    responses={409: {"description": "The IATI identifier or partner id is taken"}},
)
async def create_organisation(
    data: OrganisationCreate, response: Response, change: OfficerChange, idempotent: Idempotent
) -> Organisation | Response:
    """finance_officer or admin."""

    async def create() -> Organisation:
        row = await service.create(change, data)
        response.headers.update(_created({"id": row.id, "version": row.version}))
        return Organisation.model_validate(row)

    return await idempotent.run(data, create, status_code=201, headers_of=_created)


@router.get("/organisations", response_model=Page[Organisation])
async def list_organisations(
    session: ReadSession,
    principal: LedgerReader,
    paging: Paging,
    type: Annotated[OrganisationType | None, Query()] = None,
) -> Page[Organisation]:
    """By IATI identifier. A partner sees the organisation it acts for."""
    page = await service.list_organisations(session, principal, type, paging)
    return Page[Organisation](
        items=[Organisation.model_validate(row) for row in page.items],
        next_cursor=page.next_cursor,
    )


@router.get("/organisations/{organisation_id}", response_model=Organisation)
async def get_organisation(
    organisation_id: uuid.UUID, session: ReadSession, principal: LedgerReader, response: Response
) -> Organisation:
    """With its version as `ETag`, to send back in `If-Match` when changing it."""
    return organisation_view(await service.get(session, principal, organisation_id), response)


@router.patch("/organisations/{organisation_id}", response_model=Organisation)
async def update_organisation(
    organisation_id: uuid.UUID,
    data: OrganisationUpdate,
    response: Response,
    change: OfficerChange,
    expected_version: ExpectedVersion,
) -> Organisation:
    """Change some fields. `If-Match` is required: 428 without it, 412 when someone changed
    the organisation since you read it."""
    row = await service.update(change, organisation_id, data, expected_version)
    return organisation_view(row, response)
