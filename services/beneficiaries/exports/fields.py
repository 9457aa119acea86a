"""The export field catalogue: every column an export can have, what it holds, whether it
is personal data or free text, and what analysts get of it.

Column names are stable English snake_case (a column is renamed only with a new API version)
and agree with the bulk-import template's where both have the column.

Who sees what:
- registry staff (admin, data_manager, registrar in their regions) export every field, as
  stored;
- analysts export pseudonymous rows: no field that names, contacts, locates or identifies a
  person or a household record, no free text, and the quasi-identifiers coarsened. Field by
  field (`for_analysts` in `GET /exports/fields`):
  - withheld, personal: names, identifiers (national ID, birth certificate, UNHCR, WFP
    SCOPE, phone), registry number and record ids, address, GPS (nothing finer than the
    locality code reaches an analyst), the exact birth date, and the enumerator, device
    and submission that tie a record to one visit;
  - withheld, free text (whatever was typed: a name or a phone number typed there would
    reach the file): occupation, the consent notice version, the importing partner's id,
    and the address and registration details above;
  - to the month (YYYY-MM, as text): the registration and consent dates. A day, with a
    locality, narrows a household down to the few registered that day;
  - birth date: never; instead `age` (completed years today) and `age_group` (the
    statistics' groups), for a household its head's sex, age and age group instead of the
    head's names and phone: nothing finer than the year of age;
  - as stored: location codes (region, commune, locality), area, living conditions,
    displacement and legal status, nationality and country of origin (ISO codes),
    disability domains, education level (closed lists), sex, relationship to head,
    pregnancy, member count, registration source, consent given/scope/method, and the PMT
    score and predicted consumption (a model's output, observable by no outsider, and what
    targeting analysis is made of).
Analysts may not filter by name or identifier either (an export of "the person with this
phone" would tell them that person's age, status and disabilities), and filter by
registration date in whole months only (two exports a day apart would give the day back).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from services.beneficiaries.records.filters import RegistryFilters, check_whole_months
from services.beneficiaries.records.mapping import (
    HOUSEHOLD_FIELDS,
    LOCATION_FIELDS,
    PERSON_FIELDS,
    Field,
    Kind,
)
from services.beneficiaries.vocabulary import (
    AGE_GROUPS,
    IDENTIFIER_TYPES,
    WASHINGTON_GROUP_DOMAINS,
)
from shared.errors import Forbidden, UnprocessableEntity

Resource = Literal["households", "individuals"]
# What an analyst gets of a field: the value as stored, a date to the month, or nothing.
AnalystView = Literal["as_is", "month", "withheld"]
# Dates analysts get to the month.
MONTH_FOR_ANALYSTS = frozenset({"registration_date", "consent_date"})
AGE_GROUP_LABELS = ", ".join(label for _, label in AGE_GROUPS)


def _export_only(name: str, kind: Kind, description: str, *, personal: bool = False) -> Field:
    """A column exports compute: no place of its own in the stored record."""
    return Field(name, (name,), kind, description, personal=personal)


HOUSEHOLD_EXPORT_FIELDS: tuple[Field, ...] = (
    _export_only("household_id", "text", "The household's id.", personal=True),
    _export_only("registry_number", "text", "Registry number, e.g. DJ-2026-000123.", personal=True),
    *LOCATION_FIELDS,
    *HOUSEHOLD_FIELDS,
    _export_only("member_count", "integer", "Present members."),
    _export_only("pmt_score", "decimal", "Proxy means test: predicted log consumption per person."),
    _export_only(
        "predicted_consumption",
        "integer",
        "Predicted consumption, DJF per person per year (exp of the PMT score).",
    ),
    _export_only(
        "pmt_formula_version", "integer", "Version of the PMT formula that gave the score."
    ),
    _export_only("head_given_name", "text", "The head's given name.", personal=True),
    _export_only("head_father_name", "text", "The head's father's name.", personal=True),
    _export_only(
        "head_grandfather_name",
        "text",
        "The head's grandfather's (or family) name.",
        personal=True,
    ),
    _export_only("head_phone", "list", "The head's phone numbers (E.164).", personal=True),
    _export_only("head_sex", "text", "The head's sex (F or M)."),
    _export_only("head_age", "integer", "The head's age in completed years today."),
    _export_only("head_age_group", "text", f"The head's age group ({AGE_GROUP_LABELS})."),
)


def _person_export_fields() -> Iterator[Field]:
    """The person's stored fields in their order, with what exports add at its place: age
    after the birth date, identifiers (one column per type) after the origin, and the
    disability domains (one column each) with the summary flag."""
    for field in PERSON_FIELDS:
        if field.column == "disability":
            for domain in WASHINGTON_GROUP_DOMAINS:
                yield _export_only(
                    f"disability_{domain}",
                    "integer",
                    f"Washington Group, {domain.replace('_', ' ')}: 1 no difficulty .. 4 "
                    "cannot do.",
                )
            yield _export_only(
                "has_disability", "boolean", "A lot of difficulty or cannot do, in any domain."
            )
            continue
        yield field
        if field.column == "birth_date_estimated":
            yield _export_only("age", "integer", "Age in completed years today (Djibouti time).")
            yield _export_only("age_group", "text", f"Age group ({AGE_GROUP_LABELS}).")
        if field.column == "country_of_origin":
            # One column per identifier type, in the bulk-import template's order.
            for id_type in IDENTIFIER_TYPES:
                yield _export_only(
                    id_type,
                    "list",
                    f"{id_type.replace('_', ' ').capitalize()} (every one held).",
                    personal=True,
                )


INDIVIDUAL_EXPORT_FIELDS: tuple[Field, ...] = (
    _export_only("individual_id", "text", "The person's id.", personal=True),
    _export_only("household_id", "text", "The person's household's id.", personal=True),
    _export_only("registry_number", "text", "The household's registry number.", personal=True),
    *LOCATION_FIELDS,
    *_person_export_fields(),
)


@dataclass(frozen=True)
class MonthOnly(Field):
    """A date field as analysts get it: its year and month, as text (YYYY-MM)."""


def analyst_view(field: Field) -> AnalystView:
    if field.personal or field.free_text:
        return "withheld"
    if field.name in MONTH_FOR_ANALYSTS:
        return "month"
    return "as_is"


def _for_analysts(field: Field) -> Field:
    if analyst_view(field) != "month":
        return field
    return MonthOnly(
        field.column,
        field.path,
        "text",
        field.description + " To the month (YYYY-MM).",
        flat_name=field.flat_name,
    )


# List filters whose values are personal data.
PERSONAL_FILTERS = ("name", "identifier")

CATALOGUE: dict[Resource, dict[str, Field]] = {
    "households": {field.name: field for field in HOUSEHOLD_EXPORT_FIELDS},
    "individuals": {field.name: field for field in INDIVIDUAL_EXPORT_FIELDS},
}


def select_fields(resource: Resource, requested: str | None, personal_allowed: bool) -> list[Field]:
    """The columns of an export, in the order asked for (duplicates dropped); by default
    every field the caller may see, in catalogue order. 422 for an unknown name, 403 for a
    personal or free-text field asked for by a caller who may not see personal data, whose
    dates to the month come as such."""
    catalogue = CATALOGUE[resource]
    names = [name.strip() for name in (requested or "").split(",") if name.strip()]
    if not names:
        chosen = list(catalogue.values())
        if not personal_allowed:
            chosen = [f for f in chosen if analyst_view(f) != "withheld"]
    else:
        unknown = [name for name in names if name not in catalogue]
        if unknown:
            raise UnprocessableEntity(
                f"Unknown {resource} export fields: {', '.join(unknown)}. "
                f"GET /exports/fields lists them.",
                errors=[
                    {"path": "query.fields", "message": f"unknown field {name!r}"}
                    for name in unknown
                ],
            )
        chosen = [catalogue[name] for name in dict.fromkeys(names)]
    if personal_allowed:
        return chosen
    refused = [field.name for field in chosen if analyst_view(field) == "withheld"]
    if refused:
        raise Forbidden(
            "Your role may export only non-personal fields, and no free text; withheld: "
            + ", ".join(refused)
            + ".",
            fields=refused,
        )
    return [_for_analysts(field) for field in chosen]


def check_filters(filters: RegistryFilters, personal_allowed: bool) -> None:
    """403 for a name or identifier search by a caller who may not see personal data; 422
    for their registration dates that are not whole months."""
    if personal_allowed:
        return
    used = [name for name in PERSONAL_FILTERS if getattr(filters, name) is not None]
    if used:
        raise Forbidden(
            "Your role may not filter exports by " + " or ".join(used) + ".", filters=used
        )
    check_whole_months(filters.registered_from, filters.registered_to)
