from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    computed_field,
)

from services.funding.fields import CountryCode, IatiOrgIdentifier, Name
from services.funding.vocabulary import IATI_ORGANISATION_TYPE, OrganisationType
from shared.schemas import InputModel, not_emptied

PartnerId = Annotated[
    str,
    StringConstraints(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"),
    Field(
        description="The gateway's partner id of the accounts acting for this organisation "
        "(their tokens' `partner_id`): they see its projects, agreements and transactions.",
        examples=["wfp"],
    ),
]


class OrganisationCreate(InputModel):
    iati_identifier: IatiOrgIdentifier
    name_fr: Name
    name_en: Name
    type: OrganisationType
    country: CountryCode | None = None
    partner_id: PartnerId | None = None


class OrganisationUpdate(InputModel):
    """Only the fields sent change; `null` clears `country` or `partner_id`. The IATI
    identifier changes only while the organisation reports no project (theirs start with it)."""

    iati_identifier: IatiOrgIdentifier | None = None
    name_fr: Name | None = None
    name_en: Name | None = None
    type: OrganisationType | None = None
    country: CountryCode | None = None
    partner_id: PartnerId | None = None

    _not_emptied = not_emptied("iati_identifier", "name_fr", "name_en", "type")


class Organisation(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    iati_identifier: str
    name_fr: str
    name_en: str
    type: OrganisationType
    country: str | None
    partner_id: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    created_by: str | None

    @computed_field(description="IATI OrganisationType code (40 multilateral, 10 government...).")  # type: ignore[prop-decorator]
    @property
    def iati_type(self) -> str:
        return IATI_ORGANISATION_TYPE[self.type]
