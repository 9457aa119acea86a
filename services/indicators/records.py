"""Writing the records M&E officers edit — strategies, axes, objectives, plans, actions —
the one way: a new one flushed under its unique code (a code taken is a 409 naming
`body.code`), a change applied field by field and bumping the version, each recorded in the
audit trail in the same transaction."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from services.indicators.context import Change
from shared.errors import Conflict
from shared.repository import flush_unique
from shared.versioning import touch


def fields(row: object) -> dict[str, Any]:
    """Every column of `row`, by name."""
    return {
        column: getattr(row, column)
        for column in row.__table__.columns.keys()  # type: ignore[attr-defined]  # noqa: SIM118
    }


async def insert_coded(
    change: Change, row: Any, resource: str, data: BaseModel, taken: str
) -> None:
    """Add `row`; `taken` says what a code already used means ("another plan has this
    code")."""

    def conflict() -> Conflict:
        return Conflict(
            taken[0].upper() + taken[1:] + ".", errors=[{"path": "body.code", "message": taken}]
        )

    await flush_unique(change.session, lambda: change.session.add(row), conflict)
    await change.audit.record_write(
        change.session,
        change.principal,
        "create",
        resource,
        row.id,
        detail={"after": data.model_dump(mode="json")},
    )


async def apply_changes(change: Change, row: Any, resource: str, sent: dict[str, Any]) -> None:
    """Set the fields `sent` that differ; nothing (no new version) when none does."""
    changed = {name: value for name, value in sent.items() if getattr(row, name) != value}
    if not changed:
        return
    before = {name: getattr(row, name) for name in changed}
    for name, value in changed.items():
        setattr(row, name, value)
    touch(change.session, row)
    await change.session.flush()
    await change.audit.record_write(
        change.session,
        change.principal,
        "update",
        resource,
        row.id,
        detail={"before": to_jsonable_python(before), "after": to_jsonable_python(changed)},
    )
