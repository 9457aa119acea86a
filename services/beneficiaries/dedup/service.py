"""Finding, flagging and resolving probable duplicates."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.access import allowed_regions
from services.beneficiaries.areas import repository as areas
from services.beneficiaries.clock import today
from services.beneficiaries.config import BeneficiariesSettings
from services.beneficiaries.dedup import repository
from services.beneficiaries.dedup.matching import (
    Match,
    PersonDraft,
    Relative,
    birth_reach,
    could_reach,
    score,
    within_reach,
)
from services.beneficiaries.dedup.schemas import (
    OUTSIDE_YOUR_REGIONS,
    CandidateOut,
    DedupCheck,
    DedupCheckResult,
    DraftResult,
    DuplicatePairOut,
    IdentifierConflict,
    PersonSummary,
    Reasons,
    Resolution,
)
from services.beneficiaries.models import AdminArea, DuplicatePair, Household, Individual
from services.beneficiaries.names import phonetic_key
from services.beneficiaries.pmt.service import rescore_households
from services.beneficiaries.records import repository as records
from services.beneficiaries.records.schemas import HouseholdWrite, MemberIn
from services.beneficiaries.records.writes import leave
from services.beneficiaries.vocabulary import SHARED_IDENTIFIER_TYPES
from shared.audit import AuditTrail
from shared.auth import Principal
from shared.errors import Conflict
from shared.pagination import Page, PageParams, page_of
from shared.versioning import touch


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
    found = await repository.candidates_many(session, keyed, window, birth_reach(threshold))
    if considered is not None:
        found = [[c for c in rows if considered(index, c[0])] for index, rows in enumerate(found)]
    # Common names bring dozens of candidates a person; most cannot reach the threshold
    # whatever their household and identifiers. Judged first by their names and birth
    # dates (the lookup brings them) and by who holds the draft's phone or case, the rest
    # are read in full only when they can; their households compared only when the place
    # and identifiers leave them a chance.
    holders = await repository.identifier_holders(
        session, (i for draft, _ in drafts for i in draft.shared_identifiers)
    )
    likely = [
        within_reach(draft, threshold, rows, _sharing(draft, rows, holders))
        for (draft, _), rows in zip(drafts, found, strict=True)
    ]
    details = await repository.candidate_details(session, list(set().union(*likely)))
    results = []
    for (draft, _), ids in zip(drafts, likely, strict=True):
        candidates = (details[c] for c in ids)
        matches = (score(draft, c) for c in candidates if could_reach(draft, c, threshold))
        results.append(sorted((m for m in matches if m.score >= threshold), key=lambda m: -m.score))
    return results


def _sharing(
    draft: PersonDraft,
    candidates: Sequence[repository.Found],
    holders: Mapping[tuple[str, str], Sequence[repository.Holder]],
) -> set[uuid.UUID]:
    """The candidates who share a phone or a case with `draft`: holding it, or in a
    household where someone present does (as `candidate_details` reads a household's
    identifiers)."""
    held = [h for i in draft.shared_identifiers for h in holders.get(i, ())]
    if not held:
        return set()
    people = {h.individual_id for h in held}
    households = {h.household_id for h in held if h.active and h.household_id is not None}
    return {c[0] for c in candidates if c[0] in people or c[6] in households}


def draft_of(
    person: Any,
    locality_code: str | None,
    region_code: str | None,
    identifiers: Iterable[Any],
) -> PersonDraft:
    """What matching compares of a person (a saved record, a member written, a draft
    checked): names, sex, birth date, where they live, their identifiers, and their place
    in the household; the household itself is added by `in_households`."""
    held = {(i.type, i.value) for i in identifiers}
    shared = {i for i in held if i[0] in SHARED_IDENTIFIER_TYPES}
    return PersonDraft(
        given_name=person.given_name,
        father_name=person.father_name,
        grandfather_name=person.grandfather_name,
        sex=person.sex,
        birth_date=person.birth_date,
        birth_date_estimated=person.birth_date_estimated,
        locality_code=locality_code,
        region_code=region_code,
        shared_identifiers=frozenset(shared),
        unique_identifiers=frozenset(held - shared),
        relationship=getattr(person, "relationship_to_head", None),
    )


async def flag_joining(
    session: AsyncSession,
    settings: BeneficiariesSettings,
    household: Household,
    joined: Sequence[tuple[Individual, MemberIn]],
) -> int:
    """After people joined `household` (their rows, and what was sent for each): a pair for
    each probable duplicate found elsewhere in the registry (members of the same household
    are not compared)."""
    return await flag_many(
        session,
        [
            (
                person,
                draft_of(
                    person, household.locality_code, household.region_code, member.identifiers
                ),
            )
            for person, member in joined
        ],
        threshold=settings.dedup_threshold,
        window=settings.dedup_birth_year_window,
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
    drafts = await in_households(session, people)
    found = await find_matches_many(
        session,
        [(draft, person.household_id) for (person, _), draft in zip(people, drafts, strict=True)],
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


async def in_households(
    session: AsyncSession, people: Sequence[tuple[Saved, PersonDraft]]
) -> list[PersonDraft]:
    """The drafts of people saved, with what their households add: the other present
    members, the identifiers the family shares, the commune. The people are written
    already (the lookups read the database)."""
    await session.flush()
    members = await repository.household_members(session, (p.household_id for p, _ in people))
    communes = await repository.communes(session, (draft.locality_code for _, draft in people))
    drafts = []
    for person, draft in people:
        others = [m for m in members.get(person.household_id, []) if m.id != person.id]  # type: ignore[arg-type]
        drafts.append(
            replace(
                draft,
                commune_code=communes.get(draft.locality_code or ""),
                shared_identifiers=draft.shared_identifiers.union(
                    *(m.shared_identifiers for m in others)
                ),
                household=tuple(m.relative for m in others),
            )
        )
    return drafts


def _keys(draft: PersonDraft) -> dict[str, str | None]:
    return {
        "given": phonetic_key(draft.given_name) or None,
        "father": phonetic_key(draft.father_name) or None,
        "grandfather": phonetic_key(draft.grandfather_name) or None,
    }


async def check_drafts(
    session: AsyncSession,
    settings: BeneficiariesSettings,
    principal: Principal,
    data: DedupCheck,
) -> DedupCheckResult:
    """Who in the registry these people may already be: identifier clashes and probable
    duplicates with their scores, the people checked taken as one household. Nothing is
    saved. Of records outside a region-limited caller's regions, only that they exist."""
    region = commune = None
    if data.locality_code:
        locality = await areas.admin_areas.find(session, data.locality_code)
        if locality:
            region, commune = locality.region_code, locality.parent_code
    drafts = [
        draft_of(person, data.locality_code, region, person.identifiers) for person in data.people
    ]
    family = frozenset().union(*(draft.shared_identifiers for draft in drafts))
    drafts = [
        replace(
            draft,
            commune_code=commune,
            shared_identifiers=family,
            household=tuple(
                Relative(p.given_name, p.sex, p.birth_date.year, p.relationship_to_head)
                for other, p in enumerate(data.people)
                if other != index
            ),
        )
        for index, draft in enumerate(drafts)
    ]
    regions = allowed_regions(principal)
    owners: dict[tuple[str, str], list[tuple[IdentifierConflict, str | None]]] = {}
    clashes = await records.unique_identifier_owners(
        session, [(i.type, i.value) for person in data.people for i in person.identifiers]
    )
    for kind, value, owner, household, region in clashes:
        owners.setdefault((kind, value), []).append(
            (IdentifierConflict(type=kind, individual_id=owner, household_id=household), region)
        )
    found = await find_matches_many(
        session,
        [(draft, None) for draft in drafts],
        threshold=settings.dedup_threshold,
        window=settings.dedup_birth_year_window,
    )

    def visible(region_code: str | None) -> bool:
        return regions is None or region_code in regions

    results = []
    for index, (person, matches) in enumerate(zip(data.people, found, strict=True)):
        conflicts = [
            conflict
            for pair in dict.fromkeys((i.type, i.value) for i in person.identifiers)
            for conflict in owners.get(pair, [])
        ]
        hidden = any(not visible(r) for _, r in conflicts) or any(
            not visible(m.candidate.region_code) for m in matches
        )
        results.append(
            DraftResult(
                index=index,
                identifier_conflicts=[c for c, r in conflicts if visible(r)],
                candidates=[
                    CandidateOut(
                        individual_id=m.candidate.individual_id,
                        household_id=m.candidate.household_id,
                        registry_number=m.candidate.registry_number,
                        score=m.score,
                        reasons=Reasons.model_validate(m.reasons),
                    )
                    for m in matches
                    if visible(m.candidate.region_code)
                ],
                outside_your_regions=hidden,
                note=OUTSIDE_YOUR_REGIONS if hidden else None,
            )
        )
    return DedupCheckResult(threshold=settings.dedup_threshold, results=results)


async def pair_views(
    session: AsyncSession, pairs: Sequence[DuplicatePair]
) -> list[DuplicatePairOut]:
    """The pairs with both people's summaries (their names: for data managers only)."""
    ids = {p.individual_id for p in pairs} | {p.candidate_id for p in pairs}
    people = await repository.people(session, list(ids))

    def summary(individual_id: uuid.UUID) -> PersonSummary:
        person, registry_number = people[individual_id]
        return PersonSummary(
            id=person.id,
            household_id=person.household_id,
            registry_number=registry_number,
            given_name=person.given_name,
            father_name=person.father_name,
            grandfather_name=person.grandfather_name,
            sex=person.sex,
            birth_date=person.birth_date,
            status=person.status,
        )

    return [
        DuplicatePairOut(
            id=pair.id,
            status=pair.status,
            score=float(pair.score),
            reasons=Reasons.model_validate(pair.reasons),
            detected_at=pair.detected_at,
            resolved_at=pair.resolved_at,
            resolved_by=pair.resolved_by,
            resolution_note=pair.resolution_note,
            individual=summary(pair.individual_id),
            candidate=summary(pair.candidate_id),
        )
        for pair in pairs
    ]


async def list_pairs(
    session: AsyncSession, status: str, paging: PageParams
) -> Page[DuplicatePairOut]:
    rows = await repository.list_pairs(session, status, paging)
    page = page_of(rows, paging, key=lambda pair: [pair.detected_at, pair.id])
    return Page[DuplicatePairOut](
        items=await pair_views(session, page.items), next_cursor=page.next_cursor
    )


async def get_pair(session: AsyncSession, pair_id: uuid.UUID) -> DuplicatePairOut:
    [view] = await pair_views(session, [await repository.pairs.get(session, pair_id)])
    return view


async def resolve_pair(
    session: AsyncSession,
    principal: Principal,
    audit: AuditTrail,
    pair_id: uuid.UUID,
    data: Resolution,
) -> DuplicatePairOut:
    """`not_duplicate` closes the pair; `merge` folds one record into the other."""
    pair = await repository.pairs.get_for_update(session, pair_id)
    survivor, merged = await _resolve(
        session, pair, data.decision, data.keep, data.note, principal.subject
    )
    detail = {"pair_id": str(pair.id), "survivor": str(survivor) if survivor else None}
    await audit.record_write(
        session,
        principal,
        f"duplicate_{data.decision}",
        "individual",
        merged or pair.individual_id,
        None,
        detail,
    )
    await session.refresh(pair)
    [view] = await pair_views(session, [pair])
    return view


async def _resolve(
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
    # The household before the people, the order every registry change locks in.
    seen = await records.individuals.get(session, duplicate_id)
    household = None
    if seen.household_id is not None and seen.status == "active":
        household = await records.households.get_for_update(session, seen.household_id)
    locked = {
        person_id: await records.individuals.get_for_update(session, person_id)
        for person_id in sorted({survivor_id, duplicate_id})
    }
    survivor, duplicate = locked[survivor_id], locked[duplicate_id]
    if duplicate.status == "merged" or survivor.status == "merged":
        raise Conflict("One of these records was already merged into another.")
    if duplicate.household_id != (household.id if household else None):
        raise Conflict("This record changed household at the same moment: try again.")
    await _move_identifiers(session, duplicate.id, survivor.id)
    if household is not None and duplicate.status == "active":
        await _leave_household(session, household, duplicate, actor)
        await session.flush()
        await rescore_households(session, [household.id])
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
    held = await records.identifiers_of(session, [from_id, to_id])
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


async def _leave_household(
    session: AsyncSession, household: Household, person: Individual, actor: str
) -> None:
    members = await records.active_members(session, [household.id], for_update=True)
    await leave(
        session,
        household,
        person,
        members.get(household.id, []),
        on=today(),
        reason="duplicate",
        actor=actor,
    )
    touch(session, household)
