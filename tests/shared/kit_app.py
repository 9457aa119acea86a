"""A service made of the kit alone, for the kit's tests: `create_service_app` with `/me`
and a few routes that fail on purpose, trusting the tests' signing key."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI
from pydantic import BaseModel
from pydantic_settings import SettingsConfigDict
from sqlalchemy import text

from shared.app_factory import create_service_app
from shared.auth import require_roles
from shared.db import DbSession
from shared.errors import Conflict
from shared.settings import CommonSettings, ServiceSettings
from shared.whoami import whoami_router
from tests.support.tokens import TokenFactory

SERVICE = "kit"
BASE = f"/api/v1/{SERVICE}"
PROBE = f"{BASE}/_probe"


class KitSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INDS_KIT_", extra="ignore")

    service_name: str = SERVICE


def kit_settings(tokens: TokenFactory, **overrides: object) -> KitSettings:
    common = CommonSettings(environment="test", jwt_public_jwks=tokens.jwks_json)
    return KitSettings(common=common, **overrides)


class Payment(BaseModel):
    household_id: str
    amount: int


probe = APIRouter(prefix=PROBE)


@probe.post("/payments")
async def accept_payment(payment: Payment) -> dict[str, int]:
    return {"amount": payment.amount}


@probe.get("/conflict")
async def conflict() -> None:
    raise Conflict("Household DJ-2026-000123 is already enrolled.", existing_id="abc")


@probe.get("/crash")
async def crash() -> None:
    raise RuntimeError("secret personal detail: Fatouma Said, born 1988")


@probe.get("/finance", dependencies=[Depends(require_roles("finance_officer"))])
async def finance_only() -> dict[str, str]:
    return {"ok": "yes"}


@probe.post("/write-then-fail")
async def write_then_fail(session: DbSession) -> None:
    await session.execute(text("CREATE TABLE probe_written (id int)"))
    raise Conflict("refused after writing")


@probe.get("/database-error")
async def database_error(session: DbSession) -> None:
    await session.execute(text("SELECT 1 / 0"))  # an error of ours, not of the input


def create_kit_app(settings: KitSettings) -> FastAPI:
    return create_service_app(
        settings,
        title="INDS kit probe",
        description="The shared kit alone, with routes that fail on purpose.",
        routers=[whoami_router(SERVICE), probe],
    )
