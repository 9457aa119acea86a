"""Organisations: partners that fund, agencies that implement, operators that pay. Finance
officers keep them; a partner sees only the organisation it acts for."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.access import partner_scope
from services.funding.context import MoneyChange
from services.funding.models import Organisation
from services.funding.organisations import repository
from services.funding.organisations.schemas import OrganisationCreate, OrganisationUpdate
from shared.auth import Principal
from shared.errors import Conflict, NotFound
from shared.pagination import Page, PageParams, page_of
from shared.repository import flush_unique
from shared.versioning import require_version, touch

_UNIQUE = {
    "iati_identifier": "another organisation has this IATI identifier",
    "partner_id": "another organisation has this partner id",
}


async def get(
    session: AsyncSession, principal: Principal, organisation_id: uuid.UUID
) -> Organisation:
    """404 as well for an organisation a partner does not act for: it does not learn it exists."""
    found = await repository.get(session, organisation_id, partner_scope(principal))
    if found is None:
        raise NotFound("No such organisation.")
    return found


async def list_organisations(
    session: AsyncSession, principal: Principal, type: str | None, params: PageParams
) -> Page[Organisation]:
    rows = await repository.list_organisations(session, partner_scope(principal), type, params)
    return page_of(rows, params, key=lambda row: [row.iati_identifier])


async def create(change: MoneyChange, data: OrganisationCreate) -> Organisation:
    session = change.session
    values = data.model_dump()
    row = Organisation(id=uuid.uuid4(), **values, created_by=change.principal.subject)
    await _flush(session, values, None, lambda: repository.add(session, row))
    await change.audit.record_write(
        session,
        change.principal,
        "create",
        "organisation",
        row.id,
        detail={"after": to_jsonable_python(values)},
    )
    return row


async def update(
    change: MoneyChange,
    organisation_id: uuid.UUID,
    data: OrganisationUpdate,
    expected_version: int | None,
) -> Organisation:
    session = change.session
    # Locked: two changes sent with the same version cannot both pass the check.
    row = await repository.organisations.get_for_update(session, organisation_id)
    require_version(expected_version, row.version)
    sent = data.model_dump(include=data.model_fields_set)
    changed = {name: value for name, value in sent.items() if getattr(row, name) != value}
    if not changed:
        return row
    if "iati_identifier" in changed and await repository.reports_projects(session, row.id):
        raise Conflict(
            "This organisation reports projects, whose IATI identifiers start with its own: "
            "its identifier cannot change.",
            errors=[
                {"path": "body.iati_identifier", "message": "the organisation reports projects"}
            ],
        )
    before = {name: getattr(row, name) for name in changed}

    def apply() -> None:
        for name, value in changed.items():
            setattr(row, name, value)
        touch(session, row)

    await _flush(session, changed, row.id, apply)
    await change.audit.record_write(
        session,
        change.principal,
        "update",
        "organisation",
        row.id,
        detail={"before": to_jsonable_python(before), "after": to_jsonable_python(changed)},
    )
    return row


async def _check_unique(
    session: AsyncSession, values: dict[str, Any], other_than: uuid.UUID | None
) -> None:
    errors = [
        {"path": f"body.{name}", "message": message}
        for name, message in _UNIQUE.items()
        if values.get(name) is not None
        and await repository.holder(session, name, values[name], other_than) is not None
    ]
    if errors:
        raise Conflict("Another organisation holds this identifier already.", errors=errors)


async def _flush(
    session: AsyncSession,
    values: dict[str, Any],
    other_than: uuid.UUID | None,
    write: Callable[[], None],
) -> None:
    """Apply `write` and flush; an identifier another organisation holds (taken before, or
    a moment ago by another request) is a 409 naming the field."""

    async def taken() -> Exception:
        await _check_unique(session, values, other_than)  # raises, naming the field
        return Conflict("Another organisation holds this identifier already.")

    await flush_unique(session, write, taken)
