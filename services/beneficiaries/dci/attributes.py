"""The attributes a DCI predicate or sort may name: the export catalogue's names (the ones
agreements speak in) that are stored columns, plus `programmes` and the standard's own
`group_size` and `poverty_score` for the household's size and PMT score. An attribute is
usable only when the caller's agreement allows the field it reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import exists, false, not_
from sqlalchemy.sql.elements import ColumnElement

from services.beneficiaries.models import Enrollment, Household, Individual, Programme
from services.beneficiaries.partners.fields import PROGRAMMES_FIELD
from services.beneficiaries.partners.scope import MEMBER, PartnerScope
from services.beneficiaries.records.mapping import HOUSEHOLD_FIELDS, LOCATION_FIELDS, PERSON_FIELDS


class AttributeError_(ValueError):
    """A predicate or sort naming an attribute it may not, or a value of the wrong type."""


@dataclass(frozen=True)
class Attribute:
    field: str  # the catalogue name the agreement must allow
    level: str  # "household" or "person"
    kind: str
    column: str | None  # None: computed (programmes)


def _build() -> dict[str, Attribute]:
    attributes: dict[str, Attribute] = {}
    for field in (*LOCATION_FIELDS, *HOUSEHOLD_FIELDS):
        attributes[field.name] = Attribute(field.name, "household", field.kind, field.column)
    attributes["registry_number"] = Attribute(
        "registry_number", "household", "text", "registry_number"
    )
    attributes["member_count"] = Attribute("member_count", "household", "integer", "member_count")
    attributes["pmt_score"] = Attribute("pmt_score", "household", "decimal", "pmt_score")
    attributes["group_size"] = attributes["member_count"]
    attributes["poverty_score"] = attributes["pmt_score"]
    attributes[PROGRAMMES_FIELD] = Attribute(PROGRAMMES_FIELD, "household", "text", None)
    for field in PERSON_FIELDS:
        if field.column != "disability":
            attributes[field.name] = Attribute(field.name, "person", field.kind, field.column)
    attributes["has_disability"] = Attribute(
        "has_disability", "person", "boolean", "has_disability"
    )
    return attributes


ATTRIBUTES = _build()


def attribute(name: Any, scope: PartnerScope) -> Attribute:
    found = ATTRIBUTES.get(name) if isinstance(name, str) else None
    if found is None or not scope.allows(found.field):
        # One message for unknown and not allowed: the answer says nothing about fields
        # the agreement does not cover.
        raise AttributeError_(f"attribute {name!r} is not one your agreement lets you search on")
    return found


def _scalar(kind: str, value: Any, name: str) -> Any:
    if kind in ("text", "list") and isinstance(value, str):
        return value
    if kind == "integer" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "decimal" and isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if kind == "boolean" and isinstance(value, bool):
        return value
    if kind == "date" and isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            pass
    raise AttributeError_(f"attribute_value of {name!r} is not a {kind}")


def condition(
    name: Any, operator: Any, value: Any, scope: PartnerScope, *, entity: str
) -> ColumnElement[bool]:
    """One predicate as SQL on `household` (Group searches: a person attribute means "a
    present member the agreement covers matches") or on `individual` (Member searches)."""
    found = attribute(name, scope)
    if operator not in ("gt", "lt", "eq", "ge", "le", "in"):
        raise AttributeError_(f"operator {operator!r} is not one of gt, lt, eq, ge, le, in")
    if operator == "in":
        if not isinstance(value, list) or not value or len(value) > 1000:
            raise AttributeError_(f"attribute_value of {name!r} with 'in' is a list of values")
        values = [_scalar(found.kind, item, str(name)) for item in value]
    else:
        values = [_scalar(found.kind, value, str(name))]
    if found.column is None:
        return _programme_condition(operator, values, scope)
    if found.kind in ("list", "boolean") and operator not in ("eq", "in"):
        raise AttributeError_(f"attribute {name!r} is compared with eq or in only")
    if found.level == "household":
        return _compare(_household_column(found, scope), found.kind, operator, values)
    if entity == "Member":
        return _compare(getattr(Individual, found.column), found.kind, operator, values)
    member = MEMBER
    return exists().where(
        member.household_id == Household.id,
        *scope.person_conditions(member),
        _compare(getattr(member, found.column), found.kind, operator, values),
    )


def _compare(column: Any, kind: str, operator: str, values: list[Any]) -> ColumnElement[bool]:
    if kind == "list":
        return column.overlap(values) if operator == "in" else column.contains(values)
    if operator == "in":
        return column.in_(values)
    value = values[0]
    return {
        "eq": column == value,
        "gt": column > value,
        "lt": column < value,
        "ge": column >= value,
        "le": column <= value,
    }[operator]


def _programme_condition(
    operator: str, codes: list[Any], scope: PartnerScope
) -> ColumnElement[bool]:
    if operator not in ("eq", "in"):
        raise AttributeError_("attribute 'programmes' is compared with eq or in only")
    if scope.programmes is not None:
        codes = [code for code in codes if code in scope.programmes]
    if not codes:
        return false()
    return exists().where(
        Enrollment.household_id == Household.id,
        Enrollment.status != "exited",
        Enrollment.programme_id == Programme.id,
        Programme.code.in_(codes),
    )


def sort_column(name: Any, scope: PartnerScope, *, entity: str) -> Any:
    found = attribute(name, scope)
    if found.column is None or found.kind == "list":
        raise AttributeError_(f"attribute {name!r} cannot be sorted on")
    if found.level == "person" and entity != "Member":
        raise AttributeError_(f"attribute {name!r} sorts Member searches only")
    if found.level == "household":
        return _household_column(found, scope)
    return getattr(Individual, found.column)


def _household_column(found: Attribute, scope: PartnerScope) -> Any:
    # A household's size counts only the people the agreement covers.
    if found.field == "member_count":
        return scope.household_size()
    return getattr(Household, str(found.column))


def negated(clause: ColumnElement[bool]) -> ColumnElement[bool]:
    return not_(clause)
