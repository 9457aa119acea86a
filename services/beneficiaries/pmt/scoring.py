"""Scores from a formula: pure arithmetic, the same for the background job, the bulk writer
and the services scoring the households they change (pmt/service.py reads and writes).

score = intercept + Σ coefficient * value  (predicted log consumption per person per year,
DJF); predicted consumption = exp(score).
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from services.beneficiaries.pmt.variables import (
    ASSET_PREFIX,
    HouseholdFacts,
    MemberFacts,
    household_values,
    lookup,
)

# household.pmt_score is Numeric(8, 5): five decimals, below 1000 in absolute value.
SCORE_QUANTUM = Decimal("0.00001")
SCORE_LIMIT = Decimal(1000)


@dataclass(frozen=True)
class Term:
    variable: str
    equals: str | None
    coefficient: float


@dataclass(frozen=True)
class AreaModel:
    intercept: float
    terms: tuple[Term, ...]

    @classmethod
    def from_json(cls, model: Mapping[str, Any]) -> AreaModel:
        return cls(
            intercept=float(model["intercept"]),
            terms=tuple(
                Term(term["variable"], term.get("equals"), float(term["coefficient"]))
                for term in model["terms"]
            ),
        )


@dataclass(frozen=True)
class Formula:
    version: int
    urban: AreaModel
    rural: AreaModel

    @classmethod
    def from_json(cls, version: int, urban: Mapping[str, Any], rural: Mapping[str, Any]) -> Formula:
        return cls(version, AreaModel.from_json(urban), AreaModel.from_json(rural))

    def model_for(self, area: str) -> AreaModel:
        return self.urban if area == "urban" else self.rural


def raw_score(
    model: AreaModel, household: HouseholdFacts, members: Sequence[MemberFacts], on: date
) -> float:
    values = household_values(household, members, on)
    assets = set(household.assets or ())
    total = model.intercept
    for term in model.terms:
        if term.variable.startswith(ASSET_PREFIX):
            value = 1.0 if term.variable[len(ASSET_PREFIX) :] in assets else 0.0
        elif term.equals is not None:
            value = 1.0 if values.get(term.variable) == term.equals else 0.0
        else:
            value = float(values[term.variable])  # type: ignore[arg-type]
        total += term.coefficient * value
    return total


def storable(score: float) -> Decimal | None:
    """The score as stored, or None when the formula produced something no consumption can
    be (infinite, or beyond the column's range): such a household is left unscored rather
    than given a clamped, meaningless number."""
    if not math.isfinite(score):
        return None
    value = Decimal(repr(score)).quantize(SCORE_QUANTUM)
    return value if abs(value) < SCORE_LIMIT else None


def score_households(
    formula: Formula,
    households: Iterable[HouseholdFacts],
    members: Iterable[MemberFacts],
    on: date,
) -> dict[uuid.UUID, Decimal | None]:
    """Scores for a batch, the members of every household in the batch given at once."""
    by_household: dict[uuid.UUID, list[MemberFacts]] = defaultdict(list)
    for member in members:
        by_household[member.household_id].append(member)
    return {
        household.id: storable(
            raw_score(formula.model_for(household.area), household, by_household[household.id], on)
        )
        for household in households
    }


def predicted_consumption(score: Decimal) -> int:
    """DJF per person per year, rounded to the franc."""
    return round(math.exp(float(score)))


def formula_errors(models: Mapping[str, Mapping[str, Any]], prefix: str = "body") -> list[dict]:
    """What is wrong with the terms of each area model, as `{path, message}`: unknown
    variables, `equals` on a numeric variable, a categorical variable without `equals`, a
    term given twice. Types and shapes are the schema's job."""
    errors: list[dict] = []
    for area, model in models.items():
        seen: set[tuple[str, str | None]] = set()
        for index, term in enumerate(model.get("terms", ())):
            path = f"{prefix}.{area}.terms.{index}"
            name, equals = term["variable"], term.get("equals")
            variable = lookup(name)
            if variable is None:
                errors.append({"path": f"{path}.variable", "message": "unknown variable"})
                continue
            if variable.kind == "numeric" and equals is not None:
                errors.append(
                    {"path": f"{path}.equals", "message": "a numeric variable takes no equals"}
                )
            elif variable.kind == "categorical" and equals is None:
                errors.append(
                    {
                        "path": f"{path}.equals",
                        "message": "a categorical variable needs equals (the category)",
                    }
                )
            elif (name, equals) in seen:
                errors.append({"path": path, "message": "this term is already in the model"})
            seen.add((name, equals))
    return errors
