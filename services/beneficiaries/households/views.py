"""A person's read model from their row (a household's comes whole from documents.py)."""

from __future__ import annotations

from collections.abc import Sequence

from services.beneficiaries.households.derived import age_on
from services.beneficiaries.households.schemas import (
    IdentifierRead,
    Member,
    today,
)
from services.beneficiaries.models import Identifier, Individual


def member_view(person: Individual, identifiers: Sequence[Identifier]) -> Member:
    return Member(
        id=person.id,
        household_id=person.household_id,
        status=person.status,
        given_name=person.given_name,
        father_name=person.father_name,
        grandfather_name=person.grandfather_name,
        sex=person.sex,
        birth_date=person.birth_date,
        birth_date_estimated=person.birth_date_estimated,
        age=age_on(person.birth_date, today()),
        relationship_to_head=person.relationship_to_head,
        legal_status=person.legal_status,
        nationality=person.nationality,
        country_of_origin=person.country_of_origin,
        identifiers=[IdentifierRead(type=i.type, value=i.value) for i in identifiers],
        disability=person.disability or {},
        has_disability=person.has_disability,
        pregnant=person.pregnant,
        lactating=person.lactating,
        education_level=person.education_level,
        occupation=person.occupation,
        version=person.version,
    )
