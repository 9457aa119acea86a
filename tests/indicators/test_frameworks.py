"""The results framework through HTTP: a strategy, its axes and their objectives with codes
and names in French and English, kept by M&E officers, read by analysts and data managers."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from services.indicators.models import AuditEvent, Axis, Objective, Strategy
from shared.db import Database
from tests.indicators.payloads import BASE, DEFINITIONS, FRAMEWORKS, definition_body
from tests.support.registry import as_role
from tests.support.tokens import TokenFactory

SNPS = {
    "code": "SNPS-2018-2022",
    "name_fr": "Stratégie nationale de protection sociale 2018-2022",
    "name_en": "National social protection strategy 2018-2022",
    "start_year": 2018,
    "end_year": 2022,
}


def _part(code: str, name: str) -> dict[str, str]:
    return {"code": code, "name_fr": f"{name} (fr)", "name_en": f"{name} (en)"}


async def _created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _rows(database: Database) -> tuple[int, int, int]:
    async with database.sessionmaker() as session:
        counts = [
            await session.scalar(select(func.count()).select_from(model))
            for model in (Strategy, Axis, Objective)
        ]
    return tuple(int(count or 0) for count in counts)  # type: ignore[return-value]


async def test_an_officer_builds_a_tree_that_analysts_read_whole(
    indicators: httpx.AsyncClient, officer: dict[str, str], analyst: dict[str, str]
) -> None:
    strategy = await _created(await indicators.post(FRAMEWORKS, json=SNPS, headers=officer))
    assert strategy["version"] == 1
    axis_b = await _created(
        await indicators.post(
            f"{FRAMEWORKS}/SNPS-2018-2022/axes", json=_part("A2", "Resilience"), headers=officer
        )
    )
    axis_a = await _created(
        await indicators.post(
            f"{FRAMEWORKS}/SNPS-2018-2022/axes", json=_part("A1", "Safety nets"), headers=officer
        )
    )
    assert axis_a["strategy_id"] == strategy["id"]
    objectives = [
        await _created(
            await indicators.post(
                f"{BASE}/axes/{axis_a['id']}/objectives", json=_part(code, code), headers=officer
            )
        )
        for code in ("OS1.2", "OS1.1")
    ]
    indicator = definition_body(
        "HH_REG", numerator="#{households}", denominator=None, objective_id=objectives[1]["id"]
    )
    indicator.pop("disaggregations")
    await _created(await indicators.post(DEFINITIONS, json=indicator, headers=officer))

    tree = await indicators.get(f"{FRAMEWORKS}/SNPS-2018-2022", headers=analyst)
    assert tree.status_code == 200, tree.text
    assert tree.headers["etag"] == '"v1"'
    body = tree.json()
    assert (body["code"], body["name_fr"], body["start_year"]) == (
        "SNPS-2018-2022",
        SNPS["name_fr"],
        2018,
    )
    # Ordered by code, whatever the order they were made in.
    assert [axis["code"] for axis in body["axes"]] == ["A1", "A2"]
    assert body["axes"][1]["objectives"] == []
    first = body["axes"][0]
    assert [o["code"] for o in first["objectives"]] == ["OS1.1", "OS1.2"]
    assert first["objectives"][0]["name_en"] == "OS1.1 (en)"
    (measured,) = first["objectives"][0]["indicators"]
    assert (measured["code"], measured["version"], measured["latest"]) == ("HH_REG", 1, None)
    assert first["objectives"][1]["indicators"] == []
    assert body["axes"][1]["id"] == axis_b["id"]


async def test_names_change_with_if_match_and_codes_do_not(
    indicators: httpx.AsyncClient, officer: dict[str, str], indicators_db: Database
) -> None:
    await _created(await indicators.post(FRAMEWORKS, json=SNPS, headers=officer))
    path = f"{FRAMEWORKS}/SNPS-2018-2022"
    change = {"name_en": "SNPS", "end_year": 2023}
    assert (await indicators.patch(path, json=change, headers=officer)).status_code == 428
    changed = await indicators.patch(path, json=change, headers={**officer, "If-Match": '"v1"'})
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"v2"'
    assert (changed.json()["name_en"], changed.json()["end_year"]) == ("SNPS", 2023)
    stale = await indicators.patch(path, json=change, headers={**officer, "If-Match": '"v1"'})
    assert stale.status_code == 412

    for refused_change in (
        {"code": "SNPS-2"},
        {"end_year": 2010},
        {"name_fr": ""},
        {"name_fr": None},
    ):
        refused = await indicators.patch(
            path, json=refused_change, headers={**officer, "If-Match": '"v2"'}
        )
        assert refused.status_code == 422, refused_change
        assert refused.headers["content-type"] == "application/problem+json"

    axis = await _created(
        await indicators.post(f"{path}/axes", json=_part("A1", "Nets"), headers=officer)
    )
    axis_path = f"{BASE}/axes/{axis['id']}"
    renamed = await indicators.patch(
        axis_path, json={"name_fr": "Filets"}, headers={**officer, "If-Match": '"v1"'}
    )
    assert renamed.status_code == 200
    assert (renamed.json()["name_fr"], renamed.json()["version"]) == ("Filets", 2)
    objective = await _created(
        await indicators.post(f"{axis_path}/objectives", json=_part("O1", "Cover"), headers=officer)
    )
    objective_path = f"{BASE}/objectives/{objective['id']}"
    renamed = await indicators.patch(
        objective_path, json={"name_en": "Coverage"}, headers={**officer, "If-Match": '"v1"'}
    )
    assert renamed.json()["name_en"] == "Coverage"
    assert (await indicators.get(objective_path, headers=officer)).headers["etag"] == '"v2"'

    async with indicators_db.sessionmaker() as session:
        actions = (await session.scalars(select(AuditEvent.action))).all()
    assert sorted(actions) == ["create"] * 3 + ["update"] * 3


async def test_a_code_taken_is_a_409_naming_it_and_a_malformed_one_a_422(
    indicators: httpx.AsyncClient, officer: dict[str, str], indicators_db: Database
) -> None:
    await _created(await indicators.post(FRAMEWORKS, json=SNPS, headers=officer))
    other = {**SNPS, "code": "INDS", "start_year": 2006, "end_year": None}
    await _created(await indicators.post(FRAMEWORKS, json=other, headers=officer))
    taken = await indicators.post(FRAMEWORKS, json=SNPS, headers=officer)
    assert taken.status_code == 409
    assert taken.headers["content-type"] == "application/problem+json"
    assert taken.json()["errors"] == [
        {"path": "body.code", "message": "another strategy has this code"}
    ]

    axes = f"{FRAMEWORKS}/SNPS-2018-2022/axes"
    axis = await _created(await indicators.post(axes, json=_part("A1", "x"), headers=officer))
    assert (await indicators.post(axes, json=_part("A1", "y"), headers=officer)).status_code == 409
    # The same code under another strategy is another axis.
    await _created(
        await indicators.post(f"{FRAMEWORKS}/INDS/axes", json=_part("A1", "z"), headers=officer)
    )
    objectives = f"{BASE}/axes/{axis['id']}/objectives"
    await _created(await indicators.post(objectives, json=_part("O1", "x"), headers=officer))
    twice = await indicators.post(objectives, json=_part("O1", "x"), headers=officer)
    assert twice.status_code == 409
    assert twice.json()["errors"][0]["path"] == "body.code"

    for bad in (
        {**SNPS, "code": "SNPS 2018"},
        {**SNPS, "code": "x" * 41},
        {**SNPS, "code": "BACKWARDS", "start_year": 2022, "end_year": 2018},
        {**SNPS, "code": "NO-NAME", "name_en": ""},
        {**SNPS, "code": "EXTRA", "colour": "red"},
        {**SNPS, "code": "YEAR", "start_year": "2018"},
    ):
        refused = await indicators.post(FRAMEWORKS, json=bad, headers=officer)
        assert refused.status_code == 422, bad
        assert refused.headers["content-type"] == "application/problem+json"
    assert await _rows(indicators_db) == (2, 2, 1)


async def test_unknown_parents_are_404(
    indicators: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    missing = "00000000-0000-0000-0000-000000000000"
    for method, path, body in (
        ("GET", f"{FRAMEWORKS}/NOPE", None),
        ("POST", f"{FRAMEWORKS}/NOPE/axes", _part("A1", "x")),
        ("GET", f"{BASE}/axes/{missing}", None),
        ("POST", f"{BASE}/axes/{missing}/objectives", _part("O1", "x")),
        ("GET", f"{BASE}/objectives/{missing}", None),
    ):
        answer = await indicators.request(method, path, json=body, headers=officer)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"] == "application/problem+json"
    malformed = await indicators.get(f"{BASE}/axes/not-a-uuid", headers=officer)
    assert malformed.status_code == 422


async def test_officers_and_admins_edit_analysts_and_data_managers_read_others_nothing(
    indicators: httpx.AsyncClient, tokens: TokenFactory, indicators_db: Database
) -> None:
    for role in ("analyst", "data_manager", "registrar", "partner", "finance_officer", "service"):
        headers = as_role(tokens, role)
        refused = await indicators.post(FRAMEWORKS, json=SNPS, headers=headers)
        assert refused.status_code == 403, role
    assert await _rows(indicators_db) == (0, 0, 0)

    admin = as_role(tokens, "admin")
    await _created(await indicators.post(FRAMEWORKS, json=SNPS, headers=admin))
    axis = await _created(
        await indicators.post(
            f"{FRAMEWORKS}/SNPS-2018-2022/axes", json=_part("A1", "x"), headers=admin
        )
    )
    officer = as_role(tokens, "me_officer")
    objective = await _created(
        await indicators.post(
            f"{BASE}/axes/{axis['id']}/objectives", json=_part("O1", "x"), headers=officer
        )
    )
    reads = (
        FRAMEWORKS,
        f"{FRAMEWORKS}/SNPS-2018-2022",
        f"{BASE}/axes/{axis['id']}",
        f"{BASE}/objectives/{objective['id']}",
    )
    for role, status in (
        ("analyst", 200),
        ("data_manager", 200),
        ("me_officer", 200),
        ("admin", 200),
        ("partner", 403),
        ("registrar", 403),
        ("finance_officer", 403),
    ):
        for path in reads:
            answer = await indicators.get(path, headers=as_role(tokens, role))
            assert answer.status_code == status, (role, path)
    for role in ("analyst", "data_manager", "partner"):
        headers = {**as_role(tokens, role), "If-Match": '"v1"'}
        for path in (f"{FRAMEWORKS}/SNPS-2018-2022", f"{BASE}/axes/{axis['id']}"):
            changed = await indicators.patch(path, json={"name_en": "x"}, headers=headers)
            assert changed.status_code == 403, (role, path)
    anonymous = await indicators.get(FRAMEWORKS)
    assert anonymous.status_code == 401


async def test_a_resent_post_with_its_key_creates_one_strategy(
    indicators: httpx.AsyncClient, officer: dict[str, str], indicators_db: Database
) -> None:
    headers = {**officer, "Idempotency-Key": "snps-1"}
    first = await indicators.post(FRAMEWORKS, json=SNPS, headers=headers)
    again = await indicators.post(FRAMEWORKS, json=SNPS, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    assert await _rows(indicators_db) == (1, 0, 0)
