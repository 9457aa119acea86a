from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int = Field(description="Seconds the access token is valid for.")
    refresh_token: str | None = Field(
        default=None,
        description="Password and refresh grants only: exchange it once, with "
        "`grant_type=refresh_token`, for the next access token and the next refresh token. "
        "Keep only the newest: a used one presented again ends the sign-in.",
    )


class SigningKeyInfo(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kid: str
    algorithm: str
    created_at: datetime
    retired_at: datetime | None


class DisabledAccountsList(BaseModel):
    """The accounts whose tokens are refused before they expire."""

    subjects: list[str] = Field(
        description="Token subjects (`sub`) of the disabled clients and users, "
        "e.g. `client:wfp-dj`, `user:amina`."
    )
