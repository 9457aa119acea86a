"""`GET /catalog`: what indicator expressions may name."""

from __future__ import annotations

from fastapi import APIRouter

from services.indicators.access import Reader
from services.indicators.catalog import service
from services.indicators.catalog.schemas import Catalog, CatalogDimension, CatalogMeasure
from services.indicators.context import StatsSources
from services.indicators.status import STATUS_RULE
from shared.db import ReadSession

router = APIRouter(prefix="/api/v1/indicators", tags=["catalog"])


@router.get("/catalog", response_model=Catalog)
async def get_catalog(session: ReadSession, _: Reader, sources: StatsSources) -> Catalog:
    """The measures of the registry's and funding's `/stats/catalog` and of the reference
    data, each with its dimensions and their values, and the indicators defined: the names
    `#{measure|dimension=value}` may use. 503 naming a service that cannot be reached."""
    names = await service.names(session, sources)
    return Catalog(
        measures=[
            CatalogMeasure(
                name=info.name,
                source=info.source,
                kind=info.kind,
                unit=info.unit,
                description=info.description,
                dimensions=[
                    CatalogDimension(
                        name=dimension.name,
                        values=None if dimension.values is None else sorted(dimension.values),
                    )
                    for dimension in info.dimensions.values()
                ],
            )
            for info in names.measures.values()
        ],
        indicators=sorted(names.indicators),
        status_rule=STATUS_RULE,
    )
