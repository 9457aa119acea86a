"""The social registry as the funding service sees it: programmes (their benefit) and the
stream of a programme's enrollments, over HTTP with the service's own token. Only what a
payroll needs is read; the registry's tables never are."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date

from pydantic import BaseModel, ConfigDict

from shared.service_client import ServiceClient, url_path

BASE = "/api/v1/beneficiaries"


class ProgrammeRef(BaseModel):
    """A registry programme, as far as funding is concerned."""

    model_config = ConfigDict(extra="ignore")

    code: str
    name_fr: str
    name_en: str
    status: str
    benefit_amount: int
    benefit_currency: str
    benefit_period: str


class Head(BaseModel):
    model_config = ConfigDict(extra="ignore")

    individual_id: uuid.UUID
    given_name: str
    father_name: str | None
    grandfather_name: str | None
    phone: str | None


class EnrollmentLine(BaseModel):
    """One line of `GET /programmes/{code}/enrollments` (JSON Lines)."""

    model_config = ConfigDict(extra="ignore")

    enrollment_id: uuid.UUID
    household_id: uuid.UUID
    registry_number: str
    status: str
    enrolled_on: date
    region_code: str
    locality_code: str | None
    head: Head | None


class RegistryClient:
    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    async def programme(self, code: str) -> ProgrammeRef | None:
        return await self.client.get_or_none(
            url_path(BASE + "/programmes/{code}", code=code), ProgrammeRef
        )

    async def unknown_programmes(self, codes: list[str]) -> list[str]:
        """The codes the registry has no programme for."""
        return [code for code in dict.fromkeys(codes) if await self.programme(code) is None]

    def active_enrollments(self, code: str) -> AsyncIterator[EnrollmentLine]:
        """The programme's active enrollments, streamed: constant memory however many."""
        return self.client.stream_lines(
            url_path(BASE + "/programmes/{code}/enrollments", code=code),
            EnrollmentLine,
            params={"status": "active"},
        )
