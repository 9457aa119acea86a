"""Data-sharing agreements as the API reads and writes them."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import date, datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from services.beneficiaries.vocabulary import LegalStatus
from shared.schemas import InputModel

PartnerId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
QueryType = Literal["idtype-value", "predicate", "expression"]
Identifiers = Literal["shown", "pseudonymised"]
Text = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
FieldName = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=40)]


def _ed25519_key(value: str) -> str:
    try:
        raw = base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise ValueError("not base64") from exc
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return value


_LOOPBACK = ("localhost", "127.0.0.1", "::1")


def _callback_uri(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError("an absolute https URI")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise ValueError("https (plain http only to this machine's loopback)")
    if parts.username or parts.password or parts.fragment:
        raise ValueError("no credentials or fragment in a callback URI")
    return value


CallbackUri = Annotated[
    str, StringConstraints(min_length=8, max_length=500), AfterValidator(_callback_uri)
]


class SigningKey(InputModel):
    """A partner's public key for DCI message signatures."""

    kid: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    algorithm: Literal["ed25519"] = "ed25519"
    public_key: Annotated[
        str, StringConstraints(min_length=40, max_length=60), AfterValidator(_ed25519_key)
    ] = Field(description="The raw 32-byte Ed25519 public key, base64.")


class _AgreementFields(InputModel):
    purpose: Text
    legal_basis: Text
    allowed_fields: list[FieldName] = Field(
        min_length=1,
        description="Names from `GET /exports/fields` (households or individuals), or "
        "`programmes` (the household's enrollments in the allowed programmes).",
    )
    allowed_programmes: list[Code] | None = Field(
        default=None,
        description="Programme codes; households enrolled in one of them. None: any household.",
    )
    allowed_regions: list[Code] | None = Field(
        default=None, description="Region codes (e.g. DJ-OB). None: every region."
    )
    allowed_legal_statuses: list[LegalStatus] | None = Field(
        default=None,
        description="People of these statuses; households with such a present member. "
        "None: everyone.",
    )
    allowed_query_types: list[QueryType] = Field(default=["idtype-value"], min_length=1)
    valid_from: date
    valid_to: date
    daily_request_quota: int = Field(ge=0, le=10_000_000)
    identifiers: Identifiers = Field(
        default="pseudonymised",
        description="Whether allowed identifying fields (ids, registry number, national ID, "
        "UNHCR, WFP SCOPE, phone) are shown or replaced by this partner's pseudonyms.",
    )
    signing_keys: list[SigningKey] = Field(default=[], max_length=10)
    callback_uris: list[CallbackUri] = Field(
        default=[],
        max_length=10,
        description="Where the registry posts the partner's DCI callbacks (on-search, "
        "txn-on-status, on-subscribe, notify): a request's `header.sender_uri` must be one "
        "of them; the first is used when it names none.",
    )


class AgreementCreate(_AgreementFields):
    partner_id: PartnerId = Field(description="The partner id on the partner's API client.")

    @model_validator(mode="after")
    def _period(self) -> AgreementCreate:
        if self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        return self


class AgreementUpdate(InputModel):
    """Every field optional: only those sent change. `If-Match` required."""

    purpose: Text | None = None
    legal_basis: Text | None = None
    allowed_fields: list[FieldName] | None = Field(default=None, min_length=1)
    allowed_programmes: list[Code] | None = None
    allowed_regions: list[Code] | None = None
    allowed_legal_statuses: list[LegalStatus] | None = None
    allowed_query_types: list[QueryType] | None = Field(default=None, min_length=1)
    valid_from: date | None = None
    valid_to: date | None = None
    daily_request_quota: int | None = Field(default=None, ge=0, le=10_000_000)
    identifiers: Identifiers | None = None
    signing_keys: list[SigningKey] | None = Field(default=None, max_length=10)
    callback_uris: list[CallbackUri] | None = Field(default=None, max_length=10)


class Agreement(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    partner_id: str
    purpose: str
    legal_basis: str
    allowed_fields: list[str]
    allowed_programmes: list[str] | None
    allowed_regions: list[str] | None
    allowed_legal_statuses: list[str] | None
    allowed_query_types: list[str]
    valid_from: date
    valid_to: date
    daily_request_quota: int
    identifiers: str
    signing_keys: list[dict[str, str]]
    callback_uris: list[str]
    version: int
    created_at: datetime
    updated_at: datetime
    created_by: str | None
    updated_by: str | None


class UsageDay(BaseModel):
    day: date
    requests: int
    records: int


class Usage(BaseModel):
    agreement_id: uuid.UUID
    requests: int
    records: int
    days: list[UsageDay]


class PseudonymResolve(InputModel):
    agreement_id: uuid.UUID
    pseudonym: Annotated[str, StringConstraints(min_length=3, max_length=100)]


class ResolvedPseudonym(BaseModel):
    pseudonym: str
    kind: str
    household_id: uuid.UUID | None = None
    individual_ids: list[uuid.UUID] = []


class PartnerTerms(BaseModel):
    """What a partner's active agreement lets it ask and see, as the partner reads it."""

    agreement_id: uuid.UUID
    partner_id: str
    allowed_fields: list[str]
    allowed_programmes: list[str] | None
    allowed_regions: list[str] | None
    allowed_legal_statuses: list[str] | None
    allowed_query_types: list[str]
    identifiers: str
    valid_from: date
    valid_to: date
    daily_request_quota: int
    requests_today: int
