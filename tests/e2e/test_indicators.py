"""Indicators end to end, through the gateway with real processes: households registered
and enrolled in the registry, a population table and a definition given to the indicators
service, values computed from the registry's live /stats over HTTP, a snapshot taken by the
background worker, published, and read by a partner."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.beneficiaries.payloads import household, member
from tests.support.stack import RunningStack

pytestmark = pytest.mark.e2e
REGISTRY = "/api/v1/beneficiaries"
INDICATORS = "/api/v1/indicators"
POPULATION = b"year,region,people\n2026,DJ-DJ,100\n2026,DJ-AS,50\n"


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _registry(stack: RunningStack) -> None:
    """Three households of two people: two in Balbala enrolled in e2e-ind, one in Ali
    Sabieh not enrolled."""
    manager = stack.headers("demo-data-manager")
    programme = {
        "code": "e2e-ind",
        "name_fr": "Transferts (essai)",
        "name_en": "Cash transfers (test)",
        "benefit_amount": 30_000,
        "benefit_period": "quarterly",
    }
    _ok(httpx.post(f"{stack.url}{REGISTRY}/programmes", json=programme, headers=manager), 201)
    places = ("DJ-DJ-BALBALA-PK12", "DJ-DJ-BALBALA-PK12", "DJ-AS-ALISABIEH-VILLE")
    names = (("Asli", "Omar"), ("Hibo", "Ali"), ("Kadra", "Said"))
    for (head, child), locality in zip(names, places, strict=True):
        members = [
            member(head, "Hassan", "Guedi"),
            member(
                child,
                "Hassan",
                "Guedi",
                sex="M",
                birth_date="2015-01-01",
                relationship="child",
            ),
        ]
        body = household(members, locality=locality)
        created = _ok(
            httpx.post(f"{stack.url}{REGISTRY}/households", json=body, headers=manager), 201
        )
        if locality.startswith("DJ-DJ"):
            _ok(
                httpx.post(
                    f"{stack.url}{REGISTRY}/programmes/e2e-ind/enrollments",
                    json={"household_id": created["id"]},
                    headers=manager,
                ),
                201,
            )


def test_values_and_a_published_snapshot_through_the_gateway(stack: RunningStack) -> None:
    _registry(stack)
    officer = stack.headers("demo-me-officer")
    _ok(
        httpx.post(
            f"{stack.url}{INDICATORS}/reference/population",
            files={"file": ("population.csv", POPULATION, "text/csv")},
            data={"source": "INSD"},
            headers=officer,
        ),
        201,
    )
    definition = {
        "code": "COV_E2E",
        "name_fr": "Couverture (essai)",
        "name_en": "Coverage (test)",
        "unit": "%",
        "factor": 100,
        "numerator": "#{individuals|programme=e2e-ind, enrollment_status=active}",
        "denominator": "#{population}",
        "disaggregations": ["region"],
    }
    _ok(httpx.post(f"{stack.url}{INDICATORS}/definitions", json=definition, headers=officer), 201)

    params = {"indicator": "COV_E2E", "period": "2026", "by": "region"}
    values = f"{stack.url}{INDICATORS}/values"
    answer = _ok(httpx.get(values, params=params, headers=officer))
    cells = {tuple(v["cell"].values()): v for v in answer["values"]}
    # 4 people enrolled (Balbala), of 150; of 100 in Djibouti, none of Ali Sabieh's 50.
    assert Decimal(cells[()]["value"]) == (Decimal(4) / 150 * 100).quantize(Decimal("0.000001"))
    assert Decimal(cells[("DJ-DJ",)]["value"]) == 4
    assert cells[()]["inputs_as_of"].keys() == {"beneficiaries"}
    assert cells[("DJ-AS",)]["value"] == "0"
    # 4 people are a small cell: flagged, and shown to analysts without their figures.
    assert cells[()]["flagged"] and not cells[()]["suppressed"]
    seen = _ok(httpx.get(values, params=params, headers=stack.headers("demo-analyst")))
    analyst = {tuple(v["cell"].values()): v for v in seen["values"]}
    assert analyst[()]["suppressed"] and analyst[()]["value"] is None
    assert analyst[("DJ-AS",)]["value"] == "0"

    queued = _ok(
        httpx.post(f"{stack.url}{INDICATORS}/snapshots", json={"period": "2026"}, headers=officer),
        202,
    )
    snapshot = queued
    deadline = time.monotonic() + 60
    while snapshot["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.3)
        snapshot = _ok(
            httpx.get(f"{stack.url}{INDICATORS}/snapshots/{queued['id']}", headers=officer)
        )
    assert snapshot["status"] == "done", snapshot
    assert snapshot["value_count"] == 1 + 2

    partner = stack.headers("demo-partner")
    hidden = httpx.get(f"{stack.url}{INDICATORS}/snapshots/{queued['id']}", headers=partner)
    assert hidden.status_code == 404
    _ok(httpx.post(f"{stack.url}{INDICATORS}/snapshots/{queued['id']}/publish", headers=officer))
    frozen = _ok(
        httpx.get(f"{stack.url}{INDICATORS}/snapshots/{queued['id']}/values", headers=partner)
    )
    shown = {tuple(v["cell"].values()): v for v in frozen["values"]}
    assert shown[("DJ-AS",)]["value"] == "0"
    assert shown[("DJ-DJ",)]["suppressed"] and shown[("DJ-DJ",)]["value"] is None
    exact = _ok(
        httpx.get(f"{stack.url}{INDICATORS}/snapshots/{queued['id']}/values", headers=officer)
    )
    assert {tuple(v["cell"].values()): v["value"] for v in exact["values"]} == {
        key: value["value"] for key, value in cells.items()
    }

    # The partner's published snapshot as SDMX-JSON in English, and the officer's live
    # values as a DHIS2 view in French (Accept-Language), through the gateway.
    message = httpx.get(
        f"{stack.url}{INDICATORS}/snapshots/{queued['id']}/values",
        params={"format": "sdmx", "lang": "en"},
        headers=partner,
    )
    assert message.status_code == 200, message.text
    assert message.headers["content-type"].startswith("application/vnd.sdmx.data+json")
    structure = message.json()["data"]["structures"][0]
    (indicator, region) = structure["dimensions"]["series"]
    assert indicator["values"][0]["name"] == "Coverage (test)"
    assert {value["id"]: value["name"] for value in region["values"]} == {
        "DJ-AS": "Ali Sabieh",
        "DJ-DJ": "Djibouti",
        "_T": "Total",
    }
    view = _ok(
        httpx.get(
            values,
            params={**params, "format": "dhis2"},
            headers={**officer, "Accept-Language": "fr"},
        )
    )
    names = [header["name"] for header in view["headers"]]
    rows = [dict(zip(names, row, strict=True)) for row in view["rows"]]
    assert {row["region"]: row["value"] for row in rows} == {
        "_T": cells[()]["value"],
        "DJ-DJ": "4",
        "DJ-AS": "0",
    }
    assert view["metaData"]["items"]["COV_E2E"]["name"] == "Couverture (essai)"


# A PMT formula with no variables: every urban household predicted exp(11.0021) (59,999.4
# DJF per person per year), every rural one exp(11.28978) (79,999.8).
FLAT_FORMULA = {
    "name": "e2e flat",
    "urban": {"intercept": 11.0021, "terms": []},
    "rural": {"intercept": 11.28978, "terms": []},
}
PLACES = Decimal("0.000001")


def _score_every_household(stack: RunningStack) -> None:
    manager = stack.headers("demo-data-manager")
    created = _ok(
        httpx.post(f"{stack.url}{REGISTRY}/pmt-formulas", json=FLAT_FORMULA, headers=manager), 201
    )
    activated = httpx.post(
        f"{stack.url}{REGISTRY}/pmt-formulas/{created['version']}/activate", headers=manager
    )
    job = _ok(activated, 202)
    deadline = time.monotonic() + 60
    while job["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.3)
        job = _ok(httpx.get(stack.url + activated.headers["Location"], headers=manager))
    assert job["status"] == "done", job


def test_the_pack_fgt_against_the_line_of_each_area_through_the_gateway(
    stack: RunningStack,
) -> None:
    """Two households of two migrants (a legal status the demo registry has none of), one
    in Balbala (urban), one in Ali Addeh (rural); every household scored by a flat
    formula. National lines of 2026: urban 100,000 and rural 90,000. The 4 migrants are
    poor: the urban ones by (z - y) / z = 0.4, the rural ones by 1/9."""
    manager = stack.headers("demo-data-manager")
    officer = stack.headers("demo-me-officer")
    for locality, names in (
        ("DJ-DJ-BALBALA-PK12", ("Sagal", "Ayan")),
        ("DJ-AS-ALIADDEH-VILLAGE", ("Deka", "Nasra")),
    ):
        members = [
            member(names[0], "Abdi", "Nur", legal_status="migrant"),
            member(names[1], "Abdi", "Nur", relationship="child", legal_status="migrant"),
        ]
        body = household(members, locality=locality)
        _ok(httpx.post(f"{stack.url}{REGISTRY}/households", json=body, headers=manager), 201)
    _score_every_household(stack)
    for area, amount in (("urban", 100_000), ("rural", 90_000)):
        line = {"year": 2026, "area": area, "kind": "national", "amount": amount, "source": "INSD"}
        _ok(
            httpx.post(
                f"{stack.url}{INDICATORS}/reference/poverty-lines", json=line, headers=officer
            ),
            201,
        )
    loaded = _ok(httpx.post(f"{stack.url}{INDICATORS}/definitions/standard-pack", headers=officer))
    assert {"FGT_P0", "FGT_P1", "FGT_P2"} <= set(loaded["created"]), loaded

    params = {"indicator": "FGT_P0,FGT_P1,FGT_P2", "period": "2026", "by": "area"}
    answer = _ok(
        httpx.get(
            f"{stack.url}{INDICATORS}/values",
            params={**params, "legal_status": "migrant"},
            headers=officer,
        )
    )
    cells = {(v["indicator"], *v["cell"].values()): v for v in answer["values"]}
    urban_gap = 1 - Decimal("11.0021").exp() / 100_000
    rural_gap = 1 - Decimal("11.28978").exp() / 90_000
    assert Decimal(cells[("FGT_P0",)]["value"]) == 100
    p1 = cells[("FGT_P1",)]
    assert p1["denominator"] == "4"
    assert abs(Decimal(p1["numerator"]) - (2 * urban_gap + 2 * rural_gap)) <= PLACES
    assert Decimal(p1["value"]) == (Decimal(p1["numerator"]) / 4 * 100).quantize(PLACES)
    rural_p2 = cells[("FGT_P2", "rural")]
    assert abs(Decimal(rural_p2["numerator"]) - 2 * rural_gap**2) <= PLACES
    assert Decimal(rural_p2["value"]) == (Decimal(rural_p2["numerator"]) / 2 * 100).quantize(PLACES)
