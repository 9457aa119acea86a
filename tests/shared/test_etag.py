"""If-Match parsing: what clients send back for the version they read."""

from __future__ import annotations

import pytest

from shared.errors import PreconditionFailed, PreconditionRequired
from shared.etag import etag, if_match_versions, require_if_match


def test_the_etag_of_a_version_is_a_quoted_strong_tag() -> None:
    assert etag(3) == '"v3"'


@pytest.mark.parametrize(
    ("header", "versions"),
    [('"v3"', {3}), ("v3", {3}), ('"v2", "v3"', {2, 3}), ('W/"v3"', set()), ('"3"', set())],
)
def test_if_match_names_versions(header: str, versions: set[int]) -> None:
    assert if_match_versions(header) == versions


def test_require_if_match() -> None:
    require_if_match('"v4"', 4)
    for absent in (None, "", "*"):
        with pytest.raises(PreconditionRequired):
            require_if_match(absent, 4)
    with pytest.raises(PreconditionFailed) as stale:
        require_if_match('"v3"', 4)
    assert stale.value.headers["ETag"] == '"v4"'
