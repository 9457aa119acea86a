"""A household as stored, loaded once for a change, and whether a write would change it.

A device that lost an answer sends the same write again: comparing the write with what is
stored, column by column through the one mapping, tells that retry ("unchanged") from a
real change without reading the household twice."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from services.beneficiaries.models import Household, Individual
from services.beneficiaries.records.mapping import (
    HOUSEHOLD_COLUMNS,
    PERSON_COLUMNS,
    household_columns,
)
from services.beneficiaries.records.schemas import HouseholdWrite, MemberIn

Pairs = set[tuple[str, str]]


@dataclass
class Stored:
    """The household row and its present members' rows (both locked for the change), and
    the identifiers each member holds."""

    household: Household
    members: dict[uuid.UUID, Individual]
    identifiers: dict[uuid.UUID, Pairs]

    def held_identifiers(self) -> Pairs:
        return set().union(*self.identifiers.values())


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
    fields and identifiers. A write with a member without id adds someone: not the same."""
    household = stored.household
    location = data.location
    if location.locality_code != household.locality_code or (
        location.area is not None and location.area != household.area
    ):
        return False
    sent = household_columns(data)
    if any(getattr(household, column) != sent[column] for column in HOUSEHOLD_COLUMNS):
        return False
    if {member.id for member in data.members} != set(stored.members):
        return False
    return all(
        same_person(stored.members[member.id], stored.identifiers[member.id], member)
        for member in data.members
        if member.id is not None
    )
