"""Enrollment: eligibility with reasons, overrides, regions, status changes, the payroll
stream."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from services.beneficiaries.clock import today
from services.beneficiaries.models import AuditEvent, Enrollment, Household, Programme
from services.beneficiaries.programmes import repository as programme_repository
from services.beneficiaries.programmes import stream
from shared.auth import Principal
from shared.db import Database
from tests.beneficiaries.factories import Person, save_household
from tests.beneficiaries.helpers import BASE
from tests.beneficiaries.payloads import REFUGEES_WITH_DISABILITY, programme
from tests.support.registry import as_role
from tests.support.tokens import TokenFactory

# exp(11) = 59,874 DJF and exp(12) = 162,755 DJF per person per year.
POOR, NOT_POOR = Decimal("11"), Decimal("12")


async def add_programme(client: httpx.AsyncClient, tokens: TokenFactory, **fields) -> dict:
    response = await client.post(
        f"{BASE}/programmes", json=programme(**fields), headers=as_role(tokens, "data_manager")
    )
    assert response.status_code == 201, response.text
    return response.json()


async def household(
    db: Database,
    score: Decimal | None = POOR,
    *,
    locality: str = "DJ-DJ-BALBALA-PK12",
    members: list[Person] | None = None,
    **fields,
) -> Household:
    return await save_household(
        db, members or [Person("Fatouma")], locality=locality, pmt_score=score, **fields
    )


async def enroll(
    client: httpx.AsyncClient, headers: dict, household_id: uuid.UUID, code: str = "pnsf", **body
) -> httpx.Response:
    return await client.post(
        f"{BASE}/programmes/{code}/enrollments",
        json={"household_id": str(household_id), **body},
        headers=headers,
    )


async def test_an_eligible_household_is_enrolled_with_what_the_check_found(
    registry: httpx.AsyncClient, tokens: TokenFactory, beneficiaries_db: Database
) -> None:
    await add_programme(registry, tokens)
    home = await household(beneficiaries_db, POOR)
    registrar = as_role(tokens, "registrar") | {"X-Request-ID": "enroll-1"}

    response = await enroll(registry, registrar, home.id, enrolled_on="2026-10-01")
    assert response.status_code == 201, response.text
    enrollment = response.json()
    assert (enrollment["programme"], enrollment["status"], enrollment["enrolled_on"]) == (
        "pnsf",
        "active",
        "2026-10-01",
    )
    eligibility = enrollment["eligibility"]
    assert eligibility["eligible"] is True and eligibility["overridden"] is False
    assert eligibility["pmt"] == {
        "applies": True,
        "passed": True,
        "score": 11.0,
        "formula_version": None,
        "predicted_consumption": 59_874,
        "max_consumption": 120_000,
    }

    shown = await registry.get(f"{BASE}/enrollments/{enrollment['id']}", headers=registrar)
    history = shown.json()["history"]
    assert [(e["from_status"], e["to_status"], e["effective_on"]) for e in history] == [
        (None, "active", "2026-10-01")
    ]
    assert (history[0]["actor"], history[0]["request_id"]) == ("user:registrar", "enroll-1")


async def test_a_household_above_the_threshold_or_without_a_score_is_refused_with_reasons(
    registry: httpx.AsyncClient, tokens: TokenFactory, beneficiaries_db: Database
) -> None:
    await add_programme(registry, tokens)
    registrar = as_role(tokens, "registrar")

    richer = await enroll(registry, registrar, (await household(beneficiaries_db, NOT_POOR)).id)
    assert richer.status_code == 409
    assert richer.headers["content-type"] == "application/problem+json"
    problem = richer.json()
    assert problem["type"].endswith("/not-eligible")
    assert problem["reasons"] == [
        {
            "path": "pmt",
            "condition": "predicted consumption <= 120000 DJF per person per year",
            "found": 162_755,
        }
    ]

    unscored = await enroll(registry, registrar, (await household(beneficiaries_db, None)).id)
    assert unscored.status_code == 409
    assert [(r["path"], r["found"]) for r in unscored.json()["reasons"]] == [("pmt", None)]

    async with beneficiaries_db.sessionmaker() as session:
        assert (await session.scalars(select(Enrollment))).all() == []


async def test_the_rule_selects_refugee_village_households_with_a_disabled_member(
    registry: httpx.AsyncClient, tokens: TokenFactory, beneficiaries_db: Database
) -> None:
    await add_programme(
        registry,
        tokens,
        code="handicap",
        pmt_max_consumption=None,
        eligibility=REFUGEES_WITH_DISABILITY,
    )
    disabled = [
        Person("Amina", legal_status="refugee"),
        Person("Yonis", sex="M", relationship_to_head="son", disability={"seeing": 4}),
    ]
    staff = as_role(tokens, "data_manager")
    village = "DJ-AS-ALIADDEH-VILLAGE"

    in_village = await household(beneficiaries_db, None, locality=village, members=disabled)
    assert (await enroll(registry, staff, in_village.id, code="handicap")).status_code == 201

    nobody_disabled = await household(beneficiaries_db, None, locality=village)
    refused = await enroll(registry, staff, nobody_disabled.id, code="handicap")
    assert refused.status_code == 409
    assert refused.json()["reasons"] == [
        {
            "path": "eligibility.all.1",
            "condition": "any member: has_disability eq true",
            "found": "no member matches",
        }
    ]

    in_town = await household(beneficiaries_db, None, members=disabled)
    refused = await enroll(registry, staff, in_town.id, code="handicap")
    assert [(r["path"], r["found"]) for r in refused.json()["reasons"]] == [
        ("eligibility.all.0", False)
    ]

    # The same answer is available before enrolling, to explain a refusal.
    check = await registry.get(
        f"{BASE}/programmes/handicap/eligibility/{in_town.id}", headers=staff
    )
    assert check.status_code == 200
    assert check.json()["eligibility"]["eligible"] is False
    assert check.json()["eligibility"]["reasons"][0]["path"] == "eligibility.all.0"


async def test_only_a_manager_may_override_and_the_override_is_recorded(
    registry: httpx.AsyncClient, tokens: TokenFactory, beneficiaries_db: Database
) -> None:
    await add_programme(registry, tokens)
    richer = await household(beneficiaries_db, NOT_POOR)

    registrar = await enroll(
        registry, as_role(tokens, "registrar"), richer.id, override_reason="Veuve, 6 enfants"
    )
    assert registrar.status_code == 403

    manager = await enroll(
        registry, as_role(tokens, "data_manager"), richer.id, override_reason="Veuve, 6 enfants"
    )
    assert manager.status_code == 201, manager.text
    enrollment = manager.json()
    assert (enrollment["override_reason"], enrollment["overridden_by"]) == (
        "Veuve, 6 enfants",
        "user:data_manager",
    )
    assert enrollment["eligibility"]["eligible"] is False
    assert enrollment["eligibility"]["overridden"] is True
    assert enrollment["eligibility"]["reasons"][0]["path"] == "pmt"

    async with beneficiaries_db.sessionmaker() as session:
        audit = await session.scalar(
            select(AuditEvent).where(AuditEvent.resource_id == uuid.UUID(enrollment["id"]))
        )
    assert audit is not None
    assert (audit.action, audit.household_id, audit.detail) == (
        "create",
        richer.id,
        {"programme": "pnsf", "overridden": True},
    )


async def test_a_household_is_enrolled_once_at_a_time_and_may_return_after_exit(
    registry: httpx.AsyncClient, tokens: TokenFactory, beneficiaries_db: Database
) -> None:
    await add_programme(registry, tokens)
    home = await household(beneficiaries_db)
    staff = as_role(tokens, "registrar")
    first = (await enroll(registry, staff, home.id)).json()

    twice = await enroll(registry, staff, home.id)
    assert twice.status_code == 409
    assert twice.json()["enrollment_id"] == first["id"]

    exited = await registry.post(
        f"{BASE}/enrollments/{first['id']}/exit", json={"reason": "Déménagé"}, headers=staff
    )
    assert exited.status_code == 200
    again = await enroll(registry, staff, home.id)
    assert again.status_code == 201
    assert again.json()["id"] != first["id"]


async def test_an_enrollment_racing_another_is_a_409_naming_the_winner(
    registry: httpx.AsyncClient,
    tokens: TokenFactory,
    beneficiaries_db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await add_programme(registry, tokens)
    home = await household(beneficiaries_db)
    staff = as_role(tokens, "registrar")
    first = (await enroll(registry, staff, home.id)).json()

    # As if the other request enrolled the household between the check and the insert.
    looked_up = programme_repository.current_enrollment
    calls = 0

    async def not_yet(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return None if calls == 1 else await looked_up(*args, **kwargs)

    monkeypatch.setattr(programme_repository, "current_enrollment", not_yet)
    racing = await enroll(registry, staff, home.id)
    assert racing.status_code == 409, racing.text
    assert racing.json()["enrollment_id"] == first["id"]


async def test_a_registrar_acts_only_in_the_regions_of_their_token(
    registry: httpx.AsyncClient, tokens: TokenFactory, beneficiaries_db: Database
) -> None:
    await add_programme(registry, tokens)
    ali_sabieh = as_role(tokens, "registrar", regions=["DJ-AS"])
    in_balbala = await household(beneficiaries_db)
    in_ali_addeh = await household(beneficiaries_db, locality="DJ-AS-ALIADDEH-VILLAGE")

    assert (await enroll(registry, ali_sabieh, in_balbala.id)).status_code == 403
    assert (await enroll(registry, ali_sabieh, in_ali_addeh.id)).status_code == 201

    elsewhere = (await enroll(registry, as_role(tokens, "data_manager"), in_balbala.id)).json()
    suspended = await registry.post(
        f"{BASE}/enrollments/{elsewhere['id']}/suspend",
        json={"reason": "Absent"},
        headers=ali_sabieh,
    )
    assert suspended.status_code == 403
    shown = await registry.get(f"{BASE}/enrollments/{elsewhere['id']}", headers=ali_sabieh)
    assert shown.status_code == 403
    check = await registry.get(
        f"{BASE}/programmes/pnsf/eligibility/{in_balbala.id}", headers=ali_sabieh
    )
    assert check.status_code == 403


async def test_status_changes_follow_the_allowed_transitions_and_are_recorded(
    registry: httpx.AsyncClient, tokens: TokenFactory, beneficiaries_db: Database
) -> None:
    await add_programme(registry, tokens)
    staff = as_role(tokens, "registrar")
    enrollment = (
        await enroll(
            registry, staff, (await household(beneficiaries_db)).id, enrolled_on="2026-01-05"
        )
    ).json()
    url = f"{BASE}/enrollments/{enrollment['id']}"

    async def change(action: str, **body) -> httpx.Response:
        return await registry.post(
            f"{url}/{action}", json={"reason": f"{action} test", **body}, headers=staff
        )

    assert (await change("resume")).status_code == 409  # active cannot resume
    suspended = await change("suspend", effective_on="2026-03-01")
    assert suspended.status_code == 200
    assert (suspended.json()["status"], suspended.json()["status_since"]) == (
        "suspended",
        "2026-03-01",
    )
    invalid = await change("suspend")
    assert invalid.status_code == 409
    assert invalid.json()["status_now"] == "suspended"
    assert (await change("resume", effective_on="2026-02-01")).status_code == 409  # before
    assert (await change("resume", effective_on="2026-04-01")).json()["status"] == "active"
    assert (await change("exit")).json()["status"] == "exited"
    for action in ("suspend", "resume", "exit"):
        assert (await change(action)).status_code == 409, action

    history = (await registry.get(url, headers=staff)).json()["history"]
    assert [(e["from_status"], e["to_status"], e["reason"]) for e in history] == [
        (None, "active", None),
        ("active", "suspended", "suspend test"),
        ("suspended", "active", "resume test"),
        ("active", "exited", "exit test"),
    ]
    assert history[-1]["effective_on"] == today().isoformat()


async def test_a_status_change_cannot_take_effect_in_the_future(
    registry: httpx.AsyncClient, tokens: TokenFactory, beneficiaries_db: Database
) -> None:
    await add_programme(registry, tokens)
    staff = as_role(tokens, "registrar")
    enrollment = (await enroll(registry, staff, (await household(beneficiaries_db)).id)).json()
    response = await registry.post(
        f"{BASE}/enrollments/{enrollment['id']}/suspend",
        json={"reason": "Absent", "effective_on": "2999-01-01"},
        headers=staff,
    )
    assert response.status_code == 422
    assert [e["path"] for e in response.json()["errors"]] == ["body.effective_on"]
    shown = (await registry.get(f"{BASE}/enrollments/{enrollment['id']}", headers=staff)).json()
    assert shown["status"] == "active"


async def test_closed_programmes_and_inactive_or_unknown_households_are_refused(
    registry: httpx.AsyncClient, tokens: TokenFactory, beneficiaries_db: Database
) -> None:
    await add_programme(registry, tokens, code="ancien", status="closed")
    await add_programme(registry, tokens)
    staff = as_role(tokens, "data_manager")
    home = await household(beneficiaries_db)

    assert (await enroll(registry, staff, home.id, code="ancien")).status_code == 409
    assert (await enroll(registry, staff, home.id, code="nowhere")).status_code == 404
    assert (await enroll(registry, staff, uuid.uuid4())).status_code == 404
    merged = await household(beneficiaries_db, status="merged")
    assert (await enroll(registry, staff, merged.id)).status_code == 409


async def test_analysts_and_services_cannot_write(
    registry: httpx.AsyncClient, tokens: TokenFactory, beneficiaries_db: Database
) -> None:
    await add_programme(registry, tokens)
    home = await household(beneficiaries_db)
    enrollment = (await enroll(registry, as_role(tokens, "data_manager"), home.id)).json()
    for role in ("analyst", "service", "partner"):
        headers = as_role(tokens, role)
        assert (await enroll(registry, headers, home.id)).status_code == 403, role
        for action in ("suspend", "exit"):
            response = await registry.post(
                f"{BASE}/enrollments/{enrollment['id']}/{action}",
                json={"reason": "x"},
                headers=headers,
            )
            assert response.status_code == 403, (role, action)
    analyst = as_role(tokens, "analyst")
    assert (
        await registry.get(f"{BASE}/enrollments/{enrollment['id']}", headers=analyst)
    ).status_code == 403


def lines(response: httpx.Response) -> list[dict]:
    return [orjson.loads(line) for line in response.content.splitlines()]


async def test_the_stream_lists_exactly_the_active_enrollments_with_the_heads_phone(
    registry: httpx.AsyncClient,
    registry_app: FastAPI,
    tokens: TokenFactory,
    beneficiaries_db: Database,
) -> None:
    await add_programme(registry, tokens)
    await add_programme(registry, tokens, code="other")
    staff = as_role(tokens, "data_manager")
    with_phone = await household(
        beneficiaries_db,
        members=[
            Person("Hawa", "Omar", "Djama", identifiers=[("phone", "+25377123456")]),
            Person(
                "Idil", relationship_to_head="daughter", identifiers=[("phone", "+25377999999")]
            ),
        ],
    )
    without_phone = await household(
        beneficiaries_db, locality="DJ-OB-OBOCK-MARKAZI", members=[Person("Saada", "Ali", None)]
    )
    suspended, exited, elsewhere = [await household(beneficiaries_db) for _ in range(3)]
    ids = {}
    for home in (with_phone, without_phone, suspended, exited):
        ids[home.id] = (await enroll(registry, staff, home.id)).json()["id"]
    await enroll(registry, staff, elsewhere.id, code="other")
    await registry.post(
        f"{BASE}/enrollments/{ids[suspended.id]}/suspend", json={"reason": "x"}, headers=staff
    )
    await registry.post(
        f"{BASE}/enrollments/{ids[exited.id]}/exit", json={"reason": "x"}, headers=staff
    )

    service = as_role(tokens, "service")
    response = await registry.get(
        f"{BASE}/programmes/pnsf/enrollments", params={"status": "active"}, headers=service
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    by_household = {line["household_id"]: line for line in lines(response)}
    assert set(by_household) == {str(with_phone.id), str(without_phone.id)}

    first = by_household[str(with_phone.id)]
    assert first["enrollment_id"] == ids[with_phone.id]
    assert first["registry_number"] == with_phone.registry_number
    assert (first["programme"], first["status"], first["region_code"]) == (
        "pnsf",
        "active",
        "DJ-DJ",
    )
    assert (first["benefit_amount"], first["benefit_currency"], first["benefit_period"]) == (
        30_000,
        "DJF",
        "quarterly",
    )
    head = first["head"]
    assert (head["given_name"], head["father_name"], head["grandfather_name"]) == (
        "Hawa",
        "Omar",
        "Djama",
    )
    assert head["phone"] == "+25377123456"  # the head's, not the daughter's
    second = by_household[str(without_phone.id)]
    assert second["locality_code"] == "DJ-OB-OBOCK-MARKAZI"
    assert (second["head"]["given_name"], second["head"]["phone"]) == ("Saada", None)

    everyone = await registry.get(f"{BASE}/programmes/pnsf/enrollments", headers=service)
    assert sorted(line["status"] for line in lines(everyone)) == [
        "active",
        "active",
        "exited",
        "suspended",
    ]

    # Reading heads' names and phones is on the audit trail, household by household.
    await registry_app.state.audit.flush()
    async with beneficiaries_db.sessionmaker() as session:
        read = (
            await session.scalars(
                select(AuditEvent.household_id).where(
                    AuditEvent.action == "read", AuditEvent.actor == "user:service"
                )
            )
        ).all()
    assert sorted(map(str, read)) == sorted(
        [str(with_phone.id), str(without_phone.id)] + [str(h) for h in ids]
    )


async def test_the_stream_is_for_managers_and_services_only(
    registry: httpx.AsyncClient, tokens: TokenFactory
) -> None:
    await add_programme(registry, tokens)
    url = f"{BASE}/programmes/pnsf/enrollments"
    for role in ("registrar", "analyst", "partner"):
        assert (await registry.get(url, headers=as_role(tokens, role))).status_code == 403, role
    assert (await registry.get(url, headers=as_role(tokens, "admin"))).status_code == 200
    missing = await registry.get(
        f"{BASE}/programmes/nowhere/enrollments", headers=as_role(tokens, "service")
    )
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


async def test_the_stream_reads_in_batches(
    registry: httpx.AsyncClient,
    registry_app: FastAPI,
    tokens: TokenFactory,
    beneficiaries_db: Database,
) -> None:
    await add_programme(registry, tokens)
    staff = as_role(tokens, "data_manager")
    for _ in range(5):
        await enroll(registry, staff, (await household(beneficiaries_db)).id)
    reader = Principal(subject="svc-funding", roles=frozenset({"service"}))
    async with beneficiaries_db.sessionmaker() as session:
        programme = await session.scalar(select(Programme).where(Programme.code == "pnsf"))
        assert programme is not None
        chunks = [
            chunk
            async for chunk in stream.enrollment_lines(
                session, programme, "active", reader, registry_app.state.audit, batch_size=2
            )
        ]
    assert [chunk.count(b"\n") for chunk in chunks] == [2, 2, 1]
