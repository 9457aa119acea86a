from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from shared.pagination import InvalidCursor, decode_cursor, encode_cursor


def test_cursor_round_trip_keeps_types() -> None:
    values = [datetime(2026, 1, 2, 3, 4, tzinfo=UTC), date(2025, 12, 31), uuid.uuid4(), 7, "Ali"]
    types = [datetime, date, uuid.UUID, int, str]
    assert decode_cursor(encode_cursor(values), types) == values


@pytest.mark.parametrize("cursor", ["", "!!!", encode_cursor([1]), encode_cursor(["x", "y"])])
def test_foreign_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, [int, int])
