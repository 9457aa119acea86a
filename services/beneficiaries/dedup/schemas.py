from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from services.beneficiaries.areas.schemas import AreaCode
from services.beneficiaries.records.schemas import IdentifierIn, Name, PastDate
from services.beneficiaries.vocabulary import Sex
from shared.schemas import InputModel


class PersonDraftIn(InputModel):
    given_name: Name
    father_name: Name | None = None
    grandfather_name: Name | None = None
    sex: Sex
    birth_date: PastDate
    birth_date_estimated: bool = False
    identifiers: list[IdentifierIn] = Field(default=[], max_length=12)


class DedupCheck(InputModel):
    """People about to be registered, checked against the registry without saving."""

    locality_code: AreaCode | None = None
    people: list[PersonDraftIn] = Field(min_length=1, max_length=40)


class IdentifierConflict(BaseModel):
    type: str
    individual_id: uuid.UUID
    household_id: uuid.UUID | None


class CandidateOut(BaseModel):
    individual_id: uuid.UUID
    household_id: uuid.UUID | None
    registry_number: str | None
    score: float
    reasons: dict[str, Any]


class DraftResult(BaseModel):
    index: int
    identifier_conflicts: list[IdentifierConflict]
    candidates: list[CandidateOut]


class DedupCheckResult(BaseModel):
    threshold: float
    results: list[DraftResult]


class PersonSummary(BaseModel):
    id: uuid.UUID
    household_id: uuid.UUID | None
    registry_number: str | None
    given_name: str
    father_name: str | None
    grandfather_name: str | None
    sex: str
    birth_date: date
    status: str


class DuplicatePairOut(BaseModel):
    id: uuid.UUID
    status: str
    score: float
    reasons: dict[str, Any]
    detected_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution_note: str | None
    individual: PersonSummary
    candidate: PersonSummary


class Resolution(InputModel):
    decision: Literal["not_duplicate", "merge"]
    keep: Literal["candidate", "individual"] = Field(
        default="candidate",
        description="On merge, which record survives: the earlier one (candidate) by default.",
    )
    note: str | None = Field(default=None, max_length=1000)
