from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int


class SigningKeyInfo(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kid: str
    algorithm: str
    created_at: datetime
    retired_at: datetime | None
