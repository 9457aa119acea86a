"""Optimistic concurrency over HTTP: a record's `version` is its ETag, and an update must
send it back in `If-Match`.

An update without `If-Match` is refused (428) rather than applied blindly: the point is that a
client cannot overwrite a change it has not seen. `If-Match: *` is refused for the same reason.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Header

from shared.errors import PreconditionFailed, PreconditionRequired

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='The `ETag` of the version you read, e.g. `"v3"`.',
    ),
]

_ENTITY_TAG = re.compile(r'^(W/)?"?v(\d{1,10})"?$')


def etag(version: int) -> str:
    """The strong entity tag of a record's version: `"v3"`, quotes included."""
    return f'"v{version}"'


def if_match_versions(header: str) -> set[int]:
    """The versions a strong `If-Match` list names. Weak tags (`W/"v3"`) never match a
    strong comparison (RFC 9110 §13.1.1), so they are dropped; a tag without quotes (`v3`)
    is accepted because clients often strip them."""
    versions: set[int] = set()
    for part in header.split(","):
        match = _ENTITY_TAG.match(part.strip())
        if match and not match.group(1):
            versions.add(int(match.group(2)))
    return versions


def require_if_match(header: str | None, current_version: int) -> None:
    """Raise 428 when `If-Match` is absent (or `*`), 412 when it does not name
    `current_version`; the 412 carries the current `ETag` so the client can re-read."""
    if header is None or not header.strip() or header.strip() == "*":
        raise PreconditionRequired(
            "Send If-Match with the ETag of the version you read (GET it first)."
        )
    if current_version not in if_match_versions(header):
        raise PreconditionFailed(
            "The record changed since you read it: read it again and reapply your change.",
            headers={"ETag": etag(current_version)},
            current_etag=etag(current_version),
        )
