"""A download's place in the OpenAPI document: its 200 is the file's media type, not the
JSON FastAPI assumes for a route that returns a `Response`."""

from __future__ import annotations

from typing import Any

from fastapi import Response


def file_answer(media_type: str, description: str) -> dict[str, Any]:
    """Keyword arguments of a route (`@router.get(path, **file_answer(...))`) whose answer
    is a file of `media_type`."""
    return {
        "response_class": Response,
        "responses": {200: {"description": description, "content": {media_type: {}}}},
    }
