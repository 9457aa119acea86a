"""What the gateway asks the registry itself: which region codes exist (an account limited
to regions must name real ones)."""

from __future__ import annotations

import httpx
from pydantic import BaseModel, ConfigDict

from shared.service_client import ServiceClient

ADMIN_AREAS = "/api/v1/beneficiaries/admin-areas"


class AdminArea(BaseModel):
    """The part of the registry's `AdminArea` the gateway reads."""

    model_config = ConfigDict(extra="ignore")

    code: str
    level: int


class RegistryClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self._client = ServiceClient(http, "beneficiaries")

    async def region_codes(self) -> set[str]:
        """The registry's regions (admin level 1). Asked at every account change rather than
        cached: rare calls, and a region the registry just added is usable at once. A
        registry that cannot answer raises the kit's 503/504/502 problems."""
        areas = await self._client.get(ADMIN_AREAS, list[AdminArea], params={"level": 1})
        return {area.code for area in areas if area.level == 1}
