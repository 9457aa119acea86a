"""The web console's files, as the gateway serves them: a strict Content-Security-Policy on
each, nothing from another host, nothing inline, nothing outside the console's folder, and
every file shipped in the wheel (declared package data)."""

from __future__ import annotations

import os
import re
from importlib.resources import files
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from services.gateway.console.endpoints import FILES as SERVED
from services.gateway.console.endpoints import STATIC

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted(p.relative_to(STATIC).as_posix() for p in STATIC.rglob("*") if p.is_file())
# A style sheet elsewhere on the machine, of a type the console serves: out of bounds.
_OUTSIDE = Path(os.path.relpath(files("fastapi_offline") / "static" / "swagger-ui.css", STATIC))


async def test_the_page_is_served_under_a_strict_content_security_policy(
    gateway: httpx.AsyncClient,
) -> None:
    response = await gateway.get("/console/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    policy = {
        name: value
        for name, _, value in (
            directive.partition(" ")
            for directive in response.headers["content-security-policy"].split("; ")
        )
    }
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'", "no inline script, no other host"
    assert policy["style-src"] == "'self'", "no inline style, no other host"
    assert policy["frame-ancestors"] == "'none'"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"

    redirect = await gateway.get("/console")
    assert redirect.status_code == 308
    assert redirect.headers["location"] == "console/"


@pytest.mark.parametrize("name", FILES)
async def test_each_file_is_served_with_its_type_and_the_policy(
    gateway: httpx.AsyncClient, name: str
) -> None:
    response = await gateway.get(f"/console/{name}")
    assert response.status_code == 200, name
    expected = {
        ".js": "text/javascript",
        ".css": "text/css",
        ".html": "text/html",
        ".txt": "text/plain",
    }
    kind = expected.get(Path(name).suffix, "image/svg+xml")
    assert response.headers["content-type"].startswith(kind)
    assert "content-security-policy" in response.headers
    assert response.content == (STATIC / name).read_bytes()


@pytest.mark.parametrize(
    "path",
    [
        "/console/../app.py",
        "/console/%2e%2e/endpoints.py",
        "/console/js/..%2f..%2fendpoints.py",
        "/console/nothing.js",
        "/console/js",
        "/console/" + "/".join(quote(part, safe="") for part in _OUTSIDE.parts),
        "/console/" + quote(_OUTSIDE.as_posix(), safe=""),
    ],
)
async def test_nothing_outside_the_consoles_files_is_served(
    gateway: httpx.AsyncClient, path: str
) -> None:
    response = await gateway.get(path)
    assert response.status_code == 404, path
    assert response.headers["content-type"] == "application/problem+json"
    assert "import" not in response.text


# The console's own files; the vendored chart library (vendor/) is checked apart.
OWN_FILES = [name for name in FILES if not name.startswith("vendor/")]
VENDORED = STATIC / "vendor" / "vega.js"


def test_the_files_load_nothing_from_another_host_and_nothing_inline() -> None:
    for name in OWN_FILES:
        text = (STATIC / name).read_text()
        if name.endswith(".svg"):
            continue  # its xmlns is a name, not something fetched
        assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.I), name
        if name.endswith(".html"):
            assert not re.search(r"<script(?![^>]*\bsrc=)", text), f"inline script in {name}"
            assert "<style" not in text and " style=" not in text, f"inline style in {name}"
            assert not re.search(r"\son[a-z]+=", text), f"inline handler in {name}"
        if name.endswith(".js"):
            assert "innerHTML" not in text, f"{name}: text from the API is set as text"
            assert not re.search(r"\b(?:local|session)Storage\s*[.\[]", text), name


def test_the_gateway_serves_every_file_of_the_console() -> None:
    """(That each ships in the wheel: tests/test_packaging.py.)"""
    assert set(SERVED) == set(FILES)


def test_the_chart_library_is_vendored_at_pinned_versions_with_its_licences() -> None:
    """Vega's bundle names a few addresses: XML namespaces, its schema's name, and the
    editor vega-embed links to from its action menu, which the console turns off
    (`actions: false`); the browser tests check that no request leaves the gateway."""
    text = VENDORED.read_text()
    first_line = text.split("\n", 1)[0]
    assert re.match(r"/\*! Vega 6\.[0-9.]+, Vega-Lite 6\.4, vega-embed 7\.[0-9.]+: ", first_line)
    addresses = set(re.findall(r"https?://[a-z0-9./_-]+", text, re.I))
    namespaces = {a for a in addresses if a.startswith("http://www.w3.org/")}
    assert addresses - namespaces == {
        "https://vega.github.io/schema/vega/v6.json",
        "https://vega.github.io/editor/",
        "https://github.com/vega/vega-lite/issues/2415",
    }
    licences = (STATIC / "vendor" / "LICENSES.txt").read_text()
    assert "BSD-3-Clause" in licences and "University of Washington" in licences
    charts = (STATIC / "js" / "charts.js").read_text()
    assert "actions: false" in charts and "ast: true" in charts
