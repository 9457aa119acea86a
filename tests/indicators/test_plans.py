"""Priority action plans: actions under the objectives of a strategy, checked against the
real funding service, and the plan's execution — planned against committed and disbursed,
in DJF and USD — from funding's `/stats` over a hand-made ledger whose answers are worked
out below by hand.

The ledger (rates from 2008-01-01: USD 177.721 DJF; EUR 250 DJF, then 260 from 2009-06-01):

    project  agreement (commitment)            disbursements (type 3)
    P1       AG1 600,000.00 USD, 2008-03-01    250,000.00 USD 2008-06-01; 50,000.00 USD 2010-01-15
             AG2 100,000.00 USD, 2010-05-01
    P2       AG3 100,000.00 EUR, 2009-01-10    40,000.00 EUR 2009-07-01
    P3       AG4 150,000.00 EUR, 2010-02-01    (none)

The plan PAP-2008-2011 of the INDS (axes A1: objectives O1, O2; A2: O3):

    ACT1  O1  2008-2009  1,000,000.00 USD  P1
    ACT2  O1  2008-2011  50,000,000 DJF    P2
    ACT3  O3  2010-2011  200,000.00 EUR    P3
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from services.indicators.models import PlanAction
from shared.db import Database
from tests.funding.payloads import (
    create_organisation,
    create_project,
    rate_body,
    record_rates,
    record_transaction,
)
from tests.indicators.conftest import FUNDING_URL, OneAtATime, stats_client
from tests.indicators.payloads import BASE, FRAMEWORKS
from tests.support.registry import as_role
from tests.support.tokens import TokenFactory

PLANS = f"{BASE}/plans"
PAP = f"{PLANS}/PAP-2008-2011"
ADDS = "DJ-GOV-ADDS"
P1, P2, P3 = "XM-DAC-44000-P1", "XM-DAC-41122-P2", "XM-DAC-44000-P3"


def djf(amount: int) -> dict[str, Any]:
    return {"amount_minor": amount, "currency": "DJF"}


def usd(cents: int) -> dict[str, Any]:
    return {"amount_minor": cents, "currency": "USD"}


def amounts(francs: int, cents: int) -> dict[str, Any]:
    return {"djf": djf(francs), "usd": usd(cents)}


async def _created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _ledger(funding: httpx.AsyncClient, finance: dict[str, str]) -> None:
    await record_rates(
        funding,
        finance,
        rate_body("USD", "2008-01-01", "177.721"),
        rate_body("EUR", "2008-01-01", "250"),
        rate_body("EUR", "2009-06-01", "260"),
    )
    world_bank = await create_organisation(funding, finance, "world_bank")
    unicef = await create_organisation(funding, finance, "unicef")
    await create_organisation(
        funding,
        finance,
        "ministry",
        iati_identifier=ADDS,
        name_fr="Agence djiboutienne de développement social",
        name_en="Djiboutian Social Development Agency",
    )
    dates = {"planned_start": "2008-01-01", "planned_end": "2012-12-31"}
    projects = {
        P1: await create_project(funding, finance, world_bank, activity="P1", **dates),
        P2: await create_project(funding, finance, unicef, activity="P2", **dates),
        P3: await create_project(funding, finance, world_bank, activity="P3", **dates),
    }
    funder = {P1: world_bank, P2: unicef, P3: world_bank}

    async def agreement(reference: str, project: str, minor: int, currency: str, day: str) -> Any:
        body = {
            "reference": reference,
            "project_id": projects[project]["id"],
            "funder_id": funder[project]["id"],
            "amount": {"amount_minor": minor, "currency": currency},
            "signed_date": day,
            "period_start": day,
            "period_end": "2012-12-31",
        }
        created = await _created(
            await funding.post("/api/v1/funding/agreements", json=body, headers=finance)
        )
        # Incoming funds first: what is disbursed was received.
        await record_transaction(
            funding,
            finance,
            created,
            amount_minor=minor,
            currency=currency,
            transaction_date=day,
            value_date=day,
        )
        return created

    ag1 = await agreement("AG1", P1, 60_000_000, "USD", "2008-03-01")
    await agreement("AG2", P1, 10_000_000, "USD", "2010-05-01")
    ag3 = await agreement("AG3", P2, 10_000_000, "EUR", "2009-01-10")
    await agreement("AG4", P3, 15_000_000, "EUR", "2010-02-01")
    for agreement_row, minor, currency, day in (
        (ag1, 25_000_000, "USD", "2008-06-01"),
        (ag1, 5_000_000, "USD", "2010-01-15"),
        (ag3, 4_000_000, "EUR", "2009-07-01"),
    ):
        await record_transaction(
            funding,
            finance,
            agreement_row,
            type=3,
            amount_minor=minor,
            currency=currency,
            transaction_date=day,
            value_date=day,
            description="Disbursement",
        )


async def _framework(indicators: httpx.AsyncClient, officer: dict[str, str]) -> dict[str, str]:
    """The INDS with axes A1 (O1, O2) and A2 (O3), and another strategy's objective X1:
    objective code -> id."""
    ids: dict[str, str] = {}
    for strategy, axes in (("INDS", {"A1": ["O1", "O2"], "A2": ["O3"]}), ("SNPS", {"B": ["X1"]})):
        body = {"code": strategy, "name_fr": strategy, "name_en": strategy}
        await _created(await indicators.post(FRAMEWORKS, json=body, headers=officer))
        for axis_code, objectives in axes.items():
            part = {
                "code": axis_code,
                "name_fr": f"Axe {axis_code}",
                "name_en": f"Axis {axis_code}",
            }
            axis = await _created(
                await indicators.post(f"{FRAMEWORKS}/{strategy}/axes", json=part, headers=officer)
            )
            for code in objectives:
                part = {"code": code, "name_fr": f"Objectif {code}", "name_en": f"Objective {code}"}
                objective = await _created(
                    await indicators.post(
                        f"{BASE}/axes/{axis['id']}/objectives", json=part, headers=officer
                    )
                )
                ids[code] = objective["id"]
    return ids


def _action(
    code: str, objective: str, years: tuple[int, int], cost: dict[str, Any], *projects: str
) -> dict[str, Any]:
    return {
        "code": code,
        "objective_id": objective,
        "name_fr": f"Action {code}",
        "name_en": f"Action {code} (en)",
        "responsible": ADDS,
        "start_year": years[0],
        "end_year": years[1],
        "planned_cost": cost,
        "projects": list(projects),
    }


PLAN = {
    "code": "PAP-2008-2011",
    "strategy": "INDS",
    "name_fr": "Plan d'actions prioritaires 2008-2011",
    "name_en": "Priority action plan 2008-2011",
    "start_year": 2008,
    "end_year": 2011,
}


@pytest.fixture
async def pap(
    indicators: httpx.AsyncClient,
    funding: httpx.AsyncClient,
    tokens: TokenFactory,
    officer: dict[str, str],
) -> dict[str, str]:
    """The ledger, the framework and the plan with its three actions: objective ids."""
    await _ledger(funding, as_role(tokens, "finance_officer"))
    objectives = await _framework(indicators, officer)
    await _created(await indicators.post(PLANS, json=PLAN, headers=officer))
    for body in (
        _action("ACT1", objectives["O1"], (2008, 2009), usd(100_000_000), P1),
        _action("ACT2", objectives["O1"], (2008, 2011), djf(50_000_000), P2),
        _action(
            "ACT3",
            objectives["O3"],
            (2010, 2011),
            {"amount_minor": 20_000_000, "currency": "EUR"},
            P3,
        ),
    ):
        await _created(await indicators.post(f"{PAP}/actions", json=body, headers=officer))
    return objectives


class Counting(OneAtATime):
    """The funding app, with the /stats requests it was sent."""

    def __init__(self, app: FastAPI) -> None:
        super().__init__(app)
        self.stats: list[dict[str, list[str]]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = urlsplit(str(request.url))
        if url.path.endswith("/stats"):
            self.stats.append(parse_qs(url.query))
        return await super().handle_async_request(request)


async def test_the_execution_is_planned_against_committed_and_disbursed_in_djf_and_usd(
    pap: dict[str, str],
    indicators: httpx.AsyncClient,
    indicators_app: FastAPI,
    funding_app: FastAPI,
    tokens: TokenFactory,
    analyst: dict[str, str],
) -> None:
    counting = Counting(funding_app)
    sources = indicators_app.state.sources
    indicators_app.state.sources = type(sources)(
        registry=sources.registry, funding=stats_client(tokens, "funding", FUNDING_URL, counting)
    )
    answer = await indicators.get(f"{PAP}/execution", headers=analyst)
    assert answer.status_code == 200, answer.text
    body = answer.json()

    # Planned, at the rates of 1 January of each action's first year:
    #   ACT1 1,000,000.00 USD x 177.721 = 177,721,000 DJF
    #   ACT2 50,000,000 DJF / 177.721 = 281,339.8529 USD -> 281,339.85
    #   ACT3 200,000.00 EUR x 260 (2010) = 52,000,000 DJF / 177.721 = 292,593.447 -> 292,593.45
    # Committed, agreements signed within the action's period, at their signed date's rates:
    #   ACT1 AG1 600,000.00 USD = 106,632,600 DJF (AG2, signed 2010, is after ACT1's period)
    #   ACT2 AG3 100,000.00 EUR x 250 (before June 2009) = 25,000,000 DJF
    #        / 177.721 = 140,669.926 -> 140,669.93 USD
    #   ACT3 AG4 150,000.00 EUR x 260 = 39,000,000 DJF / 177.721 = 219,445.085 -> 219,445.09
    # Disbursed, dated within the period, at their value date's rates:
    #   ACT1 250,000.00 USD = 44,430,250 DJF (the 2010 disbursement is after ACT1's period)
    #   ACT2 40,000.00 EUR x 260 = 10,400,000 DJF / 177.721 = 58,518.689 -> 58,518.69 USD
    #   ACT3 nothing
    act1 = {
        "planned": amounts(177_721_000, 100_000_000),
        "committed": amounts(106_632_600, 60_000_000),
        "disbursed": amounts(44_430_250, 25_000_000),
    }
    act2 = {
        "planned": amounts(50_000_000, 28_133_985),
        "committed": amounts(25_000_000, 14_066_993),
        "disbursed": amounts(10_400_000, 5_851_869),
    }
    act3 = {
        "planned": amounts(52_000_000, 29_259_345),
        "committed": amounts(39_000_000, 21_944_509),
        "disbursed": amounts(0, 0),
    }
    # O1 (and A1) = ACT1 + ACT2; O3 (and A2) = ACT3; O2 has no action and is left out.
    o1 = {
        "planned": amounts(177_721_000 + 50_000_000, 100_000_000 + 28_133_985),
        "committed": amounts(106_632_600 + 25_000_000, 60_000_000 + 14_066_993),
        "disbursed": amounts(44_430_250 + 10_400_000, 25_000_000 + 5_851_869),
    }
    plan = {
        "planned": amounts(227_721_000 + 52_000_000, 128_133_985 + 29_259_345),
        "committed": amounts(131_632_600 + 39_000_000, 74_066_993 + 21_944_509),
        "disbursed": amounts(54_830_250, 30_851_869),
    }
    assert body["figures"] == plan
    assert [axis["code"] for axis in body["axes"]] == ["A1", "A2"]
    a1, a2 = body["axes"]
    assert a1["figures"] == o1
    assert [objective["code"] for objective in a1["objectives"]] == ["O1"]
    (objective_1,) = a1["objectives"]
    assert objective_1["figures"] == o1
    assert [(a["code"], a["figures"]) for a in objective_1["actions"]] == [
        ("ACT1", act1),
        ("ACT2", act2),
    ]
    assert objective_1["actions"][0]["responsible"] == ADDS
    assert a2["figures"] == act3
    assert [(a["code"], a["figures"]) for a in a2["objectives"][0]["actions"]] == [("ACT3", act3)]
    assert body["as_of"] is not None

    # One request per measure, each grouped by project and year, over the plan's projects.
    assert sorted(query["measure"][0] for query in counting.stats) == [
        "committed",
        "committed_usd",
        "disbursed",
        "disbursed_usd",
    ]
    for query in counting.stats:
        assert query["group_by"] == ["project,year"]
        assert query["project"] == [",".join(sorted((P1, P2, P3)))]


async def test_actions_are_shown_with_their_costs_and_in_the_framework_tree(
    pap: dict[str, str], indicators: httpx.AsyncClient, analyst: dict[str, str]
) -> None:
    plan = (await indicators.get(PAP, headers=analyst)).json()
    assert [a["code"] for a in plan["actions"]] == ["ACT1", "ACT2", "ACT3"]
    act3 = plan["actions"][2]
    assert act3["planned_cost"] == {"amount_minor": 20_000_000, "currency": "EUR"}
    assert act3["planned"] == amounts(52_000_000, 29_259_345)
    assert act3["projects"] == [P3]
    one = await indicators.get(f"{PAP}/actions/ACT3", headers=analyst)
    assert one.json() == act3
    assert one.headers["etag"] == '"v1"'

    tree = (await indicators.get(f"{FRAMEWORKS}/INDS", headers=analyst)).json()
    o1, o2 = tree["axes"][0]["objectives"]
    assert [(a["plan"], a["code"], a["responsible"]) for a in o1["actions"]] == [
        ("PAP-2008-2011", "ACT1", ADDS),
        ("PAP-2008-2011", "ACT2", ADDS),
    ]
    assert o2["actions"] == []
    listed = await indicators.get(PLANS, params={"strategy": "INDS"}, headers=analyst)
    assert [p["code"] for p in listed.json()] == ["PAP-2008-2011"]
    assert (await indicators.get(PLANS, params={"strategy": "SNPS"}, headers=analyst)).json() == []


def _funding_down(app: FastAPI, tokens: TokenFactory) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    sources = app.state.sources
    app.state.sources = type(sources)(
        registry=sources.registry,
        funding=stats_client(tokens, "funding", FUNDING_URL, httpx.MockTransport(refuse)),
    )


async def test_an_action_changed_is_converted_and_checked_again(
    pap: dict[str, str],
    indicators: httpx.AsyncClient,
    indicators_app: FastAPI,
    tokens: TokenFactory,
    officer: dict[str, str],
) -> None:
    path = f"{PAP}/actions/ACT2"
    blind = await indicators.patch(path, json={"end_year": 2010}, headers=officer)
    assert blind.status_code == 428
    # 1,000,000.00 USD from 2009: 177,721,000 DJF at the same USD rate.
    changed = await indicators.patch(
        path,
        json={"planned_cost": usd(100_000_000), "start_year": 2009},
        headers={**officer, "If-Match": '"v1"'},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["planned"] == amounts(177_721_000, 100_000_000)
    assert (changed.json()["start_year"], changed.json()["version"]) == (2009, 2)
    taken = await indicators.patch(
        path, json={"projects": [P2, P1]}, headers={**officer, "If-Match": '"v2"'}
    )
    assert taken.status_code == 409
    assert taken.json()["errors"] == [{"path": "body.projects.1", "message": "finances ACT1"}]
    # An unchanged project list is no conflict and asks no service again.
    _funding_down(indicators_app, tokens)
    same = await indicators.patch(
        path, json={"projects": [P2], "name_en": "Cash"}, headers={**officer, "If-Match": '"v2"'}
    )
    assert (same.status_code, same.json()["version"]) == (200, 3)


async def test_bad_actions_are_refused_naming_the_problem_and_nothing_is_saved(
    pap: dict[str, str],
    indicators: httpx.AsyncClient,
    officer: dict[str, str],
    indicators_db: Database,
) -> None:
    actions = f"{PAP}/actions"
    o2 = pap["O2"]
    cases: list[tuple[dict[str, Any], int, list[dict[str, str]]]] = [
        (
            _action("NEW", o2, (2008, 2009), djf(1), "XM-DAC-44000-GHOST"),
            422,
            [{"path": "body.projects.0", "message": "unknown funding project: XM-DAC-44000-GHOST"}],
        ),
        (
            {**_action("NEW", o2, (2008, 2009), djf(1)), "responsible": "DJ-GOV-NOBODY"},
            422,
            [
                {
                    "path": "body.responsible",
                    "message": "unknown funding organisation: DJ-GOV-NOBODY",
                }
            ],
        ),
        (
            _action("NEW", o2, (2008, 2009), djf(1), P3),
            409,
            [{"path": "body.projects.0", "message": "finances ACT3"}],
        ),
        (
            _action("NEW", pap["X1"], (2008, 2009), djf(1)),
            422,
            [{"path": "body.objective_id", "message": "no such objective in the plan's strategy"}],
        ),
        (
            _action("NEW", o2, (2007, 2009), djf(1)),
            422,
            [{"path": "body", "message": "the plan runs from 2008 to 2011"}],
        ),
        (
            _action("NEW", o2, (2008, 2009), {"amount_minor": 100, "currency": "GBP"}),
            422,
            [{"path": "body.planned_cost", "message": "no GBP rate on or before 2008-01-01"}],
        ),
        (
            _action("ACT1", o2, (2008, 2009), djf(1)),
            409,
            [{"path": "body.code", "message": "the plan has an action with this code"}],
        ),
    ]
    for body, status, errors in cases:
        refused = await indicators.post(actions, json=body, headers=officer)
        assert refused.status_code == status, (body, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["errors"] == errors, body
    for body in (
        _action("NEW", o2, (2009, 2008), djf(1)),
        _action("NEW", o2, (2008, 2009), djf(-1)),
        _action("NEW", o2, (2008, 2009), {"amount_minor": 1, "currency": "XXX"}),
        {**_action("NEW", o2, (2008, 2009), djf(1)), "responsible": "not an id"},
    ):
        refused = await indicators.post(actions, json=body, headers=officer)
        assert refused.status_code == 422, body
    missing = await indicators.post(
        f"{PLANS}/NOPE/actions", json=_action("NEW", o2, (2008, 2009), djf(1)), headers=officer
    )
    assert missing.status_code == 404
    async with indicators_db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(PlanAction)) == 3

    shrink = await indicators.patch(
        PAP, json={"end_year": 2010}, headers={**officer, "If-Match": '"v1"'}
    )
    assert shrink.status_code == 422
    assert shrink.json()["errors"] == [
        {"path": "body", "message": "its actions run from 2008 to 2011"}
    ]
    renamed = await indicators.patch(
        PAP, json={"name_en": "PAP"}, headers={**officer, "If-Match": '"v1"'}
    )
    assert (renamed.status_code, renamed.headers["etag"]) == (200, '"v2"')
    taken = await indicators.post(PLANS, json=PLAN, headers=officer)
    assert taken.status_code == 409
    unknown_strategy = await indicators.post(
        PLANS, json={**PLAN, "code": "PAP-X", "strategy": "NOPE"}, headers=officer
    )
    assert unknown_strategy.status_code == 404


async def test_the_funding_service_down_is_a_503_naming_it(
    pap: dict[str, str],
    indicators: httpx.AsyncClient,
    indicators_app: FastAPI,
    tokens: TokenFactory,
    officer: dict[str, str],
    analyst: dict[str, str],
) -> None:
    _funding_down(indicators_app, tokens)
    calls: list[Callable[[], Awaitable[httpx.Response]]] = [
        lambda: indicators.get(f"{PAP}/execution", headers=analyst),
        lambda: indicators.post(
            f"{PAP}/actions", json=_action("NEW", pap["O2"], (2008, 2009), djf(1)), headers=officer
        ),
    ]
    for call in calls:
        down = await call()
        assert down.status_code == 503
        assert down.json()["detail"] == "The funding service is unavailable; try again."
        assert "retry-after" in down.headers


async def test_officers_edit_plans_and_staff_read_them(
    pap: dict[str, str], indicators: httpx.AsyncClient, tokens: TokenFactory
) -> None:
    body = _action("NEW", pap["O2"], (2008, 2009), djf(1))
    for role in ("analyst", "data_manager", "finance_officer", "partner"):
        headers = as_role(tokens, role)
        assert (
            await indicators.post(f"{PAP}/actions", json=body, headers=headers)
        ).status_code == 403
        assert (
            await indicators.post(PLANS, json={**PLAN, "code": "P2"}, headers=headers)
        ).status_code == 403
    assert (
        await indicators.post(f"{PAP}/actions", json=body, headers=as_role(tokens, "admin"))
    ).status_code == 201
    for role, status in (("analyst", 200), ("data_manager", 200), ("partner", 403)):
        headers = as_role(tokens, role)
        for path in (PLANS, PAP, f"{PAP}/actions/ACT1", f"{PAP}/execution"):
            assert (await indicators.get(path, headers=headers)).status_code == status, (role, path)


async def test_a_plan_whose_actions_name_no_project_asks_funding_nothing(
    indicators: httpx.AsyncClient,
    funding: httpx.AsyncClient,
    indicators_app: FastAPI,
    tokens: TokenFactory,
    officer: dict[str, str],
    analyst: dict[str, str],
) -> None:
    await _ledger(funding, as_role(tokens, "finance_officer"))
    objectives = await _framework(indicators, officer)
    await _created(await indicators.post(PLANS, json=PLAN, headers=officer))
    body = _action("STUDY", objectives["O2"], (2008, 2008), djf(3_000_000))
    await _created(await indicators.post(f"{PAP}/actions", json=body, headers=officer))
    _funding_down(indicators_app, tokens)
    answer = await indicators.get(f"{PAP}/execution", headers=analyst)
    assert answer.status_code == 200, answer.text
    execution = answer.json()
    assert execution["as_of"] is None
    # 3,000,000 DJF / 177.721 = 16,880.391 USD -> 16,880.39; nothing committed or disbursed.
    assert execution["figures"] == {
        "planned": amounts(3_000_000, 1_688_039),
        "committed": amounts(0, 0),
        "disbursed": amounts(0, 0),
    }
    assert [axis["code"] for axis in execution["axes"]] == ["A1"]
