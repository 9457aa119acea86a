from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shared.auth import Role

Login = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{1,63}$")]
RegionCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}-[A-Z0-9]{1,6}$")]
PartnerId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,64}$")]


class _AccountFields(BaseModel):
    # Not the kit's InputModel: that trims text, and a password is what was typed.
    model_config = ConfigDict(extra="forbid")

    roles: list[Role] = Field(min_length=1)
    regions: list[RegionCode] = Field(
        default=[], description="Region codes a registrar is limited to (empty: no limit)."
    )
    partner_id: PartnerId | None = Field(
        default=None, description="For partner accounts: the partner they act for."
    )

    @model_validator(mode="after")
    def _partner_needs_partner_id(self) -> _AccountFields:
        if "partner" in self.roles and not self.partner_id:
            raise ValueError("a partner account needs a partner_id")
        return self


class ClientCreate(_AccountFields):
    client_id: Login
    name: str = Field(min_length=1, max_length=200)


class UserCreate(_AccountFields):
    username: Login
    full_name: str = Field(min_length=1, max_length=200)
    password: str | None = Field(
        default=None,
        min_length=12,
        max_length=256,
        description="At least 12 characters; omit it to have one generated and shown once.",
    )


class _AccountRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    roles: list[str]
    regions: list[str]
    partner_id: str | None
    disabled: bool
    created_at: datetime
    secret_changed_at: datetime | None
    created_by: str | None


class Client(_AccountRead):
    client_id: str
    name: str


class User(_AccountRead):
    username: str
    full_name: str


class ClientWithSecret(Client):
    client_secret: str = Field(description="Shown once: store it now.")


class UserWithPassword(User):
    password: str | None = Field(
        default=None, description="The generated password, shown once (absent if you set one)."
    )


class SecretRotated(BaseModel):
    client_secret: str = Field(description="Shown once: store it now.")


class PasswordReset(BaseModel):
    password: str = Field(description="Shown once: give it to the person.")
