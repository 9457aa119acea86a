"""The `/stats` and `/stats/catalog` of another service (the registry, funding), over HTTP
with this service's own token. Both answer in one shape: measures, dimensions with their
values, and grouped rows (the registry's `count`, funding's `value`). Only aggregates ever
cross: no record, name or identifier."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.service_client import ServiceClient

DimensionValue = str | bool | int | None
# A count, or a sum (of fractions, the registry's poverty gap ratios, to 6 places).
Figure = int | float


class CatalogValue(BaseModel):
    model_config = ConfigDict(extra="ignore")

    value: str | bool | int
    label: str = ""


class CatalogMeasure(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str
    description: str = ""
    kind: str = "count"
    unit: str = "units"
    # The dimensions that apply; absent (the registry) when all of them do.
    dimensions: list[str] | None = None
    # Query parameters the measure requires (the registry's poverty_lines).
    parameters: list[str] = Field(default_factory=list)
    # Measures of one batch can be asked in one request (`measures=`); None: alone.
    batch: str | None = None


class CatalogDimension(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str
    description: str = ""
    values: list[CatalogValue] | None = None


class CatalogDisclosure(BaseModel):
    model_config = ConfigDict(extra="ignore")

    threshold: int = Field(ge=1)


class StatsCatalog(BaseModel):
    model_config = ConfigDict(extra="ignore")

    measures: list[CatalogMeasure]
    dimensions: list[CatalogDimension]
    max_dimensions: int = 5
    # The service's small-cell protection (shared/disclosure.DisclosureRule): counts below
    # its threshold are disclosive.
    disclosure_control: CatalogDisclosure | None = None

    @property
    def small_cell_threshold(self) -> int | None:
        return None if self.disclosure_control is None else self.disclosure_control.threshold


class StatsAnswer(BaseModel):
    """One measure's answer: `count` (the registry) or `value` (funding) in each row, and
    `total`. Several measures asked together: each one's figure under its name in each
    row, and `totals`."""

    model_config = ConfigDict(extra="ignore")

    measure: str | None = None
    measures: list[str] | None = None
    group_by: list[str]
    as_of: date
    rows: list[dict[str, DimensionValue | float]] = Field(default_factory=list)
    total: Figure | None = None
    totals: dict[str, Figure | None] | None = None


class StatsClient:
    """One service's statistics; `service` names it ("beneficiaries", "funding")."""

    def __init__(self, client: ServiceClient, base: str) -> None:
        self.client = client
        self.base = base
        # What the last catalogue read said of small cells (None: it said nothing).
        self.small_cell_threshold: int | None = None

    @property
    def service(self) -> str:
        return self.client.service

    async def catalog(self) -> StatsCatalog:
        catalog = await self.client.get(self.base + "/stats/catalog", StatsCatalog)
        self.small_cell_threshold = catalog.small_cell_threshold
        return catalog

    def remembering_catalog(self) -> StatsClient:
        """A client of the same service that asks its catalogue once and then remembers
        it: for a run of work that needs it again and again (the standard pack checks
        each of its definitions against it)."""
        return _RememberingCatalog(self.client, self.base)

    async def stats(
        self,
        measure: str,
        group_by: Sequence[str] = (),
        filters: Mapping[str, Sequence[Any]] | None = None,
    ) -> StatsAnswer:
        return await self._get({"measure": measure}, group_by, filters)

    async def stats_together(
        self,
        measures: Sequence[str],
        group_by: Sequence[str] = (),
        filters: Mapping[str, Sequence[Any]] | None = None,
    ) -> StatsAnswer:
        """Several measures of one batch (see CatalogMeasure.batch), one request."""
        return await self._get({"measures": ",".join(measures)}, group_by, filters)

    async def _get(
        self,
        params: dict[str, Any],
        group_by: Sequence[str],
        filters: Mapping[str, Sequence[Any]] | None,
    ) -> StatsAnswer:
        if group_by:
            params["group_by"] = ",".join(group_by)
        for name, values in (filters or {}).items():
            params[name] = ",".join(_text(value) for value in values)
        return await self.client.get(self.base + "/stats", StatsAnswer, params=params)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _RememberingCatalog(StatsClient):
    def __init__(self, client: ServiceClient, base: str) -> None:
        super().__init__(client, base)
        self._catalog: StatsCatalog | None = None

    async def catalog(self) -> StatsCatalog:
        if self._catalog is None:
            self._catalog = await super().catalog()
        return self._catalog
