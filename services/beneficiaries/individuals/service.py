"""Reading and correcting one person's record."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.access import ensure_region
from services.beneficiaries.clock import today
from services.beneficiaries.households import repository
from services.beneficiaries.households.derived import individual_columns
from services.beneficiaries.households.schemas import IndividualUpdate
from services.beneficiaries.households.service import (
    Registrar,
    _flush,
    check_identifiers_free,
    record_relationship,
)
from services.beneficiaries.households.versions import touch
from services.beneficiaries.households.views import member_view
from services.beneficiaries.individuals.schemas import Individual
from services.beneficiaries.models import Household as HouseholdRow
from services.beneficiaries.models import Individual as IndividualRow
from services.beneficiaries.pmt.scoring import rescore_households
from shared.auth import Principal
from shared.errors import Conflict, Forbidden, NotFound, UnprocessableEntity
from shared.etag import require_if_match

PERSON_FIELDS = (
    "given_name", "father_name", "grandfather_name", "sex", "birth_date", "birth_date_estimated",
    "relationship_to_head", "legal_status", "nationality", "country_of_origin", "disability",
    "pregnant", "lactating", "education_level", "occupation",
)  # fmt: skip
# What every person has: a PATCH may correct these, never empty them.
KEPT_FIELDS = (
    "given_name", "sex", "birth_date", "birth_date_estimated", "relationship_to_head",
    "legal_status", "disability", "pregnant", "lactating",
)  # fmt: skip


async def _load(
    session: AsyncSession,
    principal: Principal,
    individual_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> tuple[IndividualRow, HouseholdRow | None]:
    person = await repository.get_individual(session, individual_id, for_update=for_update)
    if person is None:
        raise NotFound("No such person.")
    household = None
    if person.household_id is not None:
        household = await repository.get_household(
            session, person.household_id, for_update=for_update
        )
        assert household is not None
        ensure_region(principal, household.region_code)
    elif principal.is_region_limited:
        raise Forbidden("People outside any household are visible to data managers only.")
    return person, household


async def view(
    session: AsyncSession, person: IndividualRow, household: HouseholdRow | None
) -> Individual:
    identifiers = (await repository.identifiers_of(session, [person.id])).get(person.id, [])
    return Individual(
        **member_view(person, identifiers).model_dump(),
        registry_number=household.registry_number if household else None,
        merged_into_id=person.merged_into_id,
    )


async def get(session: AsyncSession, principal: Principal, individual_id: uuid.UUID) -> Individual:
    person, household = await _load(session, principal, individual_id)
    return await view(session, person, household)


async def update(
    ctx: Registrar, individual_id: uuid.UUID, data: IndividualUpdate, if_match: str | None
) -> Individual:
    session = ctx.session
    person, household = await _load(session, ctx.principal, individual_id, for_update=True)
    if person.status == "merged":
        raise Conflict("This record was merged into another; change that one.")
    require_if_match(if_match, person.version)
    sent = data.model_fields_set
    if "relationship_to_head" in sent and (
        "head" in (data.relationship_to_head, person.relationship_to_head)
        and data.relationship_to_head != person.relationship_to_head
    ):
        raise Conflict("Use POST /households/{id}/head to change who heads a household.")
    changes = {field: getattr(data, field) for field in PERSON_FIELDS if field in sent}
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
                session, household.id, person, changes[field], on=today(),
                actor=ctx.principal.subject,
            )  # fmt: skip
        else:
            setattr(person, field, changes[field])
    if data.identifiers is not None:
        pairs = sorted({(i.type, i.value) for i in data.identifiers})
        current = (await repository.identifiers_of(session, [person.id]))[person.id]
        if set(pairs) != {(i.type, i.value) for i in current}:
            await check_identifiers_free(session, pairs, allowed_owners=[person.id])
            await repository.replace_identifiers(session, person.id, pairs, current)
            changed.append("identifiers")
    if changed:
        _derive(person)
        person.updated_by = ctx.principal.subject
        touch(session, person)
        if household is not None:
            # The household's representation includes its members: it gets a new version.
            household.updated_by = ctx.principal.subject
            touch(session, household)
        await _flush(session)
        if household is not None:
            await rescore_households(session, [household.id])
        await ctx.audit.record_write(
            session, ctx.principal, "update", "individual", person.id,
            person.household_id, {"fields": sorted(changed)},
        )  # fmt: skip
        await session.refresh(person)
    return await view(session, person, household)


def _derive(person: IndividualRow) -> None:
    for column, value in individual_columns(
        person.given_name,
        person.father_name,
        person.grandfather_name,
        person.birth_date,
        person.disability,
    ).items():
        setattr(person, column, value)
