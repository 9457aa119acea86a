"""`/dedup/check` (a draft, nothing saved), `/duplicates` (flagged pairs) and their
resolution."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from services.beneficiaries.access import Manager, Staff
from services.beneficiaries.context import Audit, Settings
from services.beneficiaries.dedup import service
from services.beneficiaries.dedup.schemas import (
    DedupCheck,
    DedupCheckResult,
    DuplicatePairOut,
    Resolution,
)
from shared.db import DbSession, ReadSession
from shared.pagination import Page, PageParams, page_params

router = APIRouter(prefix="/api/v1/beneficiaries", tags=["deduplication"])


@router.post("/dedup/check", response_model=DedupCheckResult)
async def check_draft(
    data: DedupCheck, session: DbSession, principal: Staff, settings: Settings, audit: Audit
) -> DedupCheckResult:
    """Who in the registry these people may already be, before registering them: identifier
    clashes and probable duplicates with their scores and reasons (no names: open a
    candidate's household to see it). The people checked are taken as one household: give
    their relationships so that a matching spouse or children count. Of a record outside
    your regions you learn only that it exists (`outside_your_regions`): a data manager
    resolves it."""
    result = await service.check_drafts(session, settings, principal, data)
    # Who matched a name, a birth date or an identifier typed in is a read of them.
    found = {(c.individual_id, c.household_id) for d in result.results for c in d.candidates}
    found |= {
        (c.individual_id, c.household_id) for d in result.results for c in d.identifier_conflicts
    }
    await audit.record_reads(principal, "individual", list(found), {"via": "dedup_check"})
    return result


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
    page = await service.list_pairs(session, status, paging)
    await audit.record_reads(principal, "individual", _read_rows(page.items))
    return page


@router.get("/duplicates/{pair_id}", response_model=DuplicatePairOut)
async def get_duplicate(
    pair_id: uuid.UUID, session: ReadSession, principal: Manager, audit: Audit
) -> DuplicatePairOut:
    """A flagged pair, both people, and the reasons it was flagged: each piece of evidence
    (names, birth dates, place, identifiers, household) with its weight."""
    view = await service.get_pair(session, pair_id)
    await audit.record_reads(principal, "individual", _read_rows([view]))
    return view


@router.post("/duplicates/{pair_id}/resolve", response_model=DuplicatePairOut)
async def resolve_duplicate(
    pair_id: uuid.UUID, data: Resolution, session: DbSession, principal: Manager, audit: Audit
) -> DuplicatePairOut:
    """`not_duplicate` closes the pair; `merge` folds one record into the other (by default
    the newer into the earlier): its identifiers move over, it leaves its household, and it
    is kept, marked merged, for the record."""
    return await service.resolve_pair(session, principal, audit, pair_id, data)
