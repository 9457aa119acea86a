"""Partner lists matched against the registry (`/matches`): by the registry's duplicate
check, identifiers first; the report's programmes and enrolment dates; a partner's list
matched only against its agreement's households, nothing about anyone else leaking."""

from __future__ import annotations

import io
from datetime import date

import httpx
import pytest
from fastapi import FastAPI
from openpyxl import Workbook
from sqlalchemy import func, select

from services.beneficiaries.matches.job import run_pending
from services.beneficiaries.models import Enrollment, Household, MatchJob, MatchRow, Programme
from shared.db import Database
from tests.beneficiaries.factories import Person, add_household
from tests.beneficiaries.helpers import BASE
from tests.beneficiaries.partners.lists import MATCHES, csv_rows, list_csv, matched, upload
from tests.beneficiaries.partners.world import World, add_agreement, build, partner
from tests.support.registry import as_role
from tests.support.tokens import TokenFactory

HEADER = ["ID", "First Name", "Father's name", "Grandfather name", "DOB", "Gender", "Phone",
          "UNHCR ID", "Location"]  # fmt: skip


async def _registry(database: Database) -> dict[str, Household]:
    async with database.sessionmaker() as session:
        pnsf = Programme(
            code="pnsf", name_fr="PNSF", name_en="PNSF", benefit_amount=30_000,
            benefit_period="quarterly",
        )  # fmt: skip
        session.add(pnsf)
        await session.flush()
        homes = {
            "mohamed": await add_household(
                session, [Person("Mohamed", "Ali", "Farah", sex="M", birth_date=date(1985, 3, 10))]
            ),
            "fatouma": await add_household(
                session, [Person("Fatouma", "Hassan", "Omar", birth_date=date(1992, 1, 15))]
            ),
            "ayan": await add_household(
                session,
                [
                    Person(
                        "Ayan",
                        "Abdi",
                        "Warsame",
                        birth_date=date(1979, 8, 2),
                        identifiers=[("unhcr_individual", "UNHCR555")],
                    )
                ],
            ),
            "kaltum": await add_household(
                session,
                [
                    Person(
                        "Kaltum",
                        "Said",
                        "Houssein",
                        birth_date=date(1995, 11, 30),
                        identifiers=[("phone", "+25377112233")],
                    )
                ],
            ),
            # Two records alike: a row like both cannot say which.
            "hodan1": await add_household(
                session, [Person("Hodan", "Ismail", "Robleh", birth_date=date(1988, 6, 1))]
            ),
            "hodan2": await add_household(
                session, [Person("Hodan", "Ismail", "Robleh", birth_date=date(1988, 6, 1))]
            ),
        }
        session.add(
            Enrollment(
                programme_id=pnsf.id, household_id=homes["mohamed"].id,
                enrolled_on=date(2026, 2, 1), status_since=date(2026, 6, 1), status="suspended",
            )
        )  # fmt: skip
        await session.commit()
    return homes


LIST = list_csv(
    HEADER,
    [
        ["w-exact", "Fatouma", "Hassan", "Omar", "15/01/1992", "F", "", "", "DJ-DJ-BALBALA-PK12"],
        ["w-variant", "Maxamed", "Cali", "Farah", "1985-03-10", "male", "", "", ""],
        ["w-unhcr", "Ayane", "Abdi", "", "1979", "F", "", "unhcr-555", ""],
        ["w-phone", "Kaltoum", "", "", "", "", "77 11 22 33", "", ""],
        ["w-ambiguous", "Hodan", "Ismail", "Robleh", "1988-06-01", "F", "", "", ""],
        ["w-none", "Zahra", "Moussa", "Dileita", "1970-02-02", "F", "", "", ""],
        ["w-bad-cells", "Zahra", "Moussa", "Dileita", "31/02/1970", "?", "12", "", ""],
    ],
)


async def test_a_list_is_matched_by_identifiers_then_by_the_duplicate_check(
    registry: httpx.AsyncClient,
    registry_app: FastAPI,
    beneficiaries_db: Database,
    tokens: TokenFactory,
) -> None:
    homes = await _registry(beneficiaries_db)
    report, _ = await matched(registry, registry_app, as_role(tokens, "data_manager"), LIST)
    assert report["job"]["matched"] == 4
    assert report["job"]["ambiguous"] == 1
    assert report["job"]["not_found"] == 2
    rows = report["rows"]

    exact, variant = rows["w-exact"], rows["w-variant"]
    assert (exact["outcome"], exact["method"]) == ("matched", "names")
    assert exact["household"] == str(homes["fatouma"].id)
    assert exact["registry_number"] == homes["fatouma"].registry_number
    assert exact["programmes"] == []
    assert (variant["outcome"], variant["method"]) == ("matched", "names")
    assert variant["household"] == str(homes["mohamed"].id)
    assert 0.7 <= variant["score"] < exact["score"]
    assert variant["reasons"]["evidence"]
    # Which programme, in what state, since when: not assisted twice.
    assert variant["programmes"] == [
        {
            "programme": "pnsf",
            "name": "PNSF",
            "status": "suspended",
            "enrolled_on": "2026-02-01",
            "status_since": "2026-06-01",
        }
    ]
    assert rows["w-unhcr"]["method"] == "unhcr_individual"
    assert rows["w-unhcr"]["household"] == str(homes["ayan"].id)
    assert rows["w-phone"]["method"] == "phone"
    assert rows["w-phone"]["household"] == str(homes["kaltum"].id)

    ambiguous = rows["w-ambiguous"]
    assert ambiguous["outcome"] == "ambiguous"
    assert {c["household"] for c in ambiguous["candidates"]} == {
        str(homes["hodan1"].id),
        str(homes["hodan2"].id),
    }
    assert rows["w-none"]["outcome"] == "not_found"
    assert rows["w-none"]["household"] is None and rows["w-none"]["candidates"] is None
    # Cells that cannot be read are said, not guessed: the row is matched without them.
    bad = rows["w-bad-cells"]
    assert (bad["outcome"], bad["unreadable"]) == ("not_found", ["birth_date", "sex", "phone"])

    as_csv = csv_rows(report["csv"])
    assert as_csv["w-variant"]["outcome"] == "matched"
    assert as_csv["w-variant"]["household"] == str(homes["mohamed"].id)
    assert (
        "pnsf (suspended since 2026-06-01, enrolled 2026-02-01)"
        in as_csv["w-variant"]["programmes"]
    )
    assert as_csv["w-ambiguous"]["candidates"].count("/") == 2
    assert as_csv["w-none"]["outcome"] == "not_found"
    assert as_csv["w-bad-cells"]["unreadable"] == "birth_date, sex, phone"


async def test_what_was_sent_is_not_kept_once_matched(
    registry: httpx.AsyncClient,
    registry_app: FastAPI,
    beneficiaries_db: Database,
    tokens: TokenFactory,
) -> None:
    await _registry(beneficiaries_db)
    await matched(registry, registry_app, as_role(tokens, "admin"), LIST)
    async with beneficiaries_db.sessionmaker() as session:
        kept = await session.scalar(
            select(func.count()).select_from(MatchRow).where(MatchRow.submitted.is_not(None))
        )
    assert kept == 0


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        (["Name", "DOB", "Gender"], "missing: partner_ref"),
        (["ID", "DOB", "Gender"], "given_name (with father_name, grandfather_name) or full_name"),
        (["ID", "Full name", "Date of birth", "Colour"], "not recognised: Colour"),
        (["ID", "Full name", "Full_Name"], "given twice: full_name"),
    ],
)
async def test_wrong_columns_are_refused_before_any_job_is_created(
    registry: httpx.AsyncClient,
    beneficiaries_db: Database,
    tokens: TokenFactory,
    header: list[str],
    problem: str,
) -> None:
    content = list_csv(header, [["x"] * len(header)])
    response = await upload(registry, as_role(tokens, "data_manager"), content)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem in response.json()["detail"]
    assert "Nothing was saved" in response.json()["detail"]
    async with beneficiaries_db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(MatchJob)) == 0
        assert await session.scalar(select(func.count()).select_from(MatchRow)) == 0


async def test_registrars_and_analysts_may_not_match_lists(
    registry: httpx.AsyncClient, tokens: TokenFactory
) -> None:
    for role in ("registrar", "analyst"):
        response = await upload(registry, as_role(tokens, role), LIST)
        assert response.status_code == 403, role


@pytest.fixture
async def world(beneficiaries_db: Database) -> World:
    return await build(beneficiaries_db)


PARTNER_LIST = list_csv(
    ["beneficiary_id", "full_name", "date_of_birth", "sex", "unhcr_number", "phone_number"],
    [
        ["p-amina", "Amina Yusuf Abdi", "17/05/1990", "F", "", ""],
        ["p-amina-unhcr", "", "", "", "UNHCR111", ""],
        ["p-no-consent", "Hawa Ismail Daher", "1990-05-17", "F", "UNHCR222", ""],
        ["p-other-region", "Deka Ibrahim Elmi", "1990-05-17", "F", "UNHCR333", ""],
        ["p-other-programme", "Idil Warsame Nur", "1990-05-17", "F", "UNHCR444", ""],
        ["p-spouse", "Nasra Kadir Moussa", "1990-05-17", "F", "", ""],
    ],
)


async def test_a_partner_matches_only_against_its_agreement(
    registry: httpx.AsyncClient, registry_app: FastAPI, world: World, tokens: TokenFactory
) -> None:
    await add_agreement(registry, tokens)
    headers = partner(tokens)
    report, answers = await matched(registry, registry_app, headers, PARTNER_LIST)
    rows = report["rows"]
    amina = rows["p-amina"]
    assert amina["outcome"] == "matched"
    # Pseudonyms, as its agreement says; the same household whichever way it was found.
    assert amina["household"].startswith("hh-") and amina["individual"].startswith("in-")
    assert rows["p-amina-unhcr"]["household"] == amina["household"]
    assert amina["registry_number"] is None and amina["reasons"] is None
    # Only the agreement's programmes, never the household's others.
    assert [p["programme"] for p in amina["programmes"]] == ["pnsf"]
    assert amina["programmes"][0]["enrolled_on"] == "2026-04-01"
    # Outside the agreement: the same answer as no one at all.
    for ref in ("p-no-consent", "p-other-region", "p-other-programme", "p-spouse"):
        assert rows[ref] == {
            "row": rows[ref]["row"],
            "partner_ref": ref,
            "outcome": "not_found",
            "method": None,
            "score": None,
            "household": None,
            "individual": None,
            "registry_number": None,
            "programmes": None,
            "candidates": None,
            "reasons": None,
            "unreadable": None,
        }
    assert report["job"]["not_found"] == 4
    for answer in answers:
        leaked = [s for s in [*world.secrets, *world.categories] if s in answer.text]
        assert not leaked, f"{answer.request.url.path} answered {leaked}"


async def test_a_partner_sees_only_its_own_lists(
    registry: httpx.AsyncClient, registry_app: FastAPI, world: World, tokens: TokenFactory
) -> None:
    await add_agreement(registry, tokens)
    await add_agreement(registry, tokens, partner_id="unicef-dj")
    started = await upload(registry, partner(tokens), PARTNER_LIST)
    job_id = started.json()["id"]
    other = partner(tokens, "unicef-dj")
    assert (await registry.get(f"{MATCHES}/{job_id}", headers=other)).status_code == 404
    assert (await registry.get(f"{MATCHES}/{job_id}/report.csv", headers=other)).status_code == 404
    assert (await registry.get(MATCHES, headers=other)).json()["items"] == []
    # Not matched yet: the report waits for the job.
    early = await registry.get(f"{MATCHES}/{job_id}/report.json", headers=partner(tokens))
    assert early.status_code == 409


async def test_a_partner_without_an_agreement_is_refused(
    registry: httpx.AsyncClient, world: World, tokens: TokenFactory
) -> None:
    response = await upload(registry, partner(tokens, "nobody"), PARTNER_LIST)
    assert response.status_code == 403
    assert response.json()["reason"] == "no-agreement"


async def test_an_excel_list_is_matched_as_a_csv_one(
    registry: httpx.AsyncClient,
    registry_app: FastAPI,
    beneficiaries_db: Database,
    tokens: TokenFactory,
) -> None:
    homes = await _registry(beneficiaries_db)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Beneficiary ID", "Nom complet", "Date de naissance", "Sexe"])
    sheet.append(["x-1", "Fatouma Hassan Omar", date(1992, 1, 15), "Féminin"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    headers = as_role(tokens, "data_manager")
    started = await upload(registry, headers, buffer.getvalue(), name="list.xlsx")
    assert started.status_code == 202, started.text
    assert started.json()["file_format"] == "xlsx"
    await run_pending(registry_app.state.database, registry_app.state.settings)
    report = await registry.get(f"{MATCHES}/{started.json()['id']}/report.json", headers=headers)
    [row] = report.json()["rows"]
    assert (row["partner_ref"], row["outcome"]) == ("x-1", "matched")
    assert not row["unreadable"], "Féminin is a sex, as in an import"
    assert row["household"] == str(homes["fatouma"].id)


async def test_polling_a_job_does_not_use_up_the_partners_quota(
    registry: httpx.AsyncClient, world: World, tokens: TokenFactory
) -> None:
    await add_agreement(registry, tokens)
    headers = partner(tokens)
    started = await upload(registry, headers, PARTNER_LIST)
    for _ in range(3):
        polled = await registry.get(f"{MATCHES}/{started.json()['id']}", headers=headers)
        assert polled.status_code == 200
    terms = await registry.get(f"{BASE}/partner/agreement", headers=headers)
    assert terms.json()["requests_today"] == 1


async def test_a_partners_reports_count_the_households_they_name(
    registry: httpx.AsyncClient, registry_app: FastAPI, world: World, tokens: TokenFactory
) -> None:
    agreement = await add_agreement(registry, tokens)
    # Amina, twice (by names and by UNHCR number): one household named, read three times
    # (JSON, CSV and XLSX); the rows outside the agreement name no one.
    await matched(registry, registry_app, partner(tokens), PARTNER_LIST)
    usage = await registry.get(
        f"{BASE}/agreements/{agreement['id']}/usage", headers=as_role(tokens, "data_manager")
    )
    assert usage.json()["records"] == 3
