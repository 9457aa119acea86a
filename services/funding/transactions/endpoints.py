"""`/transactions`: IATI transactions, recorded once and corrected only by reversal (there is
no PATCH or DELETE)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from services.funding.access import LedgerReader
from services.funding.context import Idempotent, OfficerChange
from services.funding.transactions import service
from services.funding.transactions.repository import TransactionFilters
from services.funding.transactions.schemas import (
    TransactionCreate,
    TransactionRead,
    TransactionReversal,
)
from shared.db import ReadSession
from shared.idempotency import created_headers
from shared.pagination import Page, PageParams, page_params

router = APIRouter(prefix="/api/v1/funding", tags=["transactions"])
_created = created_headers(f"{router.prefix}/transactions", versioned=False)
Paging = Annotated[PageParams, Depends(page_params)]


@router.post(
    "/transactions",
    status_code=status.HTTP_201_CREATED,
    response_model=TransactionRead,
    responses={409: {"description": "The agreement is closed or cancelled"}},
)
async def record_transaction(
    data: TransactionCreate, response: Response, change: OfficerChange, idempotent: Idempotent
) -> TransactionRead | Response:
    """finance_officer or admin. Valued in DJF and USD at the value date's rates (422 naming
    `value_date` when a currency has none on or before it). Send an `Idempotency-Key`: a
    retry then records it once."""

    async def create() -> TransactionRead:
        transaction = await service.record(change, data)
        response.headers.update(_created({"id": transaction.id}))
        return transaction

    return await idempotent.run(data, create, status_code=201, headers_of=_created)


@router.post(
    "/transactions/{transaction_id}/reverse",
    status_code=status.HTTP_201_CREATED,
    response_model=TransactionRead,
    responses={
        409: {
            "description": "Reversed already, a reversal itself, a payroll's, on an agreement "
            "no longer active, or funds received that payrolls hold"
        }
    },
)
async def reverse_transaction(
    transaction_id: uuid.UUID,
    data: TransactionReversal,
    response: Response,
    change: OfficerChange,
    idempotent: Idempotent,
) -> TransactionRead | Response:
    """Record the transaction that undoes this one: the amount negated, at the same value
    date and rates. Once per transaction."""

    async def create() -> TransactionRead:
        transaction = await service.reverse(change, transaction_id, data)
        response.headers.update(_created({"id": transaction.id}))
        return transaction

    return await idempotent.run(data, create, status_code=201, headers_of=_created)


@router.get("/transactions", response_model=Page[TransactionRead])
async def list_transactions(
    session: ReadSession,
    principal: LedgerReader,
    paging: Paging,
    type: Annotated[int | None, Query(description="IATI TransactionType")] = None,
    agreement_id: Annotated[uuid.UUID | None, Query()] = None,
    project_id: Annotated[uuid.UUID | None, Query()] = None,
    payment_cycle_id: Annotated[uuid.UUID | None, Query()] = None,
    value_date_from: Annotated[date | None, Query()] = None,
    value_date_to: Annotated[date | None, Query()] = None,
) -> Page[TransactionRead]:
    """By value date, then as recorded. A partner sees those on the agreements its
    organisation funds, and those on no agreement of the projects it reports; not the
    money of other funders of a project it takes part in."""
    filters = TransactionFilters(
        type, agreement_id, project_id, payment_cycle_id, value_date_from, value_date_to
    )
    return await service.list_transactions(session, principal, filters, paging)


@router.get("/transactions/{transaction_id}", response_model=TransactionRead)
async def get_transaction(
    transaction_id: uuid.UUID, session: ReadSession, principal: LedgerReader
) -> TransactionRead:
    return await service.get(session, principal, transaction_id)
