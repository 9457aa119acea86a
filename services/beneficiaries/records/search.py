"""The registry's list filters as SQL, and the two lists they serve: households and people.

Name searches are planned: a rare name is gathered through the phonetic-key indexes and
sorted; a common one (Mohamed, Ali) walks the key-and-name indexes in name order instead, so
a page costs the same whatever the name.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from itertools import permutations
from typing import Any

from sqlalchemy import Row, Select, and_, exists, or_, select, text, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from services.beneficiaries.models import Enrollment, Household, Identifier, Individual, Programme
from services.beneficiaries.names import fold, phonetic_key
from services.beneficiaries.records.filters import RegistryFilters
from shared.pagination import PageParams, keyset_page


def name_conditions(person: type[Individual] | Any, name: str) -> list[ColumnElement[bool]]:
    """Every word of the search must be one of the person's name parts, compared by
    phonetic key: case, accents and the usual spellings do not matter.

    Two different words are two different parts: the first two are asked for as a pair of
    parts (either way round), which the pair-key indexes answer with the few people having
    both, where each word alone would gather thousands; the other words are checked on
    those."""
    parts = (person.given_key, person.father_key, person.grandfather_key)
    keys = _keys(name)
    if len(keys) < 2:
        return [or_(*(part == key for part in parts)) for key in keys]
    first, second, *rest = keys
    both = or_(*(and_(a == first, b == second) for a, b in permutations(parts, 2)))
    return [both, *(or_(*(part == key for part in parts)) for key in rest)]


# Up to about this many people matching a name search, they are gathered through the key
# indexes and sorted; beyond, the names are common and walking the key-and-name indexes in
# name order reads less.
SPARSE_MATCHES = 3000
_KEY_COLUMNS = ("given_key", "father_key", "grandfather_key")


@dataclass
class _KeyStatistics:
    """How common each phonetic key is, per name part, from PostgreSQL's own statistics
    (most common values and the average of the rest), refreshed every few minutes."""

    rows: float = 0.0
    common: dict[str, dict[str, float]] = field(default_factory=dict)
    rest: dict[str, float] = field(default_factory=dict)
    read_at: float = float("-inf")

    def share(self, key: str) -> float:
        """The estimated share of people with `key` in some name part."""
        return min(
            1.0,
            sum(
                self.common.get(part, {}).get(key, self.rest.get(part, 0.0))
                for part in _KEY_COLUMNS
            ),
        )

    def matches(self, keys: Sequence[str]) -> float:
        estimate = self.rows
        for key in keys:
            estimate *= self.share(key)
        return estimate


_statistics = _KeyStatistics()


async def key_statistics(session: AsyncSession, max_age: float = 600.0) -> _KeyStatistics:
    global _statistics
    if time.monotonic() - _statistics.read_at < max_age:
        return _statistics
    rows = (
        await session.execute(
            text(
                "SELECT s.attname, s.most_common_vals::text::text[], s.most_common_freqs,"
                " s.n_distinct, s.null_frac, c.reltuples"
                " FROM pg_stats s JOIN pg_class c ON c.relname = s.tablename"
                " WHERE s.schemaname = current_schema() AND s.tablename = 'individual'"
                " AND s.attname = ANY(:columns)"
            ),
            {"columns": list(_KEY_COLUMNS)},
        )
    ).all()
    fresh = _KeyStatistics(read_at=time.monotonic())
    for column, values, freqs, distinct, null_frac, reltuples in rows:
        fresh.rows = max(fresh.rows, float(reltuples))
        common = dict(zip(values or [], freqs or [], strict=True))
        fresh.common[column] = common
        distinct_values = distinct if distinct > 0 else -distinct * max(1.0, float(reltuples))
        others = max(1.0, distinct_values - len(common))
        fresh.rest[column] = max(0.0, 1.0 - null_frac - sum(common.values())) / others
    _statistics = fresh
    return fresh


def _searched(filters: RegistryFilters) -> RegistryFilters | None:
    if not (filters.name or filters.identifier):
        return None
    return RegistryFilters(name=filters.name, identifier=filters.identifier)


async def _common_keys(session: AsyncSession, filters: RegistryFilters) -> list[str] | None:
    """The search's keys, rarest first, when they match too many people to gather and
    sort (None otherwise, and for identifier searches: an identifier is selective)."""
    if not filters.name or filters.identifier:
        return None
    keys = _keys(filters.name)
    statistics = await key_statistics(session)
    if not keys or statistics.matches(keys) <= SPARSE_MATCHES:
        return None
    return sorted(keys, key=statistics.share)


def _matching(filters: RegistryFilters) -> Any:
    """The present people a (selective) name or identifier search finds, gathered through
    the key and identifier indexes first: left to itself the planner walks the name-order or
    registry-number index and tests every row."""
    return (
        select(Individual.id, Individual.household_id)
        .where(Individual.status == "active", *person_conditions(Individual, filters))
        .cte("matching")
        .prefix_with("MATERIALIZED")
    )


HOUSEHOLD_COLUMNS = (Household.registry_number, Household.region_code, Household.locality_code)
SUMMARY_COLUMNS = (
    Individual.id,
    Individual.household_id,
    Individual.name_folded,
    Individual.given_name,
    Individual.father_name,
    Individual.grandfather_name,
    Individual.sex,
    Individual.birth_date,
    Individual.legal_status,
    Individual.relationship_to_head,
)


def person_conditions(
    person: type[Individual] | Any, filters: RegistryFilters
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.legal_status:
        conditions.append(person.legal_status == filters.legal_status)
    if filters.sex:
        conditions.append(person.sex == filters.sex)
    if filters.name:
        conditions += name_conditions(person, filters.name)
    if filters.identifier:
        kind, value = filters.identifier
        conditions.append(
            exists().where(
                Identifier.individual_id == person.id,
                Identifier.type == kind,
                Identifier.value == value,
            )
        )
    return conditions


def household_conditions(
    filters: RegistryFilters, regions: Sequence[str] | None, *, with_people: bool = True
) -> list[ColumnElement[bool]]:
    """Conditions on `household`; with `with_people`, person filters mean "a present member
    matches" (for household lists)."""
    h = Household
    conditions: list[ColumnElement[bool]] = [h.status == "active"]
    if regions is not None:
        conditions.append(h.region_code.in_(regions))
    for column, value in (
        (h.region_code, filters.region),
        (h.commune_code, filters.commune),
        (h.locality_code, filters.locality),
        (h.area, filters.area),
    ):
        if value:
            conditions.append(column == value)
    if filters.registered_from:
        conditions.append(h.registration_date >= filters.registered_from)
    if filters.registered_to:
        conditions.append(h.registration_date <= filters.registered_to)
    if filters.pmt_score_min is not None:
        conditions.append(h.pmt_score >= filters.pmt_score_min)
    if filters.pmt_score_max is not None:
        conditions.append(h.pmt_score <= filters.pmt_score_max)
    if filters.programme or filters.enrollment_status:
        enrolled = (
            exists()
            .where(Enrollment.household_id == h.id)
            .where(
                Enrollment.status == filters.enrollment_status
                if filters.enrollment_status
                else Enrollment.status != "exited"
            )
        )
        if filters.programme:
            enrolled = enrolled.where(
                Enrollment.programme_id == Programme.id, Programme.code == filters.programme
            )
        conditions.append(enrolled)
    if with_people:
        member = aliased(Individual)
        matching = person_conditions(member, filters)
        if matching:
            conditions.append(
                exists().where(member.household_id == h.id, member.status == "active", *matching)
            )
    return conditions


async def list_households(
    session: AsyncSession,
    filters: RegistryFilters,
    regions: Sequence[str] | None,
    params: PageParams,
) -> Sequence[Row[*tuple[Any, ...]]]:
    head = aliased(Individual)
    statement = select(
        Household, head.given_name, head.father_name, head.grandfather_name
    ).outerjoin(
        head,
        and_(
            head.household_id == Household.id,
            head.relationship_to_head == "head",
            head.status == "active",
        ),
    )
    searched = _searched(filters)
    if searched is not None and await _common_keys(session, searched) is None:
        # Few people match: their households through the ids found first. The person
        # filters go with the search (one member is the one searched for and of that sex
        # and status), as in the other branch.
        matching = _matching(replace(searched, legal_status=filters.legal_status, sex=filters.sex))
        others = replace(filters, name=None, identifier=None, legal_status=None, sex=None)
        statement = statement.where(
            Household.id.in_(select(matching.c.household_id)),
            *household_conditions(others, regions),
        )
    else:
        statement = statement.where(*household_conditions(filters, regions))
    statement = keyset_page(statement, [Household.registry_number], params, [str])
    return (await session.execute(statement)).all()


async def list_individuals(
    session: AsyncSession,
    filters: RegistryFilters,
    regions: Sequence[str] | None,
    params: PageParams,
) -> Sequence[Row[*tuple[Any, ...]]]:
    """Summary rows (the person's columns, then registry number, region, locality), in
    name order."""
    searched = _searched(filters)
    others = RegistryFilters(legal_status=filters.legal_status, sex=filters.sex)

    def page(*conditions: ColumnElement[bool]) -> Select[*tuple[Any, ...]]:
        statement = (
            select(*SUMMARY_COLUMNS, *HOUSEHOLD_COLUMNS)
            .join(Household, Household.id == Individual.household_id)
            .where(Individual.status == "active", *conditions)
            .where(*person_conditions(Individual, others))
            .where(*household_conditions(filters, regions, with_people=False))
        )
        return keyset_page(
            statement, [Individual.name_folded, Individual.id], params, [str, uuid.UUID]
        )

    if searched is None:
        return (await session.execute(page())).all()
    common = await _common_keys(session, searched)
    if common is None:
        # Few people match: gathered through the key and identifier indexes with their
        # summary columns (the heap is visited once), then their households, sorted.
        person = replace(searched, legal_status=filters.legal_status, sex=filters.sex)
        found = (
            select(*SUMMARY_COLUMNS)
            .where(Individual.status == "active", *person_conditions(Individual, person))
            .cte("matching")
            .prefix_with("MATERIALIZED")
        )
        statement = (
            select(found, *HOUSEHOLD_COLUMNS)
            .join(Household, Household.id == found.c.household_id)
            .where(*household_conditions(filters, regions, with_people=False))
        )
        statement = keyset_page(
            statement, [found.c.name_folded, found.c.id], params, [str, uuid.UUID]
        )
        return (await session.execute(statement)).all()
    # Common names: the rarest key's index walked in name order, once per name part (a
    # person found through two parts comes from the first only), merged, the page cut
    # from the front.
    driver, rest = common[0], common[1:]
    parts = (Individual.given_key, Individual.father_key, Individual.grandfather_key)
    rest_conditions = [or_(*(part == key for part in parts)) for key in rest]
    branches = [
        page(
            part == driver,
            *(earlier.is_distinct_from(driver) for earlier in parts[:index]),
            *rest_conditions,
        )
        for index, part in enumerate(parts)
    ]
    merged = union_all(*branches).subquery("merged")
    statement = select(merged).order_by(merged.c.name_folded, merged.c.id).limit(params.limit + 1)
    return (await session.execute(statement)).all()


def _keys(name: str) -> list[str]:
    keys: list[str] = []
    for word in fold(name).split():
        key = phonetic_key(word)
        if key and key not in keys:
            keys.append(key)
    return keys
