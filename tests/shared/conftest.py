"""The kit is tested through a real service app (the registry's), with a few routes added
that fail on purpose."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter, Depends
from pydantic import BaseModel

from services.beneficiaries.app import create_app
from shared.auth import require_roles
from shared.db import Database, DbSession
from shared.errors import Conflict
from tests.beneficiaries.conftest import registry_settings
from tests.support.apps import serve
from tests.support.tokens import TokenFactory


class Payment(BaseModel):
    household_id: str
    amount: int


probe = APIRouter(prefix="/api/v1/beneficiaries/_probe")


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
    from sqlalchemy import text

    await session.execute(text("CREATE TABLE probe_written (id int)"))
    raise Conflict("refused after writing")


@probe.get("/database-error")
async def database_error(session: DbSession) -> None:
    from sqlalchemy import text

    await session.execute(text("SELECT 1 / 0"))  # an error of ours, not of the input


@pytest.fixture
async def service(
    beneficiaries_db: Database, tokens: TokenFactory
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(registry_settings(tokens, max_body_bytes=2000))
    app.include_router(probe)
    async with serve(app, beneficiaries_db, "http://beneficiaries.test") as client:
        yield client
