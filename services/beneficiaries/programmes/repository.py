"""Programmes, enrollments and what eligibility reads, in the database."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, and_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.beneficiaries.models import (
    AdminArea,
    Enrollment,
    EnrollmentEvent,
    Household,
    Identifier,
    Individual,
    Programme,
)
from shared.pagination import PageParams, keyset_page
from shared.repository import Table

# Programmes


async def get_programme(
    session: AsyncSession, code: str, *, for_update: bool = False
) -> Programme | None:
    statement = select(Programme).where(Programme.code == code)
    if for_update:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(statement)


programmes = Table(Programme, "No such programme.")


async def list_programmes(
    session: AsyncSession, params: PageParams, status: str | None
) -> Sequence[Programme]:
    statement = select(Programme)
    if status is not None:
        statement = statement.where(Programme.status == status)
    statement = keyset_page(statement, [Programme.code], params, [str])
    return (await session.execute(statement)).scalars().all()


def add(session: AsyncSession, row: Any) -> None:
    session.add(row)


async def existing_area_codes(
    session: AsyncSession, codes: set[tuple[str, int]]
) -> set[tuple[str, int]]:
    """Which (code, level) pairs exist in the reference areas."""
    if not codes:
        return set()
    rows = await session.execute(
        select(AdminArea.code, AdminArea.level).where(
            tuple_(AdminArea.code, AdminArea.level).in_(sorted(codes))
        )
    )
    return {(code, level) for code, level in rows}


# What eligibility reads


async def household_for_eligibility(
    session: AsyncSession, household_id: uuid.UUID, *, lock: bool = False
) -> dict[str, Any] | None:
    """The household's rule fields, its score, and whether its locality is a refugee
    village. `lock` takes a share lock: the household cannot change while it is enrolled."""
    statement = (
        select(
            Household.id,
            Household.status,
            Household.area,
            Household.region_code,
            Household.commune_code,
            Household.locality_code,
            AdminArea.is_refugee_village,
            Household.displacement_status,
            Household.dwelling_type,
            Household.tenure,
            Household.water_source,
            Household.sanitation,
            Household.registration_source,
            Household.pmt_score,
            Household.pmt_formula_version,
        )
        .join(AdminArea, AdminArea.code == Household.locality_code)
        .where(Household.id == household_id)
    )
    if lock:
        statement = statement.with_for_update(read=True, of=Household)
    row = (await session.execute(statement)).one_or_none()
    return None if row is None else dict(row._mapping)


async def active_members(session: AsyncSession, household_id: uuid.UUID) -> list[dict[str, Any]]:
    statement = select(
        Individual.sex,
        Individual.birth_date,
        Individual.legal_status,
        Individual.has_disability,
        Individual.pregnant,
        Individual.lactating,
        Individual.relationship_to_head,
        Individual.education_level,
    ).where(Individual.household_id == household_id, Individual.status == "active")
    return [dict(row._mapping) for row in await session.execute(statement)]


# Enrollments


async def current_enrollment(
    session: AsyncSession, programme_id: uuid.UUID, household_id: uuid.UUID
) -> Enrollment | None:
    """The household's enrollment in the programme that has not ended, if any."""
    return await session.scalar(
        select(Enrollment).where(
            Enrollment.programme_id == programme_id,
            Enrollment.household_id == household_id,
            Enrollment.status != "exited",
        )
    )


async def current_enrollments(
    session: AsyncSession, household_ids: Sequence[uuid.UUID], codes: Sequence[str] | None
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """The programmes households are in now (not exited), by programme code: its names,
    the enrollment's status and since when; only the programmes `codes` when given."""
    if not household_ids:
        return {}
    statement = (
        select(
            Enrollment.household_id,
            Programme.code,
            Programme.name_en,
            Programme.name_fr,
            Enrollment.status,
            Enrollment.enrolled_on,
            Enrollment.status_since,
        )
        .join(Programme, Programme.id == Enrollment.programme_id)
        .where(Enrollment.household_id.in_(set(household_ids)), Enrollment.status != "exited")
        .order_by(Enrollment.household_id, Programme.code)
    )
    if codes is not None:
        statement = statement.where(Programme.code.in_(codes))
    found: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for household_id, code, name_en, name_fr, status, enrolled_on, since in await session.execute(
        statement
    ):
        found.setdefault(household_id, []).append(
            {
                "programme": code,
                "name_en": name_en,
                "name_fr": name_fr,
                "status": status,
                "enrolled_on": enrolled_on.isoformat(),
                "status_since": since.isoformat(),
            }
        )
    return found


async def get_enrollment(
    session: AsyncSession, enrollment_id: uuid.UUID, *, for_update: bool = False
) -> tuple[Enrollment, str, str] | None:
    """The enrollment, its programme's code and its household's region."""
    statement = (
        select(Enrollment, Programme.code, Household.region_code)
        .join(Programme, Programme.id == Enrollment.programme_id)
        .join(Household, Household.id == Enrollment.household_id)
        .where(Enrollment.id == enrollment_id)
    )
    if for_update:
        statement = statement.with_for_update(of=Enrollment).execution_options(
            populate_existing=True
        )
    row = (await session.execute(statement)).one_or_none()
    return None if row is None else (row[0], row[1], row[2])


async def history(session: AsyncSession, enrollment_id: uuid.UUID) -> Sequence[EnrollmentEvent]:
    statement = (
        select(EnrollmentEvent)
        .where(EnrollmentEvent.enrollment_id == enrollment_id)
        .order_by(EnrollmentEvent.recorded_at, EnrollmentEvent.id)
    )
    return (await session.execute(statement)).scalars().all()


def enrollment_list(programme_id: uuid.UUID, status: str | None) -> Select:
    """One row per enrollment with its household's location and head (and the head's
    phone): what a payroll needs, in one query to be streamed."""
    head = aliased(Individual, name="head")
    phone = (
        select(Identifier.value)
        .where(Identifier.individual_id == head.id, Identifier.type == "phone")
        .order_by(Identifier.created_at, Identifier.id)
        .limit(1)
        .scalar_subquery()
    )
    statement = (
        select(
            Enrollment.id.label("enrollment_id"),
            Enrollment.household_id,
            Household.registry_number,
            Enrollment.status,
            Enrollment.enrolled_on,
            Household.region_code,
            Household.locality_code,
            head.id.label("head_id"),
            head.given_name,
            head.father_name,
            head.grandfather_name,
            phone.label("phone"),
        )
        .join(Household, Household.id == Enrollment.household_id)
        .outerjoin(
            head,
            and_(
                head.household_id == Household.id,
                head.relationship_to_head == "head",
                head.status == "active",
            ),
        )
        .where(Enrollment.programme_id == programme_id)
        .order_by(Enrollment.id)
    )
    if status is not None:
        statement = statement.where(Enrollment.status == status)
    return statement
