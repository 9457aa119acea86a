"""A household's and a person's JSON representation, built by PostgreSQL in one statement.

Reading a household is the registry's hottest path (every registrar visit, every field-app
refresh). Building the document in SQL costs one round trip and no per-row Python, about a
third of what loading rows into objects and serialising them cost.

The statements are generated, at import, from the read schemas (`Household`, `Member`,
`Individual`: every field, in their order) and the field mapping (which column each field
is); the few fields that are not a column are given below. A schema field with no SQL stops
the service from starting, so the document cannot drift from the schema.
"""

from __future__ import annotations

import types
import typing
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import orjson
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.records.mapping import (
    HOUSEHOLD_FIELDS,
    LOCATION_FIELDS,
    PERSON_FIELDS,
    Path,
)
from services.beneficiaries.records.repository import ROSTER_ORDER
from services.beneficiaries.records.schemas import Household, Individual, Member
from shared.db import driver_connection

# Ages are counted on today's date in Djibouti (UTC+3, no daylight saving).
_TODAY = "(now() AT TIME ZONE 'UTC' + interval '3 hours')::date"
_AGE = "date_part('year', age(" + _TODAY + ", {p}.birth_date))::int"
_IDENTIFIERS = """coalesce((
    SELECT json_agg(json_build_object('type', i.type, 'value', i.value) ORDER BY i.type, i.value)
    FROM identifier i WHERE i.individual_id = {p}.id), '[]'::json)"""


def _model_of(annotation: object) -> tuple[type[BaseModel] | None, bool]:
    """The model a field holds (None for a plain value) and whether it may be null."""
    arguments = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        inner = [a for a in arguments if a is not type(None)]
        model, _ = _model_of(inner[0]) if len(inner) == 1 else (None, False)
        return model, True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    return None, False


def json_object(model: type[BaseModel], sql: Mapping[Path, str], path: Path = ()) -> str:
    """`json_build_object(...)` of `model`'s fields in order, each from `sql` by its path;
    a nested model is an object of its own, null when it may be and any of its values is."""
    pairs = []
    for name, field in model.model_fields.items():
        here = (*path, name)
        if here in sql:
            value = sql[here]
        else:
            nested, nullable = _model_of(field.annotation)
            if nested is None:
                raise LookupError(f"no SQL for {model.__name__} field {'.'.join(here)}")
            value = json_object(nested, sql, here)
            if nullable:
                columns = [sql[(*here, leaf)] for leaf in nested.model_fields]
                missing = " OR ".join(f"{column} IS NULL" for column in columns)
                value = f"CASE WHEN {missing} THEN NULL ELSE {value} END"
        pairs.append(f"'{name}', {value}")
    return "json_build_object(" + ", ".join(pairs) + ")"


def _person_sql(alias: str) -> dict[Path, str]:
    return {
        **{field.path: f"{alias}.{field.column}" for field in PERSON_FIELDS},
        **{(name,): f"{alias}.{name}" for name in ("id", "household_id", "status", "version")},
        ("has_disability",): f"{alias}.has_disability",
        ("age",): _AGE.format(p=alias),
        ("identifiers",): _IDENTIFIERS.format(p=alias),
    }


MEMBER_JSON = json_object(Member, _person_sql("p"))
_PRESENT = "p.household_id = h.id AND p.status = 'active'"
_HOUSEHOLD_SQL: dict[Path, str] = {
    **{field.path: f"h.{field.column}" for field in (*LOCATION_FIELDS, *HOUSEHOLD_FIELDS)},
    **{
        (name,): f"h.{name}"
        for name in (
            "id",
            "registry_number",
            "status",
            "merged_into_id",
            "member_count",
            "version",
            "created_at",
            "updated_at",
        )
    },
    ("members",): f"""coalesce((
        SELECT json_agg({MEMBER_JSON} ORDER BY {ROSTER_ORDER.format(p="p")})
        FROM individual p WHERE {_PRESENT}), '[]'::json)""",  # noqa: S608 (the model's own)
    ("pmt",): """CASE WHEN h.pmt_score IS NULL THEN NULL ELSE json_build_object(
        'score', h.pmt_score,
        'predicted_consumption', round(exp(h.pmt_score))::bigint,
        'formula_version', h.pmt_formula_version,
        'computed_at', h.pmt_computed_at) END""",
    ("possible_duplicates",): """coalesce((
        SELECT json_agg(json_build_object(
            'pair_id', d.id, 'individual_id', d.individual_id,
            'candidate_id', d.candidate_id, 'candidate_household_id', c.household_id,
            'candidate_region_code', ch.region_code, 'outside_your_regions', false,
            'score', d.score) ORDER BY d.score DESC, d.id)
        FROM duplicate_pair d
        JOIN individual p ON p.id = d.individual_id
        JOIN individual c ON c.id = d.candidate_id
        LEFT JOIN household ch ON ch.id = c.household_id
        WHERE p.household_id = h.id AND p.status = 'active' AND d.status = 'open'), '[]'::json)""",
}

_HOUSEHOLD_JSON = json_object(Household, _HOUSEHOLD_SQL)
_PERSON_JSON = json_object(
    Individual,
    {
        **_person_sql("p"),
        ("registry_number",): "h.registry_number",
        ("merged_into_id",): "p.merged_into_id",
    },
)

# The document's columns over `household h`: (id, region_code, version, present member
# ids, JSON text), for the queries here and others' (the sync change feed's) to select.
DOCUMENT_COLUMNS = f"""
h.id, h.region_code, h.version,
    ARRAY(SELECT p.id FROM individual p WHERE {_PRESENT}),
    {_HOUSEHOLD_JSON}::text
"""  # noqa: S608 (constants of the model)
# Constants of the model: no input in any of these statements.
_DOCUMENTS = "SELECT" + DOCUMENT_COLUMNS + "FROM household h WHERE h.id = ANY($1::uuid[])"
_PERSON = (
    f"SELECT p.id, p.household_id, h.region_code, p.version, {_PERSON_JSON}::text"  # noqa: S608
    " FROM individual p LEFT JOIN household h ON h.id = p.household_id WHERE p.id = $1"
)


@dataclass(frozen=True)
class HouseholdDocument:
    id: uuid.UUID
    region_code: str
    version: int
    member_ids: list[uuid.UUID]
    json: str

    def seen_from(self, regions: Sequence[str] | None) -> str:
        """The JSON as a reader limited to `regions` (None: no limit) may see it: a probable
        duplicate registered in another region only as `outside_your_regions`, without its
        ids (a data manager resolves it)."""
        if regions is None or '"candidate_region_code"' not in self.json:
            return self.json
        document = orjson.loads(self.json)
        flags = document["possible_duplicates"]
        if all(flag["candidate_region_code"] in regions for flag in flags):
            return self.json
        document["possible_duplicates"] = [
            flag if flag["candidate_region_code"] in regions else _outside(flag) for flag in flags
        ]
        return orjson.dumps(document).decode()

    def read_records(self) -> list[tuple[uuid.UUID, uuid.UUID | None]]:
        """The audit rows a read of this household means: the household and each person."""
        household: uuid.UUID | None = self.id
        return [(self.id, household)] + [(member, household) for member in self.member_ids]


def _outside(flag: dict[str, object]) -> dict[str, object]:
    hidden = ("candidate_id", "candidate_household_id", "candidate_region_code")
    return {**flag, **dict.fromkeys(hidden), "outside_your_regions": True}


@dataclass(frozen=True)
class PersonDocument:
    id: uuid.UUID
    household_id: uuid.UUID | None
    # The household's region (None for someone in no household).
    region_code: str | None
    version: int
    json: str


async def household_documents(
    session: AsyncSession, household_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, HouseholdDocument]:
    # Straight to asyncpg (a prepared statement it caches): the ORM's statement machinery
    # was a fifth of this endpoint's CPU.
    raw = await driver_connection(session)
    rows = await raw.fetch(_DOCUMENTS, list(household_ids))
    return {row[0]: HouseholdDocument(*row) for row in rows}


async def household_document(
    session: AsyncSession, household_id: uuid.UUID
) -> HouseholdDocument | None:
    return (await household_documents(session, [household_id])).get(household_id)


async def person_document(session: AsyncSession, individual_id: uuid.UUID) -> PersonDocument | None:
    raw = await driver_connection(session)
    row = await raw.fetchrow(_PERSON, individual_id)
    return None if row is None else PersonDocument(*row)
