from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.funding.fields import CountryCode, ExactCode, IsoDate, text
from services.funding.vocabulary import (
    DEFAULT_SECTOR,
    RECIPIENT_COUNTRY,
    ActivityStatus,
    ParticipantRole,
)
from shared.schemas import InputModel, not_emptied

ActivityIdentifier = Annotated[
    str,
    StringConstraints(max_length=150, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$"),
    Field(
        description="IATI activity identifier: the reporting organisation's identifier, a "
        "hyphen, and the activity's own, e.g. XM-DAC-44000-P173181.",
        examples=["XM-DAC-44000-P173181"],
    ),
]
SectorCode = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{5}$"),
    Field(description="DAC 5-digit purpose code (16010: Social Protection)."),
]
ProgrammeCode = Annotated[
    str,
    StringConstraints(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$"),
    Field(description="A registry programme's code, e.g. pnsf."),
]
Status = Annotated[ActivityStatus, ExactCode]
Role = Annotated[ParticipantRole, ExactCode]
Title = Annotated[str, text(300)]
Description = Annotated[str, StringConstraints(max_length=4000)]

MAX_PARTICIPANTS = 50
MAX_PROGRAMMES = 50


class ParticipantIn(InputModel):
    organisation_id: uuid.UUID
    role: Role = Field(
        description="IATI OrganisationRole: 1 Funding, 2 Accountable, 3 Extending, 4 Implementing."
    )


class ProjectCreate(InputModel):
    iati_identifier: ActivityIdentifier
    reporting_org_id: uuid.UUID
    title_fr: Title
    title_en: Title
    description: Description | None = None
    status: Status = Field(
        default=2,
        description="IATI ActivityStatus: 1 Pipeline/identification, 2 Implementation, "
        "3 Finalisation, 4 Closed, 5 Cancelled, 6 Suspended.",
    )
    planned_start: IsoDate | None = None
    planned_end: IsoDate | None = None
    actual_start: IsoDate | None = None
    actual_end: IsoDate | None = None
    sector_code: SectorCode = DEFAULT_SECTOR
    recipient_country: CountryCode = RECIPIENT_COUNTRY
    participants: list[ParticipantIn] = Field(default_factory=list, max_length=MAX_PARTICIPANTS)
    programme_codes: list[ProgrammeCode] = Field(
        default_factory=list,
        max_length=MAX_PROGRAMMES,
        description="The registry programmes the project finances; each must exist there.",
    )


class ProjectUpdate(InputModel):
    """Only the fields sent change; `null` clears an optional field. `participants` and
    `programme_codes`, when sent, replace the whole list."""

    iati_identifier: ActivityIdentifier | None = None
    reporting_org_id: uuid.UUID | None = None
    title_fr: Title | None = None
    title_en: Title | None = None
    description: Description | None = None
    status: Status | None = None
    planned_start: IsoDate | None = None
    planned_end: IsoDate | None = None
    actual_start: IsoDate | None = None
    actual_end: IsoDate | None = None
    sector_code: SectorCode | None = None
    recipient_country: CountryCode | None = None
    participants: list[ParticipantIn] | None = Field(default=None, max_length=MAX_PARTICIPANTS)
    programme_codes: list[ProgrammeCode] | None = Field(default=None, max_length=MAX_PROGRAMMES)

    _not_emptied = not_emptied(
        "iati_identifier",
        "reporting_org_id",
        "title_fr",
        "title_en",
        "status",
        "sector_code",
        "recipient_country",
        "participants",
        "programme_codes",
    )


class Participant(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    organisation_id: uuid.UUID
    role: ParticipantRole
    role_name: str = Field(description="IATI OrganisationRole name.")


class Project(BaseModel):
    id: uuid.UUID
    iati_identifier: str
    reporting_org_id: uuid.UUID
    title_fr: str
    title_en: str
    description: str | None
    status: ActivityStatus
    status_name: str = Field(description="IATI ActivityStatus name.")
    planned_start: date | None
    planned_end: date | None
    actual_start: date | None
    actual_end: date | None
    sector_code: str
    recipient_country: str
    participants: list[Participant]
    programme_codes: list[str]
    version: int
    created_at: datetime
    updated_at: datetime
    created_by: str | None
