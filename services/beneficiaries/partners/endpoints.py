"""`/agreements`: data-sharing agreements (admins and data managers), their usage, and
resolving a partner's pseudonym back to the record (the ministry only)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from services.beneficiaries.access import Manager
from services.beneficiaries.context import Audit, Idempotent, Settings
from services.beneficiaries.models import DataSharingAgreement
from services.beneficiaries.partners import service
from services.beneficiaries.partners.schemas import (
    Agreement,
    AgreementCreate,
    AgreementUpdate,
    PartnerTerms,
    PseudonymResolve,
    ResolvedPseudonym,
    Usage,
)
from services.beneficiaries.partners.scope import PartnerTerms as PartnerCaller
from shared.db import DbSession, ReadSession
from shared.etag import ExpectedVersion, etag
from shared.idempotency import created_headers
from shared.pagination import Page, PageParams, page_params

BASE = "/api/v1/beneficiaries"
router = APIRouter(prefix=BASE, tags=["partner data sharing"])
Paging = Annotated[PageParams, Depends(page_params)]
_headers = created_headers(f"{BASE}/agreements")


def agreement_view(agreement: DataSharingAgreement, response: Response) -> Agreement:
    response.headers["ETag"] = etag(agreement.version)
    return Agreement.model_validate(agreement)


@router.post("/agreements", status_code=status.HTTP_201_CREATED, response_model=Agreement)
async def create_agreement(
    data: AgreementCreate,
    response: Response,
    session: DbSession,
    principal: Manager,
    audit: Audit,
    idempotent: Idempotent,
) -> Agreement | Response:
    """A partner's agreement. 422 for a field, programme or region the registry does not
    have; 409 when the partner already has an agreement for part of the period."""

    async def create() -> Agreement:
        agreement = await service.create(session, data, principal, audit)
        view = agreement_view(agreement, response)
        response.headers.update(_headers(view.model_dump(mode="json")))
        return view

    return await idempotent.run(data, create, status_code=201, headers_of=_headers)


@router.get("/agreements", response_model=Page[Agreement])
async def list_agreements(
    session: ReadSession, _: Manager, paging: Paging, partner_id: str | None = None
) -> Page[Agreement]:
    page = await service.list_agreements(session, paging, partner_id)
    return Page[Agreement](
        items=[Agreement.model_validate(a) for a in page.items], next_cursor=page.next_cursor
    )


@router.get("/agreements/{agreement_id}", response_model=Agreement)
async def get_agreement(
    agreement_id: uuid.UUID, session: ReadSession, _: Manager, response: Response
) -> Agreement:
    """With its version as `ETag`, for `If-Match` when changing it."""
    return agreement_view(await service.get(session, agreement_id), response)


@router.patch("/agreements/{agreement_id}", response_model=Agreement)
async def update_agreement(
    agreement_id: uuid.UUID,
    data: AgreementUpdate,
    response: Response,
    session: DbSession,
    principal: Manager,
    audit: Audit,
    expected_version: ExpectedVersion,
) -> Agreement:
    """`If-Match` required: 428 without it, 412 when it changed since you read it."""
    agreement = await service.update(
        session, agreement_id, data, expected_version, principal, audit
    )
    return agreement_view(agreement, response)


@router.delete("/agreements/{agreement_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_agreement(
    agreement_id: uuid.UUID,
    session: DbSession,
    principal: Manager,
    audit: Audit,
    expected_version: ExpectedVersion,
) -> Response:
    """Ends the partner's access at once (with its usage history). `If-Match` required."""
    await service.delete(session, agreement_id, expected_version, principal, audit)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/agreements/{agreement_id}/usage", response_model=Usage)
async def agreement_usage(
    agreement_id: uuid.UUID,
    session: ReadSession,
    _: Manager,
    since: Annotated[date | None, Query(description="First day, included")] = None,
    until: Annotated[date | None, Query(description="Last day, included")] = None,
) -> Usage:
    """Requests served and records returned under the agreement, by day (Djibouti time)."""
    return await service.usage(session, agreement_id, since, until)


@router.post("/pseudonyms/resolve", response_model=ResolvedPseudonym)
async def resolve_pseudonym(
    data: PseudonymResolve,
    session: DbSession,
    principal: Manager,
    audit: Audit,
    settings: Settings,
) -> ResolvedPseudonym:
    """The household or person behind a pseudonym a partner was given under an agreement.
    404 when none; the resolution is on the audit trail."""
    return await service.resolve(session, data, settings.pseudonym_key_material(), principal, audit)


@router.get(
    "/partner/agreement",
    response_model=PartnerTerms,
    responses={403: {"description": "No agreement in force, naming why"}},
)
async def my_agreement(access: PartnerCaller, session: ReadSession) -> PartnerTerms:
    """For a partner: the agreement it is served under today, and its requests so far
    today (this call is not counted). 403 naming why when none is in force."""
    return await service.terms(session, access.scope.agreement_id, access.day)
