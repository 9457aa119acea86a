from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from services.beneficiaries.app import create_app
from shared.db import Database
from tests.support.apps import serve
from tests.support.registry import as_role, registry_settings
from tests.support.tokens import TokenFactory


@pytest.fixture
def registry_app(tokens: TokenFactory) -> FastAPI:
    return create_app(registry_settings(tokens))


@pytest.fixture
async def registry(
    registry_app: FastAPI, beneficiaries_db: Database
) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(registry_app, beneficiaries_db, "http://beneficiaries.test") as client:
        yield client


@pytest.fixture
def registrar(tokens: TokenFactory) -> dict[str, str]:
    return as_role(tokens, "registrar")


@pytest.fixture
def manager(tokens: TokenFactory) -> dict[str, str]:
    return as_role(tokens, "data_manager")
