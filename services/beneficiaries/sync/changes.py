"""`GET /sync/changes`: every household changed since a device's cursor, never missing one
and never sending one twice.

Each new version of a household is stamped by a trigger (migration 0004) with its
transaction's id and a sequence number. A sequence alone is not a safe cursor: numbers are
taken before commit, so a transaction holding number 10 can commit after a reader already
moved past 11, and a "seq > cursor" feed would skip 10 forever. Transaction ids with the
reader's snapshot are: every transaction with an id below the snapshot's xmin has finished,
so all of its rows are visible now and no row with such an id can appear later. The feed
returns only those rows, ordered by (transaction id, sequence), after the cursor; when it
has given them all, the next cursor is (xmin, 0), and the rows of transactions still running
then come on a later call. A long transaction delays the changes after it, never loses them.

The cursor is opaque to devices: [transaction id, sequence], base64url JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.access import allowed_regions
from services.beneficiaries.records.documents import HouseholdDocument
from services.beneficiaries.sync import repository
from shared.auth import Principal
from shared.errors import Forbidden
from shared.pagination import decode_cursor, encode_cursor

BEGINNING = (0, 0)


@dataclass(frozen=True)
class ChangesAnswer:
    documents: list[HouseholdDocument]
    next_cursor: str
    has_more: bool


def regions_to_read(principal: Principal, asked: Sequence[str]) -> list[str] | None:
    """The regions to read (None: all). A registrar reads their token's regions by
    default, and asking for another is refused rather than silently narrowed."""
    limited = allowed_regions(principal)
    wanted = sorted({code.strip() for value in asked for code in value.split(",") if code.strip()})
    if limited is None:
        return wanted or None
    outside = [code for code in wanted if code not in limited]
    if outside:
        raise Forbidden(f"Your account may not read region(s) {', '.join(outside)}.")
    return wanted or sorted(limited)


async def changes(
    session: AsyncSession,
    principal: Principal,
    since: str | None,
    asked_regions: Sequence[str],
    limit: int,
) -> ChangesAnswer:
    regions = regions_to_read(principal, asked_regions)
    after = tuple(decode_cursor(since, [int, int])) if since else BEGINNING
    page = await repository.changes_after(session, after, regions, limit)  # type: ignore[arg-type]
    documents = [document for _, document in page.changes]
    if len(page.changes) == limit:
        last = page.changes[-1][0]
        return ChangesAnswer(documents, encode_cursor(last), True)
    # All finished transactions' changes are delivered: next time, start at the oldest one
    # still running (never behind where this device already is).
    following = max(after, (page.horizon, 0))
    return ChangesAnswer(documents, encode_cursor(following), False)
