from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from services.beneficiaries.areas import repository
from services.beneficiaries.areas.schemas import AdminArea, AdminAreaCreate
from services.beneficiaries.models import AdminArea as AdminAreaRow
from shared.auth import CurrentPrincipal, Principal, require_roles
from shared.db import DbSession, ReadSession
from shared.errors import Conflict, UnprocessableEntity

router = APIRouter(prefix="/api/v1/beneficiaries/admin-areas", tags=["admin areas"])


@router.get("", response_model=list[AdminArea], summary="Regions, communes and localities")
async def list_admin_areas(
    session: ReadSession,
    _: CurrentPrincipal,
    level: Annotated[int | None, Query(ge=1, le=3)] = None,
    parent_code: str | None = None,
) -> list[AdminArea]:
    areas = await repository.list_areas(session, level, parent_code)
    return [AdminArea.model_validate(area) for area in areas]


@router.post("", response_model=AdminArea, status_code=status.HTTP_201_CREATED)
async def add_admin_area(
    data: AdminAreaCreate,
    session: DbSession,
    principal: Annotated[Principal, Depends(require_roles("admin", "data_manager"))],
) -> AdminArea:
    """Add a region, commune or locality (a new settlement, a new refugee village)."""
    if await repository.get(session, data.code) is not None:
        raise Conflict(f"Area {data.code} already exists.")
    region = data.code
    if data.level > 1:
        parent = await repository.get(session, data.parent_code) if data.parent_code else None
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
    area = AdminAreaRow(**data.model_dump(), region_code=region)
    repository.add(session, area)
    await session.flush()
    await session.refresh(area)
    return AdminArea.model_validate(area)
