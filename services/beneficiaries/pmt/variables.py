"""The variables a PMT formula may use, computed from a household and its active members.

Numeric variables enter a formula as `coefficient * value`; categorical ones only through
`equals` (an indicator: 1 when the household's value is that category, else 0), which is how
survey-based PMT models encode dwelling type, water source and the like. A missing
categorical value matches no category (the model's reference category); a missing room count
counts as 0.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from typing import Any, Literal

from services.beneficiaries.clock import age_on

Kind = Literal["numeric", "categorical"]
ASSET_PREFIX = "asset:"
_ASSET_NAME = re.compile(r"^[a-z0-9_]{1,32}$")


@dataclass(frozen=True)
class Variable:
    name: str
    kind: Kind
    description: str


CATALOGUE: dict[str, Variable] = {
    variable.name: variable
    for variable in (
        Variable("household_size", "numeric", "Active members."),
        Variable("log_household_size", "numeric", "Natural log of max(1, household_size)."),
        Variable("rooms", "numeric", "Rooms of the dwelling (0 when not recorded)."),
        Variable("rooms_per_person", "numeric", "rooms / max(1, household_size)."),
        Variable("members_under_5", "numeric", "Active members aged 0-4."),
        Variable("members_5_to_14", "numeric", "Active members aged 5-14."),
        Variable("members_65_plus", "numeric", "Active members aged 65 or more."),
        Variable(
            "dependency_ratio",
            "numeric",
            "(members under 15 + members 65+) / max(1, members 15-64).",
        ),
        Variable("has_disabled_member", "numeric", "1 if an active member has a disability."),
        Variable("head_female", "numeric", "1 if the head is a woman."),
        Variable("head_age", "numeric", "Age of the head in completed years (0 without head)."),
        Variable("dwelling_type", "categorical", "Type of dwelling."),
        Variable("tenure", "categorical", "Occupancy status of the dwelling."),
        Variable("wall_material", "categorical", "Main material of the walls."),
        Variable("roof_material", "categorical", "Main material of the roof."),
        Variable("floor_material", "categorical", "Main material of the floor."),
        Variable("water_source", "categorical", "Main source of drinking water."),
        Variable("sanitation", "categorical", "Type of toilet."),
        Variable("lighting", "categorical", "Main source of lighting."),
        Variable("cooking_fuel", "categorical", "Main cooking fuel."),
        Variable("displacement_status", "categorical", "Displacement status of the household."),
        Variable("head_education_level", "categorical", "Education level of the head."),
        Variable("head_legal_status", "categorical", "Legal status of the head."),
    )
}


def lookup(name: str) -> Variable | None:
    """The variable a formula term names; `asset:<name>` is numeric (owned: 1, else 0)."""
    if name.startswith(ASSET_PREFIX):
        asset = name[len(ASSET_PREFIX) :]
        if not _ASSET_NAME.match(asset):
            return None
        return Variable(name, "numeric", f"1 if the household owns '{asset}'.")
    return CATALOGUE.get(name)


@dataclass(frozen=True)
class HouseholdFacts:
    """What scoring reads from a household row."""

    id: uuid.UUID
    area: str
    rooms: int | None
    assets: Sequence[str]
    dwelling_type: str | None = None
    tenure: str | None = None
    wall_material: str | None = None
    roof_material: str | None = None
    floor_material: str | None = None
    water_source: str | None = None
    sanitation: str | None = None
    lighting: str | None = None
    cooking_fuel: str | None = None
    displacement_status: str | None = None


@dataclass(frozen=True)
class MemberFacts:
    """What scoring reads from an active member."""

    household_id: uuid.UUID
    sex: str
    birth_date: date
    relationship_to_head: str
    has_disability: bool
    legal_status: str
    education_level: str | None


HOUSEHOLD_FACTS = tuple(field.name for field in fields(HouseholdFacts))
MEMBER_FACTS = tuple(field.name for field in fields(MemberFacts))
# Categorical variables read straight off the household row.
HOUSEHOLD_CATEGORIES = tuple(
    name for name in HOUSEHOLD_FACTS if name in CATALOGUE and CATALOGUE[name].kind == "categorical"
)


def household_facts(row: Any) -> HouseholdFacts:
    """What scoring reads of a household row (an ORM row, or anything with those attributes)."""
    return HouseholdFacts(**{name: getattr(row, name) for name in HOUSEHOLD_FACTS})


def member_facts(row: Any) -> MemberFacts:
    return MemberFacts(**{name: getattr(row, name) for name in MEMBER_FACTS})


Values = dict[str, float | str | None]


def household_values(household: HouseholdFacts, members: Sequence[MemberFacts], on: date) -> Values:
    """Every catalogue variable for one household (assets are looked up separately)."""
    ages = [age_on(member.birth_date, on) for member in members]
    size = len(members)
    under_15 = sum(1 for age in ages if age < 15)
    over_64 = sum(1 for age in ages if age >= 65)
    head = next((m for m in members if m.relationship_to_head == "head"), None)
    rooms = household.rooms or 0
    values: Values = {
        "household_size": float(size),
        "log_household_size": math.log(max(1, size)),
        "rooms": float(rooms),
        "rooms_per_person": rooms / max(1, size),
        "members_under_5": float(sum(1 for age in ages if age < 5)),
        "members_5_to_14": float(sum(1 for age in ages if 5 <= age < 15)),
        "members_65_plus": float(over_64),
        "dependency_ratio": (under_15 + over_64) / max(1, size - under_15 - over_64),
        "has_disabled_member": 1.0 if any(m.has_disability for m in members) else 0.0,
        "head_female": 1.0 if head is not None and head.sex == "F" else 0.0,
        "head_age": float(age_on(head.birth_date, on)) if head is not None else 0.0,
        "head_education_level": head.education_level if head is not None else None,
        "head_legal_status": head.legal_status if head is not None else None,
    }
    for name in HOUSEHOLD_CATEGORIES:
        values[name] = getattr(household, name)
    return values
