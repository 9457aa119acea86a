"""`/agreements`: data-sharing agreements (admins and data managers), their usage, and
resolving a partner's pseudonym back to the record (the ministry only)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.access import Manager
from services.beneficiaries.context import Audit, Idempotent, Settings
from services.beneficiaries.exports import stream
from services.beneficiaries.exports.fields import Resource
from services.beneficiaries.models import DataSharingAgreement
from services.beneficiaries.partners import exports, service
from services.beneficiaries.partners.schemas import (
    Agreement,
    AgreementCreate,
    AgreementUpdate,
    PartnerTerms,
    PseudonymResolve,
    ResolvedPseudonym,
    Usage,
)
from services.beneficiaries.partners.scope import Partner, PartnerAccess
from services.beneficiaries.partners.scope import PartnerTerms as PartnerCaller
from shared.audit import AuditTrail
from shared.db import Database, DatabaseOf, DbSession, ReadSession, StreamSession
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


@router.post(
    "/pseudonyms/resolve",
    response_model=ResolvedPseudonym,
    responses={404: {"description": "No such pseudonym for this agreement"}},
)
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


_EXPORT_DOC = (
    "Your data-sharing agreement's {what} as CSV or JSON Lines, in registry-number order, "
    "with the {resource} fields it allows (columns in the order of `GET /exports/fields`): "
    "households of its regions and programmes with a present member of its legal statuses "
    "and whose consent covers partner sharing{people}. Identifiers are your pseudonyms when "
    "your agreement says so. CSV is UTF-8 with a byte-order mark (lists joined with ';', "
    "text a spreadsheet would run as a formula prefixed with a quote); JSON Lines one "
    "object per row. Streamed. Counted against your daily quota and in your agreement's "
    "usage, recorded with it on the audit trail. 403 when it allows no {resource} field."
)
_EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}, "application/x-ndjson": {}}}
}


def _partner_export(
    resource: Resource,
    export_format: exports.PartnerExportFormat,
    access: PartnerAccess,
    session: AsyncSession,
    database: Database,
    audit: AuditTrail,
) -> stream.ExportResponse:
    export = exports.partner_export(access, resource, export_format)
    chunks = stream.export_chunks(export, session, database, audit)
    filename = f"{resource}-{access.scope.partner_id}-{access.day.isoformat()}.{export_format}"
    return stream.export_response(chunks, export, filename)


@router.get(
    "/partner/exports/households.{export_format}",
    response_class=stream.ExportResponse,
    responses=_EXPORT_RESPONSES,
    summary="Your agreement's households as CSV or JSON Lines",
    description=_EXPORT_DOC.format(
        what="households",
        resource="household",
        people="; a head outside its legal statuses is not named, and `member_count` "
        "counts only the members it covers",
    ),
)
async def export_partner_households(
    export_format: exports.PartnerExportFormat,
    access: Partner,
    session: StreamSession,
    database: DatabaseOf,
    audit: Audit,
) -> stream.ExportResponse:
    return _partner_export("households", export_format, access, session, database, audit)


@router.get(
    "/partner/exports/individuals.{export_format}",
    response_class=stream.ExportResponse,
    responses=_EXPORT_RESPONSES,
    summary="Your agreement's people as CSV or JSON Lines",
    description=_EXPORT_DOC.format(
        what="people", resource="individual", people=" (the present members of its legal statuses)"
    ),
)
async def export_partner_individuals(
    export_format: exports.PartnerExportFormat,
    access: Partner,
    session: StreamSession,
    database: DatabaseOf,
    audit: Audit,
) -> stream.ExportResponse:
    return _partner_export("individuals", export_format, access, session, database, audit)
