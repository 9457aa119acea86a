"""The filters registry lists, exports and statistics share, read from the query string."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated

from fastapi import Query

from services.beneficiaries.records.schemas import normalise_identifier
from services.beneficiaries.vocabulary import Area, EnrollmentStatus, LegalStatus, Sex
from shared.errors import UnprocessableEntity

IDENTIFIER_ALIASES = {
    "nid": "national_id",
    "national_id": "national_id",
    "birth_certificate": "birth_certificate",
    "unhcr": "unhcr_individual",
    "unhcr_individual": "unhcr_individual",
    "unhcr_case": "unhcr_case",
    "scope": "wfp_scope",
    "wfp_scope": "wfp_scope",
    "phone": "phone",
}


@dataclass(frozen=True)
class RegistryFilters:
    region: str | None = None
    commune: str | None = None
    locality: str | None = None
    area: str | None = None
    legal_status: str | None = None
    sex: str | None = None
    programme: str | None = None
    enrollment_status: str | None = None
    pmt_min: int | None = None
    pmt_max: int | None = None
    registered_from: date | None = None
    registered_to: date | None = None
    name: str | None = None
    identifier: tuple[str, str] | None = None

    @property
    def pmt_score_min(self) -> float | None:
        """Scores are log consumption: compare with the log of the bound."""
        return math.log(self.pmt_min) if self.pmt_min else None

    @property
    def pmt_score_max(self) -> float | None:
        return math.log(self.pmt_max) if self.pmt_max else None


def parse_identifier(value: str) -> tuple[str, str]:
    kind, sep, raw = value.partition(":")
    id_type = IDENTIFIER_ALIASES.get(kind.strip().lower())
    if not sep or id_type is None or not raw.strip():
        raise UnprocessableEntity(
            "identifier is type:value, the type one of " + ", ".join(sorted(IDENTIFIER_ALIASES)),
            errors=[{"path": "query.identifier", "message": "expected type:value"}],
        )
    try:
        return id_type, normalise_identifier(id_type, raw.strip())
    except ValueError as exc:
        raise UnprocessableEntity(
            str(exc), errors=[{"path": "query.identifier", "message": str(exc)}]
        ) from exc


async def registry_filters(
    region: Annotated[str | None, Query(description="Region code, e.g. DJ-AS")] = None,
    commune: str | None = None,
    locality: str | None = None,
    area: Area | None = None,
    legal_status: Annotated[
        LegalStatus | None,
        Query(description="Households: any present member with this status."),
    ] = None,
    sex: Sex | None = None,
    programme: Annotated[str | None, Query(description="Programme code, e.g. pnsf")] = None,
    enrollment_status: EnrollmentStatus | None = None,
    pmt_min: Annotated[
        int | None, Query(gt=0, description="Predicted consumption, DJF/person/year, at least")
    ] = None,
    pmt_max: Annotated[int | None, Query(gt=0, description="... at most")] = None,
    registered_from: date | None = None,
    registered_to: date | None = None,
    name: Annotated[
        str | None,
        Query(
            min_length=2,
            max_length=200,
            description="Name search, ignoring case, accents and common spellings.",
        ),
    ] = None,
    identifier: Annotated[
        str | None, Query(description="type:value, e.g. unhcr:ABC-123 or phone:77123456")
    ] = None,
) -> RegistryFilters:
    inverted = []
    if pmt_min is not None and pmt_max is not None and pmt_max < pmt_min:
        inverted.append({"path": "query.pmt_max", "message": "must not be below pmt_min"})
    if registered_from and registered_to and registered_to < registered_from:
        inverted.append(
            {"path": "query.registered_to", "message": "must not be before registered_from"}
        )
    if inverted:
        raise UnprocessableEntity("A range ends before it starts.", errors=inverted)
    return RegistryFilters(
        region=region,
        commune=commune,
        locality=locality,
        area=area,
        legal_status=legal_status,
        sex=sex,
        programme=programme,
        enrollment_status=enrollment_status,
        pmt_min=pmt_min,
        pmt_max=pmt_max,
        registered_from=registered_from,
        registered_to=registered_to,
        name=name,
        identifier=parse_identifier(identifier) if identifier else None,
    )


def check_whole_months(start: date | None, end: date | None) -> None:
    """Registration dates of a caller who gets them to the month: a range of whole months
    (from the first of a month to the last of one), or a 422 naming the bound."""
    errors = []
    if start is not None and start.day != 1:
        errors.append(
            {"path": "query.registered_from", "message": "must be the first day of a month"}
        )
    if end is not None and (end + timedelta(days=1)).day != 1:
        errors.append({"path": "query.registered_to", "message": "must be the last day of a month"})
    if errors:
        raise UnprocessableEntity(
            "Your role reads registration dates to the month: filter by whole months.",
            errors=errors,
        )
