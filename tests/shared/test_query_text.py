"""A query parameter that is not text (a NUL character, bytes that are not UTF-8) is refused
with a 422 before any endpoint sees it, as the same value in a body is."""

from __future__ import annotations

import httpx
import pytest

from shared.middleware import unreadable_query
from tests.shared.kit_app import BASE
from tests.support.tokens import TokenFactory


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ("name=Ali%00", "query.name"),
        ("name=%ff", "query.name"),
        ("name=%C3", "query.name"),  # a UTF-8 sequence cut short
        ("limit=5&name=a%00b", "query.name"),
        ("na%00me=x", "query"),  # a name that is not text is not echoed
    ],
)
async def test_a_query_value_that_is_not_text_is_a_422(
    service: httpx.AsyncClient, tokens: TokenFactory, query: str, path: str
) -> None:
    response = await service.get(f"{BASE}/me?{query}", headers=tokens.bearer())
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("/validation-error")
    assert problem["request_id"] == response.headers["x-request-id"]
    assert [error["path"] for error in problem["errors"]] == [path]
    assert "Ali" not in response.text, "the value is not echoed"


async def test_readable_queries_pass(service: httpx.AsyncClient, tokens: TokenFactory) -> None:
    for query in ("name=Hibaaq+Abdy&limit=5", "name=Zeinab%20%C3%A9", "flag&x=", "q=%25"):
        response = await service.get(f"{BASE}/me?{query}", headers=tokens.bearer())
        assert response.status_code == 200, query


def test_raw_bytes_are_checked_as_escapes_are() -> None:
    assert unreadable_query(b"name=\xff") == [
        {
            "path": "query.name",
            "message": "must be UTF-8 text without NUL characters",
            "type": "string_unicode",
        }
    ]
    assert unreadable_query(b"name=a\x00") != []
    assert unreadable_query("name=Caf\u00e9".encode()) == []
    assert unreadable_query(b"") == []
