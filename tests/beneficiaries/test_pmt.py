"""PMT formulas as data: validation, scoring, activation and the background recomputation."""

from __future__ import annotations

import asyncio
import math
import uuid
from datetime import date
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select, text

from services.beneficiaries.app import create_app
from services.beneficiaries.areas import repository as areas
from services.beneficiaries.clock import today
from services.beneficiaries.models import AuditEvent, Household, PmtFormula, PmtJob
from services.beneficiaries.pmt import worker
from services.beneficiaries.pmt.service import rescore_households
from services.beneficiaries.pmt.worker import run_pending_jobs
from shared.db import Database
from tests.beneficiaries.factories import Person, add_household, save_household
from tests.beneficiaries.helpers import BASE
from tests.support.apps import serve
from tests.support.registry import as_role, registry_settings
from tests.support.tokens import TokenFactory


def born(years_ago: int) -> date:
    # 1 January: the age is exactly `years_ago` on any later day of the year.
    return date(today().year - years_ago, 1, 1)


URBAN = {
    "intercept": 11.5,
    "terms": [
        {"variable": "household_size", "coefficient": -0.12},
        {"variable": "log_household_size", "coefficient": 0.05},
        {"variable": "rooms_per_person", "coefficient": 0.2},
        {"variable": "members_under_5", "coefficient": -0.07},
        {"variable": "members_5_to_14", "coefficient": -0.03},
        {"variable": "members_65_plus", "coefficient": -0.02},
        {"variable": "dependency_ratio", "coefficient": -0.04},
        {"variable": "has_disabled_member", "coefficient": -0.1},
        {"variable": "head_female", "coefficient": -0.05},
        {"variable": "head_age", "coefficient": 0.001},
        {"variable": "asset:tv", "coefficient": 0.15},
        {"variable": "asset:fridge", "coefficient": 0.25},
        {"variable": "dwelling_type", "equals": "shack", "coefficient": -0.2},
        {"variable": "dwelling_type", "equals": "apartment", "coefficient": 0.3},
        {"variable": "water_source", "equals": "piped", "coefficient": 0.1},
        {"variable": "head_education_level", "equals": "primary", "coefficient": 0.08},
        {"variable": "head_legal_status", "equals": "refugee", "coefficient": -0.15},
    ],
}
RURAL = {"intercept": 10.0, "terms": [{"variable": "household_size", "coefficient": -0.1}]}


def formula(name: str = "PMT 2026", urban: dict | None = None, rural: dict | None = None) -> dict:
    return {"name": name, "urban": urban or URBAN, "rural": rural or RURAL}


async def create_formula(client: httpx.AsyncClient, headers: dict, body: dict) -> int:
    response = await client.post(f"{BASE}/pmt-formulas", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["version"]


async def urban_family(session) -> Household:
    """Head (woman, 36, primary school), children of 3 and 8, a disabled grandmother of 70,
    and a son who has left (not counted): 4 active members in 2 rooms, with a TV."""
    return await add_household(
        session,
        [
            Person("Fatouma", birth_date=born(36), extra={"education_level": "primary"}),
            Person("Hodan", relationship_to_head="daughter", birth_date=born(3)),
            Person("Ayan", relationship_to_head="daughter", birth_date=born(8)),
            Person(
                "Khadija",
                relationship_to_head="mother",
                birth_date=born(70),
                disability={"mobility": 3},
            ),
            Person(
                "Omar",
                sex="M",
                relationship_to_head="son",
                birth_date=born(30),
                extra={"status": "left"},
            ),
        ],
        rooms=2,
        assets=["tv", "radio"],
        dwelling_type="shack",
        water_source="piped",
    )


# 11.5 - 0.12*4 + 0.05*ln(4) + 0.2*(2/4) - 0.07*1 - 0.03*1 - 0.02*1 - 0.04*((2+1)/1)
#   - 0.1 - 0.05 + 0.001*36 + 0.15 (tv) - 0.2 (shack) + 0.1 (piped) + 0.08 (primary)
URBAN_FAMILY_SCORE = 11.5 - 0.48 + 0.05 * math.log(4) + 0.1 - 0.07 - 0.03 - 0.02 - 0.12
URBAN_FAMILY_SCORE += -0.1 - 0.05 + 0.036 + 0.15 - 0.2 + 0.1 + 0.08


async def scores(db: Database, ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple]:
    async with db.sessionmaker() as session:
        rows = await session.execute(
            select(Household.id, Household.pmt_score, Household.pmt_formula_version).where(
                Household.id.in_(ids)
            )
        )
        return {row.id: (row.pmt_score, row.pmt_formula_version) for row in rows}


async def test_a_formula_scores_a_known_household_to_the_hand_computed_value(
    registry: httpx.AsyncClient, tokens: TokenFactory, beneficiaries_db: Database
) -> None:
    async with beneficiaries_db.sessionmaker() as session:
        family = await urban_family(session)
        rural = await add_household(
            session,
            [Person("Aicha"), Person("Ali", sex="M", relationship_to_head="son")],
            locality="DJ-AS-ALIADDEH-VILLAGE",
        )
        await session.commit()
    manager = as_role(tokens, "data_manager")
    version = await create_formula(registry, manager, formula())
    activated = await registry.post(f"{BASE}/pmt-formulas/{version}/activate", headers=manager)
    assert activated.status_code == 202, activated.text

    assert await run_pending_jobs(beneficiaries_db) == 1

    found = await scores(beneficiaries_db, [family.id, rural.id])
    assert found[family.id] == (Decimal(f"{URBAN_FAMILY_SCORE:.5f}"), version)
    assert found[family.id][0] == Decimal("10.96531")
    assert found[rural.id] == (Decimal("9.80000"), version)  # the rural model: 10 - 0.1*2


async def test_rescoring_a_household_uses_the_active_formula_or_clears_the_score(
    registry: httpx.AsyncClient, tokens: TokenFactory, beneficiaries_db: Database
) -> None:
    async with beneficiaries_db.sessionmaker() as session:
        family = await urban_family(session)
        family.pmt_score = Decimal("9.5")
        await session.commit()

    # No active formula: a score that no formula stands behind is cleared.
    async with beneficiaries_db.sessionmaker() as session:
        await rescore_households(session, [family.id])
        await session.commit()
    assert (await scores(beneficiaries_db, [family.id]))[family.id] == (None, None)

    manager = as_role(tokens, "data_manager")
    version = await create_formula(registry, manager, formula())
    await registry.post(f"{BASE}/pmt-formulas/{version}/activate", headers=manager)
    async with beneficiaries_db.sessionmaker() as session:
        loaded = await session.get(Household, family.id)
        assert loaded is not None
        version_before = loaded.version
        await rescore_households(session, [family.id])
        # The object the caller holds shows the new score, and the household's own version
        # (its ETag) does not move for a derived value.
        assert loaded.pmt_score == Decimal("10.96531")
        assert loaded.pmt_formula_version == version
        assert loaded.pmt_computed_at is not None
        await session.commit()
        assert loaded.version == version_before
    assert (await scores(beneficiaries_db, [family.id]))[family.id] == (
        Decimal("10.96531"),
        version,
    )


async def test_activation_recomputes_every_active_household_and_reports_progress(
    registry: httpx.AsyncClient, tokens: TokenFactory, beneficiaries_db: Database
) -> None:
    async with beneficiaries_db.sessionmaker() as session:
        sizes = {}
        for size in range(1, 6):
            children = [Person(f"Child{n}", relationship_to_head="son") for n in range(size - 1)]
            household = await add_household(session, [Person("Head"), *children])
            sizes[household.id] = size
        merged = await add_household(
            session, [Person("Gone")], status="merged", pmt_score=Decimal("9")
        )
        await session.commit()
    manager = as_role(tokens, "data_manager")
    by_size = {"intercept": 11.0, "terms": [{"variable": "household_size", "coefficient": -0.1}]}
    version = await create_formula(registry, manager, formula(urban=by_size))

    response = await registry.post(f"{BASE}/pmt-formulas/{version}/activate", headers=manager)
    assert response.status_code == 202
    job = response.json()
    assert (job["status"], job["total"], job["processed"], job["percent"]) == ("queued", 5, 0, 0)
    assert response.headers["location"] == f"{BASE}/pmt-jobs/{job['id']}"

    assert await run_pending_jobs(beneficiaries_db, batch_size=2) == 1

    done = (await registry.get(f"{BASE}/pmt-jobs/{job['id']}", headers=manager)).json()
    assert (done["status"], done["processed"], done["percent"]) == ("done", 5, 100)
    assert done["finished_at"] is not None and done["error"] is None
    found = await scores(beneficiaries_db, [*sizes, merged.id])
    for household_id, size in sizes.items():
        assert found[household_id] == (Decimal(f"{11.0 - 0.1 * size:.5f}"), version)
    assert found[merged.id] == (Decimal("9.00000"), None)  # not active: left as it was
    assert await run_pending_jobs(beneficiaries_db) == 0  # nothing left to do


async def test_a_job_orphaned_by_a_crash_is_taken_over_and_resumes_where_it_stopped(
    registry: httpx.AsyncClient, tokens: TokenFactory, beneficiaries_db: Database
) -> None:
    async with beneficiaries_db.sessionmaker() as session:
        ids = sorted([(await add_household(session, [Person("H")])).id for _ in range(4)])
        await session.commit()
    manager = as_role(tokens, "data_manager")
    version = await create_formula(registry, manager, formula())
    job_id = (
        await registry.post(f"{BASE}/pmt-formulas/{version}/activate", headers=manager)
    ).json()["id"]

    # A worker did the first two households, then died: its heartbeat is five minutes old.
    async with beneficiaries_db.sessionmaker() as session:
        await session.execute(
            text(
                "UPDATE pmt_job SET status = 'running', processed = 2, last_household_id = :last,"
                " started_at = now() - interval '10 minutes',"
                " heartbeat_at = now() - interval '5 minutes' WHERE id = :id"
            ),
            {"last": ids[1], "id": uuid.UUID(job_id)},
        )
        await session.commit()
    halfway = (await registry.get(f"{BASE}/pmt-jobs/{job_id}", headers=manager)).json()
    assert (halfway["status"], halfway["percent"]) == ("running", 50)

    assert await run_pending_jobs(beneficiaries_db, batch_size=1) == 1

    done = (await registry.get(f"{BASE}/pmt-jobs/{job_id}", headers=manager)).json()
    assert (done["status"], done["processed"], done["total"]) == ("done", 4, 4)
    found = await scores(beneficiaries_db, ids)
    # Resumed after the last household done, not started over.
    assert [found[i][1] for i in ids] == [None, None, version, version]


async def test_a_running_job_with_a_live_worker_is_not_taken(
    registry: httpx.AsyncClient, tokens: TokenFactory, beneficiaries_db: Database
) -> None:
    household = await save_household(beneficiaries_db, [Person("H")])
    manager = as_role(tokens, "data_manager")
    version = await create_formula(registry, manager, formula())
    job_id = (
        await registry.post(f"{BASE}/pmt-formulas/{version}/activate", headers=manager)
    ).json()["id"]
    async with beneficiaries_db.sessionmaker() as session:
        await session.execute(
            text("UPDATE pmt_job SET status = 'running', heartbeat_at = now() WHERE id = :id"),
            {"id": uuid.UUID(job_id)},
        )
        await session.commit()

    assert await run_pending_jobs(beneficiaries_db) == 0
    job = (await registry.get(f"{BASE}/pmt-jobs/{job_id}", headers=manager)).json()
    assert job["status"] == "running"
    assert (await scores(beneficiaries_db, [household.id]))[household.id] == (None, None)


async def test_activating_another_formula_makes_it_the_only_active_one_and_cancels_the_old_job(
    registry: httpx.AsyncClient, tokens: TokenFactory, beneficiaries_db: Database
) -> None:
    household = await save_household(
        beneficiaries_db, [Person("H")], locality="DJ-OB-OBOCK-MARKAZI"
    )
    manager = as_role(tokens, "admin")
    first = await create_formula(registry, manager, formula("first"))
    second = await create_formula(
        registry, manager, formula("second", rural={"intercept": 12.25, "terms": []})
    )
    old_job = (await registry.post(f"{BASE}/pmt-formulas/{first}/activate", headers=manager)).json()
    await registry.post(f"{BASE}/pmt-formulas/{second}/activate", headers=manager)

    listed = (await registry.get(f"{BASE}/pmt-formulas", headers=manager)).json()["items"]
    assert [(f["version"], f["is_active"]) for f in listed] == [(second, True), (first, False)]
    cancelled = (await registry.get(f"{BASE}/pmt-jobs/{old_job['id']}", headers=manager)).json()
    assert cancelled["status"] == "cancelled"

    assert await run_pending_jobs(beneficiaries_db) == 1
    assert (await scores(beneficiaries_db, [household.id]))[household.id] == (
        Decimal("12.25000"),
        second,
    )

    async with beneficiaries_db.sessionmaker() as session:
        actions = (
            await session.execute(
                select(AuditEvent.action, AuditEvent.detail).where(
                    AuditEvent.resource_type == "pmt_formula"
                )
            )
        ).all()
    assert sorted(a for a, _ in actions) == ["activate", "activate", "create", "create"]


async def test_a_score_no_column_can_hold_is_left_empty_and_the_job_still_finishes(
    registry: httpx.AsyncClient, tokens: TokenFactory, beneficiaries_db: Database
) -> None:
    household = await save_household(beneficiaries_db, [Person("H")])
    manager = as_role(tokens, "data_manager")
    version = await create_formula(
        registry, manager, formula(urban={"intercept": 5000.0, "terms": []})
    )
    await registry.post(f"{BASE}/pmt-formulas/{version}/activate", headers=manager)
    assert await run_pending_jobs(beneficiaries_db) == 1
    async with beneficiaries_db.sessionmaker() as session:
        job = await session.scalar(select(PmtJob).where(PmtJob.formula_version == version))
    assert job is not None and job.status == "done"
    assert (await scores(beneficiaries_db, [household.id]))[household.id] == (None, version)


async def test_bad_formulas_are_refused_with_the_paths_of_the_bad_terms(
    registry: httpx.AsyncClient, tokens: TokenFactory
) -> None:
    manager = as_role(tokens, "data_manager")
    urban = {
        "intercept": 11.0,
        "terms": [
            {"variable": "household_size", "coefficient": -0.1},
            {"variable": "asset:tv", "coefficient": 0.1},
            {"variable": "dwelling_type", "equals": "shack", "coefficient": -0.1},
            {"variable": "income", "coefficient": 0.3},
            {"variable": "asset:Big TV", "coefficient": 0.1},
        ],
    }
    rural = {
        "intercept": 10.0,
        "terms": [
            {"variable": "household_size", "equals": "3", "coefficient": 0.1},
            {"variable": "water_source", "coefficient": 0.2},
            {"variable": "asset:tv", "coefficient": 0.1},
            {"variable": "asset:tv", "coefficient": 0.2},
        ],
    }
    response = await registry.post(
        f"{BASE}/pmt-formulas", json=formula(urban=urban, rural=rural), headers=manager
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["path"] for e in response.json()["errors"]] == [
        "body.urban.terms.3.variable",
        "body.urban.terms.4.variable",
        "body.rural.terms.0.equals",
        "body.rural.terms.1.equals",
        "body.rural.terms.3",
    ]

    not_a_number = formula(
        urban={"intercept": 11, "terms": [{"variable": "rooms", "coefficient": "high"}]}
    )
    response = await registry.post(f"{BASE}/pmt-formulas", json=not_a_number, headers=manager)
    assert response.status_code == 422
    assert [e["path"] for e in response.json()["errors"]] == ["body.urban.terms.0.coefficient"]

    listed = await registry.get(f"{BASE}/pmt-formulas", headers=manager)
    assert listed.json()["items"] == []  # nothing saved


async def test_only_managers_change_formulas(
    registry: httpx.AsyncClient, tokens: TokenFactory
) -> None:
    manager = as_role(tokens, "data_manager")
    version = await create_formula(registry, manager, formula())
    for role in ("analyst", "registrar", "service"):
        headers = as_role(tokens, role)
        created = await registry.post(f"{BASE}/pmt-formulas", json=formula(), headers=headers)
        assert created.status_code == 403, role
        activated = await registry.post(f"{BASE}/pmt-formulas/{version}/activate", headers=headers)
        assert activated.status_code == 403, role
    analyst = as_role(tokens, "analyst")
    assert (await registry.get(f"{BASE}/pmt-formulas", headers=analyst)).status_code == 403
    registrar = as_role(tokens, "registrar")
    shown = await registry.get(f"{BASE}/pmt-formulas/{version}", headers=registrar)
    assert shown.status_code == 200 and shown.json()["is_active"] is False
    missing = await registry.post(f"{BASE}/pmt-formulas/999999/activate", headers=manager)
    assert missing.status_code == 404
    for beyond in (0, 2**31, 10**20):  # no version, even past the integer column's range
        assert (
            await registry.get(f"{BASE}/pmt-formulas/{beyond}", headers=registrar)
        ).status_code == 422
        assert (
            await registry.post(f"{BASE}/pmt-formulas/{beyond}/activate", headers=manager)
        ).status_code == 422


async def test_a_retried_create_with_the_same_idempotency_key_saves_one_formula(
    registry: httpx.AsyncClient, tokens: TokenFactory
) -> None:
    headers = as_role(tokens, "data_manager") | {"Idempotency-Key": "formula-2026-a"}
    first = await registry.post(f"{BASE}/pmt-formulas", json=formula(), headers=headers)
    again = await registry.post(f"{BASE}/pmt-formulas", json=formula(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["version"] == first.json()["version"]
    assert again.headers["idempotent-replayed"] == "true"
    listed = await registry.get(f"{BASE}/pmt-formulas", headers=headers)
    assert len(listed.json()["items"]) == 1


async def test_the_app_runs_queued_jobs_in_the_background(
    tokens: TokenFactory, beneficiaries_db: Database
) -> None:
    async with beneficiaries_db.sessionmaker() as session:
        await areas.load_reference_file(session)  # what the app's startup would do
        household = await add_household(session, [Person("H")])
        formula_row = PmtFormula(
            name="background", urban=RURAL, rural=RURAL, is_active=True, created_by="test"
        )
        session.add(formula_row)
        await session.flush()
        session.add(PmtJob(formula_version=formula_row.version, status="queued", total=1))
        await session.commit()

    app = create_app(registry_settings(tokens, pmt_job_poll_interval=0.01))
    async with serve(app, beneficiaries_db, "http://beneficiaries.test"):
        # Only the worker uses the test's connection meanwhile: give it time to poll.
        for _ in range(200):
            await asyncio.sleep(0.01)
            if app.state.pmt_worker.done:
                break

    assert (await scores(beneficiaries_db, [household.id]))[household.id] == (
        Decimal("9.90000"),
        formula_row.version,
    )


async def test_a_job_that_breaks_is_marked_failed_without_personal_data(
    registry: httpx.AsyncClient,
    tokens: TokenFactory,
    beneficiaries_db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await save_household(beneficiaries_db, [Person("Fatouma")])
    manager = as_role(tokens, "data_manager")
    version = await create_formula(registry, manager, formula())
    job_id = (
        await registry.post(f"{BASE}/pmt-formulas/{version}/activate", headers=manager)
    ).json()["id"]

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("cannot score Fatouma Ali Farah")

    monkeypatch.setattr(worker, "score_households", broken)
    assert await run_pending_jobs(beneficiaries_db) == 1

    job = (await registry.get(f"{BASE}/pmt-jobs/{job_id}", headers=manager)).json()
    assert job["status"] == "failed"
    assert job["error"] == "ValueError while scoring a batch"
    assert job["finished_at"] is not None
    assert await run_pending_jobs(beneficiaries_db) == 0  # a failed job is not retried alone
