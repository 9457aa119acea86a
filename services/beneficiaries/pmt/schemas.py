from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.schemas import InputModel


class TermIn(InputModel):
    variable: str = Field(
        min_length=1,
        max_length=64,
        description="A variable of `GET /pmt-variables`, or `asset:<name>`.",
    )
    equals: str | None = Field(
        default=None,
        min_length=1,
        max_length=32,
        description="For a categorical variable: the category this term is the indicator of.",
    )
    coefficient: float


class AreaModelIn(InputModel):
    intercept: float
    terms: list[TermIn] = Field(max_length=300)


class PmtFormulaCreate(InputModel):
    name: str = Field(min_length=1, max_length=120)
    description: str | None = Field(default=None, max_length=4000)
    urban: AreaModelIn
    rural: AreaModelIn


class PmtFormula(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    name: str
    description: str | None
    urban: AreaModelIn
    rural: AreaModelIn
    is_active: bool
    activated_at: datetime | None
    created_at: datetime
    created_by: str | None


class PmtJob(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    formula_version: int
    status: Literal["queued", "running", "done", "failed", "cancelled"]
    total: int
    processed: int
    percent: float = Field(description="processed / total, 0-100 (100 once done).")
    error: str | None
    created_at: datetime
    created_by: str | None
    started_at: datetime | None
    heartbeat_at: datetime | None
    finished_at: datetime | None


class PmtVariable(BaseModel):
    name: str
    kind: Literal["numeric", "categorical"]
    description: str
