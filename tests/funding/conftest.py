from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from services.beneficiaries.app import create_app as create_registry_app
from services.funding.app import create_app
from shared.db import Database
from tests.funding.factories import SampleLedger, add_sample_ledger
from tests.funding.test_cycles import Payrolls
from tests.support.apps import serve
from tests.support.funding import REGISTRY_URL, funding_settings, registry_client
from tests.support.registry import as_role, registry_settings
from tests.support.tokens import TokenFactory


@pytest.fixture
def registry_app(tokens: TokenFactory) -> FastAPI:
    return create_registry_app(registry_settings(tokens))


@pytest.fixture
async def registry(
    registry_app: FastAPI, beneficiaries_db: Database
) -> AsyncIterator[httpx.AsyncClient]:
    """The real registry, in-process: tests enroll households through it."""
    async with serve(registry_app, beneficiaries_db, REGISTRY_URL) as client:
        yield client


@pytest.fixture
def funding_app(tokens: TokenFactory, registry_app: FastAPI) -> FastAPI:
    app = create_app(funding_settings(tokens))
    app.state.registry = registry_client(tokens, httpx.ASGITransport(app=registry_app))
    return app


@pytest.fixture
async def funding(
    funding_app: FastAPI, funding_db: Database, registry: httpx.AsyncClient
) -> AsyncIterator[httpx.AsyncClient]:
    """The funding API, calling the registry above."""
    async with serve(funding_app, funding_db, "http://funding.test") as client:
        yield client


@pytest.fixture
def officer(tokens: TokenFactory) -> dict[str, str]:
    return as_role(tokens, "finance_officer")


@pytest.fixture
def approver(tokens: TokenFactory) -> dict[str, str]:
    return as_role(tokens, "finance_approver")


@pytest.fixture
def payrolls(
    funding: httpx.AsyncClient,
    registry: httpx.AsyncClient,
    funding_app: FastAPI,
    funding_db: Database,
    beneficiaries_db: Database,
    tokens: TokenFactory,
    officer: dict[str, str],
    approver: dict[str, str],
) -> Payrolls:
    """The fixtures above a payroll test drives, in one (tests/funding/test_cycles.py)."""
    return Payrolls(
        funding, registry, funding_app, funding_db, beneficiaries_db, tokens, officer, approver
    )


@pytest.fixture
async def ledger(funding_db: Database) -> SampleLedger:
    """The sample ledger (tests/funding/factories.py), committed."""
    async with funding_db.sessionmaker() as session:
        sample = await add_sample_ledger(session)
        await session.commit()
    return sample
