"""Candidate lookup through the phonetic-key indexes: a person is a candidate when two of
the three name parts agree (one, for a draft with a single name), so one misspelt part does
not hide them; sex and a birth-year window narrow it further, all inside the index."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.dedup.matching import (
    NO_LIMIT,
    Candidate,
    PersonDraft,
    Relative,
    year_only,
)
from services.beneficiaries.models import NAME_PART_PAIRS, DuplicatePair, Household, Individual
from services.beneficiaries.vocabulary import SHARED_IDENTIFIER_TYPES
from shared.db import driver_connection
from shared.pagination import PageParams, keyset_page
from shared.repository import Table

pairs = Table(DuplicatePair, "No such duplicate pair.")


async def list_pairs(
    session: AsyncSession, status: str, params: PageParams
) -> Sequence[DuplicatePair]:
    statement = keyset_page(
        select(DuplicatePair).where(DuplicatePair.status == status),
        [DuplicatePair.detected_at, DuplicatePair.id],
        params,
        [datetime, uuid.UUID],
    )
    return (await session.execute(statement)).scalars().all()


async def settle_pairs_of(
    session: AsyncSession,
    individual_id: uuid.UUID,
    *,
    except_pair: uuid.UUID,
    at: datetime,
    actor: str,
) -> None:
    await session.execute(
        update(DuplicatePair)
        .where(
            DuplicatePair.status == "open",
            DuplicatePair.id != except_pair,
            (DuplicatePair.individual_id == individual_id)
            | (DuplicatePair.candidate_id == individual_id),
        )
        .values(status="merged", resolved_at=at, resolved_by=actor, resolution_note="record merged")
    )


async def people(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[Individual, str | None]]:
    statement = (
        select(Individual, Household.registry_number)
        .outerjoin(Household, Household.id == Individual.household_id)
        .where(Individual.id.in_(ids))
    )
    return {
        person.id: (person, number) for person, number in (await session.execute(statement)).all()
    }


# One statement for many drafts: each draft's three pair lookups in the pair indexes (a
# draft with a single name part: by its given name alone), its candidates as arrays, one a
# column (a few hundred thousand candidates come back faster as a few thousand arrays than
# as rows), with the names and birth dates they are first judged by: the lookup visits
# their rows for the birth date already.
# A NULL key matches nothing, so drafts with missing name parts need no special case.
_LOOKUP = """
    SELECT i.id, i.given_name, i.father_name, i.grandfather_name, i.birth_date,
           i.birth_date_estimated, i.household_id
    FROM individual i
    WHERE {match} AND i.sex = d.sex
      AND i.birth_year BETWEEN d.year - $8 AND d.year + $8
      AND (abs(i.birth_date - d.born) <= $9
           OR ((i.birth_date_estimated OR d.estimated
                OR (extract(month FROM i.birth_date) = 1 AND extract(day FROM i.birth_date) = 1))
               AND abs(i.birth_year - d.year) <= $10))
      AND i.status <> 'merged' AND i.household_id IS DISTINCT FROM d.household
"""
_MATCHES = [f"i.{a}_key = d.{a} AND i.{b}_key = d.{b}" for a, b in NAME_PART_PAIRS] + [
    "d.father IS NULL AND d.grandfather IS NULL AND i.given_key = d.given"
]
_MANY = """
SELECT c.ids, c.given, c.father, c.grandfather, c.born, c.estimated, c.households
FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::uuid[],
            $11::date[], $12::bool[])
     AS d(idx, given, father, grandfather, sex, year, household, born, estimated)
CROSS JOIN LATERAL (
    SELECT array_agg(u.id) AS ids, array_agg(u.given_name) AS given,
           array_agg(u.father_name) AS father, array_agg(u.grandfather_name) AS grandfather,
           array_agg(u.birth_date) AS born, array_agg(u.birth_date_estimated) AS estimated,
           array_agg(u.household_id) AS households
    FROM ({lookups}) u
) c
ORDER BY d.idx
""".format(lookups="UNION".join(_LOOKUP.format(match=match) for match in _MATCHES))  # noqa: S608


# A candidate as the lookup brings it: (id, given name, father name, grandfather name,
# birth date, birth date estimated, household id), what `matching.within_reach` reads.
Found = tuple[uuid.UUID, str, str | None, str | None, date, bool, uuid.UUID | None]


async def candidates_many(
    session: AsyncSession,
    drafts: Sequence[tuple[dict[str, str | None], PersonDraft, uuid.UUID | None]],
    window: int,
    birth_reach: tuple[int, int] = (NO_LIMIT, NO_LIMIT),
) -> list[list[Found]]:
    """Each draft's candidates, in the drafts' order. A draft is (keys by part, the person,
    the household they belong to, whose members are not compared). Birth dates farther
    apart than `birth_reach` (days for exact dates, years when either is a year only) are
    left out."""
    if not drafts:
        return []
    # Straight to asyncpg: a few thousand drafts bring back a few hundred thousand
    # candidates in a registry of 500,000 people; through the ORM's result that cost more
    # than the query.
    raw = await driver_connection(session)
    rows = await raw.fetch(
        _MANY,
        list(range(len(drafts))),
        [keys.get("given") for keys, _, _ in drafts],
        [keys.get("father") for keys, _, _ in drafts],
        [keys.get("grandfather") for keys, _, _ in drafts],
        [draft.sex for _, draft, _ in drafts],
        [draft.birth_date.year for _, draft, _ in drafts],
        [household for _, _, household in drafts],
        window,
        birth_reach[0],
        birth_reach[1],
        [draft.birth_date for _, draft, _ in drafts],
        # a year only: estimated, or entered as 1 January
        [
            year_only(draft.birth_date, draft.birth_date_estimated) is not None
            for _, draft, _ in drafts
        ],
    )
    return [list(zip(*row, strict=True)) if row[0] else [] for row in rows]


_HOLDERS = """
SELECT d.type, d.value, d.individual_id, i.household_id, i.status = 'active'
FROM unnest($1::text[], $2::text[]) AS w(type, value)
JOIN identifier d ON d.type = w.type AND d.value = w.value
JOIN individual i ON i.id = d.individual_id
"""


@dataclass(frozen=True)
class Holder:
    """Someone holding an identifier, and in which household."""

    individual_id: uuid.UUID
    household_id: uuid.UUID | None
    active: bool


async def identifier_holders(
    session: AsyncSession, identifiers: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], list[Holder]]:
    """(type, value) -> who holds it: which candidates can share a phone or a case with a
    draft is known before their details are read."""
    wanted = list(set(identifiers))
    if not wanted:
        return {}
    raw = await driver_connection(session)
    rows = await raw.fetch(_HOLDERS, [t for t, _ in wanted], [v for _, v in wanted])
    holders: dict[tuple[str, str], list[Holder]] = {}
    for kind, value, individual_id, household_id, active in rows:
        holders.setdefault((kind, value), []).append(Holder(individual_id, household_id, active))
    return holders


# One array parameter, however many ids (an IN list stops at 32,767 parameters).
_DETAILS = """
SELECT i.id, i.household_id, i.given_name, i.father_name, i.grandfather_name, i.sex,
       i.birth_date, i.birth_date_estimated, h.locality_code, h.region_code, h.registry_number,
       ARRAY(SELECT ARRAY[d.type::text, d.value::text] FROM identifier d
             WHERE d.individual_id = i.id),
       h.commune_code, i.relationship_to_head
FROM individual i LEFT JOIN household h ON h.id = i.household_id
WHERE i.id = ANY($1::uuid[])
"""

# The present members of households, with the identifiers a family shares.
_MEMBERS = f"""
SELECT m.household_id, m.id, m.given_name, m.sex, m.birth_year, m.relationship_to_head,
       ARRAY(SELECT ARRAY[d.type::text, d.value::text] FROM identifier d
             WHERE d.individual_id = m.id
               AND d.type IN ({", ".join(f"'{kind}'" for kind in SHARED_IDENTIFIER_TYPES)}))
FROM individual m
WHERE m.household_id = ANY($1::uuid[]) AND m.status = 'active'
"""  # noqa: S608 (constants of the model, no input)


@dataclass(frozen=True)
class Member:
    id: uuid.UUID
    relative: Relative
    shared_identifiers: frozenset[tuple[str, str]]


async def household_members(
    session: AsyncSession, household_ids: Iterable[uuid.UUID | None]
) -> dict[uuid.UUID, list[Member]]:
    ids = list({h for h in household_ids if h is not None})
    if not ids:
        return {}
    raw = await driver_connection(session)
    members: dict[uuid.UUID, list[Member]] = {}
    for row in await raw.fetch(_MEMBERS, ids):
        members.setdefault(row[0], []).append(
            Member(
                row[1],
                Relative(row[2], row[3], row[4], row[5]),
                frozenset((kind, value) for kind, value in row[6]),
            )
        )
    return members


async def communes(session: AsyncSession, localities: Iterable[str | None]) -> dict[str, str]:
    """locality code -> the commune (or sub-prefecture) it lies in."""
    codes = list({code for code in localities if code})
    if not codes:
        return {}
    raw = await driver_connection(session)
    rows = await raw.fetch(
        "SELECT code, parent_code FROM admin_area WHERE code = ANY($1::text[])", codes
    )
    return {row[0]: row[1] for row in rows if row[1]}


async def candidate_details(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Candidate]:
    """The candidates with their households: the other present members, and the
    identifiers a family shares (a phone recorded on the head is the spouse's too)."""
    if not ids:
        return {}
    raw = await driver_connection(session)
    rows = await raw.fetch(_DETAILS, list(ids))
    members = await household_members(session, (row[1] for row in rows))
    found = {}
    for row in rows:
        identifiers = {(kind, value) for kind, value in row[11]}
        others = [m for m in members.get(row[1], []) if m.id != row[0]]
        shared = {i for i in identifiers if i[0] in SHARED_IDENTIFIER_TYPES}
        found[row[0]] = Candidate(
            individual_id=row[0],
            household_id=row[1],
            given_name=row[2],
            father_name=row[3],
            grandfather_name=row[4],
            sex=row[5],
            birth_date=row[6],
            birth_date_estimated=row[7],
            locality_code=row[8],
            region_code=row[9],
            registry_number=row[10],
            shared_identifiers=frozenset(shared.union(*(m.shared_identifiers for m in others))),
            commune_code=row[12],
            unique_identifiers=frozenset(identifiers - shared),
            relationship=row[13],
            household=tuple(m.relative for m in others),
        )
    return found


_PAIR_COLUMNS = ("id", "individual_id", "candidate_id", "score", "reasons", "status")


async def add_pairs(session: AsyncSession, pairs: list[dict[str, Any]]) -> None:
    """New open pairs, with COPY: a big batch flags thousands."""
    if not pairs:
        return
    raw = await driver_connection(session)
    await raw.copy_records_to_table(
        "duplicate_pair",
        records=[
            (
                pair["id"],
                pair["individual_id"],
                pair["candidate_id"],
                pair["score"],
                orjson.dumps(pair["reasons"]).decode(),
                "open",
            )
            for pair in pairs
        ],
        columns=_PAIR_COLUMNS,
    )
