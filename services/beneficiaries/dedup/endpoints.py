"""`/dedup/check` (a draft, nothing saved), `/duplicates` (flagged pairs) and their
resolution."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from services.beneficiaries.access import Manager, Staff
from services.beneficiaries.areas import repository as areas
from services.beneficiaries.dedup import repository, service
from services.beneficiaries.dedup.schemas import (
    CandidateOut,
    DedupCheck,
    DedupCheckResult,
    DraftResult,
    DuplicatePairOut,
    IdentifierConflict,
    PersonSummary,
    Resolution,
)
from services.beneficiaries.deps import Audit, Settings
from services.beneficiaries.households import repository as households
from services.beneficiaries.models import DuplicatePair
from shared.db import DbSession, ReadSession
from shared.pagination import Page, PageParams, page_of, page_params

router = APIRouter(prefix="/api/v1/beneficiaries", tags=["deduplication"])


@router.post("/dedup/check", response_model=DedupCheckResult)
async def check_draft(
    data: DedupCheck, session: DbSession, principal: Staff, settings: Settings
) -> DedupCheckResult:
    """Who in the registry these people may already be, before registering them: identifier
    clashes and probable duplicates with their scores (no names: open a candidate's
    household to see it, if your region allows)."""
    region = None
    if data.locality_code:
        locality = await areas.get(session, data.locality_code)
        region = locality.region_code if locality else None
    drafts = [
        service.draft_of(person, data.locality_code, region, person.identifiers)
        for person in data.people
    ]
    owners: dict[tuple[str, str], list[IdentifierConflict]] = {}
    for kind, value, owner, household in await households.unique_identifier_owners(
        session, [(i.type, i.value) for person in data.people for i in person.identifiers]
    ):
        owners.setdefault((kind, value), []).append(
            IdentifierConflict(type=kind, individual_id=owner, household_id=household)
        )
    found = await service.find_matches_many(
        session,
        [(draft, None) for draft in drafts],
        threshold=settings.dedup_threshold,
        window=settings.dedup_birth_year_window,
    )
    results = [
        DraftResult(
            index=index,
            identifier_conflicts=[
                conflict
                for pair in dict.fromkeys((i.type, i.value) for i in person.identifiers)
                for conflict in owners.get(pair, [])
            ],
            candidates=[
                CandidateOut(
                    individual_id=m.candidate.individual_id,
                    household_id=m.candidate.household_id,
                    registry_number=m.candidate.registry_number,
                    score=m.score,
                    reasons=m.reasons,
                )
                for m in matches
            ],
        )
        for index, (person, matches) in enumerate(zip(data.people, found, strict=True))
    ]
    return DedupCheckResult(threshold=settings.dedup_threshold, results=results)


async def _pair_views(session, pairs: list[DuplicatePair]) -> list[DuplicatePairOut]:
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
            reasons=pair.reasons,
            detected_at=pair.detected_at,
            resolved_at=pair.resolved_at,
            resolved_by=pair.resolved_by,
            resolution_note=pair.resolution_note,
            individual=summary(pair.individual_id),
            candidate=summary(pair.candidate_id),
        )
        for pair in pairs
    ]


def _read_rows(views: list[DuplicatePairOut]) -> list[tuple[uuid.UUID, uuid.UUID | None]]:
    return [
        (person.id, person.household_id)
        for view in views
        for person in (view.individual, view.candidate)
    ]


@router.get("/duplicates", response_model=Page[DuplicatePairOut])
async def list_duplicates(
    session: ReadSession,
    principal: Manager,
    audit: Audit,
    paging: Annotated[PageParams, Depends(page_params)],
    status: Annotated[
        Literal["open", "not_duplicate", "merged"], Query(description="Pairs in this state")
    ] = "open",
) -> Page[DuplicatePairOut]:
    """Probable duplicates, oldest first, for a data manager to decide."""
    rows = await repository.list_pairs(session, status, paging)
    page = page_of(rows, paging, key=lambda pair: [pair.detected_at, pair.id])
    views = await _pair_views(session, list(page.items))
    await audit.record_reads(principal, "individual", _read_rows(views))
    return Page[DuplicatePairOut](items=views, next_cursor=page.next_cursor)


@router.get("/duplicates/{pair_id}", response_model=DuplicatePairOut)
async def get_duplicate(
    pair_id: uuid.UUID, session: ReadSession, principal: Manager, audit: Audit
) -> DuplicatePairOut:
    [view] = await _pair_views(session, [await service.get_pair(session, pair_id)])
    await audit.record_reads(principal, "individual", _read_rows([view]))
    return view


@router.post("/duplicates/{pair_id}/resolve", response_model=DuplicatePairOut)
async def resolve_duplicate(
    pair_id: uuid.UUID, data: Resolution, session: DbSession, principal: Manager, audit: Audit
) -> DuplicatePairOut:
    """`not_duplicate` closes the pair; `merge` folds one record into the other (by default
    the newer into the earlier): its identifiers move over, it leaves its household, and it
    is kept, marked merged, for the record."""
    pair = await service.get_pair(session, pair_id, for_update=True)
    survivor, merged = await service.resolve(
        session, pair, data.decision, data.keep, data.note, principal.subject
    )
    detail = {"pair_id": str(pair.id), "survivor": str(survivor) if survivor else None}
    await audit.record_write(
        session, principal, f"duplicate_{data.decision}", "individual",
        merged or pair.individual_id, None, detail,
    )  # fmt: skip
    await session.refresh(pair)
    [view] = await _pair_views(session, [pair])
    return view
