"""Streamed answers that close their body at once when sending stops, and uploads read
within a size limit."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import UploadFile

from shared.streaming import ClosingStreamingResponse
from shared.uploads import PayloadTooLarge, read_upload


async def test_the_body_is_closed_as_soon_as_the_client_is_gone() -> None:
    closed: list[str] = []

    async def body() -> AsyncIterator[bytes]:
        try:
            for n in range(10):
                yield f"chunk {n}\n".encode()
        finally:
            closed.append("closed")  # where a cursor is closed, an audit row written

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body" and len(sent) == 3:
            raise OSError("client disconnected")
        sent.append(message)

    response = ClosingStreamingResponse(body(), media_type="text/plain")
    with pytest.raises(OSError, match="disconnected"):
        await response.stream_response(send)  # type: ignore[arg-type]
    assert closed == ["closed"], "closed then and there, not when garbage collected"


async def test_an_upload_is_read_whole_within_its_limit() -> None:
    content = b"line_reference,status,date\n"
    assert await read_upload(UploadFile(io.BytesIO(content)), len(content)) == content
    with pytest.raises(PayloadTooLarge) as refused:
        await read_upload(UploadFile(io.BytesIO(content)), len(content) - 1)
    assert refused.value.status == 413
    assert f"larger than the {len(content) - 1} bytes allowed" in str(refused.value)
