"""`GET /api/v1/<service>/me`: the caller as this service sees its token. Lets an integrator
check a token and its roles against each service."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from shared.auth import CurrentPrincipal


class Caller(BaseModel):
    service: str
    subject: str
    roles: list[str]
    regions: list[str]
    partner_id: str | None


def whoami_router(service: str) -> APIRouter:
    router = APIRouter(prefix=f"/api/v1/{service}", tags=["identity"])

    # One operation id per service in the gateway's merged document.
    @router.get(
        "/me",
        response_model=Caller,
        summary="The caller, as this service sees it",
        name=f"who_am_i_{service}",
    )
    async def me(request: Request, principal: CurrentPrincipal) -> Caller:
        return Caller(
            service=service,
            subject=principal.subject,
            roles=sorted(principal.roles),
            regions=list(principal.regions),
            partner_id=principal.partner_id,
        )

    return router
