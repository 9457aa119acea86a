"""A household's JSON representation, built by PostgreSQL in one statement.

Reading a household is the registry's hottest path (every registrar visit, every field-app
refresh). Building the document in SQL costs one round trip and no per-row Python, about a
third of what loading rows into objects and serialising them cost. The shape is the
`Household` schema's; tests check that every answer validates against it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.households.schemas import Household
from shared.db import driver_connection

# The document's columns over `household h`: (id, region_code, version, present member
# ids, JSON text), for the queries here and others' (the sync change feed's) to select.
# Ages are counted on today's date in Djibouti (UTC+3, no daylight saving).
DOCUMENT_COLUMNS = """
h.id, h.region_code, h.version,
    ARRAY(SELECT p.id FROM individual p WHERE p.household_id = h.id AND p.status = 'active'),
    json_build_object(
    'id', h.id,
    'registry_number', h.registry_number,
    'status', h.status,
    'merged_into_id', h.merged_into_id,
    'location', json_build_object(
        'region_code', h.region_code, 'commune_code', h.commune_code,
        'locality_code', h.locality_code, 'area', h.area, 'address', h.address,
        'gps', CASE WHEN h.gps_latitude IS NULL OR h.gps_longitude IS NULL THEN NULL
                    ELSE json_build_object('latitude', h.gps_latitude,
                                           'longitude', h.gps_longitude) END),
    'living_conditions', json_build_object(
        'dwelling_type', h.dwelling_type, 'tenure', h.tenure,
        'wall_material', h.wall_material, 'roof_material', h.roof_material,
        'floor_material', h.floor_material, 'rooms', h.rooms,
        'water_source', h.water_source, 'sanitation', h.sanitation,
        'lighting', h.lighting, 'cooking_fuel', h.cooking_fuel,
        'assets', h.assets, 'shocks', h.shocks),
    'displacement_status', h.displacement_status,
    'registration', json_build_object(
        'source', h.registration_source, 'date', h.registration_date,
        'enumerator_id', h.enumerator_id, 'device_id', h.device_id,
        'submission_id', h.submission_id, 'partner_id', h.source_partner_id),
    'consent', json_build_object(
        'given', h.consent_given, 'date', h.consent_date, 'scope', h.consent_scope,
        'method', h.consent_method, 'notice_version', h.consent_notice_version),
    'member_count', h.member_count,
    'members', coalesce((
        SELECT json_agg(json_build_object(
            'id', p.id, 'household_id', p.household_id, 'status', p.status,
            'given_name', p.given_name, 'father_name', p.father_name,
            'grandfather_name', p.grandfather_name, 'sex', p.sex,
            'birth_date', p.birth_date, 'birth_date_estimated', p.birth_date_estimated,
            'age', date_part('year', age(
                (now() AT TIME ZONE 'UTC' + interval '3 hours')::date, p.birth_date))::int,
            'relationship_to_head', p.relationship_to_head,
            'legal_status', p.legal_status, 'nationality', p.nationality,
            'country_of_origin', p.country_of_origin,
            'identifiers', coalesce((
                SELECT json_agg(json_build_object('type', i.type, 'value', i.value)
                                ORDER BY i.type, i.value)
                FROM identifier i WHERE i.individual_id = p.id), '[]'::json),
            'disability', p.disability, 'has_disability', p.has_disability,
            'pregnant', p.pregnant, 'lactating', p.lactating,
            'education_level', p.education_level, 'occupation', p.occupation,
            'version', p.version)
            ORDER BY p.relationship_to_head <> 'head', p.birth_date, p.id)
        FROM individual p WHERE p.household_id = h.id AND p.status = 'active'), '[]'::json),
    'pmt', CASE WHEN h.pmt_score IS NULL THEN NULL ELSE json_build_object(
        'score', h.pmt_score,
        'predicted_consumption', round(exp(h.pmt_score))::bigint,
        'formula_version', h.pmt_formula_version,
        'computed_at', h.pmt_computed_at) END,
    'possible_duplicates', coalesce((
        SELECT json_agg(json_build_object(
            'pair_id', d.id, 'individual_id', d.individual_id,
            'candidate_id', d.candidate_id, 'candidate_household_id', c.household_id,
            'score', d.score) ORDER BY d.score DESC, d.id)
        FROM duplicate_pair d
        JOIN individual p ON p.id = d.individual_id
        JOIN individual c ON c.id = d.candidate_id
        WHERE p.household_id = h.id AND p.status = 'active' AND d.status = 'open'), '[]'::json),
    'version', h.version,
    'created_at', h.created_at,
    'updated_at', h.updated_at
)::text
"""
_DOCUMENTS = "SELECT" + DOCUMENT_COLUMNS + "FROM household h WHERE h.id = ANY($1::uuid[])"


@dataclass(frozen=True)
class HouseholdDocument:
    id: uuid.UUID
    region_code: str
    version: int
    member_ids: list[uuid.UUID]
    json: str

    def model(self) -> Household:
        return Household.model_validate_json(self.json)

    def read_records(self) -> list[tuple[uuid.UUID, uuid.UUID | None]]:
        """The audit rows a read of this household means: the household and each person."""
        household: uuid.UUID | None = self.id
        return [(self.id, household)] + [(member, household) for member in self.member_ids]


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
