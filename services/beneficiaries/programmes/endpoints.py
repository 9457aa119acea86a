"""Programmes, eligibility and enrollments."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from fastapi.responses import StreamingResponse

from services.beneficiaries.access import (
    REGISTRY_STAFF,
    EnrollmentReader,
    Manager,
    ProgrammeReader,
    Staff,
)
from services.beneficiaries.clock import today
from services.beneficiaries.context import Audit, Idempotent
from services.beneficiaries.models import Enrollment as EnrollmentRow
from services.beneficiaries.models import Programme as ProgrammeRow
from services.beneficiaries.programmes import enrollments, service, stream
from services.beneficiaries.programmes.schemas import (
    EligibilityCheck,
    Enrollment,
    EnrollmentCreate,
    EnrollmentEvent,
    EnrollmentStatus,
    EnrollmentWithHistory,
    Programme,
    ProgrammeCreate,
    ProgrammeStatus,
    ProgrammeUpdate,
    StatusChange,
)
from shared.audit import AuditTrail
from shared.auth import Principal, require_roles
from shared.db import DbSession, ReadSession, StreamSession
from shared.etag import ExpectedVersion, etag
from shared.pagination import Page, PageParams, page_params

router = APIRouter(prefix="/api/v1/beneficiaries", tags=["programmes and enrollments"])
Paging = Annotated[PageParams, Depends(page_params)]
# Registrars (in their regions) follow their households' enrollments; other services look
# enrollments up by id.
EnrollmentViewer = Annotated[Principal, Depends(require_roles(*REGISTRY_STAFF, "service"))]


def programme_view(programme: ProgrammeRow, response: Response) -> Programme:
    response.headers["ETag"] = etag(programme.version)
    return Programme.model_validate(programme)


def enrollment_view(enrollment: EnrollmentRow, code: str) -> Enrollment:
    return Enrollment(
        id=enrollment.id,
        programme=code,
        household_id=enrollment.household_id,
        status=enrollment.status,  # type: ignore[arg-type]
        enrolled_on=enrollment.enrolled_on,
        status_since=enrollment.status_since,
        eligibility=enrollment.eligibility,
        override_reason=enrollment.override_reason,
        overridden_by=enrollment.overridden_by,
        version=enrollment.version,
        created_at=enrollment.created_at,
        updated_at=enrollment.updated_at,
        created_by=enrollment.created_by,
    )


# Programmes


@router.post(
    "/programmes",
    status_code=status.HTTP_201_CREATED,
    response_model=Programme,
    responses={409: {"description": "A programme with this code exists"}},
)
async def create_programme(
    data: ProgrammeCreate,
    response: Response,
    session: DbSession,
    principal: Manager,
    audit: Audit,
    idempotent: Idempotent,
) -> Programme | Response:
    async def create() -> Programme:
        return programme_view(await service.create(session, data, principal, audit), response)

    return await idempotent.run(data, create, status_code=201)


@router.get("/programmes", response_model=Page[Programme])
async def list_programmes(
    session: ReadSession,
    _: ProgrammeReader,
    paging: Paging,
    status: ProgrammeStatus | None = None,
) -> Page[Programme]:
    """By code."""
    page = await service.list_programmes(session, paging, status)
    return Page[Programme](
        items=[Programme.model_validate(p) for p in page.items], next_cursor=page.next_cursor
    )


@router.get("/programmes/{code}", response_model=Programme)
async def get_programme(
    code: str, session: ReadSession, _: ProgrammeReader, response: Response
) -> Programme:
    """With its version as `ETag`, to send back in `If-Match` when changing it."""
    return programme_view(await service.get(session, code), response)


@router.patch("/programmes/{code}", response_model=Programme)
async def update_programme(
    code: str,
    data: ProgrammeUpdate,
    response: Response,
    session: DbSession,
    principal: Manager,
    audit: Audit,
    expected_version: ExpectedVersion,
) -> Programme:
    """Change some fields. `If-Match` is required: 428 without it, 412 when someone changed
    the programme since you read it."""
    programme = await service.update(session, code, data, expected_version, principal, audit)
    return programme_view(programme, response)


@router.get("/programmes/{code}/eligibility/{household_id}", response_model=EligibilityCheck)
async def check_eligibility(
    code: str, household_id: uuid.UUID, session: ReadSession, principal: Staff, audit: Audit
) -> EligibilityCheck:
    """Whether a household would be enrolled, and if not, which conditions it fails."""
    eligibility = await service.check_eligibility(session, code, household_id, principal, today())
    await audit.record_reads(principal, "household", [(household_id, household_id)])
    return EligibilityCheck(programme=code, household_id=household_id, eligibility=eligibility)


# Enrollments


@router.post(
    "/programmes/{code}/enrollments",
    status_code=status.HTTP_201_CREATED,
    response_model=Enrollment,
    summary="Enroll a household (eligibility checked)",
)
async def enroll(
    code: str,
    data: EnrollmentCreate,
    session: DbSession,
    principal: Staff,
    audit: Audit,
    idempotent: Idempotent,
) -> Enrollment | Response:
    """409 `not-eligible` with the failed conditions in `reasons` when the household does not
    qualify; a data_manager or admin may enroll it anyway by giving `override_reason`.
    409 `already-enrolled` (with `enrollment_id`) when it is in the programme already."""

    async def enroll_household() -> Enrollment:
        enrollment, _ = await enrollments.enroll(session, code, data, principal, audit)
        return enrollment_view(enrollment, code)

    return await idempotent.run(data, enroll_household, status_code=201)


@router.get(
    "/programmes/{code}/enrollments",
    response_class=StreamingResponse,
    responses={200: {"content": {stream.MEDIA_TYPE: {}}}},
    summary="A programme's enrollments as JSON Lines (for payrolls)",
)
async def stream_enrollments(
    code: str,
    session: StreamSession,
    principal: EnrollmentReader,
    audit: Audit,
    status: Annotated[
        EnrollmentStatus | None, Query(description="Only these (all statuses when absent).")
    ] = None,
) -> StreamingResponse:
    """One line per enrollment: enrollment_id, household_id, registry_number, programme,
    status, enrolled_on, benefit amount/currency/period, region and locality codes, and the
    head (individual_id, names, phone or null)."""
    programme = await service.get(session, code)
    lines = stream.enrollment_lines(session, programme, status, principal, audit)
    return StreamingResponse(lines, media_type=stream.MEDIA_TYPE)


@router.get("/enrollments/{enrollment_id}", response_model=EnrollmentWithHistory)
async def get_enrollment(
    enrollment_id: uuid.UUID, session: ReadSession, principal: EnrollmentViewer, audit: Audit
) -> EnrollmentWithHistory:
    enrollment, code, events = await enrollments.get(session, enrollment_id, principal)
    await audit.record_reads(principal, "enrollment", [(enrollment.id, enrollment.household_id)])
    return EnrollmentWithHistory(
        **enrollment_view(enrollment, code).model_dump(),
        history=[EnrollmentEvent.model_validate(event) for event in events],
    )


async def _change_status(
    action: enrollments.Action,
    enrollment_id: uuid.UUID,
    data: StatusChange,
    session: DbSession,
    principal: Principal,
    audit: AuditTrail,
) -> Enrollment:
    enrollment, code = await enrollments.change_status(
        session, enrollment_id, action, data, principal, audit
    )
    return enrollment_view(enrollment, code)


@router.post("/enrollments/{enrollment_id}/suspend", response_model=Enrollment)
async def suspend_enrollment(
    enrollment_id: uuid.UUID,
    data: StatusChange,
    session: DbSession,
    principal: Staff,
    audit: Audit,
) -> Enrollment:
    """active -> suspended (409 from any other status)."""
    return await _change_status("suspend", enrollment_id, data, session, principal, audit)


@router.post("/enrollments/{enrollment_id}/resume", response_model=Enrollment)
async def resume_enrollment(
    enrollment_id: uuid.UUID,
    data: StatusChange,
    session: DbSession,
    principal: Staff,
    audit: Audit,
) -> Enrollment:
    """suspended -> active (409 from any other status, or when the programme is closed)."""
    return await _change_status("resume", enrollment_id, data, session, principal, audit)


@router.post("/enrollments/{enrollment_id}/exit", response_model=Enrollment)
async def exit_enrollment(
    enrollment_id: uuid.UUID,
    data: StatusChange,
    session: DbSession,
    principal: Staff,
    audit: Audit,
) -> Enrollment:
    """active or suspended -> exited, for good; the household may be enrolled again later
    as a new enrollment."""
    return await _change_status("exit", enrollment_id, data, session, principal, audit)
