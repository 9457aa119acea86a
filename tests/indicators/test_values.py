"""Indicator values computed from the real registry and funding services over a small
hand-made set (tests/indicators/registry_set.py), each expected figure worked out by hand."""

from __future__ import annotations

from decimal import Decimal

import httpx
from fastapi import FastAPI

from services.beneficiaries.app import create_app as create_registry_app
from services.indicators.context import Sources
from services.indicators.values.disclosure import small_cell_threshold
from shared.db import Database
from tests.indicators.conftest import REGISTRY_URL, OneAtATime, stats_client
from tests.indicators.registry_set import (
    VALUES,
    Down,
    by_cell,
    get_values,
    percent,
    upload_population,
)
from tests.support.apps import serve
from tests.support.registry import registry_settings
from tests.support.tokens import TokenFactory


async def test_coverage_overall_and_by_region_and_sex(
    indicators: httpx.AsyncClient, defined: None, officer: dict[str, str]
) -> None:
    answer = await get_values(
        indicators, officer, indicator="SDG131", period="2026", by="region,sex"
    )
    cells = by_cell(answer, "SDG131")
    overall = cells[()]
    # People of households with an active enrollment: H1 (3) and H2 (2), of 340.
    assert (overall["numerator"], overall["denominator"]) == ("5", "340")
    assert Decimal(overall["value"]) == percent(5, 340)
    assert overall["version"] == 1 and overall["status"] == "no_target"
    assert set(overall["inputs_as_of"]) == {"beneficiaries"}
    assert not overall["flagged"]
    expected = {
        ("DJ-DJ", "F"): (2, 100),
        ("DJ-DJ", "M"): (1, 100),
        ("DJ-AS", "F"): (1, 50),
        ("DJ-AS", "M"): (1, 50),
        ("DJ-OB", "F"): (0, 20),
        ("DJ-OB", "M"): (0, 20),
    }
    assert set(cells) - {()} == set(expected)
    for cell, (numerator, denominator) in expected.items():
        value = cells[cell]
        assert (value["numerator"], value["denominator"]) == (str(numerator), str(denominator))
        assert Decimal(value["value"]) == percent(numerator, denominator), cell
        # Fewer than 5 people counted: flagged (no one counted is not a small cell).
        assert value["flagged"] is (numerator > 0)


async def test_coverage_by_legal_status(
    indicators: httpx.AsyncClient, defined: None, officer: dict[str, str]
) -> None:
    answer = await get_values(
        indicators, officer, indicator="SDG131", period="2026", by="legal_status"
    )
    cells = by_cell(answer, "SDG131")
    # Nationals: H1's 3 of 320; refugees: H2's 2 of 20. The asylum seeker of H4 is in no
    # active enrollment, and the population table has no asylum seekers: no cell.
    assert Decimal(cells[("national",)]["value"]) == percent(3, 320)
    assert Decimal(cells[("refugee",)]["value"]) == percent(2, 20)
    assert set(cells) == {(), ("national",), ("refugee",)}


async def test_a_zero_denominator_gives_a_reason(
    indicators: httpx.AsyncClient, defined: None, officer: dict[str, str]
) -> None:
    answer = await get_values(indicators, officer, indicator="HH_FEMALE_HEAD", period="2026")
    overall = by_cell(answer, "HH_FEMALE_HEAD")[()]
    # H1 (head F) and H2 (head M) are the households with an active enrollment.
    assert (overall["numerator"], overall["denominator"], overall["value"]) == ("1", "2", "50")
    # Obock's only household (H4) is suspended: no household to divide by.
    answer = await get_values(
        indicators, officer, indicator="HH_FEMALE_HEAD", period="2026", region="DJ-OB"
    )
    obock = by_cell(answer, "HH_FEMALE_HEAD")[()]
    assert obock["value"] is None and obock["denominator"] == "0"
    assert obock["reason"] == "the denominator is zero"
    assert obock["status"] is None


async def test_one_request_per_measure_and_grouping_sent_concurrently(
    indicators: httpx.AsyncClient,
    defined: None,
    officer: dict[str, str],
    transports: dict[str, OneAtATime],
) -> None:
    registry = transports["beneficiaries"]
    registry.paths.clear()
    registry.most_in_flight = 0
    answer = await get_values(
        indicators, officer, indicator="HH_FEMALE_HEAD,SDG131", period="2026", by="region"
    )
    cells = by_cell(answer, "HH_FEMALE_HEAD")
    assert Decimal(cells[("DJ-DJ",)]["value"]) == 100
    assert Decimal(cells[("DJ-AS",)]["value"]) == 0
    # Three measures of the registry by region (households of women heads, households,
    # individuals), each asked once whatever the number of cells, the overall values from
    # their totals; with the catalogue, four requests, sent without waiting for each other.
    stats = [path for path in registry.paths if path.endswith("/stats")]
    assert len(stats) == 3
    assert len(registry.paths) == 4
    assert registry.most_in_flight >= 3


async def test_a_dimension_the_indicator_does_not_allow_is_422(
    indicators: httpx.AsyncClient, defined: None, officer: dict[str, str]
) -> None:
    for params in ({"by": "sex"}, {"legal_status": "refugee"}, {"by": "colour"}):
        answer = await indicators.get(
            VALUES,
            params={"indicator": "HH_FEMALE_HEAD", "period": "2026", **params},
            headers=officer,
        )
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
    unknown = await indicators.get(
        VALUES, params={"indicator": "NOPE", "period": "2026"}, headers=officer
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["path"] == "query.indicator"
    bad_period = await indicators.get(
        VALUES, params={"indicator": "SDG131", "period": "2026Q5"}, headers=officer
    )
    assert bad_period.status_code == 422
    assert bad_period.json()["errors"][0]["path"] == "query.period"
    bad_value = await indicators.get(
        VALUES,
        params={"indicator": "SDG131", "period": "2026", "region": "DJ-XX"},
        headers=officer,
    )
    assert bad_value.status_code == 422
    assert bad_value.json()["errors"][0]["path"] == "query.region"


async def test_a_service_down_is_a_503_naming_it(
    indicators: httpx.AsyncClient,
    indicators_app: FastAPI,
    defined: None,
    officer: dict[str, str],
    tokens: TokenFactory,
) -> None:
    sources = indicators_app.state.sources
    indicators_app.state.sources = Sources(
        registry=stats_client(tokens, "beneficiaries", REGISTRY_URL, Down()),
        funding=sources.funding,
    )
    answer = await indicators.get(
        VALUES, params={"indicator": "SDG131", "period": "2026"}, headers=officer
    )
    indicators_app.state.sources = sources
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert "beneficiaries" in answer.json()["detail"]
    assert answer.headers["retry-after"]


async def test_reference_figures_not_broken_down_give_a_reason_per_cell(
    indicators: httpx.AsyncClient, defined: None, officer: dict[str, str]
) -> None:
    # The population of 2026 replaced by a table by region only.
    await upload_population(
        indicators, officer, b"year,region,people\n2026,DJ-DJ,200\n2026,DJ-AS,100\n2026,DJ-OB,40\n"
    )
    answer = await get_values(indicators, officer, indicator="SDG131", period="2026", by="sex")
    cells = by_cell(answer, "SDG131")
    assert Decimal(cells[()]["value"]) == percent(5, 340)
    for sex in ("F", "M"):
        assert cells[(sex,)]["value"] is None
        assert cells[(sex,)]["reason"] == (
            "denominator: #{population}: the population figures of 2026 are not broken down by sex"
        )


async def test_values_are_flagged_below_the_threshold_the_registry_publishes(
    tokens: TokenFactory, beneficiaries_db: Database
) -> None:
    """The registry's /stats/catalog, not this service's default, says what a small cell is."""
    app = create_registry_app(registry_settings(tokens, stats_suppression_threshold=3))
    async with serve(app, beneficiaries_db, REGISTRY_URL):
        registry = stats_client(tokens, "beneficiaries", REGISTRY_URL, OneAtATime(app))
        assert small_cell_threshold(registry, 5) == 5, "nothing read yet: the setting"
        await registry.catalog()
        assert small_cell_threshold(registry, 5) == 3
