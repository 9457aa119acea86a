"""Programmes (registry codes) and projects (funding IATI identifiers) serving an objective,
checked against the real registry and funding services when saved, and the whole tree."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from services.indicators.models import Objective
from shared.db import Database
from tests.funding.payloads import create_programme, create_project
from tests.indicators.conftest import FUNDING_URL, REGISTRY_URL, stats_client
from tests.indicators.payloads import BASE, FRAMEWORKS
from tests.support.registry import as_role
from tests.support.tokens import TokenFactory


def _refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


async def _axis(indicators: httpx.AsyncClient, officer: dict[str, str]) -> dict[str, Any]:
    strategy = {"code": "SNPS", "name_fr": "SNPS", "name_en": "SNPS"}
    assert (await indicators.post(FRAMEWORKS, json=strategy, headers=officer)).status_code == 201
    axis = {"code": "A1", "name_fr": "Filets sociaux", "name_en": "Safety nets"}
    created = await indicators.post(f"{FRAMEWORKS}/SNPS/axes", json=axis, headers=officer)
    assert created.status_code == 201
    body: dict[str, Any] = created.json()
    return body


def _objective(**links: list[str]) -> dict[str, Any]:
    return {"code": "OS1.1", "name_fr": "Couvrir", "name_en": "Cover", **links}


async def test_an_objective_names_the_programmes_and_projects_serving_it(
    indicators: httpx.AsyncClient,
    registry: httpx.AsyncClient,
    funding: httpx.AsyncClient,
    tokens: TokenFactory,
    officer: dict[str, str],
    analyst: dict[str, str],
) -> None:
    await create_programme(registry, tokens, "pnsf")
    await create_programme(registry, tokens, "pgsr")
    finance = as_role(tokens, "finance_officer")
    project = await create_project(funding, finance)
    axis = await _axis(indicators, officer)
    body = _objective(programmes=["pnsf", "pnsf"], projects=[project["iati_identifier"]])
    created = await indicators.post(
        f"{BASE}/axes/{axis['id']}/objectives", json=body, headers=officer
    )
    assert created.status_code == 201, created.text
    objective = created.json()
    assert objective["programmes"] == ["pnsf"]
    assert objective["projects"] == ["XM-DAC-44000-P173181"]

    path = f"{BASE}/objectives/{objective['id']}"
    changed = await indicators.patch(
        path, json={"programmes": ["pgsr", "pnsf"]}, headers={**officer, "If-Match": '"v1"'}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["programmes"] == ["pgsr", "pnsf"]
    assert changed.json()["projects"] == ["XM-DAC-44000-P173181"]
    emptied = await indicators.patch(
        path, json={"projects": []}, headers={**officer, "If-Match": '"v2"'}
    )
    assert (emptied.json()["projects"], emptied.json()["version"]) == ([], 3)
    nulled = await indicators.patch(
        path, json={"projects": None}, headers={**officer, "If-Match": '"v3"'}
    )
    assert nulled.status_code == 422

    tree = (await indicators.get(f"{FRAMEWORKS}/SNPS", headers=analyst)).json()
    (shown,) = tree["axes"][0]["objectives"]
    assert (shown["programmes"], shown["projects"]) == (["pgsr", "pnsf"], [])
    assert (shown["indicators"], shown["actions"]) == ([], [])


async def test_what_the_services_do_not_know_is_a_422_naming_it_and_nothing_is_saved(
    indicators: httpx.AsyncClient,
    registry: httpx.AsyncClient,
    tokens: TokenFactory,
    officer: dict[str, str],
    indicators_db: Database,
) -> None:
    await create_programme(registry, tokens, "pnsf")
    axis = await _axis(indicators, officer)
    body = _objective(programmes=["pnsf", "ghost"], projects=["XM-DAC-44000-NOPE"])
    refused = await indicators.post(
        f"{BASE}/axes/{axis['id']}/objectives", json=body, headers=officer
    )
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["type"].endswith("/unknown-reference")
    assert problem["errors"] == [
        {"path": "body.programmes.1", "message": "unknown registry programme: ghost"},
        {"path": "body.projects.0", "message": "unknown funding project: XM-DAC-44000-NOPE"},
    ]
    malformed = await indicators.post(
        f"{BASE}/axes/{axis['id']}/objectives",
        json=_objective(programmes=["pn sf"]),
        headers=officer,
    )
    assert malformed.status_code == 422
    async with indicators_db.sessionmaker() as session:
        assert (await session.scalars(select(Objective))).all() == []


async def test_a_service_down_when_saving_links_is_a_503_naming_it(
    indicators: httpx.AsyncClient,
    indicators_app: FastAPI,
    registry: httpx.AsyncClient,
    tokens: TokenFactory,
    officer: dict[str, str],
    indicators_db: Database,
) -> None:
    await create_programme(registry, tokens, "pnsf")
    axis = await _axis(indicators, officer)
    objectives = f"{BASE}/axes/{axis['id']}/objectives"
    sources = indicators_app.state.sources
    indicators_app.state.sources = type(sources)(
        registry=sources.registry,
        funding=stats_client(tokens, "funding", FUNDING_URL, httpx.MockTransport(_refused)),
    )
    # Nothing named in the funding service: it is not asked.
    created = await indicators.post(
        objectives, json=_objective(programmes=["pnsf"]), headers=officer
    )
    assert created.status_code == 201, created.text
    down = await indicators.post(
        objectives,
        json={**_objective(projects=["XM-DAC-44000-P1"]), "code": "OS1.2"},
        headers=officer,
    )
    assert down.status_code == 503
    assert down.json()["detail"] == "The funding service is unavailable; try again."
    indicators_app.state.sources = type(sources)(
        registry=stats_client(tokens, "beneficiaries", REGISTRY_URL, httpx.MockTransport(_refused)),
        funding=sources.funding,
    )
    down = await indicators.patch(
        f"{BASE}/objectives/{created.json()['id']}",
        json={"programmes": ["pnsf", "pgsr"]},
        headers={**officer, "If-Match": '"v1"'},
    )
    assert down.status_code == 503
    assert down.json()["detail"] == "The beneficiaries service is unavailable; try again."
    async with indicators_db.sessionmaker() as session:
        rows = (await session.scalars(select(Objective))).all()
    assert [(row.code, row.programmes, row.version) for row in rows] == [("OS1.1", ["pnsf"], 1)]
