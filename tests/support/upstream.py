"""A real HTTP server on a free port, in the test's event loop: what the gateway proxies to
in its own tests (the end-to-end tests use the real services)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from inds.stack import free_port


@asynccontextmanager
async def running(app, port: int | None = None, lifespan: str = "off") -> AsyncIterator[str]:
    port = port or free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan=lifespan
    )
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def _echo(request: Request) -> Response:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
    return JSONResponse(
        {
            "method": request.method,
            "path": request.url.path,
            "raw_path": request.scope["raw_path"].decode(),
            "query": request.scope["query_string"].decode(),
            "headers": {k: v for k, v in request.headers.items()},
            "body_size": size,
        },
        headers={"X-Upstream": "echo", "Set-Cookie": "a=b"},
    )


async def _slow(request: Request) -> Response:
    await asyncio.sleep(float(request.query_params.get("seconds", "5")))
    return JSONResponse({"slept": True})


async def _stream(request: Request) -> Response:
    chunks = int(request.query_params.get("chunks", "10"))
    size = int(request.query_params.get("size", "1024"))

    async def body() -> AsyncIterator[bytes]:
        for index in range(chunks):
            yield bytes([65 + index % 26]) * size

    return StreamingResponse(body(), media_type="application/octet-stream")


async def _problem(_: Request) -> Response:
    return JSONResponse(
        {"type": "https://example.org/conflict", "title": "Conflict", "status": 409, "detail": "x"},
        status_code=409,
        media_type="application/problem+json",
    )


_refused_once: set[str] = set()


async def _flaky(request: Request) -> Response:
    """503 with Retry-After the first time a key is asked for, then an answer."""
    key = request.method + request.query_params.get("key", "")
    if key not in _refused_once:
        _refused_once.add(key)
        return JSONResponse(
            {"type": "https://example.org/database-unavailable", "title": "x", "status": 503},
            status_code=503,
            media_type="application/problem+json",
            headers={"Retry-After": "1"},
        )
    return JSONResponse({"answered": True})


# The bearer tokens the gateway sent for admin areas (checked by the gateway's tests).
admin_area_tokens: list[str] = []
REGIONS = ["DJ-AR", "DJ-AS", "DJ-DI", "DJ-DJ", "DJ-OB", "DJ-TA"]


async def _admin_areas(request: Request) -> Response:
    """The registry's regions (`?level=1`), for a caller with a bearer token."""
    authorization = request.headers.get("authorization", "")
    if not authorization.startswith("Bearer "):
        return JSONResponse({"status": 401}, status_code=401)
    if request.query_params.get("level") != "1":
        return JSONResponse({"status": 400}, status_code=400)
    admin_area_tokens.append(authorization.removeprefix("Bearer "))
    return JSONResponse(
        [{"code": code, "name": code, "level": 1, "parent_code": None} for code in REGIONS]
    )


async def _ready(_: Request) -> Response:
    return JSONResponse({"status": "ready"})


OPENAPI = {
    "openapi": "3.1.0",
    "info": {"title": "upstream", "version": "1"},
    "paths": {
        "/api/v1/beneficiaries/echo": {
            "get": {
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Page"}}
                        },
                    }
                }
            }
        },
        "/health": {"get": {"responses": {"200": {"description": "ok"}}}},
    },
    "components": {"schemas": {"Page": {"type": "object", "title": "Registry page"}}},
}


async def _openapi(_: Request) -> Response:
    return JSONResponse(OPENAPI)


PREFIX = "/api/v1/beneficiaries"
upstream_app = Starlette(
    routes=[
        Route(f"{PREFIX}/echo", _echo, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
        Route(f"{PREFIX}/echo/{{rest:path}}", _echo, methods=["GET", "POST"]),
        Route(f"{PREFIX}/slow", _slow),
        Route(f"{PREFIX}/stream", _stream),
        Route(f"{PREFIX}/problem", _problem),
        Route(f"{PREFIX}/flaky", _flaky, methods=["GET", "POST"]),
        Route(f"{PREFIX}/admin-areas", _admin_areas),
        Route("/ready", _ready),
        Route("/openapi.json", _openapi),
    ]
)
