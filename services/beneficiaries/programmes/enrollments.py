"""Enrolling households in programmes and moving enrollments through their life:
active <-> suspended, then exited (after which the household may be enrolled again)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.access import MANAGERS, ensure_region
from services.beneficiaries.callbacks import events
from services.beneficiaries.clock import today
from services.beneficiaries.models import Enrollment, EnrollmentEvent
from services.beneficiaries.programmes import repository, service
from services.beneficiaries.programmes.schemas import EnrollmentCreate, StatusChange
from shared.audit import AuditTrail
from shared.auth import Principal
from shared.errors import Conflict, Forbidden, NotFound, UnprocessableEntity
from shared.request_context import current_request_id
from shared.versioning import touch

Action = Literal["suspend", "resume", "exit"]
# action -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[Action, tuple[frozenset[str], str]] = {
    "suspend": (frozenset({"active"}), "suspended"),
    "resume": (frozenset({"suspended"}), "active"),
    "exit": (frozenset({"active", "suspended"}), "exited"),
}


class NotEligible(Conflict):
    type, title = "not-eligible", "Not eligible"


class AlreadyEnrolled(Conflict):
    type, title = "already-enrolled", "Already enrolled"


async def enroll(
    session: AsyncSession,
    code: str,
    data: EnrollmentCreate,
    principal: Principal,
    audit: AuditTrail,
) -> tuple[Enrollment, str]:
    # An override is a manager's decision; a registrar asking for one is refused outright,
    # whatever the household's eligibility (the answer must not depend on it).
    if data.override_reason is not None and not principal.has_any_role(MANAGERS):
        raise Forbidden("Only a data_manager or an admin may override eligibility.")
    programme = await service.get(session, code)
    household = await repository.household_for_eligibility(session, data.household_id, lock=True)
    if household is None:
        raise NotFound("No such household.")
    ensure_region(principal, household["region_code"])
    if programme.status != "active":
        raise Conflict(f"Programme '{code}' is closed: it takes no new enrollments.")
    if household["status"] != "active":
        raise Conflict(f"The household is {household['status']}: only active households enroll.")
    enrolled_on = data.enrolled_on or today()
    _check_within_programme(programme.start_date, programme.end_date, enrolled_on)
    existing = await repository.current_enrollment(session, programme.id, data.household_id)
    if existing is not None:
        raise _already_enrolled(code, existing.id)

    eligibility = await service.eligibility_of(session, programme, household, today())
    overridden = not eligibility.eligible and data.override_reason is not None
    if not eligibility.eligible and not overridden:
        raise NotEligible(
            f"The household is not eligible for programme '{code}'.",
            reasons=[reason.model_dump(mode="json") for reason in eligibility.reasons],
            eligibility=eligibility.model_dump(mode="json"),
        )
    eligibility.overridden = overridden
    enrollment = Enrollment(
        id=uuid.uuid4(),
        programme_id=programme.id,
        household_id=data.household_id,
        status="active",
        enrolled_on=enrolled_on,
        status_since=enrolled_on,
        eligibility=eligibility.model_dump(mode="json"),
        override_reason=data.override_reason if overridden else None,
        overridden_by=principal.subject if overridden else None,
        created_by=principal.subject,
    )
    try:
        # Added inside the savepoint, so that its failure takes the row out of the session
        # too: the lookup below would otherwise flush it again.
        async with session.begin_nested():
            repository.add(session, enrollment)
            await session.flush()
    except IntegrityError as exc:  # enrolled by a concurrent request a moment ago
        existing = await repository.current_enrollment(session, programme.id, data.household_id)
        raise _already_enrolled(code, existing.id if existing else None) from exc
    _record_event(
        session, enrollment.id, None, "active", enrolled_on, enrollment.override_reason, principal
    )
    await events.registry_event(session, events.EVENT_ENROLLMENT, enrollment.household_id)
    await session.flush()
    await session.refresh(enrollment)
    await audit.record_write(
        session,
        principal,
        "create",
        "enrollment",
        enrollment.id,
        enrollment.household_id,
        {"programme": code, "overridden": overridden},
    )
    return enrollment, code


def _already_enrolled(code: str, enrollment_id: uuid.UUID | None) -> AlreadyEnrolled:
    return AlreadyEnrolled(
        f"The household is already enrolled in programme '{code}'.",
        enrollment_id=str(enrollment_id) if enrollment_id else None,
    )


def _check_within_programme(start: date | None, end: date | None, on: date) -> None:
    if (start and on < start) or (end and on > end):
        raise Conflict("The enrollment date is outside the programme's dates.")


async def get(
    session: AsyncSession, enrollment_id: uuid.UUID, principal: Principal
) -> tuple[Enrollment, str, list[EnrollmentEvent]]:
    enrollment, code = await _get(session, enrollment_id, principal)
    return enrollment, code, list(await repository.history(session, enrollment_id))


async def _get(
    session: AsyncSession, enrollment_id: uuid.UUID, principal: Principal, *, lock: bool = False
) -> tuple[Enrollment, str]:
    found = await repository.get_enrollment(session, enrollment_id, for_update=lock)
    if found is None:
        raise NotFound("No such enrollment.")
    enrollment, code, region_code = found
    ensure_region(principal, region_code)
    return enrollment, code


async def change_status(
    session: AsyncSession,
    enrollment_id: uuid.UUID,
    action: Action,
    data: StatusChange,
    principal: Principal,
    audit: AuditTrail,
) -> tuple[Enrollment, str]:
    # Locked: two status changes at once are applied one after the other, and the second is
    # judged against the first's result.
    enrollment, code = await _get(session, enrollment_id, principal, lock=True)
    sources, target = TRANSITIONS[action]
    if enrollment.status not in sources:
        raise Conflict(
            f"An enrollment that is {enrollment.status} cannot {action}.",
            type="invalid-transition",
            title="Invalid status change",
            status_now=enrollment.status,
        )
    effective_on = data.effective_on or today()
    if effective_on > today():
        raise UnprocessableEntity(
            "A status change takes effect today or earlier.",
            errors=[{"path": "body.effective_on", "message": "cannot be in the future"}],
        )
    if effective_on < enrollment.status_since:
        raise Conflict(
            f"The enrollment has been {enrollment.status} since {enrollment.status_since}: "
            "a change cannot take effect before that."
        )
    if action == "resume":
        programme = await repository.programmes.find(session, enrollment.programme_id)
        if programme is not None and programme.status != "active":
            raise Conflict(f"Programme '{code}' is closed: enrollments cannot resume.")
    previous = enrollment.status
    enrollment.status = target
    enrollment.status_since = effective_on
    touch(session, enrollment)
    _record_event(session, enrollment.id, previous, target, effective_on, data.reason, principal)
    await events.registry_event(session, events.EVENT_ENROLLMENT_STATUS, enrollment.household_id)
    await session.flush()
    await session.refresh(enrollment)
    await audit.record_write(
        session,
        principal,
        action,
        "enrollment",
        enrollment.id,
        enrollment.household_id,
        {"programme": code, "from": previous, "to": target},
    )
    return enrollment, code


def _record_event(
    session: AsyncSession,
    enrollment_id: uuid.UUID,
    from_status: str | None,
    to_status: str,
    effective_on: date,
    reason: str | None,
    principal: Principal,
) -> None:
    repository.add(
        session,
        EnrollmentEvent(
            enrollment_id=enrollment_id,
            from_status=from_status,
            to_status=to_status,
            effective_on=effective_on,
            reason=reason,
            actor=principal.subject,
            request_id=current_request_id(),
            # The moment of the change, not of the transaction's start: two changes in one
            # transaction still come back in the order they happened.
            recorded_at=func.clock_timestamp(),
        ),
    )
