"""The standard pack, loaded on demand and computed over the hand-made registry
(tests/indicators/registry_set.py) and funding's sample ledger (tests/funding/factories.py),
every expected figure worked out here by hand."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from shared.db import Database
from tests.funding.factories import SampleLedger, add_sample_ledger
from tests.indicators.conftest import OneAtATime
from tests.indicators.payloads import BASE, DEFINITIONS, POVERTY_LINES
from tests.indicators.registry_set import (
    add_registry_set,
    by_cell,
    get_values,
    percent,
    predicted,
    upload_population,
)
from tests.indicators.test_snapshots import _take
from tests.support.tokens import TokenFactory

LINES = {"urban": 120_000, "rural": 90_000}
PLACES = Decimal("0.000001")


@pytest.fixture
async def pack(
    indicators: httpx.AsyncClient,
    registry: httpx.AsyncClient,
    beneficiaries_db: Database,
    funding_db: Database,
    officer: dict[str, str],
) -> SampleLedger:
    await add_registry_set(beneficiaries_db)
    async with funding_db.sessionmaker() as session:
        ledger = await add_sample_ledger(session)
        await session.commit()
    await upload_population(indicators, officer)
    # The country's line, and each area's own (which the FGT indicators use).
    for area, amount in (("all", 100_000), *LINES.items()):
        line = await indicators.post(
            POVERTY_LINES,
            json={
                "year": 2026,
                "area": area,
                "kind": "national",
                "amount": amount,
                "source": "INSD",
            },
            headers=officer,
        )
        assert line.status_code == 201, line.text
    loaded = await indicators.post(f"{DEFINITIONS}/standard-pack", headers=officer)
    assert loaded.status_code == 200, loaded.text
    assert loaded.json()["refused"] == []
    assert len(loaded.json()["created"]) == 16
    return ledger


def _value(cell: dict[str, Any]) -> Decimal | None:
    return None if cell["value"] is None else Decimal(cell["value"])


async def test_the_pack_is_loaded_once(
    indicators: httpx.AsyncClient, pack: SampleLedger, officer: dict[str, str]
) -> None:
    again = await indicators.post(f"{DEFINITIONS}/standard-pack", headers=officer)
    assert again.json()["created"] == [] and len(again.json()["existing"]) == 16


async def test_the_pack_asks_each_catalogue_once(
    indicators: httpx.AsyncClient,
    registry: httpx.AsyncClient,
    beneficiaries_db: Database,
    officer: dict[str, str],
    transports: dict[str, OneAtATime],
) -> None:
    await add_registry_set(beneficiaries_db)
    for transport in transports.values():
        transport.paths.clear()
    loaded = await indicators.post(f"{DEFINITIONS}/standard-pack", headers=officer)
    assert len(loaded.json()["created"]) == 16, loaded.text
    # 16 definitions checked against the registry's and funding's catalogues, read once.
    for service, transport in transports.items():
        catalogues = [path for path in transport.paths if path.endswith("/stats/catalog")]
        assert catalogues == [f"/api/v1/{service}/stats/catalog"], transport.paths


async def test_registry_indicators_of_the_pack(
    indicators: httpx.AsyncClient, pack: SampleLedger, officer: dict[str, str]
) -> None:
    answer = await get_values(
        indicators,
        officer,
        indicator="REFUGEE_HH,REFUGEE_COV_PNSF,FEMALE_HEADED_BENEF,SDG131_PROXY",
        period="2026",
        by="region",
    )
    # One refugee-headed household (H2, Ali Sabieh region), covered by the PNSF.
    refugees = by_cell(answer, "REFUGEE_HH")
    assert refugees[()]["value"] == "1" and refugees[("DJ-AS",)]["value"] == "1"
    # Against the pack's target of 1,500 in 2026 (from 750 in 2021): 1 is off track; the
    # target is set overall, so a region's value has none.
    assert (refugees[()]["target"], refugees[()]["target_year"]) == ("1500", 2026)
    assert refugees[()]["status"] == "off_track"
    assert refugees[("DJ-AS",)]["status"] == "no_target"
    assert by_cell(answer, "REFUGEE_COV_PNSF")[()]["value"] == "100"
    # Beneficiary households H1 (woman head) and H2 (man head).
    assert by_cell(answer, "FEMALE_HEADED_BENEF")[()]["value"] == "50"
    coverage = by_cell(answer, "SDG131_PROXY")
    assert _value(coverage[()]) == percent(5, 340)
    assert _value(coverage[("DJ-AS",)]) == percent(2, 100)

    by_status = await get_values(
        indicators, officer, indicator="SDG131_PROXY", period="2026", by="legal_status"
    )
    assert _value(by_cell(by_status, "SDG131_PROXY")[("refugee",)]) == percent(2, 20)


def _gap(household: str, area: str) -> Decimal:
    """The household's normalised gap below its area's line, (z - y) / z."""
    line = Decimal(LINES[area])
    return (line - predicted(household)) / line


def _near(published: str, exact: Decimal) -> bool:
    """The registry sums the gaps in floating point, to 6 places."""
    return abs(Decimal(published) - exact) <= PLACES


async def test_fgt_of_the_registered_population_against_the_line_of_each_area(
    indicators: httpx.AsyncClient, pack: SampleLedger, officer: dict[str, str]
) -> None:
    """Scored people: H1's 3 (urban, 50,000: below the urban line of 120,000), H2's 2
    (rural, 80,000: below the rural line of 90,000), H3's 2 (urban, 150,000: above). The
    country's line of 100,000 is not the one they are read against. H4 is unscored."""
    g1, g2 = _gap("H1", "urban"), _gap("H2", "rural")
    overall = await get_values(indicators, officer, indicator="FGT_P0,FGT_P1,FGT_P2", period="2026")
    p0 = by_cell(overall, "FGT_P0")[()]
    assert (p0["numerator"], p0["denominator"]) == ("5", "7")
    assert _value(p0) == percent(5, 7)
    p1 = by_cell(overall, "FGT_P1")[()]
    assert p1["denominator"] == "7" and _near(p1["numerator"], 3 * g1 + 2 * g2)
    assert _value(p1) == (Decimal(p1["numerator"]) / 7 * 100).quantize(PLACES)
    # Against the country's line for everyone it would be (3 x 50,000 + 2 x 20,000) /
    # 100,000 / 7 = 27.14 %; against the areas' lines, (3 x 70/120 + 2 x 10/90) / 7 = 28.17 %.
    assert _value(p1).quantize(Decimal("0.01")) == Decimal("28.17")
    p2 = by_cell(overall, "FGT_P2")[()]
    assert _near(p2["numerator"], 3 * g1**2 + 2 * g2**2)
    assert _value(p2) == (Decimal(p2["numerator"]) / 7 * 100).quantize(PLACES)

    by_area = await get_values(
        indicators, officer, indicator="FGT_P0,FGT_P1", period="2026", by="area"
    )
    assert _value(by_cell(by_area, "FGT_P0")[("urban",)]) == percent(3, 5)
    assert _value(by_cell(by_area, "FGT_P0")[("rural",)]) == 100
    rural = by_cell(by_area, "FGT_P1")[("rural",)]
    assert rural["denominator"] == "2" and _near(rural["numerator"], 2 * g2)

    cells = await get_values(
        indicators, officer, indicator="FGT_P0,FGT_P1,FGT_P2", period="2026", by="region,sex"
    )
    p0 = by_cell(cells, "FGT_P0")
    # Djibouti: H1's two women and one man, all poor. Ali Sabieh: of the women H2's child
    # (poor) and H3's sister; of the men H2's head (poor) and H3's.
    assert _value(p0[("DJ-DJ", "F")]) == 100 and _value(p0[("DJ-DJ", "M")]) == 100
    assert _value(p0[("DJ-AS", "F")]) == 50 and _value(p0[("DJ-AS", "M")]) == 50
    # Obock's only household has no score: no figures of it, so no cell; asked for
    # alone, nobody to divide by.
    assert ("DJ-OB", "F") not in p0
    obock = await get_values(indicators, officer, indicator="FGT_P0", period="2026", region="DJ-OB")
    assert by_cell(obock, "FGT_P0")[()]["reason"] == "the denominator is zero"
    p1 = by_cell(cells, "FGT_P1")
    assert (p1[("DJ-DJ", "F")]["denominator"], p1[("DJ-AS", "M")]["denominator"]) == ("2", "2")
    assert _near(p1[("DJ-DJ", "F")]["numerator"], 2 * g1)
    assert _near(p1[("DJ-AS", "M")]["numerator"], g2)
    assert _near(by_cell(cells, "FGT_P2")[("DJ-AS", "F")]["numerator"], g2**2)

    by_status = await get_values(
        indicators, officer, indicator="FGT_P0,FGT_P1", period="2026", by="legal_status"
    )
    p0 = by_cell(by_status, "FGT_P0")
    # Nationals: H1's 3 (poor) and H3's 2; refugees: H2's 2 (poor); the asylum seeker of
    # H4 is unscored.
    assert _value(p0[("national",)]) == percent(3, 5)
    assert _value(p0[("refugee",)]) == 100
    assert ("asylum_seeker",) not in p0
    p1 = by_cell(by_status, "FGT_P1")
    assert _near(p1[("national",)]["numerator"], 3 * g1)
    assert _near(p1[("refugee",)]["numerator"], 2 * g2)
    assert _value(p1[("refugee",)]) == (Decimal(p1[("refugee",)]["numerator"]) / 2 * 100).quantize(
        PLACES
    )


async def test_the_fgt_indicators_read_the_country_line_where_an_area_has_none(
    indicators: httpx.AsyncClient,
    registry: httpx.AsyncClient,
    beneficiaries_db: Database,
    officer: dict[str, str],
) -> None:
    await add_registry_set(beneficiaries_db)
    loaded = await indicators.post(f"{DEFINITIONS}/standard-pack", headers=officer)
    assert loaded.status_code == 200, loaded.text
    no_line = await get_values(indicators, officer, indicator="FGT_P1", period="2026")
    assert by_cell(no_line, "FGT_P1")[()]["reason"] == (
        "numerator: #{poverty_gap_ratio|pmt_band!=unscored}: no national poverty line of "
        "2026 for urban, rural"
    )
    for area, amount in (("all", 100_000), ("rural", 90_000)):
        line = await indicators.post(
            POVERTY_LINES,
            json={
                "year": 2026,
                "area": area,
                "kind": "national",
                "amount": amount,
                "source": "INSD",
            },
            headers=officer,
        )
        assert line.status_code == 201, line.text
    answer = await get_values(indicators, officer, indicator="FGT_P1", period="2026")
    # H1 urban, read against the country's 100,000; H2 rural, against 90,000.
    expected = 3 * (1 - predicted("H1") / 100_000) + 2 * _gap("H2", "rural")
    assert _near(by_cell(answer, "FGT_P1")[()]["numerator"], expected)


async def test_funding_indicators_of_the_pack(
    indicators: httpx.AsyncClient, pack: SampleLedger, officer: dict[str, str]
) -> None:
    wb = pack.organisations["wb"].iati_identifier
    wfp = pack.organisations["wfp"].iati_identifier
    answer = await get_values(
        indicators,
        officer,
        indicator="DISBURSEMENT_RATE,FUNDS_MOBILISED_DJF,FUNDS_MOBILISED_USD",
        period="2026",
        by="partner",
    )
    # 2026: the World Bank committed 35,544,000 DJF (IDA-D124) and disbursed 3,554,400 (T5);
    # WFP committed 17,772,000 and disbursed 10,000.00 EUR at 193.5 (T12); 1,777,200 was
    # disbursed on WFP's project without an agreement (T10: no partner). UNICEF's is
    # cancelled.
    rate = by_cell(answer, "DISBURSEMENT_RATE")
    assert _value(rate[(wb,)]) == 10
    assert _value(rate[(wfp,)]) == percent(1_935_000, 17_772_000)
    assert rate[(None,)]["value"] is None
    assert rate[(None,)]["reason"] == "the denominator is zero"
    disbursed = 3_554_400 + 1_935_000 + 1_777_200
    assert _value(rate[()]) == percent(disbursed, 35_544_000 + 17_772_000)
    mobilised = by_cell(answer, "FUNDS_MOBILISED_DJF")
    assert mobilised[()]["value"] == str(35_544_000 + 17_772_000)
    assert set(mobilised[()]["inputs_as_of"]) == {"funding"}
    # In USD at 177.72, cents summed by funding, shown in dollars (factor 0.01).
    usd = by_cell(answer, "FUNDS_MOBILISED_USD")[(wb,)]
    assert _value(usd) == (Decimal(usd["numerator"]) / 100).quantize(PLACES)
    assert round(Decimal(usd["numerator"]) / 100) == round(Decimal(35_544_000) / Decimal("177.72"))

    quarter = await get_values(
        indicators,
        officer,
        indicator="PAYMENT_SUCCESS,HH_PAID,TRANSFERS_PAID_DJF",
        period="2026Q1",
        by="region",
    )
    # The 2026Q1 payroll: 3 lines paid in Djibouti, 1 paid and 1 failed in Ali Sabieh, of
    # 30,000 DJF each.
    success = by_cell(quarter, "PAYMENT_SUCCESS")
    assert _value(success[()]) == 80
    assert _value(success[("DJ-DJ",)]) == 100 and _value(success[("DJ-AS",)]) == 50
    assert by_cell(quarter, "HH_PAID")[()]["value"] == "4"
    assert by_cell(quarter, "TRANSFERS_PAID_DJF")[("DJ-DJ",)]["value"] == "90000"


async def test_adequacy_meets_the_services(
    indicators: httpx.AsyncClient, pack: SampleLedger, officer: dict[str, str]
) -> None:
    answer = await get_values(indicators, officer, indicator="ADEQUACY", period="2026")
    adequacy = by_cell(answer, "ADEQUACY")[()]
    # Paid in 2026: 4 lines of 30,000 DJF (2026Q1) and two USD lines of 10.00 and 2.50 at
    # 177.72 (1,777 and 444 francs, rounded per line) (2026Q2); over the predicted
    # consumption of the beneficiary households: H1's 3 people and H2's 2.
    paid = 120_000 + 1_777 + 444
    consumption = round(3 * predicted("H1") + 2 * predicted("H2"))
    assert (adequacy["numerator"], adequacy["denominator"]) == (str(paid), str(consumption))
    assert _value(adequacy) == percent(paid, consumption)
    assert set(adequacy["inputs_as_of"]) == {"beneficiaries", "funding"}


async def test_exclusion_and_inclusion_errors_of_each_programme(
    indicators: httpx.AsyncClient, pack: SampleLedger, officer: dict[str, str]
) -> None:
    answer = await get_values(
        indicators,
        officer,
        indicator="EXCLUSION_ERROR,INCLUSION_ERROR",
        period="2026",
        by="programme",
    )
    exclusion = by_cell(answer, "EXCLUSION_ERROR")
    # pnsf: H1, H2 and H3 eligible, H3 not enrolled. amu: H1 eligible, not enrolled.
    assert _value(exclusion[("pnsf",)]) == percent(1, 3)
    assert _value(exclusion[("amu",)]) == 100
    inclusion = by_cell(answer, "INCLUSION_ERROR")
    # pnsf's two active households are both eligible. amu has no active household (H4 is
    # suspended): no figure of it in either term, so no cell; asked for alone, no value.
    assert _value(inclusion[("pnsf",)]) == 0
    assert ("amu",) not in inclusion
    amu = await get_values(
        indicators, officer, indicator="INCLUSION_ERROR", period="2026", programme="amu"
    )
    assert by_cell(amu, "INCLUSION_ERROR")[()]["reason"] == "the denominator is zero"


async def test_a_snapshot_reads_each_programme_and_region_from_one_request(
    indicators: httpx.AsyncClient,
    indicators_app: FastAPI,
    indicators_db: Database,
    pack: SampleLedger,
    tokens: TokenFactory,
    officer: dict[str, str],
    transports: dict[str, OneAtATime],
) -> None:
    transports["beneficiaries"].paths.clear()
    snapshot = await _take(
        indicators,
        indicators_app,
        indicators_db,
        tokens,
        officer,
        {"period": "2026", "indicators": ["EXCLUSION_ERROR"]},
    )
    frozen = await indicators.get(f"{BASE}/snapshots/{snapshot['id']}/values", headers=officer)
    cells = {tuple(v["cell"].items()): _value(v) for v in frozen.json()["values"]}
    # Eligible pairs: pnsf H1, H2, H3 and amu H1; enrolled and active: pnsf H1 and H2.
    assert cells[()] == percent(2, 4)
    assert cells[(("programme", "pnsf"),)] == percent(1, 3)
    assert cells[(("programme", "amu"),)] == 100
    # Djibouti: H1's two pairs, one enrolled; Ali Sabieh: H2's and H3's, one enrolled.
    assert cells[(("region", "DJ-DJ"),)] == percent(1, 2)
    assert cells[(("region", "DJ-AS"),)] == percent(1, 2)
    # A unit of pmt_eligible is in one programme: by programme and by region are both
    # read from one request grouped by both, for each of the two filters.
    assert len([p for p in transports["beneficiaries"].paths if p.endswith("/stats")]) == 2


async def test_a_snapshot_reads_the_measures_of_people_with_one_filter_from_one_request(
    indicators: httpx.AsyncClient,
    indicators_app: FastAPI,
    indicators_db: Database,
    pack: SampleLedger,
    tokens: TokenFactory,
    officer: dict[str, str],
    transports: dict[str, OneAtATime],
) -> None:
    transports["beneficiaries"].paths.clear()
    snapshot = await _take(
        indicators,
        indicators_app,
        indicators_db,
        tokens,
        officer,
        {
            "period": "2026",
            "indicators": ["FGT_P0", "FGT_P1", "FGT_P2", "SDG131_PROXY", "ADEQUACY"],
        },
    )
    frozen = await indicators.get(f"{BASE}/snapshots/{snapshot['id']}/values", headers=officer)
    cells = {(v["indicator"], tuple(v["cell"].items())): v for v in frozen.json()["values"]}
    # Women of scored households: H1's two and H2's child (poor), H3's sister.
    assert _value(cells[("FGT_P0", (("sex", "F"),))]) == 75
    assert _near(cells[("FGT_P1", (("area", "rural"),))]["numerator"], 2 * _gap("H2", "rural"))
    assert _value(cells[("SDG131_PROXY", (("legal_status", "refugee"),))]) == percent(2, 20)
    adequacy = cells[("ADEQUACY", (("region", "DJ-DJ"),))]
    assert adequacy["denominator"] == str(round(3 * predicted("H1")))
    # The people of scored households (FGT) and of active beneficiary households
    # (coverage, adequacy), every measure of each by every dimension: two requests.
    assert len([p for p in transports["beneficiaries"].paths if p.endswith("/stats")]) == 2
