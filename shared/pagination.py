"""Keyset pagination: `limit` and an opaque `cursor` holding the last row's sort key.

The order always ends with the id, so it is total and stable under concurrent inserts;
no OFFSET, so page 1,000 costs what page 1 costs.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

import orjson
from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select, tuple_
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.elements import ColumnElement

from shared.errors import ProblemError

T = TypeVar("T")
Selected = TypeVar("Selected", bound=Select[*tuple[Any, ...]])
DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class InvalidCursor(ProblemError):
    status, type, title = 400, "invalid-cursor", "Invalid cursor"


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class PageParams(BaseModel):
    limit: int
    cursor: str | None


async def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(description="`next_cursor` from the previous page")] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor)


def encode_cursor(values: Sequence[Any]) -> str:
    raw = orjson.dumps([_encode_value(v) for v in values])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, types: Sequence[type]) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(raw, list) or len(raw) != len(types):
            raise ValueError("wrong shape")
        return [_decode_value(value, kind) for value, kind in zip(raw, types, strict=True)]
    except (ValueError, TypeError) as exc:
        raise InvalidCursor("The cursor is not one this API issued.") from exc


def keyset_page(
    statement: Selected,
    order_by: Sequence[ColumnElement[Any] | QueryableAttribute[Any]],
    params: PageParams,
    types: Sequence[type],
    *,
    descending: bool = False,
) -> Selected:
    """`statement` ordered by `order_by` (ascending, or all descending), after the cursor,
    one row more than the page so the caller knows whether there is a next page."""
    if params.cursor:
        after = decode_cursor(params.cursor, types)
        key = tuple_(*order_by)
        statement = statement.where(key < tuple_(*after) if descending else key > tuple_(*after))
    ordering = [column.desc() for column in order_by] if descending else list(order_by)
    return statement.order_by(*ordering).limit(params.limit + 1)


def page_of(rows: Sequence[T], params: PageParams, key: Any) -> Page[T]:
    """Cut the extra row off and turn the last row's key into the next cursor."""
    items = list(rows[: params.limit])
    next_cursor = encode_cursor(key(items[-1])) if len(rows) > params.limit else None
    return Page[Any](items=items, next_cursor=next_cursor)


def _encode_value(value: Any) -> Any:
    if isinstance(value, uuid.UUID | datetime | date | Decimal):
        return str(value)
    return value


def _decode_value(value: Any, kind: type) -> Any:
    if value is None:
        return None
    if kind is uuid.UUID:
        return uuid.UUID(value)
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is date:
        return date.fromisoformat(value)
    if kind is Decimal:
        return Decimal(value)
    if kind in (int, str, float):
        if not isinstance(value, kind):
            raise ValueError("wrong type")
        return value
    raise ValueError("unsupported cursor type")
