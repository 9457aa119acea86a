"""The one mapping between a household or a person as the API sends them and as the tables
store them. Every writer derives its rows from it (the household service, the bulk writer),
the SQL-built documents their read side (documents.py), and the exports their columns.

A field is named three ways: its table column; its path in the API document (the same in
what clients send and what they read back, e.g. `living_conditions.rooms`); and its flat
name, the column of exports and of the import template (the table column's, unless said).
Adding a household field is one line here, its place in the schema and the table (and, if
files should carry it, a column of the import template: imports/columns.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from operator import attrgetter
from typing import Any, Literal

from services.beneficiaries.names import full_name_folded, phonetic_key

# How an export writes a value: text (CSV/XLSX cells guarded against formulas), numbers,
# dates (ISO 8601 in CSV and JSON, date cells in XLSX), booleans, lists (JSON arrays,
# joined with ';' in CSV and XLSX).
Kind = Literal["text", "integer", "decimal", "date", "boolean", "list"]
Path = tuple[str, ...]


@dataclass(frozen=True)
class Field:
    """A value the registry stores, exchanges and exports.

    `personal`: names, contacts, locates or identifies a person or a household record.
    `free_text`: whatever was typed, not a value of a closed list or a checked format: it
    may hold a name or a phone number whatever the field is for. An analyst's export holds
    neither (see exports/fields.py)."""

    column: str
    path: Path
    kind: Kind
    description: str
    personal: bool = False
    flat_name: str | None = None
    free_text: bool = False

    @property
    def name(self) -> str:
        return self.flat_name or self.column


def _field(
    path: str, kind: Kind, description: str, *, column: str | None = None, **options: Any
) -> Field:
    parts = tuple(path.split("."))
    return Field(column or parts[-1], parts, kind, description, **options)


# Where a household is: resolved from its locality (region and commune follow from it; the
# area defaults to the locality's), never taken from the client as is.
LOCATION_FIELDS: tuple[Field, ...] = (
    _field("location.region_code", "text", "Region (admin level 1) code."),
    _field("location.commune_code", "text", "Commune or sub-prefecture (admin level 2) code."),
    _field("location.locality_code", "text", "Locality (admin level 3) code."),
    _field("location.area", "text", "urban or rural, as recorded on the household."),
)

# What a household write gives as is, in document order.
HOUSEHOLD_FIELDS: tuple[Field, ...] = (
    _field("location.address", "text", "Address or landmark.", personal=True, free_text=True),
    _field(
        "location.gps.latitude",
        "decimal",
        "Decimal degrees.",
        column="gps_latitude",
        personal=True,
    ),
    _field(
        "location.gps.longitude",
        "decimal",
        "Decimal degrees.",
        column="gps_longitude",
        personal=True,
    ),
    _field(
        "living_conditions.dwelling_type",
        "text",
        "house, apartment, traditional_hut, tent, shack, other.",
    ),
    _field("living_conditions.tenure", "text", "owner, tenant, free_lodging, informal, other."),
    _field("living_conditions.wall_material", "text", "Material of the walls."),
    _field("living_conditions.roof_material", "text", "Material of the roof."),
    _field("living_conditions.floor_material", "text", "Material of the floor."),
    _field("living_conditions.rooms", "integer", "Number of rooms."),
    _field("living_conditions.water_source", "text", "Main source of drinking water."),
    _field("living_conditions.sanitation", "text", "Toilet facility."),
    _field("living_conditions.lighting", "text", "Main source of lighting."),
    _field("living_conditions.cooking_fuel", "text", "Main cooking fuel."),
    _field("living_conditions.assets", "list", "Assets owned (radio, television, goats...)."),
    _field("living_conditions.shocks", "list", "Shocks suffered (drought, job_loss...)."),
    _field("displacement_status", "text", "none, internally_displaced, refugee, ..."),
    _field(
        "registration.source",
        "text",
        "door_to_door, social_desk, field_app, partner_import.",
        column="registration_source",
    ),
    _field("registration.date", "date", "Date of registration.", column="registration_date"),
    _field(
        "registration.enumerator_id",
        "text",
        "Enumerator who registered the household.",
        personal=True,
        free_text=True,
    ),
    _field("registration.device_id", "text", "Field-app device.", personal=True, free_text=True),
    _field(
        "registration.submission_id",
        "text",
        "Field-app submission id.",
        personal=True,
        free_text=True,
    ),
    _field(
        "registration.partner_id",
        "text",
        "Partner that imported the household.",
        column="source_partner_id",
        flat_name="partner_id",
        free_text=True,
    ),
    _field(
        "consent.given",
        "boolean",
        "Whether the household consented (always yes: without consent nothing is registered).",
        column="consent_given",
    ),
    _field("consent.date", "date", "Date of consent.", column="consent_date"),
    _field(
        "consent.scope",
        "list",
        "registry, programmes, partner_sharing, research.",
        column="consent_scope",
    ),
    _field(
        "consent.method",
        "text",
        "verbal, written, thumbprint, digital.",
        column="consent_method",
    ),
    _field(
        "consent.notice_version",
        "text",
        "Version of the notice read to the household.",
        column="consent_notice_version",
        free_text=True,
    ),
)

# What a member write gives as is (identifiers have their own table), in document order.
PERSON_FIELDS: tuple[Field, ...] = (
    _field("given_name", "text", "Given name.", personal=True),
    _field("father_name", "text", "Father's name.", personal=True),
    _field("grandfather_name", "text", "Grandfather's (or family) name.", personal=True),
    _field("sex", "text", "F or M."),
    _field("birth_date", "date", "Date of birth.", personal=True),
    _field("birth_date_estimated", "boolean", "Whether the birth date is an estimate."),
    _field("relationship_to_head", "text", "head, spouse, child, parent, sibling, ..."),
    _field("legal_status", "text", "national, refugee, asylum_seeker, migrant, other."),
    _field("nationality", "text", "ISO 3166 country code."),
    _field("country_of_origin", "text", "ISO 3166 country code."),
    # A map of domain -> level, exported as one integer column per domain.
    _field(
        "disability",
        "integer",
        "Washington Group short set: domain -> 1 no difficulty .. 4 cannot do.",
    ),
    _field("pregnant", "boolean", "Pregnant."),
    _field("lactating", "boolean", "Lactating."),
    _field("education_level", "text", "Highest level of education."),
    _field("occupation", "text", "Occupation, as recorded.", free_text=True),
)
HOUSEHOLD_COLUMNS = tuple(field.column for field in HOUSEHOLD_FIELDS)
PERSON_COLUMNS = tuple(field.column for field in PERSON_FIELDS)
# Columns the registry derives from a person's fields (derived_person_columns).
DERIVED_PERSON_COLUMNS = (
    "name_folded",
    "given_key",
    "father_key",
    "grandfather_key",
    "birth_year",
    "has_disability",
)

# Washington Group: "a lot of difficulty" (3) or "cannot do at all" (4) in any domain.
WG_DISABILITY_CUTOFF = 3

# The household fields read off a write in one C call; GPS is optional as a whole.
_GPS = {"gps_latitude", "gps_longitude"}
_PLAIN = tuple(field for field in HOUSEHOLD_FIELDS if field.column not in _GPS)
_plain_values = attrgetter(*(".".join(field.path) for field in _PLAIN))
_PLAIN_COLUMNS = tuple(field.column for field in _PLAIN)
_person_values = attrgetter(*PERSON_COLUMNS)


def household_columns(data: Any) -> dict[str, Any]:
    """The household row's columns a `HouseholdWrite` gives (location resolved apart)."""
    row = dict(zip(_PLAIN_COLUMNS, _plain_values(data), strict=True))
    row.update(gps_columns(data.location.gps))
    return row


def gps_columns(gps: Any) -> dict[str, Any]:
    """The GPS columns of a location's `gps` (None: no position, both columns empty)."""
    return {
        "gps_latitude": gps.latitude if gps is not None else None,
        "gps_longitude": gps.longitude if gps is not None else None,
    }


def location_columns(location: Any) -> dict[str, Any]:
    """The location columns of a resolved location (region, commune, locality, area)."""
    return {field.column: getattr(location, field.column) for field in LOCATION_FIELDS}


def columns_of(section: str) -> tuple[str, ...]:
    """The household columns of one section of its document (`consent`...)."""
    return tuple(field.column for field in HOUSEHOLD_FIELDS if field.path[0] == section)


def section_columns(section: str, value: Any, only: set[str] | None = None) -> dict[str, Any]:
    """The columns of one section of the household document (`consent`,
    `living_conditions`) from that section's model; `only`: just these of its fields."""
    return {
        field.column: getattr(value, field.path[1])
        for field in HOUSEHOLD_FIELDS
        if field.path[0] == section and (only is None or field.path[1] in only)
    }


def person_columns(member: Any) -> dict[str, Any]:
    """The individual row's columns a `MemberIn` (or any person with its fields) gives,
    derived ones included."""
    row = dict(zip(PERSON_COLUMNS, _person_values(member), strict=True))
    row.update(derived_person_columns(row))
    return row


def derived_person_columns(person: Mapping[str, Any]) -> dict[str, Any]:
    """What the registry derives from a person's fields: the folded name and each part's
    phonetic key (name search and duplicate lookup), the birth year (the duplicate index)
    and whether they have a disability (statistics, eligibility)."""
    given, father, grandfather = (
        person["given_name"],
        person["father_name"],
        person["grandfather_name"],
    )
    birth_date: date = person["birth_date"]
    disability = person["disability"] or {}
    return {
        "name_folded": full_name_folded(given, father, grandfather),
        "given_key": phonetic_key(given),
        "father_key": phonetic_key(father) or None,
        "grandfather_key": phonetic_key(grandfather) or None,
        "birth_year": birth_date.year,
        "has_disability": any(level >= WG_DISABILITY_CUTOFF for level in disability.values()),
    }
