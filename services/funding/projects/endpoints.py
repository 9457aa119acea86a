"""`/projects`: financed operations (IATI activities)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status

from services.funding.access import LedgerReader
from services.funding.context import Idempotent, OfficerChange, Registry
from services.funding.projects import service
from services.funding.projects.repository import ProjectFilters
from services.funding.projects.schemas import Project, ProjectCreate, ProjectUpdate
from shared.db import ReadSession
from shared.etag import ExpectedVersion, etag
from shared.idempotency import created_headers
from shared.pagination import Page, PageParams, page_params

router = APIRouter(prefix="/api/v1/funding", tags=["projects"])
_created = created_headers(f"{router.prefix}/projects")
Paging = Annotated[PageParams, Depends(page_params)]
_REGISTRY_PROBLEMS: dict[int | str, dict[str, Any]] = {
    422: {"description": "Invalid, or a programme code the registry does not know"},
    503: {"description": "The registry cannot be reached: nothing was saved"},
}


def _with_etag(project: Project, response: Response) -> Project:
    response.headers["ETag"] = etag(project.version)
    return project


@router.post(
    "/projects",
    status_code=status.HTTP_201_CREATED,
    response_model=Project,
    responses={409: {"description": "The IATI identifier is taken"}, **_REGISTRY_PROBLEMS},
)
async def create_project(
    data: ProjectCreate,
    response: Response,
    change: OfficerChange,
    registry: Registry,
    idempotent: Idempotent,
) -> Project | Response:
    """finance_officer or admin. The programme codes are checked with the registry."""

    async def create() -> Project:
        project = await service.create(change, registry, data)
        response.headers.update(_created({"id": project.id, "version": project.version}))
        return project

    return await idempotent.run(data, create, status_code=201, headers_of=_created)


@router.get("/projects", response_model=Page[Project])
async def list_projects(
    session: ReadSession,
    principal: LedgerReader,
    paging: Paging,
    status: Annotated[int | None, Query(ge=1, le=6, description="IATI ActivityStatus")] = None,
    reporting_org_id: Annotated[uuid.UUID | None, Query()] = None,
    programme_code: Annotated[str | None, Query(max_length=32)] = None,
) -> Page[Project]:
    """By IATI identifier. A partner sees the projects its organisation reports or takes
    part in."""
    filters = ProjectFilters(status, reporting_org_id, programme_code)
    return await service.list_projects(session, principal, filters, paging)


@router.get("/projects/{project_id}", response_model=Project)
async def get_project(
    project_id: uuid.UUID, session: ReadSession, principal: LedgerReader, response: Response
) -> Project:
    """With its version as `ETag`, to send back in `If-Match` when changing it."""
    return _with_etag(await service.get(session, principal, project_id), response)


@router.patch("/projects/{project_id}", response_model=Project, responses=_REGISTRY_PROBLEMS)
async def update_project(
    project_id: uuid.UUID,
    data: ProjectUpdate,
    response: Response,
    change: OfficerChange,
    registry: Registry,
    expected_version: ExpectedVersion,
) -> Project:
    """Change some fields. `If-Match` is required: 428 without it, 412 when someone changed
    the project since you read it. New programme codes are checked with the registry."""
    project = await service.update(change, registry, project_id, data, expected_version)
    return _with_etag(project, response)
