"""The merged OpenAPI document and the pages that render it: Swagger UI at `/docs`, ReDoc at
`/redoc`. Their scripts and styles come from the `fastapi-offline` package and are served
from here, so the pages work on a ministry network with no internet (FastAPI's defaults load
them from a CDN and the favicon from fastapi.tiangolo.com)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from services.gateway.access.openapi import describe_access
from services.gateway.docs.openapi import merge
from shared.errors import NotFound

router = APIRouter(include_in_schema=False)
TITLE = "INDS platform API"
ASSETS = "/docs/assets"
_ASSET_DIR = Path(str(files("fastapi_offline") / "static"))
# The files the pages use, by name: nothing else of the package's folder is served.
_ASSET_TYPES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}
# The assets change only with the package's version, which changes their ETag too.
_ASSET_CACHE = "public, max-age=86400"


@router.get("/openapi.json")
async def openapi(request: Request) -> dict[str, Any]:
    app = request.app
    services = await app.state.service_specs.get(app.state.http)
    return describe_access(merge(app.openapi(), services))


@router.get("/docs")
async def docs(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    return get_swagger_ui_html(
        openapi_url=f"{root}/openapi.json",
        title=TITLE,
        swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{root}{ASSETS}/favicon.png",
        # Swagger UI would otherwise send the document's URL to validator.swagger.io.
        swagger_ui_parameters={"validatorUrl": None},
    )


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    return get_redoc_html(
        openapi_url=f"{root}/openapi.json",
        title=TITLE,
        redoc_js_url=f"{root}{ASSETS}/redoc.standalone.js",
        redoc_favicon_url=f"{root}{ASSETS}/favicon.png",
        with_google_fonts=False,
    )


@router.get(ASSETS + "/{name}")
async def docs_asset(name: str) -> FileResponse:
    media_type = _ASSET_TYPES.get(name)
    if media_type is None:
        raise NotFound("No such documentation asset.")
    return FileResponse(
        _ASSET_DIR / name, media_type=media_type, headers={"Cache-Control": _ASSET_CACHE}
    )
