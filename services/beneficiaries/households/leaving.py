"""A person leaving a household: the rules a departure (moved out, death) and a duplicate
record merged away share."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.households import repository
from services.beneficiaries.models import Household, Individual
from shared.errors import Conflict


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
    the household."""
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
