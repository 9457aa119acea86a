"""The registry service: `create_app()` for uvicorn (`--factory`)."""

from __future__ import annotations

import anyio
from fastapi import FastAPI

from services.beneficiaries.areas import repository as areas
from services.beneficiaries.areas.endpoints import router as areas_router
from services.beneficiaries.audit.endpoints import router as audit_router
from services.beneficiaries.callbacks.worker import callback_client, deliver_due, forget_finished
from services.beneficiaries.config import BeneficiariesSettings, get_settings
from services.beneficiaries.dci.endpoints import async_router as dci_async_router
from services.beneficiaries.dci.endpoints import dci_error_handler
from services.beneficiaries.dci.endpoints import router as dci_router
from services.beneficiaries.dci.messages import DciError
from services.beneficiaries.dci.signatures import RegistrySigner
from services.beneficiaries.dedup.endpoints import router as dedup_router
from services.beneficiaries.exports.endpoints import router as exports_router
from services.beneficiaries.households.endpoints import router as households_router
from services.beneficiaries.imports.endpoints import router as imports_router
from services.beneficiaries.imports.job import run_pending as run_pending_imports
from services.beneficiaries.individuals.endpoints import router as individuals_router
from services.beneficiaries.matches.endpoints import router as matches_router
from services.beneficiaries.matches.job import run_pending as run_pending_matches
from services.beneficiaries.models import AuditEvent
from services.beneficiaries.partners.endpoints import router as partners_router
from services.beneficiaries.pmt.endpoints import router as pmt_router
from services.beneficiaries.pmt.worker import run_pending_jobs
from services.beneficiaries.programmes.endpoints import router as programmes_router
from services.beneficiaries.stats.endpoints import router as stats_router
from services.beneficiaries.sync.endpoints import router as sync_router
from shared.app_factory import create_service_app
from shared.audit import AuditTrail
from shared.polling import Poller
from shared.whoami import whoami_router


def create_app(settings: BeneficiariesSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    audit = AuditTrail(AuditEvent, flush_interval=settings.audit_flush_interval)
    # Recomputes scores after a formula is activated; tests run jobs themselves (None).
    pmt_worker = Poller("pmt-worker", settings.pmt_job_poll_interval)
    import_worker = Poller("import-worker", settings.import_poll_interval)
    match_worker = Poller("match-worker", settings.match_poll_interval)
    callback_worker = Poller("dci-callback-worker", settings.dci_callback_poll_interval)
    retention_worker = Poller("dci-retention", settings.dci_retention_poll_interval)

    async def startup(app: FastAPI) -> None:
        database = app.state.database
        async with database.sessionmaker() as session, session.begin():
            await areas.load_reference_file(session)
        await anyio.Path(settings.imports_folder()).mkdir(parents=True, exist_ok=True)
        await audit.start(database)
        await pmt_worker.start(lambda: run_pending_jobs(database))
        await import_worker.start(lambda: run_pending_imports(database, settings, audit))
        await match_worker.start(lambda: run_pending_matches(database, settings))
        callbacks = app.state.callback_client = callback_client(settings)
        await callback_worker.start(
            lambda: deliver_due(database, settings, app.state.dci_signer, callbacks, audit)
        )
        await retention_worker.start(lambda: forget_finished(database, settings))

    async def shutdown(app: FastAPI) -> None:
        await retention_worker.stop()
        await callback_worker.stop()
        await app.state.callback_client.aclose()
        await match_worker.stop()
        await import_worker.stop()
        await pmt_worker.stop()
        await audit.stop()

    app = create_service_app(
        settings,
        title="INDS beneficiaries",
        description="The social registry: households and individuals (refugees included), "
        "identifiers, proxy-means-test scores, programmes and enrollments.",
        routers=[
            whoami_router("beneficiaries"),
            areas_router,
            households_router,
            individuals_router,
            dedup_router,
            audit_router,
            stats_router,
            pmt_router,
            programmes_router,
            imports_router,
            exports_router,
            sync_router,
            partners_router,
            dci_router,
            dci_async_router,
            matches_router,
        ],
        on_startup=[startup],
        on_shutdown=[shutdown],
    )
    app.add_exception_handler(DciError, dci_error_handler)
    signing_key = settings.dci_signing_key
    app.state.dci_signer = RegistrySigner.from_setting(
        signing_key.get_secret_value() if signing_key else None, settings.dci_registry_id
    )
    app.state.audit = audit
    app.state.pmt_worker = pmt_worker
    app.state.import_worker = import_worker
    app.state.match_worker = match_worker
    app.state.callback_worker = callback_worker
    return app
