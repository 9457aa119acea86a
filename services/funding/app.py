"""The funding service: `create_app()` for uvicorn (`--factory`)."""

from __future__ import annotations

from fastapi import FastAPI

from services.funding.config import FundingSettings, get_settings
from shared.app_factory import create_service_app
from shared.whoami import whoami_router


def create_app(settings: FundingSettings | None = None) -> FastAPI:
    return create_service_app(
        settings or get_settings(),
        title="INDS funding",
        description="Partners, projects, funding agreements, tranches, transactions, "
        "exchange rates and payment cycles.",
        routers=[whoami_router("funding")],
    )
