"""The funding service: `create_app()` for uvicorn (`--factory`)."""

from __future__ import annotations

from fastapi import FastAPI

from services.funding.agreements.endpoints import router as agreements_router
from services.funding.audit.endpoints import router as audit_router
from services.funding.clients.registry import RegistryClient
from services.funding.config import FundingSettings, get_settings
from services.funding.cycles.endpoints import router as cycles_router
from services.funding.cycles.job import run_pending as build_pending_payrolls
from services.funding.iati.endpoints import router as iati_router
from services.funding.models import AuditEvent
from services.funding.organisations.endpoints import router as organisations_router
from services.funding.projects.endpoints import router as projects_router
from services.funding.rates.endpoints import router as rates_router
from services.funding.reports.endpoints import router as reports_router
from services.funding.stats.endpoints import router as stats_router
from services.funding.transactions.endpoints import router as transactions_router
from shared.app_factory import create_service_app
from shared.audit import AuditTrail
from shared.http_client import create_http_client
from shared.polling import Poller
from shared.service_client import ServiceClient
from shared.whoami import whoami_router


def registry_client(settings: FundingSettings, app: FastAPI) -> RegistryClient:
    http = create_http_client(
        settings.common.beneficiaries_url,
        timeout=settings.registry_timeout,
        token_provider=app.state.service_token,
    )
    return RegistryClient(ServiceClient(http, "beneficiaries"))


def create_app(settings: FundingSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    audit = AuditTrail(AuditEvent, flush_interval=settings.audit_flush_interval)
    # Builds queued payrolls; tests run the builds themselves (None).
    builder = Poller("payroll-builder", settings.build_poll_interval)

    async def startup(app: FastAPI) -> None:
        # Tests put a registry client of their own (the registry app in-process) first.
        if getattr(app.state, "registry", None) is None:
            app.state.registry = registry_client(settings, app)
        database, registry = app.state.database, app.state.registry
        await audit.start(database)
        await builder.start(lambda: build_pending_payrolls(database, settings, registry, audit))

    async def shutdown(app: FastAPI) -> None:
        await builder.stop()
        await audit.stop()
        await app.state.registry.client.http.aclose()

    app = create_service_app(
        settings,
        title="INDS funding",
        description="Partners, projects, funding agreements, tranches, transactions, "
        "exchange rates and the payment cycles that pay enrolled households.",
        routers=[
            whoami_router("funding"),
            organisations_router,
            projects_router,
            agreements_router,
            transactions_router,
            rates_router,
            cycles_router,
            reports_router,
            stats_router,
            iati_router,
            audit_router,
        ],
        on_startup=[startup],
        on_shutdown=[shutdown],
    )
    app.state.audit = audit
    app.state.builder = builder
    app.state.registry = None
    return app
