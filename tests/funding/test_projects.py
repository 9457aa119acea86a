"""Projects: IATI activities of a reporting organisation, with their participants and the
registry programmes they finance, checked with the real registry over HTTP."""

from __future__ import annotations

from typing import Any

import httpx

from inds.stack import free_port
from services.funding.app import create_app
from services.funding.clients.registry import RegistryClient
from shared.db import Database
from shared.http_client import create_http_client
from shared.service_client import ServiceClient
from tests.funding.payloads import (
    PROJECTS,
    create_organisation,
    create_programme,
    create_project,
    project_body,
)
from tests.support.apps import serve
from tests.support.funding import ServiceToken, funding_settings
from tests.support.tokens import TokenFactory


async def _ids(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[str]:
    listed = await client.get(PROJECTS, params=params, headers=headers)
    assert listed.status_code == 200, listed.text
    return [item["id"] for item in listed.json()["items"]]


async def test_an_officer_creates_a_project_financing_registry_programmes(
    funding: httpx.AsyncClient,
    registry: httpx.AsyncClient,
    officer: dict[str, str],
    tokens: TokenFactory,
) -> None:
    await create_programme(registry, tokens)
    world_bank = await create_organisation(funding, officer)
    ministry = await create_organisation(funding, officer, "ministry")
    body = project_body(
        world_bank,
        participants=[
            {"organisation_id": world_bank["id"], "role": 1},
            {"organisation_id": ministry["id"], "role": 4},
        ],
        programme_codes=["pnsf"],
    )
    headers = officer | {"Idempotency-Key": "project-1"}
    created = await funding.post(PROJECTS, json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert created.headers["etag"] == '"v1"'
    project = created.json()
    assert project["iati_identifier"] == "XM-DAC-44000-P173181"
    assert (project["sector_code"], project["recipient_country"]) == ("16010", "DJ")
    assert (project["status"], project["status_name"]) == (2, "Implementation")
    assert project["programme_codes"] == ["pnsf"]
    assert sorted(
        (p["role"], p["role_name"], p["organisation_id"]) for p in project["participants"]
    ) == [
        (1, "Funding", world_bank["id"]),
        (4, "Implementing", ministry["id"]),
    ]

    replayed = await funding.post(PROJECTS, json=body, headers=headers)
    assert replayed.json()["id"] == project["id"]
    # A retry carries the first answer's headers: the client can PATCH without a GET.
    assert replayed.headers["location"] == created.headers["location"]
    assert created.headers["location"] == f"{PROJECTS}/{project['id']}"
    assert replayed.headers["etag"] == '"v1"'
    shown = await funding.get(f"{PROJECTS}/{project['id']}", headers=officer)
    assert shown.json() == project
    assert await _ids(funding, officer) == [project["id"]]
    assert await _ids(funding, officer, programme_code="pnsf") == [project["id"]]
    assert await _ids(funding, officer, programme_code="other") == []


async def test_an_unknown_programme_is_a_422_naming_it_and_nothing_is_saved(
    funding: httpx.AsyncClient,
    registry: httpx.AsyncClient,
    officer: dict[str, str],
    tokens: TokenFactory,
) -> None:
    await create_programme(registry, tokens)
    world_bank = await create_organisation(funding, officer)
    body = project_body(world_bank, programme_codes=["pnsf", "ghost"])
    refused = await funding.post(PROJECTS, json=body, headers=officer)
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["type"].endswith("/unknown-programme")
    assert "ghost" in problem["detail"]
    assert [error["path"] for error in problem["errors"]] == ["body.programme_codes.1"]
    assert await _ids(funding, officer) == []


async def test_the_registry_unreachable_is_a_503_and_nothing_is_saved(
    funding_db: Database, officer: dict[str, str], tokens: TokenFactory
) -> None:
    app = create_app(funding_settings(tokens))
    closed = create_http_client(
        f"http://127.0.0.1:{free_port()}", retries=0, token_provider=ServiceToken(tokens)
    )
    app.state.registry = RegistryClient(ServiceClient(closed, "beneficiaries"))
    async with serve(app, funding_db, "http://funding.test") as client:
        world_bank = await create_organisation(client, officer)
        body = project_body(world_bank, programme_codes=["pnsf"])
        answer = await client.post(PROJECTS, json=body, headers=officer)
        assert answer.status_code == 503, answer.text
        assert answer.json()["type"].endswith("/service-unavailable")
        assert "retry-after" in answer.headers
        assert await _ids(client, officer) == []
        without = await client.post(PROJECTS, json=project_body(world_bank), headers=officer)
        assert without.status_code == 201, "no programme: the registry is not asked"


async def test_bad_projects_are_refused_naming_the_field(
    funding: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    world_bank = await create_organisation(funding, officer)
    missing_org = "6f1c1c1e-1c1c-4c1c-8c1c-1c1c1c1c1c1c"
    for change, path in (
        ({"iati_identifier": "XM-DAC-41140-P173181"}, "body.iati_identifier"),
        ({"iati_identifier": "XM-DAC-44000-"}, "body.iati_identifier"),
        ({"iati_identifier": "XM-DAC-44000P1"}, "body.iati_identifier"),
        ({"iati_identifier": "XM-DAC-44000/P1"}, "body.iati_identifier"),
        ({"reporting_org_id": missing_org}, "body.reporting_org_id"),
        ({"planned_start": "2026-06-01", "planned_end": "2026-05-31"}, "body.planned_end"),
        ({"actual_start": "2026-06-01", "actual_end": "2026-01-01"}, "body.actual_end"),
        ({"planned_start": "2026-13-01"}, "body.planned_start"),
        ({"planned_start": 0}, "body.planned_start"),
        ({"status": 7}, "body.status"),
        ({"status": True}, "body.status"),
        ({"sector_code": "1601"}, "body.sector_code"),
        ({"recipient_country": "XX"}, "body.recipient_country"),
        ({"title_en": ""}, "body.title_en"),
        (
            {"participants": [{"organisation_id": missing_org, "role": 1}]},
            "body.participants.0.organisation_id",
        ),
        (
            {"participants": [{"organisation_id": world_bank["id"], "role": 5}]},
            "body.participants.0.role",
        ),
        (
            {"participants": [{"organisation_id": world_bank["id"], "role": 1}] * 2},
            "body.participants.1",
        ),
        ({"programme_codes": ["pnsf", "pnsf"]}, "body.programme_codes.1"),
        ({"programme_codes": ["p n s f"]}, "body.programme_codes.0"),
    ):
        response = await funding.post(
            PROJECTS, json=project_body(world_bank, **change), headers=officer
        )
        assert response.status_code == 422, (change, response.text)
        assert path in [error["path"] for error in response.json()["errors"]], change
    assert await _ids(funding, officer) == []

    await create_project(funding, officer, world_bank)
    taken = await funding.post(PROJECTS, json=project_body(world_bank), headers=officer)
    assert taken.status_code == 409
    assert taken.json()["errors"][0]["path"] == "body.iati_identifier"


async def test_changes_need_if_match_and_new_programmes_are_checked(
    funding: httpx.AsyncClient,
    registry: httpx.AsyncClient,
    officer: dict[str, str],
    tokens: TokenFactory,
) -> None:
    await create_programme(registry, tokens)
    world_bank = await create_organisation(funding, officer)
    wfp = await create_organisation(funding, officer, "wfp")
    project = await create_project(funding, officer, world_bank)
    url = f"{PROJECTS}/{project['id']}"
    change = {
        "title_en": "Cash transfers",
        "participants": [{"organisation_id": wfp["id"], "role": 4}],
    }
    assert (await funding.patch(url, json=change, headers=officer)).status_code == 428
    assert (
        await funding.patch(url, json=change, headers=officer | {"If-Match": '"v2"'})
    ).status_code == 412

    changed = await funding.patch(url, json=change, headers=officer | {"If-Match": '"v1"'})
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"v2"'
    assert changed.json()["title_en"] == "Cash transfers"
    assert [p["organisation_id"] for p in changed.json()["participants"]] == [wfp["id"]]
    v2 = officer | {"If-Match": '"v2"'}

    unknown = await funding.patch(url, json={"programme_codes": ["pnsf", "x"]}, headers=v2)
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["path"] == "body.programme_codes.1"
    financed = await funding.patch(url, json={"programme_codes": ["pnsf"]}, headers=v2)
    assert financed.status_code == 200, financed.text
    assert financed.json()["programme_codes"] == ["pnsf"]
    v3 = officer | {"If-Match": '"v3"'}

    moved = await funding.patch(url, json={"reporting_org_id": wfp["id"]}, headers=v3)
    assert moved.status_code == 422, "the identifier must then start with WFP's"
    assert moved.json()["errors"][0]["path"] == "body.iati_identifier"
    both = {"reporting_org_id": wfp["id"], "iati_identifier": "XM-DAC-41140-DJ01"}
    moved = await funding.patch(url, json=both, headers=v3)
    assert moved.status_code == 200, moved.text
    assert moved.json()["iati_identifier"] == "XM-DAC-41140-DJ01"
    unchanged = await funding.patch(url, json=both, headers=officer | {"If-Match": '"v4"'})
    assert unchanged.headers["etag"] == '"v4"', "nothing changed: the version stays"
    emptied = await funding.patch(
        url, json={"participants": None}, headers=officer | {"If-Match": '"v4"'}
    )
    assert emptied.status_code == 422


async def test_a_partner_sees_the_projects_it_reports_or_takes_part_in(
    funding: httpx.AsyncClient, officer: dict[str, str], tokens: TokenFactory
) -> None:
    world_bank = await create_organisation(funding, officer)
    wfp = await create_organisation(funding, officer, "wfp")
    unicef = await create_organisation(funding, officer, "unicef")
    cash = await create_project(
        funding,
        officer,
        world_bank,
        participants=[
            {"organisation_id": world_bank["id"], "role": 1},
            {"organisation_id": wfp["id"], "role": 4},
        ],
    )
    nutrition = await create_project(funding, officer, unicef, activity="DJI-2026", participants=[])

    def partner(partner_id: str) -> dict[str, str]:
        return tokens.bearer(sub=f"client:{partner_id}", roles=["partner"], partner_id=partner_id)

    assert await _ids(funding, partner("wfp")) == [cash["id"]]
    assert await _ids(funding, partner("worldbank")) == [cash["id"]]
    assert await _ids(funding, partner("unicef")) == [nutrition["id"]]
    assert await _ids(funding, partner("nobody")) == []
    assert (
        await funding.get(f"{PROJECTS}/{cash['id']}", headers=partner("wfp"))
    ).status_code == 200
    hidden = await funding.get(f"{PROJECTS}/{nutrition['id']}", headers=partner("wfp"))
    assert hidden.status_code == 404
    refused = await funding.post(PROJECTS, json=project_body(wfp), headers=partner("wfp"))
    assert refused.status_code == 403
    assert await _ids(funding, partner("wfp")) == [cash["id"]], "nothing was saved"
