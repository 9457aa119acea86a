"""`/console/`: the web console's page, scripts and styles, shipped inside this package
(`static/`, declared as package data) and served under a strict Content-Security-Policy.

Nothing the page loads comes from anywhere but the gateway (ministry offices may be cut off
from the internet), no script or style is inline, and the page cannot be framed. The page
calls the public API itself, with the token of whoever signed in: it can do nothing the API
does not allow that person.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse

from shared.errors import NotFound

router = APIRouter(prefix="/console", include_in_schema=False)
STATIC = Path(str(files("services.gateway.console") / "static"))

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    # Revalidated each time (the ETag makes that cheap): a new release is seen at once.
    "Cache-Control": "no-cache",
}
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
}


# What is served, listed once at start: a request names one of these files or gets a 404,
# so no path can lead out of the folder, and no request touches the disk to find out.
FILES = {
    path.relative_to(STATIC).as_posix(): path
    for path in sorted(STATIC.rglob("*"))
    if path.is_file() and path.suffix in MEDIA_TYPES
}


def _file(relative: str) -> FileResponse:
    path = FILES.get(relative)
    if path is None:
        raise NotFound("No such console file.")
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix], headers=SECURITY_HEADERS)


@router.get("")
async def console_root() -> RedirectResponse:
    # The page's relative URLs (its scripts, styles) resolve under `/console/`.
    return RedirectResponse("console/", status_code=308)


@router.get("/")
async def console_page() -> FileResponse:
    return _file("index.html")


@router.get("/{relative:path}")
async def console_asset(relative: str) -> FileResponse:
    return _file(relative)
