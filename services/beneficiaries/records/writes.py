"""The writes every change of a household is made of, for the household, person and
duplicate services to compose: people added with their first membership span and their
identifiers, a relationship changed, a person leaving, identifiers checked free.

Membership spans are closed and opened, never rewritten: the history keeps who was what,
when."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.models import Household, Identifier, Individual, Membership
from services.beneficiaries.records import repository
from services.beneficiaries.records.mapping import person_columns
from services.beneficiaries.records.schemas import MemberIn
from shared.errors import Conflict


class DuplicateIdentifier(Conflict):
    type, title = "duplicate-identifier", "Identifier already registered"


async def check_identifiers_free(
    session: AsyncSession,
    identifiers: Iterable[tuple[str, str]],
    *,
    regions: Sequence[str] | None,
    allowed_owners: Iterable[uuid.UUID] = (),
) -> None:
    """409 naming the record that already holds one of these (unique-type) identifiers; to a
    caller limited to `regions` (None: no limit), one held outside them is not named."""
    allowed = set(allowed_owners)
    for kind, _value, owner, household_id, region in await repository.unique_identifier_owners(
        session, identifiers
    ):
        if owner in allowed:
            continue
        if regions is not None and region not in regions:
            raise DuplicateIdentifier(
                f"This {kind} is already registered to someone outside your regions: a data "
                "manager must resolve it.",
                identifier_type=kind,
                outside_your_regions=True,
            )
        raise DuplicateIdentifier(
            f"This {kind} is already registered to someone else.",
            identifier_type=kind,
            existing_individual_id=str(owner),
            existing_household_id=str(household_id) if household_id else None,
        )


def new_person(
    household_id: uuid.UUID, member: MemberIn, actor: str, *, position: int
) -> Individual:
    """A person's row from what was sent, at `position` in the household's list (not added
    to the session yet)."""
    return Individual(
        id=member.id or uuid.uuid4(),
        household_id=household_id,
        roster_position=position,
        created_by=actor,
        updated_by=actor,
        **person_columns(member),
    )


async def add_people(
    session: AsyncSession,
    household_id: uuid.UUID,
    joined: Sequence[tuple[Individual, MemberIn]],
    *,
    started_on: date,
    reason: str,
    actor: str,
) -> None:
    """New people in a household (`new_person` rows and what was sent for each), with
    their first membership span and identifiers. The people are flushed first: without
    ORM relationships, nothing orders the inserts for us."""
    if not joined:
        return
    session.add_all(person for person, _ in joined)
    await repository.flush(session)
    for person, member in joined:
        session.add(
            Membership(
                household_id=household_id,
                individual_id=person.id,
                relationship_to_head=member.relationship_to_head,
                started_on=started_on,
                start_reason=reason,
                recorded_by=actor,
            )
        )
        session.add_all(
            Identifier(individual_id=person.id, type=i.type, value=i.value)
            for i in member.identifiers
        )
    await repository.flush(session)


async def record_relationship(
    session: AsyncSession,
    household_id: uuid.UUID,
    person: Individual,
    relationship: str,
    *,
    on: date,
    actor: str,
) -> None:
    """A member's relationship to the head changes: their membership span closes and a
    new one opens, so the history keeps who was what, when."""
    await repository.close_memberships(
        session, household_id, [person.id], ended_on=on, reason="relationship_changed"
    )
    person.relationship_to_head = relationship
    person.updated_by = actor
    session.add(
        Membership(
            household_id=household_id,
            individual_id=person.id,
            relationship_to_head=relationship,
            started_on=on,
            start_reason="relationship_changed",
            recorded_by=actor,
        )
    )


async def leave(
    session: AsyncSession,
    household: Household,
    person: Individual,
    members: Iterable[Individual],
    *,
    on: date,
    reason: str,
    actor: str,
) -> None:
    """`person` leaves `household`, whose present members are `members`: their membership
    span closes, the head cannot leave others behind, and the last one to leave dissolves
    the household. The rule a departure (moved out, death) and a duplicate record merged
    away share."""
    others = [m for m in members if m.id != person.id]
    if person.relationship_to_head == "head" and others:
        raise Conflict(
            f"This person heads household {household.registry_number}: change its head first."
        )
    await repository.close_memberships(
        session, household.id, [person.id], ended_on=on, reason=reason
    )
    household.member_count = len(others)
    household.updated_by = actor
    if not others:
        household.status = "dissolved"
    person.household_id = None
    person.updated_by = actor
