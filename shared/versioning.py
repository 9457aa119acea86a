"""Optimistic concurrency in the domain's terms: a record's `version` moves once per change a
request makes (however many flushes that takes), and a change names the version it was made
on. HTTP turns versions into ETags (shared/etag.py); services see only integers."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import PreconditionFailed, PreconditionRequired
from shared.etag import BLIND, etag

_BUMPED = "bumped_versions"


class VersionedRow(Protocol):
    version: int

    @property
    def id(self) -> Any: ...


def touch(session: AsyncSession, *rows: VersionedRow) -> None:
    """A new version of each row, once in this change whatever else touches it."""
    bumped: set[tuple[str, object]] = session.info.setdefault(_BUMPED, set())
    for row in rows:
        key = (type(row).__name__, row.id)
        if key not in bumped:
            bumped.add(key)
            row.version += 1


def created(session: AsyncSession, *rows: VersionedRow) -> None:
    """Rows created by this change: they stay at their first version whatever else this
    change does to them."""
    bumped: set[tuple[str, object]] = session.info.setdefault(_BUMPED, set())
    bumped.update((type(row).__name__, row.id) for row in rows)


def next_change(session: AsyncSession) -> None:
    """What follows is another change, though in the same transaction (each operation of a
    sync batch): rows it touches get a new version even if an earlier one bumped them."""
    session.info.pop(_BUMPED, None)


def require_version(expected: int | None, current: int) -> None:
    """428 when the change names no version, 412 (with the current ETag) when the record has
    moved on since the version it names."""
    if expected is None or expected == BLIND:
        raise PreconditionRequired(
            "Send If-Match with the ETag of the version you read (GET it first)."
        )
    if expected != current:
        raise PreconditionFailed(
            "The record changed since you read it: read it again and reapply your change.",
            headers={"ETag": etag(current)},
            current_etag=etag(current),
        )
