"""Finding people across households, reading and correcting one person's record."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.access import allowed_regions, ensure_region
from services.beneficiaries.clock import age_on, today
from services.beneficiaries.context import WriteContext
from services.beneficiaries.individuals.schemas import IndividualSummary
from services.beneficiaries.models import Household as HouseholdRow
from services.beneficiaries.models import Individual as IndividualRow
from services.beneficiaries.pmt.service import rescore_households
from services.beneficiaries.records import repository, search
from services.beneficiaries.records.documents import PersonDocument, person_document
from services.beneficiaries.records.filters import RegistryFilters
from services.beneficiaries.records.mapping import PERSON_COLUMNS, derived_person_columns
from services.beneficiaries.records.schemas import IndividualUpdate
from services.beneficiaries.records.writes import check_identifiers_free, record_relationship
from shared.auth import Principal
from shared.errors import Conflict, Forbidden, NotFound, UnprocessableEntity
from shared.pagination import Page, PageParams, page_of
from shared.versioning import require_version, touch

# What every person has: a PATCH may correct these, never empty them.
KEPT_FIELDS = (
    "given_name",
    "sex",
    "birth_date",
    "birth_date_estimated",
    "relationship_to_head",
    "legal_status",
    "disability",
    "pregnant",
    "lactating",
)
OUTSIDE_HOUSEHOLDS = "People outside any household are visible to data managers only."


async def list_individuals(
    session: AsyncSession, principal: Principal, filters: RegistryFilters, paging: PageParams
) -> Page[IndividualSummary]:
    rows = await search.list_individuals(session, filters, allowed_regions(principal), paging)
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
    return Page[IndividualSummary](items=items, next_cursor=page.next_cursor)


def _ensure_visible(principal: Principal, region_code: str | None) -> None:
    if region_code is not None:
        ensure_region(principal, region_code)
    elif principal.is_region_limited:
        raise Forbidden(OUTSIDE_HOUSEHOLDS)


async def get(
    session: AsyncSession, principal: Principal, individual_id: uuid.UUID
) -> PersonDocument:
    found = await person_document(session, individual_id)
    if found is None:
        raise NotFound("No such person.")
    _ensure_visible(principal, found.region_code)
    return found


async def held_for_change(
    ctx: WriteContext, individual_id: uuid.UUID
) -> tuple[IndividualRow, HouseholdRow | None]:
    """The person and their household, both locked for a change: the household first, the
    order every registry change locks in (a household replaced and one of its people
    corrected at the same moment wait for each other instead of deadlocking)."""
    session = ctx.session
    seen = await repository.individuals.get(session, individual_id)
    household = None
    if seen.household_id is not None:
        household = await repository.households.get_for_update(session, seen.household_id)
    person = await repository.individuals.get_for_update(session, individual_id)
    if person.household_id != (household.id if household else None):
        raise Conflict("This person changed household at the same moment: try again.")
    _ensure_visible(ctx.principal, household.region_code if household else None)
    return person, household


def would_change(person: IndividualRow, data: IndividualUpdate) -> bool:
    """Whether the fields sent (identifiers aside) differ from the person's."""
    sent = data.model_fields_set
    return any(
        getattr(person, field) != getattr(data, field) for field in PERSON_COLUMNS if field in sent
    )


async def update(
    ctx: WriteContext,
    individual_id: uuid.UUID,
    data: IndividualUpdate,
    expected_version: int | None,
) -> PersonDocument:
    person, household = await held_for_change(ctx, individual_id)
    return await update_held(ctx, person, household, data, expected_version)


async def update_held(
    ctx: WriteContext,
    person: IndividualRow,
    household: HouseholdRow | None,
    data: IndividualUpdate,
    expected_version: int | None,
) -> PersonDocument:
    """`update` of a person the caller holds for the change (`held_for_change`)."""
    session = ctx.session
    if person.status == "merged":
        raise Conflict("This record was merged into another; change that one.")
    require_version(expected_version, person.version)
    sent = data.model_fields_set
    if "relationship_to_head" in sent and (
        "head" in (data.relationship_to_head, person.relationship_to_head)
        and data.relationship_to_head != person.relationship_to_head
    ):
        raise Conflict("Use POST /households/{id}/head to change who heads a household.")
    changes = {field: getattr(data, field) for field in PERSON_COLUMNS if field in sent}
    removed = sorted(field for field in KEPT_FIELDS if field in changes and changes[field] is None)
    if removed:
        raise UnprocessableEntity(
            "These can be corrected, not removed: " + ", ".join(removed) + ".",
            errors=[{"path": f"body.{field}", "message": "cannot be removed"} for field in removed],
        )
    sex = changes.get("sex", person.sex)
    if sex != "F" and (
        changes.get("pregnant", person.pregnant) or changes.get("lactating", person.lactating)
    ):
        raise UnprocessableEntity(
            "Only a woman can be recorded as pregnant or lactating.",
            errors=[{"path": "body.sex", "message": "inconsistent with pregnancy or lactation"}],
        )
    changed = [field for field, value in changes.items() if getattr(person, field) != value]
    for field in changed:
        if field == "relationship_to_head" and household is not None:
            await record_relationship(
                session,
                household.id,
                person,
                changes[field],
                on=today(),
                actor=ctx.principal.subject,
            )
        else:
            setattr(person, field, changes[field])
    if data.identifiers is not None:
        wanted: set[tuple[str, str]] = {(i.type, i.value) for i in data.identifiers}
        held = await repository.identifier_pairs_of(session, person.id)
        if wanted != held:
            await check_identifiers_free(
                session,
                wanted - held,
                regions=allowed_regions(ctx.principal),
                allowed_owners=[person.id],
            )
            await repository.replace_identifiers(session, person.id, wanted, held)
            changed.append("identifiers")
    if changed:
        derived = derived_person_columns({c: getattr(person, c) for c in PERSON_COLUMNS})
        for column, value in derived.items():
            setattr(person, column, value)
        person.updated_by = ctx.principal.subject
        touch(session, person)
        if household is not None:
            # The household's representation includes its members: it gets a new version.
            household.updated_by = ctx.principal.subject
            touch(session, household)
        await repository.flush(session)
        if household is not None:
            await rescore_households(session, [household.id])
        await ctx.audit.record_write(
            session,
            ctx.principal,
            "update",
            "individual",
            person.id,
            person.household_id,
            {"fields": sorted(changed)},
        )
    await session.flush()
    found = await person_document(session, person.id)
    assert found is not None
    return found
