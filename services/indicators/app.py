"""The indicators service: `create_app()` for uvicorn (`--factory`)."""

from __future__ import annotations

from fastapi import FastAPI

from services.indicators.catalog.endpoints import router as catalog_router
from services.indicators.clients.stats import StatsClient
from services.indicators.config import IndicatorsSettings, get_settings
from services.indicators.context import Sources
from services.indicators.definitions.endpoints import router as definitions_router
from services.indicators.frameworks.endpoints import router as frameworks_router
from services.indicators.models import AuditEvent
from services.indicators.pack.endpoints import router as pack_router
from services.indicators.plans.endpoints import router as plans_router
from services.indicators.reference.endpoints import router as reference_router
from services.indicators.snapshots.endpoints import router as snapshots_router
from services.indicators.snapshots.job import run_pending as run_pending_snapshots
from services.indicators.targets.endpoints import router as targets_router
from services.indicators.values.endpoints import router as values_router
from shared.app_factory import create_service_app
from shared.audit import AuditTrail
from shared.http_client import create_http_client
from shared.polling import Poller
from shared.service_client import ServiceClient
from shared.whoami import whoami_router


def stats_sources(settings: IndicatorsSettings, app: FastAPI) -> Sources:
    def client(url: str, service: str) -> StatsClient:
        http = create_http_client(
            url, timeout=settings.stats_timeout, token_provider=app.state.service_token
        )
        return StatsClient(ServiceClient(http, service), f"/api/v1/{service}")

    return Sources(
        registry=client(settings.common.beneficiaries_url, "beneficiaries"),
        funding=client(settings.common.funding_url, "funding"),
    )


def create_app(settings: IndicatorsSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    audit = AuditTrail(AuditEvent, flush_interval=settings.audit_flush_interval)
    # Runs queued snapshots; tests run them themselves (None).
    snapshot_worker = Poller("snapshot-worker", settings.snapshot_poll_interval)

    async def startup(app: FastAPI) -> None:
        # Tests put sources of their own (the registry and funding apps in-process) first.
        if getattr(app.state, "sources", None) is None:
            app.state.sources = stats_sources(settings, app)
        database = app.state.database
        await audit.start(database)
        # The sources as they are at each run (tests may swap them).
        await snapshot_worker.start(
            lambda: run_pending_snapshots(database, app.state.sources, settings)
        )

    async def shutdown(app: FastAPI) -> None:
        await snapshot_worker.stop()
        await audit.stop()
        for source in app.state.sources.all():
            await source.client.http.aclose()

    app = create_service_app(
        settings,
        title="INDS indicators",
        description="Monitoring and evaluation: the results framework, indicator definitions "
        "in a safe expression language, the reference data they use, and the priority "
        "action plans with their execution.",
        routers=[
            whoami_router("indicators"),
            catalog_router,
            frameworks_router,
            pack_router,  # before /definitions/{code}
            definitions_router,
            reference_router,
            plans_router,
            targets_router,
            values_router,
            snapshots_router,
        ],
        on_startup=[startup],
        on_shutdown=[shutdown],
    )
    app.state.audit = audit
    app.state.snapshot_worker = snapshot_worker
    app.state.sources = None
    return app
