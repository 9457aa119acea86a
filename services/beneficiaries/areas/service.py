"""Where households are: a locality resolved to its region, commune and area, and new areas
added to the reference data."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.areas import repository
from services.beneficiaries.areas.schemas import AdminAreaCreate
from services.beneficiaries.models import AdminArea
from shared.errors import Conflict, UnprocessableEntity


@dataclass(frozen=True)
class ResolvedLocation:
    region_code: str
    commune_code: str
    locality_code: str
    area: str


async def resolve_location(
    session: AsyncSession, locality_code: str, area: str | None, path: str = "body.location"
) -> ResolvedLocation:
    """A household's place from its locality; `area` defaults to the locality's own (422
    when the locality has both urban and rural parts and none is said)."""
    locality = await repository.admin_areas.find(session, locality_code)
    if locality is None or locality.level != 3:
        raise UnprocessableEntity(
            f"Unknown locality {locality_code}.",
            errors=[{"path": f"{path}.locality_code", "message": "not a known locality"}],
        )
    chosen = area or locality.area
    if chosen is None:
        raise UnprocessableEntity(
            "This locality has both urban and rural parts: say which.",
            errors=[{"path": f"{path}.area", "message": "required for this locality"}],
        )
    assert locality.parent_code is not None
    return ResolvedLocation(locality.region_code, locality.parent_code, locality.code, chosen)


async def add_area(session: AsyncSession, data: AdminAreaCreate) -> AdminArea:
    """A new region, commune or locality, under an existing area one level up."""
    if await repository.admin_areas.find(session, data.code) is not None:
        raise Conflict(f"Area {data.code} already exists.")
    region = data.code
    if data.level > 1:
        parent = (
            await repository.admin_areas.find(session, data.parent_code)
            if data.parent_code
            else None
        )
        if parent is None or parent.level != data.level - 1:
            raise UnprocessableEntity(
                "The parent must be an existing area one level up.",
                errors=[{"path": "body.parent_code", "message": "unknown or wrong level"}],
            )
        region = parent.region_code
    elif data.parent_code:
        raise UnprocessableEntity(
            "A region has no parent.",
            errors=[{"path": "body.parent_code", "message": "must be empty for a region"}],
        )
    area = AdminArea(**data.model_dump(), region_code=region)
    repository.add(session, area)
    await session.flush()
    await session.refresh(area)
    return area
