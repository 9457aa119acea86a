"""The indicators service: `create_app()` for uvicorn (`--factory`)."""

from __future__ import annotations

from fastapi import FastAPI

from services.indicators.config import IndicatorsSettings, get_settings
from shared.app_factory import create_service_app
from shared.whoami import whoami_router


def create_app(settings: IndicatorsSettings | None = None) -> FastAPI:
    return create_service_app(
        settings or get_settings(),
        title="INDS indicators",
        description="Monitoring and evaluation: indicator definitions, reference data, "
        "targets and computed results.",
        routers=[whoami_router("indicators")],
    )
