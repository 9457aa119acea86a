from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.beneficiaries.vocabulary import Area
from shared.schemas import InputModel

# At most the column's 40 characters (the pattern alone allows 53: a longer code was a 500).
AREA_CODE_LENGTH = 40
AreaCode = Annotated[
    str,
    StringConstraints(max_length=AREA_CODE_LENGTH, pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,16}){1,3}$"),
]


class AdminAreaCreate(InputModel):
    code: AreaCode
    name: str = Field(min_length=1, max_length=120)
    level: Literal[1, 2, 3]
    parent_code: AreaCode | None = None
    area: Area | None = None
    is_refugee_village: bool = False


class AdminArea(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    level: int
    parent_code: str | None
    region_code: str
    area: str | None
    is_refugee_village: bool
