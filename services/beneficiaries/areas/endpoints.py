from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from services.beneficiaries.access import Manager
from services.beneficiaries.areas import repository, service
from services.beneficiaries.areas.schemas import AdminArea, AdminAreaCreate
from shared.auth import CurrentPrincipal
from shared.db import DbSession, ReadSession

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


@router.post(
    "",
    response_model=AdminArea,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "An area with this code exists"}},
)
async def add_admin_area(
    data: AdminAreaCreate,
    session: DbSession,
    _: Manager,
) -> AdminArea:
    """Add a region, commune or locality (a new settlement, a new refugee village)."""
    return AdminArea.model_validate(await service.add_area(session, data))
