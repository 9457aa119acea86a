from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, StringConstraints

from services.indicators.fields import Year
from services.indicators.vocabulary import PovertyLineArea, PovertyLineKind
from shared.schemas import InputModel

SourceText = Annotated[str, StringConstraints(min_length=1, max_length=300)]
Amount = Annotated[
    int,
    Field(
        gt=0,
        le=10**12,
        strict=True,
        description="DJF per person per year, in minor units (DJF has none: francs).",
    ),
]


class PopulationUpload(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    source: str
    filename: str | None
    years: list[int] = Field(description="Their figures replace earlier uploads' ones.")
    dimensions: list[str] = Field(description="What the figures are broken down by.")
    rows: int
    people: int = Field(description="People in all the rows together.")
    uploaded_at: datetime
    uploaded_by: str | None


class PopulationRow(BaseModel):
    year: int
    region: str | None = None
    area: str | None = None
    sex: str | None = None
    age_group: str | None = None
    legal_status: str | None = None
    people: int


class PovertyLineCreate(InputModel):
    year: Year
    area: PovertyLineArea = Field(description="all: the national line, for the whole country.")
    kind: PovertyLineKind
    amount: Amount
    source: SourceText


class PovertyLineUpdate(InputModel):
    amount: Amount | None = None
    source: SourceText | None = None


class PovertyLine(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    year: int
    area: PovertyLineArea
    kind: PovertyLineKind
    # Read from the row's `amount_minor`; the name first, so the document (built from the
    # validation schema) says `amount`, the name the answer has.
    amount: int = Field(validation_alias=AliasChoices("amount", "amount_minor"))
    currency: str
    source: str
    version: int
    created_at: datetime
    updated_at: datetime
