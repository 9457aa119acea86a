"""The funding service under test: its settings (the test's key trusted, the payroll
builder off: tests build payrolls themselves) and its registry client, with a service
token."""

from __future__ import annotations

import httpx

from services.funding.clients.registry import RegistryClient
from services.funding.config import FundingSettings
from shared.http_client import create_http_client
from shared.service_client import ServiceClient
from shared.settings import CommonSettings
from tests.support.tokens import TokenFactory

REGISTRY_URL = "http://beneficiaries.test"


def funding_settings(tokens: TokenFactory, **overrides: object) -> FundingSettings:
    common = CommonSettings(environment="test", jwt_public_jwks=tokens.jwks_json)
    overrides.setdefault("audit_flush_interval", None)
    overrides.setdefault("build_poll_interval", None)
    return FundingSettings(common=common, **overrides)  # type: ignore[arg-type]


class ServiceToken:
    """What the gateway would give the funding service: a token with the service role."""

    def __init__(self, tokens: TokenFactory) -> None:
        self.tokens = tokens

    async def token(self) -> str:
        return self.tokens.token(sub="client:svc-funding", roles=["service"])


def registry_client(tokens: TokenFactory, transport: httpx.AsyncBaseTransport) -> RegistryClient:
    """A registry client with a service token, reaching the registry through `transport`:
    the registry app in-process (`httpx.ASGITransport(app=registry_app)`), a stand-in, or one
    that breaks."""
    http = create_http_client(
        REGISTRY_URL, token_provider=ServiceToken(tokens), transport=transport
    )
    return RegistryClient(ServiceClient(http, "beneficiaries"))
