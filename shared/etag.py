"""Optimistic concurrency over HTTP: a record's `version` is its ETag, and an update sends
it back in `If-Match`. Endpoints turn the header into the version it names; services compare
versions (shared/versioning.py).

An update without `If-Match` is refused (428) rather than applied blindly: the point is that a
client cannot overwrite a change it has not seen. `If-Match: *` is refused for the same reason.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Header, Response

IF_MATCH = "If-Match"
IfMatchHeader = Annotated[
    str | None,
    Header(
        alias=IF_MATCH,
        description='The `ETag` of the version you read, e.g. `"v3"` (one tag).',
    ),
]
# Versions start at 1. A header naming no single strong tag matches no version (412 with
# the current ETag); `If-Match: *` or a blank one names none at all (428, as if absent, where
# a version is needed: a client may not overwrite blindly).
NO_VERSION = 0
BLIND = -1

_ENTITY_TAG = re.compile(r'^(W/)?"?v(\d{1,10})"?$')


def etag(version: int) -> str:
    """The strong entity tag of a record's version: `"v3"`, quotes included."""
    return f'"v{version}"'


def tag_response(response: Response, version: int) -> None:
    """Give `response` the ETag of the record's `version`."""
    response.headers["ETag"] = etag(version)


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


def version_named(header: str | None) -> int | None:
    """The version an `If-Match` header names: None without the header, BLIND for a blank
    one or `*`, NO_VERSION when it names no single strong tag (one record has one version:
    a list of several is answered with the ETag to send)."""
    if header is None:
        return None
    if not header.strip() or header.strip() == "*":
        return BLIND
    versions = if_match_versions(header)
    return versions.pop() if len(versions) == 1 else NO_VERSION


async def _if_match(if_match: IfMatchHeader = None) -> int | None:
    return version_named(if_match)


# An endpoint's `If-Match`, as the version the client changed.
ExpectedVersion = Annotated[int | None, Depends(_if_match)]
