from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel


class IndividualSummary(BaseModel):
    id: uuid.UUID
    household_id: uuid.UUID | None
    registry_number: str | None
    region_code: str | None
    locality_code: str | None
    given_name: str
    father_name: str | None
    grandfather_name: str | None
    sex: str
    birth_date: date
    age: int
    legal_status: str
    relationship_to_head: str
