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

from services.beneficiaries.exports.fields import CATALOGUE, Field, MonthOnly, Resource
from services.beneficiaries.models import Household, Identifier, Individual
from services.beneficiaries.records.filters import RegistryFilters
from services.beneficiaries.records.mapping import HOUSEHOLD_FIELDS, LOCATION_FIELDS, PERSON_FIELDS
from services.beneficiaries.records.search import household_conditions, person_conditions
from services.beneficiaries.vocabulary import (
    AGE_GROUPS,
    IDENTIFIER_TYPES,
    WASHINGTON_GROUP_DOMAINS,
)

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


def _stored(model: type, column: str, kind: str) -> Expression:
    value = getattr(model, column)
    # Numeric comes back as Decimal, which JSON has no type for: float8 holds these exactly
    # enough (6 decimals of a degree).
    return cast(value, Float) if kind == "decimal" else value


_LOCATION_COLUMNS: dict[str, Column] = {
    field.name: _plain(getattr(Household, field.column)) for field in LOCATION_FIELDS
}

_HOUSEHOLD_COLUMNS: dict[str, Column] = {
    "household_id": _plain(Household.id),
    "registry_number": _plain(Household.registry_number),
    **_LOCATION_COLUMNS,
    **{f.name: _plain(_stored(Household, f.column, f.kind)) for f in HOUSEHOLD_FIELDS},
    "member_count": _plain(Household.member_count),
    "pmt_score": _plain(cast(Household.pmt_score, Float)),
    "predicted_consumption": _plain(cast(func.round(func.exp(Household.pmt_score)), BigInteger)),
    "pmt_formula_version": _plain(Household.pmt_formula_version),
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
    **{
        f.name: _plain(_stored(Individual, f.column, f.kind))
        for f in PERSON_FIELDS
        if f.column != "disability"
    },
    "has_disability": _plain(Individual.has_disability),
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


def _selected(resource: Resource, field: Field, sources: _Sources) -> Expression:
    value = _COLUMNS[resource][field.name](sources)
    if isinstance(field, MonthOnly):
        # In SQL, so the day never leaves the database.
        value = func.to_char(value, "YYYY-MM")
    return value.label(field.name)


def household_export(
    fields: Sequence[Field],
    filters: RegistryFilters,
    regions: Sequence[str] | None,
    today: date,
) -> Select:
    """Active households matching the list filters (a person filter: any present member
    matches), in registry-number order."""
    sources = _Sources(today)
    columns = [_selected("households", f, sources) for f in fields]
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
    columns = [_selected("individuals", f, sources) for f in fields]
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
