from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from services.indicators.fields import IndicatorCode
from services.indicators.values.periods import PERIOD_HELP, PERIOD_PATTERN
from services.indicators.values.schemas import IndicatorValue, ResultLabels
from services.indicators.vocabulary import SnapshotStatus
from shared.schemas import InputModel


class SnapshotCreate(InputModel):
    period: str = Field(
        max_length=10, pattern=PERIOD_PATTERN, description=PERIOD_HELP, examples=["2026"]
    )
    indicators: list[IndicatorCode] | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="The indicators to freeze; left out: every indicator defined.",
    )


class SnapshotJob(BaseModel):
    """A snapshot and how its run went: queued, running, then done (its values frozen)
    or failed (no values; `message` says why)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    period: str
    indicators: list[str] | None
    status: SnapshotStatus
    message: str | None
    value_count: int
    published: bool
    published_at: datetime | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class SnapshotValues(BaseModel):
    snapshot: SnapshotJob
    values: list[IndicatorValue]
    labels: ResultLabels
