"""If-Match parsing: what clients send back for the version they read."""

from __future__ import annotations

import pytest

from shared.errors import PreconditionFailed, PreconditionRequired
from shared.etag import BLIND, NO_VERSION, etag, if_match_versions, version_named
from shared.versioning import require_version


def test_the_etag_of_a_version_is_a_quoted_strong_tag() -> None:
    assert etag(3) == '"v3"'


@pytest.mark.parametrize(
    ("header", "versions"),
    [('"v3"', {3}), ("v3", {3}), ('"v2", "v3"', {2, 3}), ('W/"v3"', set()), ('"3"', set())],
)
def test_if_match_names_versions(header: str, versions: set[int]) -> None:
    assert if_match_versions(header) == versions


def test_if_match_names_the_version_changed() -> None:
    assert version_named('"v4"') == 4
    assert version_named(None) is None
    for blind in ("", " ", "*"):
        assert version_named(blind) == BLIND
    # Weak tags, other tags and several versions at once name no version a change can be
    # made on.
    for unusable in ('W/"v4"', '"4"', '"v3", "v4"'):
        assert version_named(unusable) == NO_VERSION


def test_a_change_needs_the_current_version() -> None:
    require_version(4, 4)
    for absent in (None, BLIND):
        with pytest.raises(PreconditionRequired):
            require_version(absent, 4)
    for stale_version in (3, NO_VERSION):
        with pytest.raises(PreconditionFailed) as stale:
            require_version(stale_version, 4)
        assert stale.value.headers["ETag"] == '"v4"'
        assert stale.value.extensions["current_etag"] == '"v4"'
