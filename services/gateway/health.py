"""The gateway's `/health`: itself, and whether each service says it is ready."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import Request


async def aggregated_health(request: Request) -> dict[str, Any]:
    """Always 200 while the gateway runs (a load balancer should keep sending it traffic:
    one service down does not stop the others); `status` is `degraded` when a service is not
    ready, with each service's state."""
    settings = request.app.state.settings
    client: httpx.AsyncClient = request.app.state.http

    async def probe(url: str) -> str:
        try:
            response = await client.get(url.rstrip("/") + "/ready", timeout=settings.health_timeout)
        except httpx.HTTPError:
            return "unavailable"
        return "ready" if response.status_code == 200 else "not_ready"

    names = list(settings.upstreams())
    states = await asyncio.gather(*(probe(url) for url in settings.upstreams().values()))
    services = dict(zip(names, states, strict=True))
    overall = "ok" if all(state == "ready" for state in states) else "degraded"
    return {"status": overall, "service": "gateway", "services": services}
