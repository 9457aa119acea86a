"""The export field catalogue: every column an export can have, what it holds, and whether it
is personal data.

Column names are stable English snake_case (a column is renamed only with a new API version)
and agree with the bulk-import template's where both have the column.

Who sees what:
- registry staff (admin, data_manager, registrar in their regions) may export every field;
- analysts may export only the fields marked non-personal below. Personal means: anything
  that names, contacts, locates or identifies a person or a household record — names,
  identifiers (national ID, birth certificate, UNHCR, WFP SCOPE, phone), registry number
  and record ids, address, GPS, exact birth date, and the enumerator, device and submission
  that tie a record to one visit. Instead of a birth date analysts get `age` and
  `age_group` (the statistics' groups), and for a household its head's sex and age instead
  of the head's names and phone. Categories (location codes down to the locality, living
  conditions, legal status, nationality, disability domains, education, occupation), PMT
  scores and consent are not personal here: they are what analysis is made of, and the
  statistics API already serves them by locality.
Analysts may not filter by name or identifier either: an export of "the person with this
phone" would tell them that person's age, status and disabilities.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from services.beneficiaries.filters import RegistryFilters
from services.beneficiaries.households.schemas import WashingtonGroupDomain
from services.beneficiaries.models import IDENTIFIER_TYPES
from services.beneficiaries.stats.catalog import AGE_GROUPS
from shared.errors import Forbidden, UnprocessableEntity

Resource = Literal["households", "individuals"]
# How a value is written: text (CSV/XLSX cells guarded against formulas), numbers, dates
# (ISO 8601 in CSV and JSON, date cells in XLSX), booleans, lists (JSON arrays, joined with
# ';' in CSV and XLSX).
Kind = Literal["text", "integer", "decimal", "date", "boolean", "list"]

WASHINGTON_GROUP_DOMAINS: tuple[str, ...] = get_args(WashingtonGroupDomain)
# One column per identifier type, in the bulk-import template's order.
IDENTIFIER_COLUMNS = (
    "national_id", "birth_certificate", "unhcr_individual", "unhcr_case", "wfp_scope", "phone",
)  # fmt: skip
assert set(IDENTIFIER_COLUMNS) == set(IDENTIFIER_TYPES)
AGE_GROUP_LABELS = ", ".join(label for _, label in AGE_GROUPS)


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    description: str
    personal: bool = False


def _personal(name: str, kind: Kind, description: str) -> Field:
    return Field(name, kind, description, personal=True)


_LOCATION = (
    Field("region_code", "text", "Region (admin level 1) code."),
    Field("commune_code", "text", "Commune or sub-prefecture (admin level 2) code."),
    Field("locality_code", "text", "Locality (admin level 3) code."),
    Field("area", "text", "urban or rural, as recorded on the household."),
)

HOUSEHOLD_FIELDS: tuple[Field, ...] = (
    _personal("household_id", "text", "The household's id."),
    _personal("registry_number", "text", "Registry number, e.g. DJ-2026-000123."),
    *_LOCATION,
    _personal("address", "text", "Address or landmark."),
    _personal("gps_latitude", "decimal", "Decimal degrees."),
    _personal("gps_longitude", "decimal", "Decimal degrees."),
    Field("dwelling_type", "text", "house, apartment, traditional_hut, tent, shack, other."),
    Field("tenure", "text", "owner, tenant, free_lodging, informal, other."),
    Field("wall_material", "text", "Material of the walls."),
    Field("roof_material", "text", "Material of the roof."),
    Field("floor_material", "text", "Material of the floor."),
    Field("rooms", "integer", "Number of rooms."),
    Field("water_source", "text", "Main source of drinking water."),
    Field("sanitation", "text", "Toilet facility."),
    Field("lighting", "text", "Main source of lighting."),
    Field("cooking_fuel", "text", "Main cooking fuel."),
    Field("assets", "list", "Assets owned (radio, television, goats...)."),
    Field("shocks", "list", "Shocks suffered (drought, job_loss...)."),
    Field("displacement_status", "text", "none, internally_displaced, refugee, ..."),
    Field("registration_source", "text", "door_to_door, social_desk, field_app, partner_import."),
    Field("registration_date", "date", "Date of registration."),
    _personal("enumerator_id", "text", "Enumerator who registered the household."),
    _personal("device_id", "text", "Field-app device."),
    _personal("submission_id", "text", "Field-app submission id."),
    Field("partner_id", "text", "Partner that imported the household."),
    Field("consent_given", "boolean", "Whether the household consented."),
    Field("consent_date", "date", "Date of consent."),
    Field("consent_scope", "list", "registry, programmes, partner_sharing, research."),
    Field("consent_method", "text", "verbal, written, thumbprint, digital."),
    Field("consent_notice_version", "text", "Version of the notice read to the household."),
    Field("member_count", "integer", "Present members."),
    Field("pmt_score", "decimal", "Proxy means test: predicted log consumption per person."),
    Field(
        "predicted_consumption",
        "integer",
        "Predicted consumption, DJF per person per year (exp of the PMT score).",
    ),
    Field("pmt_formula_version", "integer", "Version of the PMT formula that gave the score."),
    _personal("head_given_name", "text", "The head's given name."),
    _personal("head_father_name", "text", "The head's father's name."),
    _personal("head_grandfather_name", "text", "The head's grandfather's (or family) name."),
    _personal("head_phone", "list", "The head's phone numbers (E.164)."),
    Field("head_sex", "text", "The head's sex (F or M)."),
    Field("head_age", "integer", "The head's age in completed years today."),
    Field("head_age_group", "text", f"The head's age group ({AGE_GROUP_LABELS})."),
)

INDIVIDUAL_FIELDS: tuple[Field, ...] = (
    _personal("individual_id", "text", "The person's id."),
    _personal("household_id", "text", "The person's household's id."),
    _personal("registry_number", "text", "The household's registry number."),
    *_LOCATION,
    _personal("given_name", "text", "Given name."),
    _personal("father_name", "text", "Father's name."),
    _personal("grandfather_name", "text", "Grandfather's (or family) name."),
    Field("sex", "text", "F or M."),
    _personal("birth_date", "date", "Date of birth."),
    Field("birth_date_estimated", "boolean", "Whether the birth date is an estimate."),
    Field("age", "integer", "Age in completed years today (Djibouti time)."),
    Field("age_group", "text", f"Age group ({AGE_GROUP_LABELS})."),
    Field("relationship_to_head", "text", "head, spouse, child, parent, sibling, ..."),
    Field("legal_status", "text", "national, refugee, asylum_seeker, migrant, other."),
    Field("nationality", "text", "ISO 3166 country code."),
    Field("country_of_origin", "text", "ISO 3166 country code."),
    *(
        _personal(id_type, "list", f"{id_type.replace('_', ' ').capitalize()} (every one held).")
        for id_type in IDENTIFIER_COLUMNS
    ),
    *(
        Field(
            f"disability_{domain}",
            "integer",
            f"Washington Group, {domain.replace('_', ' ')}: 1 no difficulty .. 4 cannot do.",
        )
        for domain in WASHINGTON_GROUP_DOMAINS
    ),
    Field("has_disability", "boolean", "A lot of difficulty or cannot do, in any domain."),
    Field("pregnant", "boolean", "Pregnant."),
    Field("lactating", "boolean", "Lactating."),
    Field("education_level", "text", "Highest level of education."),
    Field("occupation", "text", "Occupation, as recorded."),
)

# List filters whose values are personal data.
PERSONAL_FILTERS = ("name", "identifier")

CATALOGUE: dict[Resource, dict[str, Field]] = {
    "households": {field.name: field for field in HOUSEHOLD_FIELDS},
    "individuals": {field.name: field for field in INDIVIDUAL_FIELDS},
}


def select_fields(resource: Resource, requested: str | None, personal_allowed: bool) -> list[Field]:
    """The columns of an export, in the order asked for (duplicates dropped); by default
    every field the caller may see, in catalogue order. 422 for an unknown name, 403 for a
    personal field asked for by a caller who may not see personal data."""
    catalogue = CATALOGUE[resource]
    names = [name.strip() for name in (requested or "").split(",") if name.strip()]
    if not names:
        return [f for f in catalogue.values() if personal_allowed or not f.personal]
    unknown = [name for name in names if name not in catalogue]
    if unknown:
        raise UnprocessableEntity(
            f"Unknown {resource} export fields: {', '.join(unknown)}. "
            f"GET /exports/fields lists them.",
            errors=[
                {"path": "query.fields", "message": f"unknown field {name!r}"} for name in unknown
            ],
        )
    chosen = [catalogue[name] for name in dict.fromkeys(names)]
    refused = [field.name for field in chosen if field.personal and not personal_allowed]
    if refused:
        raise Forbidden(
            "Your role may export only non-personal fields; personal: " + ", ".join(refused) + ".",
            fields=refused,
        )
    return chosen


def check_filters(filters: RegistryFilters, personal_allowed: bool) -> None:
    """403 for a name or identifier search by a caller who may not see personal data."""
    used = [name for name in PERSONAL_FILTERS if getattr(filters, name) is not None]
    if used and not personal_allowed:
        raise Forbidden(
            "Your role may not filter exports by " + " or ".join(used) + ".", filters=used
        )
