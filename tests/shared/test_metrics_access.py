"""`/metrics` is for the monitoring system, not for anyone: `INDS_METRICS_TOKEN` guards it in
every service (the operations router every app gets), and production without it serves none."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError

from shared.db import Database
from shared.settings import CommonSettings
from tests.shared.kit_app import KitSettings, create_kit_app, kit_settings
from tests.support.apps import serve
from tests.support.tokens import TokenFactory

METRICS_TOKEN = "scrape-token-0123456789abcdef"


def production(tokens: TokenFactory) -> KitSettings:
    return KitSettings(
        common=CommonSettings(environment="production", jwt_public_jwks=tokens.jwks_json)
    )


async def metrics_answer(
    settings: KitSettings, database: Database, headers: dict[str, str] | None = None
) -> httpx.Response:
    async with serve(create_kit_app(settings), database, "http://kit.test") as service:
        await service.get("/health")
        return await service.get("/metrics", headers=headers or {})


async def test_with_the_setting_only_its_bearer_token_reads_metrics(
    monkeypatch: pytest.MonkeyPatch, beneficiaries_db: Database, tokens: TokenFactory
) -> None:
    monkeypatch.setenv("INDS_METRICS_TOKEN", METRICS_TOKEN)
    settings = kit_settings(tokens)

    allowed = await metrics_answer(
        settings, beneficiaries_db, {"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    assert allowed.status_code == 200
    assert "inds_http_requests_total" in allowed.text

    for headers in (
        None,
        {"Authorization": "Bearer not-the-metrics-token"},
        {"Authorization": f"Basic {METRICS_TOKEN}"},
        # A user's valid JWT is not the scrape token: roles do not open /metrics.
        tokens.bearer(roles=["admin"]),
    ):
        refused = await metrics_answer(settings, beneficiaries_db, headers)
        assert refused.status_code == 401, headers
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert "inds_http" not in refused.text


async def test_production_without_the_setting_serves_no_metrics(
    monkeypatch: pytest.MonkeyPatch, beneficiaries_db: Database, tokens: TokenFactory
) -> None:
    monkeypatch.delenv("INDS_METRICS_TOKEN", raising=False)
    hidden = await metrics_answer(production(tokens), beneficiaries_db)
    assert hidden.status_code == 404
    async with serve(create_kit_app(production(tokens)), beneficiaries_db, "http://k") as kit:
        unknown = await kit.get("/no-such-route")
    assert hidden.json()["title"] == unknown.json()["title"], "as if there were no /metrics"

    monkeypatch.setenv("INDS_METRICS_TOKEN", METRICS_TOKEN)
    scraped = await metrics_answer(
        production(tokens), beneficiaries_db, {"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    assert scraped.status_code == 200


@pytest.mark.parametrize("unset", [None, ""])
async def test_development_without_the_setting_stays_open(
    monkeypatch: pytest.MonkeyPatch,
    beneficiaries_db: Database,
    tokens: TokenFactory,
    unset: str | None,
) -> None:
    """`inds up` on a laptop: a local Prometheus or a curl reads them with no set-up. An
    empty value (a compose file's `${INDS_METRICS_TOKEN:-}`) is no value."""
    if unset is None:
        monkeypatch.delenv("INDS_METRICS_TOKEN", raising=False)
    else:
        monkeypatch.setenv("INDS_METRICS_TOKEN", unset)
    assert (await metrics_answer(kit_settings(tokens), beneficiaries_db)).status_code == 200


def test_a_short_metrics_token_stops_the_service_at_start(
    monkeypatch: pytest.MonkeyPatch, tokens: TokenFactory
) -> None:
    monkeypatch.setenv("INDS_METRICS_TOKEN", "short")
    with pytest.raises(ValidationError):
        create_kit_app(kit_settings(tokens))
