"""The docs pages work on a network with no internet: everything they load is served here."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

BASE = "http://gateway.test"
# Where an HTML page can make the browser fetch something.
_REFERENCES = re.compile(r"""(?:src|href|spec-url|url)\s*[=:]\s*["']([^"']+)["']""", re.I)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_docs_page_loads_nothing_from_another_host(
    gateway: httpx.AsyncClient, page: str
) -> None:
    response = await gateway.get(page)
    assert response.status_code == 200
    html = response.text

    hosts = {urlsplit(url).netloc for url in re.findall(r"(?:https?:)?//[^\s\"'<>)]+", html)}
    assert hosts == set(), f"{page} names other hosts: {hosts}"
    assert "validatorUrl" not in html or '"validatorUrl": null' in html

    references = _REFERENCES.findall(html)
    assert "/openapi.json" in references
    assets = [ref for ref in references if ref != "/openapi.json"]
    assert assets, "the page loads its scripts from somewhere"
    for reference in assets:
        assert urlsplit(urljoin(BASE + page, reference)).netloc == "gateway.test"
        asset = await gateway.get(reference)
        assert asset.status_code == 200, reference
        assert len(asset.content) > 1000, f"{reference} is a real file"
        if reference.endswith(".js"):
            assert asset.headers["content-type"].startswith("text/javascript")
        elif reference.endswith(".css"):
            assert asset.headers["content-type"].startswith("text/css")


async def test_swagger_ui_is_a_version_that_reads_openapi_3_1(gateway: httpx.AsyncClient) -> None:
    """The merged document is OpenAPI 3.1: Swagger UI before 5 shows it as unsupported."""
    bundle = (await gateway.get("/docs/assets/swagger-ui-bundle.js")).text
    version = re.search(r'PACKAGE_VERSION:"(\d+)\.', bundle)
    assert version is not None and int(version.group(1)) >= 5
    assert (await gateway.get("/openapi.json")).json()["openapi"].startswith("3.1")


async def test_only_the_pages_assets_are_served(gateway: httpx.AsyncClient) -> None:
    for name in ("core.py", "..%2Fcore.py", "__init__.py", "nothing.js"):
        response = await gateway.get(f"/docs/assets/{name}")
        assert response.status_code == 404, name
        assert response.headers["content-type"] == "application/problem+json"
