"""`/agreements`: partners' commitments to projects, their tranches and their balance."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from services.funding.access import LedgerReader
from services.funding.agreements import service
from services.funding.agreements.repository import AgreementFilters
from services.funding.agreements.schemas import (
    Agreement,
    AgreementCreate,
    AgreementUpdate,
    Balance,
)
from services.funding.context import Idempotent, OfficerChange
from services.funding.vocabulary import AgreementStatus
from shared.db import ReadSession
from shared.etag import ExpectedVersion, etag
from shared.idempotency import created_headers
from shared.pagination import Page, PageParams, page_params

router = APIRouter(prefix="/api/v1/funding", tags=["agreements"])
_created = created_headers(f"{router.prefix}/agreements")
Paging = Annotated[PageParams, Depends(page_params)]


def _with_etag(agreement: Agreement, response: Response) -> Agreement:
    response.headers["ETag"] = etag(agreement.version)
    return agreement


@router.post(
    "/agreements",
    status_code=status.HTTP_201_CREATED,
    response_model=Agreement,
    responses={409: {"description": "The reference is taken"}},
)
async def create_agreement(
    data: AgreementCreate, response: Response, change: OfficerChange, idempotent: Idempotent
) -> Agreement | Response:
    """finance_officer or admin. The commitment is valued in DJF and USD at the signed
    date's rates (422 naming `signed_date` when a currency has none on or before it)."""

    async def create() -> Agreement:
        agreement = await service.create(change, data)
        response.headers.update(_created({"id": agreement.id, "version": agreement.version}))
        return agreement

    return await idempotent.run(data, create, status_code=201, headers_of=_created)


@router.get("/agreements", response_model=Page[Agreement])
async def list_agreements(
    session: ReadSession,
    principal: LedgerReader,
    paging: Paging,
    project_id: Annotated[uuid.UUID | None, Query()] = None,
    funder_id: Annotated[uuid.UUID | None, Query()] = None,
    status: Annotated[AgreementStatus | None, Query()] = None,
) -> Page[Agreement]:
    """By reference. A partner sees the agreements its organisation funds."""
    filters = AgreementFilters(project_id, funder_id, status)
    return await service.list_agreements(session, principal, filters, paging)


@router.get("/agreements/{agreement_id}", response_model=Agreement)
async def get_agreement(
    agreement_id: uuid.UUID, session: ReadSession, principal: LedgerReader, response: Response
) -> Agreement:
    """With its version as `ETag`, to send back in `If-Match` when changing it."""
    return _with_etag(await service.get(session, principal, agreement_id), response)


@router.get("/agreements/{agreement_id}/balance", response_model=Balance)
async def get_balance(
    agreement_id: uuid.UUID, session: ReadSession, principal: LedgerReader
) -> Balance:
    """Committed, received, reserved for approved payrolls, paid, and available (received
    less reserved and paid), in the agreement's currency."""
    return await service.balance(session, principal, agreement_id)


@router.patch(
    "/agreements/{agreement_id}",
    response_model=Agreement,
    responses={409: {"description": "Not active, money reserved, or the reference is taken"}},
)
async def update_agreement(
    agreement_id: uuid.UUID,
    data: AgreementUpdate,
    response: Response,
    change: OfficerChange,
    expected_version: ExpectedVersion,
) -> Agreement:
    """Change some fields, or close, cancel or reopen it. `If-Match` is required: 428
    without it, 412 when someone changed the agreement since you read it."""
    agreement = await service.update(change, agreement_id, data, expected_version)
    return _with_etag(agreement, response)
