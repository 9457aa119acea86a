"""Writing validated households in bulk with PostgreSQL COPY: the same rows the API writes
one household at a time (derived name keys, first membership spans, identifiers, PMT score
from the active formula), at COPY speed.

The caller has validated the households and checked their identifiers and ids are free;
this writes, in the caller's transaction, and nothing else.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.clock import today
from services.beneficiaries.config import BeneficiariesSettings
from services.beneficiaries.dedup.service import flag_many, people_of
from services.beneficiaries.households.derived import individual_columns
from services.beneficiaries.households.schemas import HouseholdWrite
from services.beneficiaries.models import AdminArea
from services.beneficiaries.pmt import repository as pmt_repository
from services.beneficiaries.pmt.scoring import Formula, score_households
from services.beneficiaries.pmt.variables import HouseholdFacts, MemberFacts
from shared.audit import AuditTrail
from shared.auth import Principal
from shared.db import driver_connection

HOUSEHOLD_COLUMNS = (
    "id", "region_code", "commune_code", "locality_code", "area", "address", "gps_latitude",
    "gps_longitude", "dwelling_type", "tenure", "wall_material", "roof_material",
    "floor_material", "rooms", "water_source", "sanitation", "lighting", "cooking_fuel",
    "assets", "shocks", "displacement_status", "registration_source", "registration_date",
    "enumerator_id", "device_id", "submission_id", "source_partner_id", "consent_given",
    "consent_date", "consent_scope", "consent_method", "consent_notice_version", "member_count",
    "pmt_score", "pmt_formula_version", "pmt_computed_at", "status", "version", "created_by",
    "updated_by",
)  # fmt: skip
INDIVIDUAL_COLUMNS = (
    "id", "household_id", "relationship_to_head", "status", "given_name", "father_name",
    "grandfather_name", "name_folded", "given_key", "father_key", "grandfather_key", "sex",
    "birth_date", "birth_date_estimated", "birth_year", "legal_status", "nationality",
    "country_of_origin", "disability", "has_disability", "pregnant", "lactating",
    "education_level", "occupation", "version", "created_by", "updated_by",
)  # fmt: skip
# Membership and identifier ids are the server's (gen_random_uuid()): nothing refers to them
# while a batch is written, and uuid4 in Python costs more per row than the whole COPY.
MEMBERSHIP_COLUMNS = (
    "household_id", "individual_id", "relationship_to_head", "started_on",
    "start_reason", "recorded_by",
)  # fmt: skip
IDENTIFIER_COLUMNS = ("individual_id", "type", "value")
_PMT = HOUSEHOLD_COLUMNS.index("pmt_score")  # then pmt_formula_version, pmt_computed_at


@dataclass
class Written:
    households: int = 0
    individuals: int = 0
    identifiers: int = 0


async def active_formula(session: AsyncSession) -> Formula | None:
    active = await pmt_repository.get_active_formula(session)
    return Formula.from_json(active.version, active.urban, active.rural) if active else None


async def write_households(
    session: AsyncSession,
    households: Sequence[HouseholdWrite],
    localities: dict[str, AdminArea],
    *,
    actor: str,
    formula: Formula | None,
    start_reason: str = "registered",
) -> Written:
    household_rows: list[list[Any]] = []
    individual_rows: list[tuple[Any, ...]] = []
    membership_rows: list[tuple[Any, ...]] = []
    identifier_rows: list[tuple[Any, ...]] = []
    facts: list[HouseholdFacts] = []
    members_facts: list[MemberFacts] = []
    for data in households:
        locality = localities[data.location.locality_code]
        household_id = data.id or uuid.uuid4()
        gps = data.location.gps
        conditions = data.living_conditions
        consent = data.consent
        registration = data.registration
        facts.append(
            HouseholdFacts(
                id=household_id,
                area=data.location.area or locality.area or "urban",
                rooms=conditions.rooms,
                assets=conditions.assets,
                dwelling_type=conditions.dwelling_type,
                tenure=conditions.tenure,
                wall_material=conditions.wall_material,
                roof_material=conditions.roof_material,
                floor_material=conditions.floor_material,
                water_source=conditions.water_source,
                sanitation=conditions.sanitation,
                lighting=conditions.lighting,
                cooking_fuel=conditions.cooking_fuel,
                displacement_status=data.displacement_status,
            )
        )
        household_rows.append([
            household_id, locality.region_code, locality.parent_code, locality.code,
            facts[-1].area, data.location.address, gps.latitude if gps else None,
            gps.longitude if gps else None, conditions.dwelling_type, conditions.tenure,
            conditions.wall_material, conditions.roof_material, conditions.floor_material,
            conditions.rooms, conditions.water_source, conditions.sanitation, conditions.lighting,
            conditions.cooking_fuel, list(conditions.assets), list(conditions.shocks),
            data.displacement_status, registration.source, registration.date,
            registration.enumerator_id, registration.device_id, registration.submission_id,
            registration.partner_id, consent.given, consent.date, list(consent.scope),
            consent.method, consent.notice_version, len(data.members),
            None, None, None, "active", 1, actor, actor,
        ])  # fmt: skip
        for member in data.members:
            person_id = member.id or uuid.uuid4()
            derived = individual_columns(
                member.given_name,
                member.father_name,
                member.grandfather_name,
                member.birth_date,
                member.disability,
            )
            individual_rows.append((
                person_id, household_id, member.relationship_to_head, "active",
                member.given_name, member.father_name, member.grandfather_name,
                derived["name_folded"], derived["given_key"], derived["father_key"],
                derived["grandfather_key"], member.sex, member.birth_date,
                member.birth_date_estimated, derived["birth_year"], member.legal_status,
                member.nationality, member.country_of_origin, json.dumps(member.disability),
                derived["has_disability"], member.pregnant, member.lactating,
                member.education_level, member.occupation, 1, actor, actor,
            ))  # fmt: skip
            membership_rows.append((
                household_id, person_id, member.relationship_to_head,
                registration.date, start_reason, actor,
            ))  # fmt: skip
            identifier_rows.extend((person_id, i.type, i.value) for i in member.identifiers)
            members_facts.append(
                MemberFacts(
                    household_id=household_id,
                    sex=member.sex,
                    birth_date=member.birth_date,
                    relationship_to_head=member.relationship_to_head,
                    has_disability=derived["has_disability"],
                    legal_status=member.legal_status,
                    education_level=member.education_level,
                )
            )
    if formula is not None:
        scores = score_households(formula, facts, members_facts, today())
        computed_at = datetime.now(UTC)
        for row, fact in zip(household_rows, facts, strict=True):
            score = scores[fact.id]
            if score is not None:
                row[_PMT : _PMT + 3] = [score, formula.version, computed_at]

    raw = await driver_connection(session)
    await raw.copy_records_to_table("household", records=household_rows, columns=HOUSEHOLD_COLUMNS)
    await raw.copy_records_to_table(
        "individual", records=individual_rows, columns=INDIVIDUAL_COLUMNS
    )
    await raw.copy_records_to_table(
        "membership", records=membership_rows, columns=MEMBERSHIP_COLUMNS
    )
    await raw.copy_records_to_table(
        "identifier", records=identifier_rows, columns=IDENTIFIER_COLUMNS
    )
    return Written(len(household_rows), len(individual_rows), len(identifier_rows))


async def register_households(
    session: AsyncSession,
    households: Sequence[HouseholdWrite],
    localities: dict[str, AdminArea],
    *,
    principal: Principal,
    audit: AuditTrail,
    settings: BeneficiariesSettings,
    formula: Formula | None,
    action: str,
    detail: Callable[[HouseholdWrite], dict[str, Any]],
    start_reason: str = "registered",
) -> tuple[Written, int]:
    """What an import batch and a sync batch's new households both go through: written
    with COPY, their people flagged for probable duplicates in a few statements, an audit
    row each. Returns what was written and the number of pairs flagged."""
    written = await write_households(
        session, households, localities, actor=principal.subject, formula=formula,
        start_reason=start_reason,
    )  # fmt: skip
    flagged = await flag_many(
        session,
        people_of(households, localities),
        threshold=settings.dedup_threshold,
        window=settings.dedup_birth_year_window,
    )
    await audit.record_writes(
        session,
        [audit.row(principal, action, "household", h.id, h.id, detail(h)) for h in households],
    )
    return written, flagged
