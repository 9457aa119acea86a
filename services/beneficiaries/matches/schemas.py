from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class MatchJob(BaseModel):
    """A list being matched (poll it until `status` is done or failed)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    status: str
    file_name: str
    file_format: str
    total_rows: int
    processed_rows: int
    matched: int
    ambiguous: int
    not_found: int
    message: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ProgrammeEnrolment(BaseModel):
    programme: str
    name: str
    status: str
    enrolled_on: str
    status_since: str


class Candidate(BaseModel):
    household: str
    individual: str
    registry_number: str | None = None
    score: float | None = None


class MatchResult(BaseModel):
    """One row of the list: `matched` (to whom, how, how sure, and the household's
    programmes), `ambiguous` (the candidates), or `not_found`. Household and individual are
    the registry's ids, or the partner's pseudonyms when its agreement says so."""

    row: int
    partner_ref: str
    outcome: Literal["matched", "ambiguous", "not_found"]
    method: str | None = None
    score: float | None = None
    household: str | None = None
    individual: str | None = None
    registry_number: str | None = None
    programmes: list[ProgrammeEnrolment] | None = None
    candidates: list[Candidate] | None = None
    reasons: dict[str, Any] | None = None
    # Cells of the row that could not be read (a date, a sex, a phone): matched without.
    unreadable: list[str] | None = None


class MatchReport(BaseModel):
    job: MatchJob
    rows: list[MatchResult]
