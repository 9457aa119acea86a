"""An action plan end to end, through the gateway with the three real services: an objective
linked to a registry programme and a funding project (checked over HTTP with the indicators
service's own token), a plan's actions costed at funding's rates, and the plan's execution
read from funding's `/stats` — four requests at once, each on its own connection — agreeing
with what funding's `/stats` tells an analyst.

The demo ledger (`inds up --demo`, inds/demo_funding.py): rates from 2025-01-01, USD 177.721
and EUR 186.2 DJF; the World Bank's IDA agreement on XM-DAC-44000-P173181, 15,000,000.00 USD
signed 2025-06-01 (its PNSF payroll of 2026Q1 disbursed); UNICEF's on XM-DAC-41122-DJ-2025-SP,
500,000.00 EUR signed 2025-02-01, nothing disbursed."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.stack import RunningStack

pytestmark = pytest.mark.e2e
INDICATORS = "/api/v1/indicators"
IDA = "XM-DAC-44000-P173181"
NUTRITION = "XM-DAC-41122-DJ-2025-SP"


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _post(stack: RunningStack, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    return _ok(httpx.post(stack.url + INDICATORS + path, json=body, headers=headers), 201)


def test_a_plans_execution_through_the_gateway_agrees_with_funding(stack: RunningStack) -> None:
    officer = stack.headers("demo-me-officer")
    names = {"name_fr": "x (fr)", "name_en": "x (en)"}
    _post(stack, "/frameworks", {"code": "SNPS-E2E", **names}, officer)
    axis = _post(stack, "/frameworks/SNPS-E2E/axes", {"code": "A1", **names}, officer)
    objective = _post(
        stack,
        f"/axes/{axis['id']}/objectives",
        {"code": "O1", **names, "programmes": ["pnsf"], "projects": [IDA]},
        officer,
    )
    unknown = httpx.post(
        f"{stack.url}{INDICATORS}/axes/{axis['id']}/objectives",
        json={"code": "O2", **names, "programmes": ["ghost"]},
        headers=officer,
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["path"] == "body.programmes.0"

    plan = {"code": "PAP-E2E", "strategy": "SNPS-E2E", **names}
    _post(stack, "/plans", {**plan, "start_year": 2025, "end_year": 2026}, officer)
    action = {"objective_id": objective["id"], **names, "responsible": "DJ-GOV-ADDS"}
    years = {"start_year": 2025, "end_year": 2026}
    e1 = _post(
        stack,
        "/plans/PAP-E2E/actions",
        {
            **action,
            **years,
            "code": "E1",
            "planned_cost": {"amount_minor": 1_000_000_000, "currency": "EUR"},
            "projects": [IDA],
        },
        officer,
    )
    # 10,000,000.00 EUR x 186.2 = 1,862,000,000 DJF; / 177.721 = 10,477,096.1226 USD.
    assert e1["planned"] == {
        "djf": {"amount_minor": 1_862_000_000, "currency": "DJF"},
        "usd": {"amount_minor": 1_047_709_612, "currency": "USD"},
    }
    _post(
        stack,
        "/plans/PAP-E2E/actions",
        {
            **action,
            **years,
            "code": "E2",
            "planned_cost": {"amount_minor": 100_000_000, "currency": "DJF"},
            "projects": [NUTRITION],
        },
        officer,
    )

    analyst = stack.headers("demo-analyst")
    execution = _ok(httpx.get(f"{stack.url}{INDICATORS}/plans/PAP-E2E/execution", headers=analyst))
    (axis_view,) = execution["axes"]
    (objective_view,) = axis_view["objectives"]
    e1_view, e2_view = objective_view["actions"]
    # Committed: 15,000,000.00 USD = 2,665,815,000 DJF; 500,000.00 EUR x 186.2 = 93,100,000
    # DJF, / 177.721 = 523,854.806 USD.
    assert e1_view["figures"]["committed"] == {
        "djf": {"amount_minor": 2_665_815_000, "currency": "DJF"},
        "usd": {"amount_minor": 1_500_000_000, "currency": "USD"},
    }
    assert e2_view["figures"]["committed"] == {
        "djf": {"amount_minor": 93_100_000, "currency": "DJF"},
        "usd": {"amount_minor": 52_385_481, "currency": "USD"},
    }
    assert e2_view["figures"]["disbursed"]["djf"]["amount_minor"] == 0
    # Disbursed on IDA in 2025-2026: what funding's /stats tells an analyst.
    for measure, currency in (("disbursed", "djf"), ("disbursed_usd", "usd")):
        stats = _ok(
            httpx.get(
                f"{stack.url}/api/v1/funding/stats",
                params={"measure": measure, "project": IDA, "year": "2025,2026"},
                headers=analyst,
            )
        )
        assert stats["total"] > 0, "the demo's 2026Q1 payroll was sent"
        assert e1_view["figures"]["disbursed"][currency]["amount_minor"] == stats["total"]
    total = execution["figures"]
    assert total["planned"]["djf"]["amount_minor"] == 1_862_000_000 + 100_000_000
    assert total == axis_view["figures"] == objective_view["figures"]

    tree = _ok(httpx.get(f"{stack.url}{INDICATORS}/frameworks/SNPS-E2E", headers=analyst))
    shown = tree["axes"][0]["objectives"][0]
    assert (shown["programmes"], shown["projects"]) == (["pnsf"], [IDA])
    assert [a["code"] for a in shown["actions"]] == ["E1", "E2"]
