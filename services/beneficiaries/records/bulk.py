"""Writing validated households in bulk with PostgreSQL COPY: the rows the one-household
service writes (through the same mapping: derived name keys, first membership spans,
identifiers, PMT score from the active formula), at COPY speed.

The caller has validated the households and checked their identifiers and ids are free;
this writes, in the caller's transaction, and nothing else.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.clock import today
from services.beneficiaries.models import AdminArea
from services.beneficiaries.pmt.scoring import Formula, score_households
from services.beneficiaries.pmt.variables import (
    HOUSEHOLD_FACTS,
    MEMBER_FACTS,
    HouseholdFacts,
    MemberFacts,
)
from services.beneficiaries.records.mapping import (
    DERIVED_PERSON_COLUMNS,
    HOUSEHOLD_COLUMNS,
    PERSON_COLUMNS,
    household_columns,
    person_columns,
)
from services.beneficiaries.records.schemas import HouseholdWrite
from shared.db import driver_connection

_HOUSEHOLD_ROW = (
    "id",
    "region_code",
    "commune_code",
    "locality_code",
    "area",
    *HOUSEHOLD_COLUMNS,
    "member_count",
    "pmt_score",
    "pmt_formula_version",
    "pmt_computed_at",
    "status",
    "version",
    "created_by",
    "updated_by",
)
_INDIVIDUAL_ROW = (
    "id",
    "household_id",
    "status",
    "roster_position",
    *PERSON_COLUMNS,
    *DERIVED_PERSON_COLUMNS,
    "version",
    "created_by",
    "updated_by",
)
# Membership and identifier ids are the server's (gen_random_uuid()): nothing refers to them
# while a batch is written, and uuid4 in Python costs more per row than the whole COPY.
_MEMBERSHIP_ROW = (
    "household_id",
    "individual_id",
    "relationship_to_head",
    "started_on",
    "start_reason",
    "recorded_by",
)
_IDENTIFIER_ROW = ("individual_id", "type", "value")
# COPY sends jsonb as text.
_JSON_COLUMNS = frozenset({"disability"})


@dataclass
class Written:
    households: int = 0
    individuals: int = 0
    identifiers: int = 0


def _record(row: dict[str, Any], columns: Sequence[str]) -> tuple[Any, ...]:
    return tuple(
        json.dumps(row[column]) if column in _JSON_COLUMNS else row[column] for column in columns
    )


# The individual row is half a million tuples for a big import: built from the person's
# columns in one pass, its JSON columns encoded only when not empty (most people have no
# disability recorded).
_PERSON_TAIL = tuple(c for c in _INDIVIDUAL_ROW if c not in ("id", "household_id", "status"))
_PERSON_JSON = tuple(column in _JSON_COLUMNS for column in _PERSON_TAIL)
_FACTS = tuple(name for name in MEMBER_FACTS if name != "household_id")


def _individual_record(
    person_id: uuid.UUID, household_id: uuid.UUID, person: dict[str, Any]
) -> tuple[Any, ...]:
    values = [person[column] for column in _PERSON_TAIL]
    for index, is_json in enumerate(_PERSON_JSON):
        if is_json:
            value = values[index]
            values[index] = json.dumps(value) if value else "{}"
    return (person_id, household_id, "active", *values)


@dataclass
class Rows:
    """The COPY records of some households, made ahead of writing them (pure computation: an
    import makes them in its reading thread while the database writes the batch before)."""

    households: list[tuple[Any, ...]] = field(default_factory=list)
    individuals: list[tuple[Any, ...]] = field(default_factory=list)
    memberships: list[tuple[Any, ...]] = field(default_factory=list)
    identifiers: list[tuple[Any, ...]] = field(default_factory=list)

    def without(self, household_ids: set[uuid.UUID]) -> Rows:
        """These rows but those of `household_ids` (found taken when they were checked)."""
        if not household_ids:
            return self
        people = {row[0] for row in self.individuals if row[1] in household_ids}
        return Rows(
            [row for row in self.households if row[0] not in household_ids],
            [row for row in self.individuals if row[1] not in household_ids],
            [row for row in self.memberships if row[0] not in household_ids],
            [row for row in self.identifiers if row[0] not in people],
        )


def prepare_rows(
    households: Sequence[HouseholdWrite],
    localities: Mapping[str, AdminArea],
    *,
    actor: str,
    formula: Formula | None,
    start_reason: str = "registered",
) -> Rows:
    """The rows of these households, as write_households writes them (every household has
    its id)."""
    household_rows: list[dict[str, Any]] = []
    rows = Rows()
    facts: list[HouseholdFacts] = []
    members_facts: list[MemberFacts] = []
    common = {"status": "active", "version": 1, "created_by": actor, "updated_by": actor}
    for data in households:
        locality = localities[data.location.locality_code]
        household_id = data.id or uuid.uuid4()
        row = {
            "id": household_id,
            "region_code": locality.region_code,
            "commune_code": locality.parent_code,
            "locality_code": locality.code,
            "area": data.location.area or locality.area or "urban",
            **household_columns(data),
            "member_count": len(data.members),
            "pmt_score": None,
            "pmt_formula_version": None,
            "pmt_computed_at": None,
            **common,
        }
        household_rows.append(row)
        facts.append(HouseholdFacts(**{name: row[name] for name in HOUSEHOLD_FACTS}))  # type: ignore[arg-type]
        for position, member in enumerate(data.members, 1):
            person_id = member.id or uuid.uuid4()
            person = person_columns(member)
            person.update(common)
            person["roster_position"] = position
            rows.individuals.append(_individual_record(person_id, household_id, person))
            rows.memberships.append(
                (
                    household_id,
                    person_id,
                    member.relationship_to_head,
                    data.registration.date,
                    start_reason,
                    actor,
                )
            )
            rows.identifiers.extend((person_id, i.type, i.value) for i in member.identifiers)
            members_facts.append(
                MemberFacts(household_id=household_id, **{name: person[name] for name in _FACTS})
            )
    if formula is not None:
        scores = score_households(formula, facts, members_facts, today())
        computed_at = datetime.now(UTC)
        for row in household_rows:
            score = scores[row["id"]]  # type: ignore[index]
            if score is not None:
                row.update(
                    pmt_score=score,
                    pmt_formula_version=formula.version,
                    pmt_computed_at=computed_at,
                )
    rows.households = [_record(row, _HOUSEHOLD_ROW) for row in household_rows]
    return rows


async def copy_rows(session: AsyncSession, rows: Rows) -> Written:
    """Write prepared rows, in the caller's transaction."""
    raw = await driver_connection(session)
    await raw.copy_records_to_table("household", records=rows.households, columns=_HOUSEHOLD_ROW)
    await raw.copy_records_to_table("individual", records=rows.individuals, columns=_INDIVIDUAL_ROW)
    await raw.copy_records_to_table("membership", records=rows.memberships, columns=_MEMBERSHIP_ROW)
    await raw.copy_records_to_table("identifier", records=rows.identifiers, columns=_IDENTIFIER_ROW)
    return Written(len(rows.households), len(rows.individuals), len(rows.identifiers))


async def write_households(
    session: AsyncSession,
    households: Sequence[HouseholdWrite],
    localities: Mapping[str, AdminArea],
    *,
    actor: str,
    formula: Formula | None,
    start_reason: str = "registered",
) -> Written:
    rows = prepare_rows(
        households, localities, actor=actor, formula=formula, start_reason=start_reason
    )
    return await copy_rows(session, rows)
