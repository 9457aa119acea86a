"""Writing validated households in bulk with PostgreSQL COPY: the rows the one-household
service writes (through the same mapping: derived name keys, first membership spans,
identifiers, PMT score from the active formula), at COPY speed.

The caller has validated the households and checked their identifiers and ids are free;
this writes, in the caller's transaction, and nothing else.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
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
    "roster_position",
    "status",
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


async def write_households(
    session: AsyncSession,
    households: Sequence[HouseholdWrite],
    localities: dict[str, AdminArea],
    *,
    actor: str,
    formula: Formula | None,
    start_reason: str = "registered",
) -> Written:
    household_rows: list[dict[str, Any]] = []
    individual_rows: list[tuple[Any, ...]] = []
    membership_rows: list[tuple[Any, ...]] = []
    identifier_rows: list[tuple[Any, ...]] = []
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
            person: dict[str, Any] = {
                "id": member.id or uuid.uuid4(),
                "household_id": household_id,
                "roster_position": position,
                **person_columns(member),
                **common,
            }
            individual_rows.append(_record(person, _INDIVIDUAL_ROW))
            membership_rows.append(
                (
                    household_id,
                    person["id"],
                    member.relationship_to_head,
                    data.registration.date,
                    start_reason,
                    actor,
                )
            )
            identifier_rows.extend((person["id"], i.type, i.value) for i in member.identifiers)
            members_facts.append(MemberFacts(**{name: person[name] for name in MEMBER_FACTS}))
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

    raw = await driver_connection(session)
    await raw.copy_records_to_table(
        "household",
        records=[_record(row, _HOUSEHOLD_ROW) for row in household_rows],
        columns=_HOUSEHOLD_ROW,
    )
    await raw.copy_records_to_table("individual", records=individual_rows, columns=_INDIVIDUAL_ROW)
    await raw.copy_records_to_table("membership", records=membership_rows, columns=_MEMBERSHIP_ROW)
    await raw.copy_records_to_table("identifier", records=identifier_rows, columns=_IDENTIFIER_ROW)
    return Written(len(household_rows), len(individual_rows), len(identifier_rows))
