"""Registry rows for tests, written straight through the models (for tests of features that
need households to exist; the households API has its own tests)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.models import Household, Identifier, Individual, Membership
from services.beneficiaries.records.mapping import derived_person_columns
from shared.db import Database

LOCALITY_REGION = {
    "DJ-DJ-BALBALA-PK12": ("DJ-DJ", "DJ-DJ-BALBALA", "urban"),
    "DJ-AS-ALIADDEH-VILLAGE": ("DJ-AS", "DJ-AS-ALIADDEH", "rural"),
    "DJ-AS-ALISABIEH-VILLE": ("DJ-AS", "DJ-AS-ALISABIEH", "urban"),
    "DJ-OB-OBOCK-MARKAZI": ("DJ-OB", "DJ-OB-OBOCK", "rural"),
    "DJ-TA-TADJOURAH-VILLE": ("DJ-TA", "DJ-TA-TADJOURAH", "urban"),
}


@dataclass
class Person:
    given_name: str
    father_name: str | None = "Ali"
    grandfather_name: str | None = "Farah"
    sex: str = "F"
    birth_date: date = date(1990, 5, 17)
    relationship_to_head: str = "head"
    legal_status: str = "national"
    disability: dict[str, int] = field(default_factory=dict)
    identifiers: list[tuple[str, str]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


async def add_household(
    session: AsyncSession,
    members: list[Person],
    *,
    locality: str = "DJ-DJ-BALBALA-PK12",
    registration_date: date = date(2026, 3, 1),
    **household_fields: Any,
) -> Household:
    region, commune, area = LOCALITY_REGION[locality]
    household = Household(
        id=uuid.uuid4(),
        region_code=region,
        commune_code=commune,
        locality_code=locality,
        area=household_fields.pop("area", area),
        registration_source="door_to_door",
        registration_date=registration_date,
        member_count=len(members),
        **household_fields,
    )
    session.add(household)
    await session.flush()
    for person in members:
        individual = Individual(
            id=uuid.uuid4(),
            household_id=household.id,
            relationship_to_head=person.relationship_to_head,
            given_name=person.given_name,
            father_name=person.father_name,
            grandfather_name=person.grandfather_name,
            sex=person.sex,
            birth_date=person.birth_date,
            legal_status=person.legal_status,
            disability=person.disability,
            **derived_person_columns(vars(person)),
            **person.extra,
        )
        session.add(individual)
        await session.flush()
        session.add(
            Membership(
                household_id=household.id,
                individual_id=individual.id,
                relationship_to_head=person.relationship_to_head,
                started_on=registration_date,
                start_reason="registered",
            )
        )
        for id_type, value in person.identifiers:
            session.add(Identifier(individual_id=individual.id, type=id_type, value=value))
    await session.flush()
    return household


async def save_household(database: Database, members: list[Person], **fields: Any) -> Household:
    """`add_household` in a session of its own, committed."""
    async with database.sessionmaker() as session:
        household = await add_household(session, members, **fields)
        await session.commit()
    return household
