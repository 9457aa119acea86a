"""The household and person records in the database: reading and locking them, their
identifiers and membership spans, and what a batch of new households would clash with.
Members are loaded per household batch in one query."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import delete, func, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.selectable import ScalarSelect

from services.beneficiaries.models import Household, Identifier, Individual, Membership
from services.beneficiaries.records.stored import Pairs, Stored
from services.beneficiaries.vocabulary import UNIQUE_IDENTIFIER_TYPES
from shared.db import driver_connection
from shared.errors import Conflict
from shared.repository import Table

households = Table(Household, "No such household.")
individuals = Table(Individual, "No such person.")


async def flush(session: AsyncSession) -> None:
    """Send the pending writes; a unique index hit here means a concurrent write registered
    the same thing first."""
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(
            "This conflicts with a record saved at the same moment; read it and try again."
        ) from exc


async def lock_household_id(session: AsyncSession, household_id: uuid.UUID) -> None:
    """Until the transaction ends, other requests taking this lock for the same id wait,
    whether or not a household has the id yet (a row lock needs the row)."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:id, 0))"), {"id": str(household_id)}
    )


async def existing_household_ids(session: AsyncSession, ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    ids = list(ids)
    if not ids:
        return set()
    rows = await session.execute(select(Household.id).where(Household.id.in_(ids)))
    return set(rows.scalars())


async def existing_individual_ids(
    session: AsyncSession, ids: Iterable[uuid.UUID]
) -> set[uuid.UUID]:
    ids = list(ids)
    if not ids:
        return set()
    rows = await session.execute(select(Individual.id).where(Individual.id.in_(ids)))
    return set(rows.scalars())


# A household's members in its order: their places in its list (roster_position), then,
# for rows from before places were kept, head first and by birth date. `{p}`: the
# individual table's name or alias in the statement.
ROSTER_ORDER = (
    "{p}.roster_position NULLS LAST, {p}.relationship_to_head <> 'head', {p}.birth_date, {p}.id"
)


def _roster_order() -> Any:
    return text(ROSTER_ORDER.format(p="individual"))


async def next_roster_position(session: AsyncSession, household_id: uuid.UUID) -> int:
    """The place after the household's last present member."""
    last = await session.scalar(
        select(func.max(Individual.roster_position)).where(
            Individual.household_id == household_id, Individual.status == "active"
        )
    )
    return (last or 0) + 1


async def active_members(
    session: AsyncSession, household_ids: Sequence[uuid.UUID], *, for_update: bool = False
) -> dict[uuid.UUID, list[Individual]]:
    statement = (
        select(Individual)
        .where(Individual.household_id.in_(household_ids), Individual.status == "active")
        .order_by(Individual.household_id, _roster_order())
    )
    if for_update:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    members: dict[uuid.UUID, list[Individual]] = defaultdict(list)
    for individual in (await session.execute(statement)).scalars():
        assert individual.household_id is not None
        members[individual.household_id].append(individual)
    return members


async def identifiers_of(
    session: AsyncSession, individual_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Identifier]]:
    found: dict[uuid.UUID, list[Identifier]] = defaultdict(list)
    if not individual_ids:
        return found
    statement = (
        select(Identifier)
        .where(Identifier.individual_id.in_(individual_ids))
        .order_by(Identifier.type, Identifier.value)
    )
    for identifier in (await session.execute(statement)).scalars():
        found[identifier.individual_id].append(identifier)
    return found


async def identifier_pairs_of(session: AsyncSession, individual_id: uuid.UUID) -> Pairs:
    rows = await session.execute(
        select(Identifier.type, Identifier.value).where(Identifier.individual_id == individual_id)
    )
    return {(kind, value) for kind, value in rows}


async def unique_identifier_owners(
    session: AsyncSession, pairs: Iterable[tuple[str, str]]
) -> list[tuple[str, str, uuid.UUID, uuid.UUID | None, str | None]]:
    """(type, value, individual id, household id, its region) for each given pair already
    registered, among the identifier types that must be unique."""
    wanted = [(t, v) for t, v in pairs if t in UNIQUE_IDENTIFIER_TYPES]
    if not wanted:
        return []
    statement = (
        select(
            Identifier.type,
            Identifier.value,
            Individual.id,
            Individual.household_id,
            Household.region_code,
        )
        .join(Individual, Individual.id == Identifier.individual_id)
        .outerjoin(Household, Household.id == Individual.household_id)
        .where(tuple_(Identifier.type, Identifier.value).in_(wanted))
    )
    return [tuple(row) for row in (await session.execute(statement)).all()]  # type: ignore[misc]


async def replace_identifiers(
    session: AsyncSession, individual_id: uuid.UUID, wanted: Pairs, held: Pairs
) -> bool:
    """Make the person's identifiers `wanted`, given those they hold. Returns whether
    anything changed."""
    if wanted == held:
        return False
    gone = sorted(held - wanted)
    if gone:
        await session.execute(
            delete(Identifier).where(
                Identifier.individual_id == individual_id,
                tuple_(Identifier.type, Identifier.value).in_(gone),
            )
        )
    session.add_all(
        Identifier(individual_id=individual_id, type=kind, value=value)
        for kind, value in sorted(wanted - held)
    )
    return True


def _identifier_array(column: InstrumentedAttribute[str]) -> ScalarSelect[list[str]]:
    return (
        select(func.array_agg(aggregate_order_by(column, Identifier.type, Identifier.value)))
        .where(Identifier.individual_id == Individual.id)
        .scalar_subquery()
    )


async def stored_for_change(session: AsyncSession, household_id: uuid.UUID) -> Stored | None:
    """The household, its present members and their identifiers, locked until the
    transaction ends: what a change reads, in two statements."""
    household = await households.find(session, household_id, for_update=True)
    if household is None:
        return None
    statement = (
        select(Individual, _identifier_array(Identifier.type), _identifier_array(Identifier.value))
        .where(Individual.household_id == household_id, Individual.status == "active")
        .order_by(_roster_order())
        .with_for_update(of=Individual)
        .execution_options(populate_existing=True)
    )
    members: dict[uuid.UUID, Individual] = {}
    identifiers: dict[uuid.UUID, Pairs] = {}
    for person, types, values in await session.execute(statement):
        members[person.id] = person
        identifiers[person.id] = set(zip(types or (), values or (), strict=True))
    return Stored(household, members, identifiers)


async def close_memberships(
    session: AsyncSession,
    household_id: uuid.UUID,
    individual_ids: Sequence[uuid.UUID],
    *,
    ended_on: date,
    reason: str,
    related_household_id: uuid.UUID | None = None,
) -> None:
    await session.execute(
        update(Membership)
        .where(
            Membership.household_id == household_id,
            Membership.individual_id.in_(individual_ids),
            Membership.ended_on.is_(None),
        )
        .values(ended_on=ended_on, end_reason=reason, related_household_id=related_household_id)
    )


async def membership_history(
    session: AsyncSession, household_id: uuid.UUID
) -> Sequence[Membership]:
    statement = (
        select(Membership)
        .where(Membership.household_id == household_id)
        .order_by(Membership.started_on, Membership.recorded_at, Membership.id)
    )
    return (await session.execute(statement)).scalars().all()


@dataclass
class Taken:
    """Which of the ids, identifiers and submissions asked about are in the registry."""

    households: set[uuid.UUID] = field(default_factory=set)
    individuals: set[uuid.UUID] = field(default_factory=set)
    identifiers: set[tuple[str, str]] = field(default_factory=set)
    submissions: set[tuple[str, str]] = field(default_factory=set)


# One round trip for the four checks; each branch is an index lookup per value asked.
_TAKEN = f"""
SELECT 'household', h.id::text, NULL FROM household h WHERE h.id = ANY($1::uuid[])
UNION ALL
SELECT 'individual', i.id::text, NULL FROM individual i WHERE i.id = ANY($2::uuid[])
UNION ALL
SELECT 'identifier', d.type, d.value
FROM identifier d JOIN unnest($3::text[], $4::text[]) AS w(type, value)
  ON d.type = w.type AND d.value = w.value
WHERE d.type IN ({", ".join(f"'{kind}'" for kind in UNIQUE_IDENTIFIER_TYPES)})
UNION ALL
SELECT 'submission', h.registration_source, h.submission_id
FROM household h JOIN unnest($5::text[], $6::text[]) AS s(source, submission)
  ON h.registration_source = s.source AND h.submission_id = s.submission
WHERE h.submission_id IS NOT NULL
"""  # noqa: S608 (constants of the model, no input)


async def taken(
    session: AsyncSession,
    household_ids: Sequence[uuid.UUID],
    individual_ids: Sequence[uuid.UUID],
    identifiers: Sequence[tuple[str, str]],
    submissions: Sequence[tuple[str, str]],
) -> Taken:
    """What a batch of new households (a sync batch, an import) would clash with."""
    raw = await driver_connection(session)
    rows = await raw.fetch(
        _TAKEN,
        list(household_ids),
        list(individual_ids),
        [kind for kind, _ in identifiers],
        [value for _, value in identifiers],
        [source for source, _ in submissions],
        [submission for _, submission in submissions],
    )
    found = Taken()
    for kind, first, second in rows:
        if kind == "household":
            found.households.add(uuid.UUID(first))
        elif kind == "individual":
            found.individuals.add(uuid.UUID(first))
        elif kind == "identifier":
            found.identifiers.add((first, second))
        else:
            found.submissions.add((first, second))
    return found
