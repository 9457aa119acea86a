from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from services.beneficiaries.areas.schemas import AreaCode
from services.beneficiaries.records.schemas import IdentifierIn, Name, PastDate
from services.beneficiaries.vocabulary import Relationship, Sex
from shared.schemas import InputModel


class PersonDraftIn(InputModel):
    given_name: Name
    father_name: Name | None = None
    grandfather_name: Name | None = None
    sex: Sex
    birth_date: PastDate
    birth_date_estimated: bool = False
    relationship_to_head: Relationship | None = Field(
        default=None,
        description="When the people checked are one household: each one's place in it, so "
        "that a spouse and children matching a candidate's count as evidence.",
    )
    identifiers: list[IdentifierIn] = Field(default=[], max_length=12)


class DedupCheck(InputModel):
    """People about to be registered, checked against the registry without saving."""

    locality_code: AreaCode | None = None
    people: list[PersonDraftIn] = Field(min_length=1, max_length=40)


class IdentifierConflict(BaseModel):
    type: str
    individual_id: uuid.UUID
    household_id: uuid.UUID | None


class Evidence(BaseModel):
    """One thing that made a pair more or less likely the same person."""

    field: Literal[
        "given_name",
        "father_name",
        "grandfather_name",
        "birth_date",
        "locality",
        "identifiers",
        "household",
    ]
    finding: str = Field(
        description="How it compared. Names: `same` (same canonical spelling), `close` (a "
        "spelling or typing variant), `similar`, `different`, `left_out` (a grandfather "
        "name on one side only). Birth date: `same_date`, `days_apart`, `weeks_apart`, "
        "`same_year_estimated`, `same_year_1_january`, `year_off`, `year_off_estimated`, "
        "`day_month_swapped`, `same_year_other_day`, `year_apart`, "
        "`years_off_estimated`, `years_apart`. Locality: `same_locality`, `same_commune`, "
        "`same_region`. Identifiers: `shared` (a phone, a case number of either "
        "household), `different` (two different one-person ids). Household: "
        "`spouse_matches`, `spouse_differs`, `children_match`, `children_differ`, "
        "`mother_matches`, `mother_differs`, `members_match`.",
        examples=["close"],
    )
    weight: float = Field(
        description="What it added to the pair's log-odds: positive for the same person."
    )
    types: list[str] | None = Field(
        default=None, description="For identifiers: which types (never the values)."
    )
    count: int | None = Field(default=None, description="For household members: how many.")


class Reasons(BaseModel):
    """Why a pair was scored as it was: every piece of evidence, no names or values."""

    log_odds: float = Field(description="The summed weights; the score is their logistic.")
    ruled_out: bool = Field(
        description="Two different given names, or birth dates too far apart: never "
        "flagged, whatever the rest."
    )
    summary: str = Field(examples=["given name close; father name same; year off; spouse matches"])
    evidence: list[Evidence]


class CandidateOut(BaseModel):
    individual_id: uuid.UUID
    household_id: uuid.UUID | None
    registry_number: str | None
    score: float
    reasons: Reasons


OUTSIDE_YOUR_REGIONS = (
    "A probable duplicate of this person is registered outside your regions: register "
    "them if you must, and a data manager will resolve it."
)


class DraftResult(BaseModel):
    index: int
    identifier_conflicts: list[IdentifierConflict] = Field(
        description="Records in your regions already holding one of these identifiers."
    )
    candidates: list[CandidateOut] = Field(description="Probable duplicates in your regions.")
    outside_your_regions: bool = Field(
        default=False,
        description="A probable duplicate or an identifier clash exists outside your "
        "regions; nothing more is said of it: a data manager resolves it.",
    )
    note: str | None = None


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
    reasons: Reasons
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
