"""Uploaded files read whole, within a size limit."""

from __future__ import annotations

from fastapi import UploadFile

from shared.errors import ProblemError


class PayloadTooLarge(ProblemError):
    status, type, title = 413, "payload-too-large", "Payload too large"


async def read_upload(file: UploadFile, max_bytes: int) -> bytes:
    """The file's content; 413 when it is larger than `max_bytes` (reading one byte more
    than allowed tells, without reading the rest)."""
    content = await file.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise PayloadTooLarge(f"The file is larger than the {max_bytes} bytes allowed.")
    return content
