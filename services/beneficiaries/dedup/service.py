"""Finding, flagging and resolving probable duplicates."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.clock import today
from services.beneficiaries.dedup import repository
from services.beneficiaries.dedup.matching import (
    Match,
    PersonDraft,
    birth_reach,
    score,
    within_reach,
)
from services.beneficiaries.households import repository as households
from services.beneficiaries.households.leaving import leave
from services.beneficiaries.households.schemas import HouseholdWrite
from services.beneficiaries.households.versions import touch
from services.beneficiaries.models import (
    SHARED_IDENTIFIER_TYPES,
    AdminArea,
    DuplicatePair,
    Household,
    Individual,
)
from services.beneficiaries.names import phonetic_key
from services.beneficiaries.pmt.scoring import rescore_households
from shared.errors import Conflict, NotFound


async def find_matches_many(
    session: AsyncSession,
    drafts: Sequence[tuple[PersonDraft, uuid.UUID | None]],
    *,
    threshold: float,
    window: int,
    considered: Callable[[int, uuid.UUID], bool] | None = None,
) -> list[list[Match]]:
    """Each draft's probable duplicates in the registry, best first, in the drafts' order. A
    draft comes with the household it belongs to (its members are not compared), and
    `considered(index, candidate id)` may leave candidates out. A few statements whatever
    the number of drafts: the candidates of all of them found in one query, scored here."""
    # The lookups below go straight to the driver, past the ORM's autoflush.
    await session.flush()
    keyed = [(_keys(draft), draft, household) for draft, household in drafts]
    found = await repository.candidate_ids_many(session, keyed, window, birth_reach(threshold))
    if considered is not None:
        found = [[c for c in ids if considered(index, c)] for index, ids in enumerate(found)]
    # Common names bring dozens of candidates a person; most cannot reach the threshold
    # whatever their household and identifiers: their names and birth dates are read
    # first, and the rest only for those that can.
    names = await repository.candidate_names(session, list(set().union(*found)))
    likely = [
        within_reach(draft, threshold, (names[c] for c in ids if c in names))
        for (draft, _), ids in zip(drafts, found, strict=True)
    ]
    details = await repository.candidate_details(session, list(set().union(*likely)))
    results = []
    for (draft, _), ids in zip(drafts, likely, strict=True):
        matches = (score(draft, details[c]) for c in ids)
        results.append(sorted((m for m in matches if m.score >= threshold), key=lambda m: -m.score))
    return results


def draft_of(
    person: Any,
    locality_code: str | None,
    region_code: str | None,
    identifiers: Iterable[Any],
) -> PersonDraft:
    """What matching compares of a person (a saved record, a member written, a draft
    checked): names, sex, birth date, where they live, and the identifiers a family
    shares (a unique one is a clash, not a likeness)."""
    return PersonDraft(
        given_name=person.given_name,
        father_name=person.father_name,
        grandfather_name=person.grandfather_name,
        sex=person.sex,
        birth_date=person.birth_date,
        birth_date_estimated=person.birth_date_estimated,
        locality_code=locality_code,
        region_code=region_code,
        shared_identifiers=frozenset(
            (i.type, i.value) for i in identifiers if i.type in SHARED_IDENTIFIER_TYPES
        ),
    )


async def flag_new_people(
    session: AsyncSession,
    household: Household,
    people: Sequence[Individual],
    *,
    threshold: float,
    window: int,
) -> int:
    """After `people` were saved in `household`: a pair for each probable duplicate found
    elsewhere in the registry (members of the same household are not compared)."""
    identifiers = await households.identifiers_of(session, [p.id for p in people])
    return await flag_many(
        session,
        [
            (
                person,
                draft_of(
                    person,
                    household.locality_code,
                    household.region_code,
                    identifiers.get(person.id, []),
                ),
            )
            for person in people
        ],
        threshold=threshold,
        window=window,
    )


class Saved(Protocol):
    """What flagging needs of a person just saved: who, and in which household."""

    id: uuid.UUID
    household_id: uuid.UUID | None


@dataclass
class NewPerson:
    id: uuid.UUID
    household_id: uuid.UUID | None


def people_of(
    households: Iterable[HouseholdWrite], localities: Mapping[str, AdminArea]
) -> list[tuple[Saved, PersonDraft]]:
    """The people of households written in bulk (an import, a sync batch), their ids given,
    as `flag_many` takes them."""
    people: list[tuple[Saved, PersonDraft]] = []
    for household in households:
        locality = localities[household.location.locality_code]
        for member in household.members:
            assert member.id is not None and household.id is not None  # written with them
            draft = draft_of(member, locality.code, locality.region_code, member.identifiers)
            people.append((NewPerson(member.id, household.id), draft))
    return people


async def flag_many(
    session: AsyncSession,
    people: Sequence[tuple[Saved, PersonDraft]],
    *,
    threshold: float,
    window: int,
) -> int:
    """Flag the probable duplicates of many people just saved (a batch, an import). Two
    people of the same batch who look alike are flagged once, the later against the
    earlier. Returns the number of pairs flagged."""
    position = {person.id: index for index, (person, _) in enumerate(people)}
    found = await find_matches_many(
        session,
        [(draft, person.household_id) for person, draft in people],
        threshold=threshold,
        window=window,
        # not the person, nor someone later in the batch (flagged against them)
        considered=lambda index, candidate: position.get(candidate, -1) < index,
    )
    pairs = {
        (person.id, match.candidate.individual_id): {
            "id": uuid.uuid4(),
            "individual_id": person.id,
            "candidate_id": match.candidate.individual_id,
            "score": Decimal(str(match.score)),
            "reasons": match.reasons,
        }
        for (person, _), matches in zip(people, found, strict=True)
        for match in matches
    }
    # Thousands of pairs for a big batch: one COPY, not ORM objects.
    await repository.add_pairs(session, list(pairs.values()))
    return len(pairs)


def _keys(draft: PersonDraft) -> dict[str, str | None]:
    return {
        "given": phonetic_key(draft.given_name) or None,
        "father": phonetic_key(draft.father_name) or None,
        "grandfather": phonetic_key(draft.grandfather_name) or None,
    }


async def get_pair(
    session: AsyncSession, pair_id: uuid.UUID, *, for_update: bool = False
) -> DuplicatePair:
    pair = await repository.get_pair(session, pair_id, for_update=for_update)
    if pair is None:
        raise NotFound("No such duplicate pair.")
    return pair


async def resolve(
    session: AsyncSession,
    pair: DuplicatePair,
    decision: str,
    keep: str,
    note: str | None,
    actor: str,
) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """Record the decision; on a merge, fold the duplicate record into the survivor (and
    rescore the household it leaves). Returns (survivor id, merged id) for a merge,
    (None, None) otherwise."""
    if pair.status != "open":
        raise Conflict(f"This pair was already resolved ({pair.status}).")
    now = datetime.now(UTC)
    pair.resolved_at, pair.resolved_by, pair.resolution_note = now, actor, note
    if decision == "not_duplicate":
        pair.status = "not_duplicate"
        await session.flush()
        return None, None

    survivor_id, duplicate_id = (
        (pair.candidate_id, pair.individual_id)
        if keep == "candidate"
        else (pair.individual_id, pair.candidate_id)
    )
    survivor = await households.get_individual(session, survivor_id, for_update=True)
    duplicate = await households.get_individual(session, duplicate_id, for_update=True)
    assert survivor is not None and duplicate is not None
    if duplicate.status == "merged" or survivor.status == "merged":
        raise Conflict("One of these records was already merged into another.")
    await _move_identifiers(session, duplicate.id, survivor.id)
    if duplicate.household_id is not None and duplicate.status == "active":
        left = await _leave_household(session, duplicate, actor)
        await session.flush()
        await rescore_households(session, [left])
    duplicate.status = "merged"
    duplicate.merged_into_id = survivor.id
    touch(session, survivor, duplicate)
    pair.status = "merged"
    # Other open pairs about the merged record are settled by this decision.
    await repository.settle_pairs_of(
        session, duplicate.id, except_pair=pair.id, at=now, actor=actor
    )
    await session.flush()
    return survivor.id, duplicate.id


async def _move_identifiers(session: AsyncSession, from_id: uuid.UUID, to_id: uuid.UUID) -> None:
    held = await households.identifiers_of(session, [from_id, to_id])
    survivor_types = {i.type: i.value for i in held.get(to_id, [])}
    for identifier in held.get(from_id, []):
        kind, value = identifier.type, identifier.value
        if kind in survivor_types and kind not in SHARED_IDENTIFIER_TYPES:
            if survivor_types[kind] != value:
                raise Conflict(
                    f"The two records have different {kind} values: correct one of them first."
                )
            await session.delete(identifier)
        elif (kind, value) in {(i.type, i.value) for i in held.get(to_id, [])}:
            await session.delete(identifier)
        else:
            identifier.individual_id = to_id
    await session.flush()


async def _leave_household(session: AsyncSession, person: Individual, actor: str) -> uuid.UUID:
    assert person.household_id is not None
    household = await households.get_household(session, person.household_id, for_update=True)
    assert household is not None
    members = await households.active_members(session, [household.id], for_update=True)
    await leave(
        session, household, person, members.get(household.id, []), on=today(),
        reason="duplicate", actor=actor,
    )  # fmt: skip
    touch(session, household)
    return household.id
