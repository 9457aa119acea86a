"""Bodies and paths of the indicators API, for its tests."""

from __future__ import annotations

from typing import Any

BASE = "/api/v1/indicators"
FRAMEWORKS = f"{BASE}/frameworks"
DEFINITIONS = f"{BASE}/definitions"
POPULATION = f"{BASE}/reference/population"
POVERTY_LINES = f"{BASE}/reference/poverty-lines"


def definition_body(code: str = "COV_PNSF", **overrides: Any) -> dict[str, Any]:
    """PNSF coverage of households: enrolled households over all registered ones, in %."""
    return {
        "code": code,
        "name_fr": "Couverture du PNSF",
        "name_en": "PNSF coverage",
        "unit": "%",
        "factor": 100,
        "numerator": "#{households|enrollment_status=active}",
        "denominator": "#{households}",
        "disaggregations": ["region", "sex"],
        "periodicity": "quarter",
        "source": "Registre social",
        **overrides,
    }
