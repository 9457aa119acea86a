"""A household as stored, loaded once for a change, and whether a write would change it.

A device that lost an answer sends the same write again: comparing the write with what is
stored, column by column through the one mapping, tells that retry ("unchanged") from a
real change without reading the household twice.

A write of a household that exists names its members by id, or not (a device that never
kept the ids the first answer gave). A member sent without an id is the present member
with the same name (compared folded: case, accents, spacing), sex and birth date, not named
by id elsewhere in the write; when several have those, the one at the same place in the
list, else the first of them in the household's order. Anyone else is a new person. Position
alone never decides: after a removal, it would give one person's record to the next."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from services.beneficiaries.models import Household, Individual
from services.beneficiaries.names import full_name_folded
from services.beneficiaries.records.mapping import (
    HOUSEHOLD_COLUMNS,
    PERSON_COLUMNS,
    household_columns,
)
from services.beneficiaries.records.schemas import HouseholdWrite, MemberIn

Pairs = set[tuple[str, str]]


@dataclass
class Stored:
    """The household row and its present members' rows (both locked for the change), in
    the household's order, and the identifiers each member holds."""

    household: Household
    members: dict[uuid.UUID, Individual]
    identifiers: dict[uuid.UUID, Pairs]

    def held_identifiers(self) -> Pairs:
        return set().union(*self.identifiers.values())


Identity = tuple[str, str, object]


def _identity(
    given: str, father: str | None, grandfather: str | None, sex: str, born: object
) -> Identity:
    return full_name_folded(given, father, grandfather), sex, born


def with_member_ids(stored: Stored, data: HouseholdWrite) -> HouseholdWrite:
    """`data` with each member sent without an id given the id of the present member it
    is (see the module's note); the others are left as sent."""
    if all(member.id is not None for member in data.members):
        return data
    claimed = {member.id for member in data.members}
    unclaimed: dict[Identity, list[tuple[int, uuid.UUID]]] = {}
    for place, person in enumerate(stored.members.values()):
        if person.id not in claimed:
            key = _identity(
                person.given_name,
                person.father_name,
                person.grandfather_name,
                person.sex,
                person.birth_date,
            )
            unclaimed.setdefault(key, []).append((place, person.id))
    members: list[MemberIn] = []
    for place, member in enumerate(data.members):
        key = _identity(
            member.given_name,
            member.father_name,
            member.grandfather_name,
            member.sex,
            member.birth_date,
        )
        candidates = unclaimed.get(key)
        if member.id is not None or not candidates:
            members.append(member)
            continue
        chosen = next((c for c in candidates if c[0] == place), candidates[0])
        candidates.remove(chosen)
        members.append(member.model_copy(update={"id": chosen[1]}))
    return data.model_copy(update={"members": members})


def same_person(person: Individual, held: Iterable[tuple[str, str]], member: MemberIn) -> bool:
    """Whether `member` is what is stored for this person."""
    return (
        member.id == person.id
        and all(getattr(person, column) == getattr(member, column) for column in PERSON_COLUMNS)
        and member.identifier_pairs() == set(held)
    )


def same_household(stored: Stored, data: HouseholdWrite) -> bool:
    """Whether writing `data` would change nothing: the same household columns, the same
    locality (and area, when the write names one), and the same people with the same
    fields and identifiers, in the same order. A write with a member without id adds someone
    (match them first: `with_member_ids`): not the same."""
    household = stored.household
    location = data.location
    if location.locality_code != household.locality_code or (
        location.area is not None and location.area != household.area
    ):
        return False
    sent = household_columns(data)
    if any(getattr(household, column) != sent[column] for column in HOUSEHOLD_COLUMNS):
        return False
    if [member.id for member in data.members] != list(stored.members):
        return False
    return all(
        same_person(stored.members[member.id], stored.identifiers[member.id], member)
        for member in data.members
        if member.id is not None
    )
