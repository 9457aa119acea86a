from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from services.beneficiaries.app import create_app
from services.beneficiaries.config import BeneficiariesSettings
from shared.db import Database
from shared.settings import CommonSettings
from tests.support.apps import serve
from tests.support.tokens import TokenFactory


def registry_settings(tokens: TokenFactory, **overrides: object) -> BeneficiariesSettings:
    common = CommonSettings(environment="test", jwt_public_jwks=tokens.jwks_json)
    overrides.setdefault("audit_flush_interval", None)  # tests flush explicitly
    overrides.setdefault("pmt_job_poll_interval", None)
    overrides.setdefault("import_poll_interval", None)
    return BeneficiariesSettings(common=common, **overrides)


@pytest.fixture
def registry_app(tokens: TokenFactory) -> FastAPI:
    return create_app(registry_settings(tokens))


@pytest.fixture
async def registry(
    registry_app: FastAPI, beneficiaries_db: Database
) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(registry_app, beneficiaries_db, "http://beneficiaries.test") as client:
        yield client


def as_role(tokens: TokenFactory, *roles: str, regions: list[str] | None = None) -> dict[str, str]:
    return tokens.bearer(sub=f"user:{roles[0]}", roles=list(roles), regions=regions or [])


@pytest.fixture
def registrar(tokens: TokenFactory) -> dict[str, str]:
    return as_role(tokens, "registrar")


@pytest.fixture
def manager(tokens: TokenFactory) -> dict[str, str]:
    return as_role(tokens, "data_manager")
