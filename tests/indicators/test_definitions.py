"""Indicator definitions: checked against what the real registry and funding services
publish (`/stats/catalog`, asked over HTTP) and the reference data, versioned on change."""

from __future__ import annotations

from decimal import Decimal

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from services.indicators.models import Indicator, IndicatorVersion
from shared.db import Database
from tests.funding.payloads import create_programme
from tests.indicators.conftest import FUNDING_URL, stats_client
from tests.indicators.payloads import BASE, DEFINITIONS, definition_body
from tests.support.registry import as_role
from tests.support.tokens import TokenFactory


async def _indicator_rows(database: Database) -> tuple[int, int]:
    async with database.sessionmaker() as session:
        indicators = await session.scalar(select(func.count()).select_from(Indicator))
        versions = await session.scalar(select(func.count()).select_from(IndicatorVersion))
    return int(indicators or 0), int(versions or 0)


async def test_the_catalogue_merges_the_services_and_the_reference_data(
    indicators: httpx.AsyncClient, analyst: dict[str, str]
) -> None:
    answer = await indicators.get(f"{BASE}/catalog", headers=analyst)
    assert answer.status_code == 200, answer.text
    measures = {measure["name"]: measure for measure in answer.json()["measures"]}
    assert measures["households"]["source"] == "beneficiaries"
    assert measures["disbursed"]["source"] == "funding"
    assert measures["population"]["source"] == "reference"
    regions = {d["name"]: d["values"] for d in measures["individuals"]["dimensions"]}["region"]
    assert "DJ-OB" in regions
    funding_dimensions = {d["name"] for d in measures["disbursed"]["dimensions"]}
    assert "partner" in funding_dimensions and "region" not in funding_dimensions


async def test_an_officer_defines_an_indicator_over_registry_and_reference_measures(
    indicators: httpx.AsyncClient,
    registry: httpx.AsyncClient,
    tokens: TokenFactory,
    officer: dict[str, str],
    analyst: dict[str, str],
) -> None:
    await create_programme(registry, tokens, "pnsf")
    body = definition_body(
        "COV_PNSF_F",
        numerator="#{individuals|programme=pnsf, sex=F}",
        denominator="#{population|sex=F}",
        disaggregations=["region", "legal_status"],
        sdg_code="1.3.1",
    )
    created = await indicators.post(DEFINITIONS, json=body, headers=officer)
    assert created.status_code == 201, created.text
    assert created.headers["etag"] == '"v1"'
    assert created.headers["location"] == f"{DEFINITIONS}/COV_PNSF_F"
    definition = created.json()
    assert definition["version"] == 1
    assert definition["measures"] == ["individuals", "population"]
    assert Decimal(definition["factor"]) == 100

    shown = await indicators.get(f"{DEFINITIONS}/COV_PNSF_F", headers=analyst)
    assert shown.status_code == 200
    assert shown.json() == definition


async def test_expressions_that_name_what_nobody_publishes_are_422_at_their_position(
    indicators: httpx.AsyncClient, officer: dict[str, str], indicators_db: Database
) -> None:
    cases = {
        "#{households} / #{households_surveyed}": ("unknown measure", 17),
        "#{households|region=DJ-XX}": ("'DJ-XX' is not a value of region", 14),
        "#{households|programme=unknown_programme}": ("not a value of programme", 14),
        "#{disbursed|region=DJ-OB}": ("disbursed has no dimension 'region'", 13),
        "#{households} +": ("ends too early", 16),
        "#{households} > 1": ("must give a number", 1),
        "(" * 10_000 + "1" + ")" * 10_000: ("more than 32 levels deep", 33),
    }
    for numerator, (message, column) in cases.items():
        refused = await indicators.post(
            DEFINITIONS,
            json=definition_body(numerator=numerator, disaggregations=[]),
            headers=officer,
        )
        assert refused.status_code == 422, numerator
        problem = refused.json()
        assert refused.headers["content-type"] == "application/problem+json"
        assert problem["type"].endswith("/invalid-definition")
        (error,) = problem["errors"]
        assert error["path"] == "body.numerator"
        assert message in error["message"], (numerator, error)
        assert (error["line"], error["column"]) == (1, column), numerator
    assert await _indicator_rows(indicators_db) == (0, 0)


async def test_a_disaggregation_must_apply_to_every_measure(
    indicators: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    body = definition_body(
        numerator="#{households}", denominator="#{population}", disaggregations=["sex", "commune"]
    )
    refused = await indicators.post(DEFINITIONS, json=body, headers=officer)
    assert refused.status_code == 422
    (error,) = refused.json()["errors"]
    assert error["path"] == "body.disaggregations.1"
    assert error["message"] == "commune is not a dimension of population"


async def test_a_change_is_a_new_version_and_the_old_one_stays(
    indicators: httpx.AsyncClient, officer: dict[str, str], analyst: dict[str, str]
) -> None:
    created = await indicators.post(DEFINITIONS, json=definition_body(), headers=officer)
    assert created.status_code == 201, created.text
    path = f"{DEFINITIONS}/COV_PNSF"
    change = {"denominator": "#{households|legal_status=refugee}", "name_en": "Refugee coverage"}

    blind = await indicators.patch(path, json=change, headers=officer)
    assert blind.status_code == 428
    changed = await indicators.patch(path, json=change, headers={**officer, "If-Match": '"v1"'})
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"v2"'
    assert changed.json()["denominator"] == "#{households|legal_status=refugee}"
    stale = await indicators.patch(
        path, json={"name_fr": "x"}, headers={**officer, "If-Match": '"v1"'}
    )
    assert stale.status_code == 412

    versions = await indicators.get(f"{path}/versions", headers=analyst)
    assert [(v["version"], v["name_en"]) for v in versions.json()] == [
        (2, "Refugee coverage"),
        (1, "PNSF coverage"),
    ]
    first = await indicators.get(f"{path}/versions/1", headers=analyst)
    assert first.json()["denominator"] == "#{households}"

    unchanged = await indicators.patch(
        path, json={"name_en": "Refugee coverage"}, headers={**officer, "If-Match": '"v2"'}
    )
    assert unchanged.headers["etag"] == '"v2"'


async def test_an_indicator_may_use_another_but_never_itself_through_others(
    indicators: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    base = definition_body("BASE_HH", numerator="#{households}", denominator=None, factor=1)
    assert (await indicators.post(DEFINITIONS, json=base, headers=officer)).status_code == 201
    double = definition_body("DOUBLE_HH", numerator="2 * #{BASE_HH}", denominator=None)
    created = await indicators.post(DEFINITIONS, json=double, headers=officer)
    assert created.status_code == 201, created.text
    assert created.json()["uses_indicators"] == ["BASE_HH"]

    cycle = await indicators.patch(
        f"{DEFINITIONS}/BASE_HH",
        json={"numerator": "#{DOUBLE_HH} / 2"},
        headers={**officer, "If-Match": '"v1"'},
    )
    assert cycle.status_code == 422
    (error,) = cycle.json()["errors"]
    assert error["message"] == "cycle: BASE_HH -> DOUBLE_HH -> BASE_HH"
    assert (error["line"], error["column"]) == (1, 1)


async def test_only_officers_and_admins_define_and_staff_read(
    indicators: httpx.AsyncClient, tokens: TokenFactory
) -> None:
    for role in ("analyst", "data_manager", "registrar", "partner", "finance_officer"):
        refused = await indicators.post(
            DEFINITIONS, json=definition_body(), headers=as_role(tokens, role)
        )
        assert refused.status_code == 403, role
    admin = await indicators.post(
        DEFINITIONS, json=definition_body(), headers=as_role(tokens, "admin")
    )
    assert admin.status_code == 201
    for role, status in (("data_manager", 200), ("analyst", 200), ("partner", 403)):
        listed = await indicators.get(DEFINITIONS, headers=as_role(tokens, role))
        assert listed.status_code == status, role
    taken = await indicators.post(
        DEFINITIONS, json=definition_body(), headers=as_role(tokens, "admin")
    )
    assert taken.status_code == 409
    assert taken.json()["errors"][0]["path"] == "body.code"


async def test_a_service_down_is_a_503_naming_it_and_nothing_is_saved(
    indicators: httpx.AsyncClient,
    indicators_app: FastAPI,
    indicators_db: Database,
    officer: dict[str, str],
    tokens: TokenFactory,
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    sources = indicators_app.state.sources
    indicators_app.state.sources = type(sources)(
        registry=sources.registry,
        funding=stats_client(tokens, "funding", FUNDING_URL, httpx.MockTransport(refuse)),
    )
    refused = await indicators.post(DEFINITIONS, json=definition_body(), headers=officer)
    assert refused.status_code == 503
    assert refused.json()["detail"] == "The funding service is unavailable; try again."
    assert "retry-after" in refused.headers
    assert await _indicator_rows(indicators_db) == (0, 0)
