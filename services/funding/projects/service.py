"""Projects: the financed operations (IATI activities), who takes part in them, and the
registry programmes they finance, checked with the registry whenever they change."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.access import partner_scope
from services.funding.clients.registry import RegistryClient
from services.funding.context import MoneyChange
from services.funding.models import Project as ProjectRow
from services.funding.organisations import repository as organisations
from services.funding.projects import repository
from services.funding.projects.repository import ProjectFilters
from services.funding.projects.schemas import Participant, Project, ProjectCreate, ProjectUpdate
from services.funding.vocabulary import ACTIVITY_STATUSES, PARTICIPANT_ROLES
from shared.auth import Principal
from shared.errors import Conflict, NotFound, UnprocessableEntity
from shared.pagination import Page, PageParams, page_of
from shared.repository import flush_unique
from shared.versioning import require_version, touch

# The project row's own fields (participants live in their table).
_COLUMNS = tuple(name for name in ProjectCreate.model_fields if name != "participants")
Pairs = list[tuple[uuid.UUID, int]]


class UnknownProgramme(UnprocessableEntity):
    type, title = "unknown-programme", "Unknown programme"


async def get(session: AsyncSession, principal: Principal, project_id: uuid.UUID) -> Project:
    """404 as well for a project a partner has no part in: it does not learn it exists."""
    row = await repository.get(session, project_id, partner_scope(principal))
    if row is None:
        raise NotFound("No such project.")
    participants = await repository.participants_of(session, [row.id])
    return _view(row, participants[row.id])


async def list_projects(
    session: AsyncSession, principal: Principal, filters: ProjectFilters, params: PageParams
) -> Page[Project]:
    rows = await repository.list_projects(session, partner_scope(principal), filters, params)
    page = page_of(rows, params, key=lambda row: [row.iati_identifier])
    participants = await repository.participants_of(session, [row.id for row in page.items])
    return Page[Project](
        items=[_view(row, participants[row.id]) for row in page.items],
        next_cursor=page.next_cursor,
    )


async def create(change: MoneyChange, registry: RegistryClient, data: ProjectCreate) -> Project:
    session = change.session
    values = data.model_dump(exclude={"participants"})
    participants: Pairs = [(p.organisation_id, int(p.role)) for p in data.participants]
    await _check(session, values, participants)
    await _identifier_free(session, data.iati_identifier, None)
    # Last, as it is the slowest: a registry that cannot answer leaves nothing saved (503).
    await _check_programmes(registry, data.programme_codes)
    row = ProjectRow(id=uuid.uuid4(), **values, created_by=change.principal.subject)
    await flush_unique(
        session, lambda: repository.add(session, row), lambda: _taken(data.iati_identifier)
    )
    await repository.replace_participants(session, row.id, participants)
    await change.audit.record_write(
        session,
        change.principal,
        "create",
        "project",
        row.id,
        detail={"after": to_jsonable_python(values | {"participants": participants})},
    )
    return _view(row, participants)


async def update(
    change: MoneyChange,
    registry: RegistryClient,
    project_id: uuid.UUID,
    data: ProjectUpdate,
    expected_version: int | None,
) -> Project:
    session = change.session
    # Locked: two changes sent with the same version cannot both pass the check.
    row = await repository.projects.get_for_update(session, project_id)
    require_version(expected_version, row.version)
    sent = data.model_dump(include=data.model_fields_set, exclude={"participants"})
    current: Pairs = (await repository.participants_of(session, [row.id]))[row.id]
    wanted = (
        [(p.organisation_id, int(p.role)) for p in data.participants]
        if data.participants is not None
        else None
    )
    merged = {name: getattr(row, name) for name in _COLUMNS} | sent
    await _check(session, merged, wanted)
    changed = {name: value for name, value in sent.items() if getattr(row, name) != value}
    participants_change = wanted is not None and sorted(wanted) != sorted(current)
    if not changed and not participants_change:
        return _view(row, current)
    if "iati_identifier" in changed:
        await _identifier_free(session, changed["iati_identifier"], row.id)
    if "programme_codes" in changed:
        await _check_programmes(registry, changed["programme_codes"])
    before = {name: getattr(row, name) for name in changed}
    after = dict(changed)
    if participants_change and wanted is not None:
        before["participants"], after["participants"] = current, wanted
        current = wanted

    def apply() -> None:
        for name, value in changed.items():
            setattr(row, name, value)
        touch(session, row)

    await flush_unique(session, apply, lambda: _taken(merged["iati_identifier"]))
    if participants_change:
        await repository.replace_participants(session, row.id, current)
    await change.audit.record_write(
        session,
        change.principal,
        "update",
        "project",
        row.id,
        detail={"before": to_jsonable_python(before), "after": to_jsonable_python(after)},
    )
    return _view(row, current)


async def _check(session: AsyncSession, values: dict[str, Any], participants: Pairs | None) -> None:
    """What a schema cannot see: dates in order, the organisations named, the identifier's
    prefix, lists without repeats. Every problem at once, each naming its field."""
    errors: list[dict[str, str]] = []
    for start, end in (("planned_start", "planned_end"), ("actual_start", "actual_end")):
        if values.get(start) and values.get(end) and values[end] < values[start]:
            errors.append({"path": f"body.{end}", "message": f"before {start}"})
    reporting = await organisations.get(session, values["reporting_org_id"])
    if reporting is None:
        errors.append({"path": "body.reporting_org_id", "message": "no such organisation"})
    else:
        prefix = reporting.iati_identifier + "-"
        identifier: str = values["iati_identifier"]
        if not identifier.startswith(prefix) or len(identifier) == len(prefix):
            errors.append(
                {
                    "path": "body.iati_identifier",
                    "message": f"must be the reporting organisation's identifier, a hyphen "
                    f"and the activity's own: {prefix}...",
                }
            )
    if participants is not None:
        known = await organisations.existing(session, {org for org, _ in participants})
        seen: set[tuple[uuid.UUID, int]] = set()
        for index, (organisation_id, role) in enumerate(participants):
            if organisation_id not in known:
                errors.append(
                    {
                        "path": f"body.participants.{index}.organisation_id",
                        "message": "no such organisation",
                    }
                )
            if (organisation_id, role) in seen:
                errors.append({"path": f"body.participants.{index}", "message": "given twice"})
            seen.add((organisation_id, role))
    codes: list[str] = values.get("programme_codes") or []
    errors += [
        {"path": f"body.programme_codes.{index}", "message": "given twice"}
        for index, code in enumerate(codes)
        if code in codes[:index]
    ]
    if errors:
        raise UnprocessableEntity("The project is invalid.", errors=errors)


async def _check_programmes(registry: RegistryClient, codes: list[str]) -> None:
    """Each code names a registry programme (asked over HTTP with the service's token)."""
    if not codes:
        return
    unknown = set(await registry.unknown_programmes(codes))
    if unknown:
        raise UnknownProgramme(
            "The registry has no programme with code " + ", ".join(sorted(unknown)) + ".",
            errors=[
                {"path": f"body.programme_codes.{index}", "message": "no such programme"}
                for index, code in enumerate(codes)
                if code in unknown
            ],
        )


async def _identifier_free(
    session: AsyncSession, iati_identifier: str, other_than: uuid.UUID | None
) -> None:
    if await repository.identifier_holder(session, iati_identifier, other_than) is not None:
        raise _taken(iati_identifier)


def _taken(iati_identifier: str) -> Conflict:
    return Conflict(
        f"A project with IATI identifier {iati_identifier} exists already.",
        errors=[{"path": "body.iati_identifier", "message": "another project has it"}],
    )


def _view(row: ProjectRow, participants: Pairs) -> Project:
    return Project(
        id=row.id,
        **{name: getattr(row, name) for name in _COLUMNS},
        status_name=ACTIVITY_STATUSES[row.status],
        participants=[
            Participant(organisation_id=org, role=role, role_name=PARTICIPANT_ROLES[role])  # type: ignore[arg-type]
            for org, role in participants
        ],
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        created_by=row.created_by,
    )
