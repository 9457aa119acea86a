"""Columns the registry derives from what registrars enter, in one place so the API, bulk
import and the synthetic registry agree."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from services.beneficiaries.names import full_name_folded, phonetic_key

# Washington Group: "a lot of difficulty" (3) or "cannot do at all" (4) in any domain.
WG_DISABILITY_CUTOFF = 3


def individual_columns(
    given_name: str,
    father_name: str | None,
    grandfather_name: str | None,
    birth_date: date,
    disability: Mapping[Any, int] | None,
) -> dict[str, Any]:
    return {
        "name_folded": full_name_folded(given_name, father_name, grandfather_name),
        "given_key": phonetic_key(given_name),
        "father_key": phonetic_key(father_name) or None,
        "grandfather_key": phonetic_key(grandfather_name) or None,
        "birth_year": birth_date.year,
        "has_disability": any(
            level >= WG_DISABILITY_CUTOFF for level in (disability or {}).values()
        ),
    }


def age_on(birth_date: date, on: date) -> int:
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
