"""The export queries: one statement per export, built from the chosen fields and the list
filters, read through a server-side cursor by the caller.

Each statement's first two columns are the record's id and its household's id (for the
audit trail), then one column per chosen field. Only what the chosen fields need is joined:
a households export without the head's fields does not touch `individual`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Float,
    Integer,
    Select,
    and_,
    case,
    cast,
    func,
    literal,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import aliased

from services.beneficiaries.exports.fields import (
    CATALOGUE,
    WASHINGTON_GROUP_DOMAINS,
    Field,
    Resource,
)
from services.beneficiaries.filters import RegistryFilters
from services.beneficiaries.households.repository import household_conditions, person_conditions
from services.beneficiaries.models import IDENTIFIER_TYPES, Household, Identifier, Individual
from services.beneficiaries.stats.catalog import AGE_GROUPS

# Mapped attributes and SQL expressions alike.
Expression = Any
# A field's SQL: given what the statement has joined, its expression.
Column = Callable[["_Sources"], Expression]


class _Sources:
    """The tables an export statement reads, joined on first use."""

    def __init__(self, today: date) -> None:
        self.today = today
        self.head = aliased(Individual, name="head")
        self.head_joined = False
        self.identifiers: Any = None

    def head_column(self, name: str) -> Expression:
        self.head_joined = True
        return getattr(self.head, name)

    def identifier_column(self, id_type: str) -> Expression:
        if self.identifiers is None:
            # One index lookup per person for all six types, not one per type.
            self.identifiers = (
                select(
                    *(
                        func.array_agg(aggregate_order_by(Identifier.value, Identifier.value))
                        .filter(Identifier.type == kind)
                        .label(kind)
                        for kind in IDENTIFIER_TYPES
                    )
                )
                .where(Identifier.individual_id == Individual.id)
                .lateral("identifiers")
            )
        return self.identifiers.c[id_type]

    def age(self, birth_date: Expression) -> Expression:
        # Ages on the registry's calendar (Djibouti's today), as the API and statistics count.
        return cast(
            func.date_part("year", func.age(literal(self.today, Date), birth_date)), Integer
        )

    def age_group(self, birth_date: Expression) -> Expression:
        age = self.age(birth_date)
        return case(*((age >= lowest, label) for lowest, label in reversed(AGE_GROUPS)), else_=None)


def _phones(person_id: Expression) -> Expression:
    return (
        select(func.array_agg(aggregate_order_by(Identifier.value, Identifier.value)))
        .where(Identifier.individual_id == person_id, Identifier.type == "phone")
        .scalar_subquery()
    )


def _plain(column: Expression) -> Column:
    return lambda _: column


def _identifier(id_type: str) -> Column:
    return lambda sources: sources.identifier_column(id_type)


# Fields that are a column of the same name, as stored.
_HOUSEHOLD_AS_STORED = (
    "dwelling_type", "tenure", "wall_material", "roof_material", "floor_material", "rooms",
    "water_source", "sanitation", "lighting", "cooking_fuel", "assets", "shocks",
    "displacement_status", "registration_source", "registration_date", "enumerator_id",
    "device_id", "submission_id", "consent_given", "consent_date", "consent_scope",
    "consent_method", "consent_notice_version", "member_count", "pmt_formula_version",
)  # fmt: skip
_INDIVIDUAL_AS_STORED = (
    "given_name", "father_name", "grandfather_name", "sex", "birth_date",
    "birth_date_estimated", "relationship_to_head", "legal_status", "nationality",
    "country_of_origin", "has_disability", "pregnant", "lactating", "education_level",
    "occupation",
)  # fmt: skip

_LOCATION_COLUMNS: dict[str, Column] = {
    "region_code": _plain(Household.region_code),
    "commune_code": _plain(Household.commune_code),
    "locality_code": _plain(Household.locality_code),
    "area": _plain(Household.area),
}

_HOUSEHOLD_COLUMNS: dict[str, Column] = {
    "household_id": _plain(Household.id),
    "registry_number": _plain(Household.registry_number),
    **_LOCATION_COLUMNS,
    "address": _plain(Household.address),
    # Numeric comes back as Decimal, which JSON has no type for: float8 holds these exactly
    # enough (6 decimals of a degree, 5 of a log score).
    "gps_latitude": _plain(cast(Household.gps_latitude, Float)),
    "gps_longitude": _plain(cast(Household.gps_longitude, Float)),
    **{name: _plain(getattr(Household, name)) for name in _HOUSEHOLD_AS_STORED},
    "partner_id": _plain(Household.source_partner_id),
    "pmt_score": _plain(cast(Household.pmt_score, Float)),
    "predicted_consumption": _plain(cast(func.round(func.exp(Household.pmt_score)), BigInteger)),
    "head_given_name": lambda s: s.head_column("given_name"),
    "head_father_name": lambda s: s.head_column("father_name"),
    "head_grandfather_name": lambda s: s.head_column("grandfather_name"),
    "head_phone": lambda s: _phones(s.head_column("id")),
    "head_sex": lambda s: s.head_column("sex"),
    "head_age": lambda s: s.age(s.head_column("birth_date")),
    "head_age_group": lambda s: s.age_group(s.head_column("birth_date")),
}

_INDIVIDUAL_COLUMNS: dict[str, Column] = {
    "individual_id": _plain(Individual.id),
    "household_id": _plain(Individual.household_id),
    "registry_number": _plain(Household.registry_number),
    **_LOCATION_COLUMNS,
    **{name: _plain(getattr(Individual, name)) for name in _INDIVIDUAL_AS_STORED},
    "age": lambda s: s.age(Individual.birth_date),
    "age_group": lambda s: s.age_group(Individual.birth_date),
    **{id_type: _identifier(id_type) for id_type in IDENTIFIER_TYPES},
    **{
        f"disability_{domain}": _plain(cast(Individual.disability[domain].astext, Integer))
        for domain in WASHINGTON_GROUP_DOMAINS
    },
}

_COLUMNS: dict[Resource, dict[str, Column]] = {
    "households": _HOUSEHOLD_COLUMNS,
    "individuals": _INDIVIDUAL_COLUMNS,
}
# Every catalogued field has its SQL, and nothing else does.
for _resource, _columns in _COLUMNS.items():
    assert set(_columns) == set(CATALOGUE[_resource]), _resource


def household_export(
    fields: Sequence[Field],
    filters: RegistryFilters,
    regions: Sequence[str] | None,
    today: date,
) -> Select:
    """Active households matching the list filters (a person filter: any present member
    matches), in registry-number order."""
    sources = _Sources(today)
    columns = [_COLUMNS["households"][f.name](sources).label(f.name) for f in fields]
    statement = select(Household.id, Household.id.label("_household_id"), *columns)
    if sources.head_joined:
        head = sources.head
        statement = statement.outerjoin(
            head,
            and_(
                head.household_id == Household.id,
                head.relationship_to_head == "head",
                head.status == "active",
            ),
        )
    return statement.where(*household_conditions(filters, regions)).order_by(
        Household.registry_number
    )


def individual_export(
    fields: Sequence[Field],
    filters: RegistryFilters,
    regions: Sequence[str] | None,
    today: date,
) -> Select:
    """Present members of active households matching the list filters (person filters
    apply to the person, household filters to their household), household by household in
    registry-number order, each household's head first."""
    sources = _Sources(today)
    columns = [_COLUMNS["individuals"][f.name](sources).label(f.name) for f in fields]
    statement = select(Individual.id, Individual.household_id, *columns).join(
        Household, Household.id == Individual.household_id
    )
    if sources.identifiers is not None:
        statement = statement.outerjoin(sources.identifiers, true())
    return statement.where(
        Individual.status == "active",
        *person_conditions(Individual, filters),
        *household_conditions(filters, regions, with_people=False),
    ).order_by(
        Household.registry_number,
        Individual.relationship_to_head != "head",
        Individual.birth_date,
        Individual.id,
    )
