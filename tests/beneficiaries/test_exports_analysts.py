"""What an analyst's export holds: no free text (what was typed there reaches no analyst,
whatever it holds), registration and consent dates to the month, ages instead of birth
dates; registry staff's exports as stored. And the analyst's other reads (`/stats`): no
free text, registration dates in whole months."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from typing import Any

import httpx
import pytest

from services.beneficiaries.clock import age_on, today
from services.beneficiaries.exports.fields import CATALOGUE
from tests.beneficiaries.helpers import BASE, register
from tests.beneficiaries.payloads import household, member
from tests.beneficiaries.test_exports import FORMATS, export, rows_of
from tests.support.registry import as_role
from tests.support.tokens import TokenFactory

# Typed into free-text fields by a registrar: a neighbour's name and phone.
OCCUPATION = "Couturière chez Hawa Robleh Dirieh, tél 77 84 12 09"
SECRETS = ("Hawa", "Robleh Dirieh", "77 84 12 09", "77841209", "Kadidja", "2026-03-14")


@pytest.fixture
async def typed_in(registry: httpx.AsyncClient, manager: dict[str, str]) -> dict[str, Any]:
    body = household(
        [
            member("Kadidja", "Omar", "Houmed", birth_date="1988-11-23", occupation=OCCUPATION),
            member("Ifrah", "Ali", "Houmed", birth_date="2015-04-02", relationship="child"),
        ],
        registration={
            "source": "partner_import",
            "date": "2026-03-14",
            "partner_id": "Hawa 77841209",
        },
        consent={
            "given": True,
            "date": "2026-03-14",
            "scope": ["registry"],
            "method": "verbal",
            "notice_version": "77841209",
        },
    )
    return await register(registry, manager, body)


def file_text(response: httpx.Response, export_format: str) -> str:
    """Everything the file holds, as text (an XLSX unzipped)."""
    assert response.status_code == 200, response.text
    if export_format != "xlsx":
        return response.content.decode("utf-8-sig")
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        return "".join(archive.read(name).decode() for name in archive.namelist())


@pytest.mark.parametrize("export_format", FORMATS)
async def test_free_text_never_reaches_an_analyst(
    registry: httpx.AsyncClient, tokens: TokenFactory, typed_in: dict[str, Any], export_format
) -> None:
    analyst = as_role(tokens, "analyst")
    for resource in ("households", "individuals"):
        response = await export(registry, resource, export_format, analyst)
        text = file_text(response, export_format)
        for secret in SECRETS:
            assert secret not in text, (resource, secret)
        columns = set(rows_of(response, export_format)[0])
        assert not {"occupation", "consent_notice_version", "partner_id"} & columns

    refused = await export(
        registry, "individuals", export_format, analyst, fields="age,occupation,sex"
    )
    assert refused.status_code == 403
    assert refused.json()["fields"] == ["occupation"]
    refused = await export(
        registry, "households", export_format, analyst, fields="consent_notice_version,partner_id"
    )
    assert refused.status_code == 403
    assert refused.json()["fields"] == ["consent_notice_version", "partner_id"]


@pytest.mark.parametrize("export_format", FORMATS)
async def test_an_analyst_gets_dates_to_the_month(
    registry: httpx.AsyncClient, tokens: TokenFactory, typed_in: dict[str, Any], export_format
) -> None:
    analyst = as_role(tokens, "analyst")
    (row,) = rows_of(await export(registry, "households", export_format, analyst), export_format)
    assert row["registration_date"] == "2026-03"
    assert row["consent_date"] == "2026-03"
    head_age = age_on(date(1988, 11, 23), today())
    assert row["head_age"] == (str(head_age) if export_format == "csv" else head_age)
    assert row["head_age_group"] == "25-64"

    people = rows_of(await export(registry, "individuals", export_format, analyst), export_format)
    assert [person["age_group"] for person in people] == ["25-64", "5-14"]
    assert all("birth_date" not in person for person in people)
    assert not {"gps_latitude", "gps_longitude", "address"} & set(people[0])


async def test_a_data_managers_export_is_unchanged(
    registry: httpx.AsyncClient, manager: dict[str, str], typed_in: dict[str, Any]
) -> None:
    (row,) = rows_of(await export(registry, "households", "jsonl", manager), "jsonl")
    assert list(row) == list(CATALOGUE["households"])
    assert row["registration_date"] == "2026-03-14"
    assert row["consent_date"] == "2026-03-14"
    assert row["consent_notice_version"] == "77841209"
    assert row["partner_id"] == "Hawa 77841209"
    people = rows_of(await export(registry, "individuals", "csv", manager), "csv")
    assert list(people[0]) == list(CATALOGUE["individuals"])
    assert people[0]["occupation"] == OCCUPATION
    assert people[0]["birth_date"] == "1988-11-23"


async def test_analysts_filter_registrations_by_whole_months_and_ages_by_month(
    registry: httpx.AsyncClient, tokens: TokenFactory, typed_in: dict[str, Any]
) -> None:
    analyst = as_role(tokens, "analyst")
    day = await export(
        registry,
        "households",
        "csv",
        analyst,
        registered_from="2026-03-14",
        registered_to="2026-03-14",
    )
    assert day.status_code == 422
    assert day.headers["content-type"] == "application/problem+json"
    paths = [error["path"] for error in day.json()["errors"]]
    assert paths == ["query.registered_from", "query.registered_to"]

    month = await export(
        registry,
        "households",
        "csv",
        analyst,
        registered_from="2026-03-01",
        registered_to="2026-03-31",
    )
    assert len(rows_of(month, "csv")) == 1
    february = await export(registry, "households", "csv", analyst, registered_to="2026-02-28")
    assert rows_of(february, "csv") == []

    # The same rule in /stats; registry staff count by the day.
    stats = f"{BASE}/stats"
    params = {"measure": "households", "registered_from": "2026-03-14"}
    refused = await registry.get(stats, params=params, headers=analyst)
    assert refused.status_code == 422
    assert [error["path"] for error in refused.json()["errors"]] == ["query.registered_from"]
    exact = await registry.get(stats, params=params, headers=as_role(tokens, "data_manager"))
    assert exact.json()["total"] == 1

    # Ages on two days running would show who had a birthday: on the first of a month only.
    ages = {"measure": "individuals", "group_by": "age_group"}
    refused = await registry.get(stats, params={**ages, "as_of": "2026-11-23"}, headers=analyst)
    assert refused.status_code == 422
    assert [error["path"] for error in refused.json()["errors"]] == ["query.as_of"]
    monthly = await registry.get(stats, params={**ages, "as_of": "2026-11-01"}, headers=analyst)
    assert monthly.status_code == 200
    assert monthly.json()["as_of"] == "2026-11-01"
    daily = await registry.get(
        stats, params={**ages, "as_of": "2026-11-23"}, headers=as_role(tokens, "data_manager")
    )
    assert daily.json()["total"] == 2


async def test_the_field_catalogue_says_what_analysts_get(
    registry: httpx.AsyncClient, tokens: TokenFactory
) -> None:
    response = await registry.get(f"{BASE}/exports/fields", headers=as_role(tokens, "analyst"))
    assert response.status_code == 200
    catalogue = {
        resource: {field["name"]: field for field in fields}
        for resource, fields in response.json().items()
    }
    people, households = catalogue["individuals"], catalogue["households"]
    assert people["occupation"]["free_text"] is True
    assert people["occupation"]["for_analysts"] == "withheld"
    assert people["birth_date"]["for_analysts"] == "withheld"
    assert people["age"]["for_analysts"] == "as_is"
    assert households["registration_date"]["for_analysts"] == "month"
    assert households["consent_date"]["for_analysts"] == "month"
    assert households["gps_latitude"]["for_analysts"] == "withheld"
    assert households["locality_code"]["for_analysts"] == "as_is"
    # Every free-text field is withheld, and only personal or free-text ones are.
    for fields in catalogue.values():
        for field in fields.values():
            withheld = field["for_analysts"] == "withheld"
            assert withheld == (field["personal"] or field["free_text"]), field["name"]


async def test_an_analysts_statistics_hold_no_free_text(
    registry: httpx.AsyncClient, tokens: TokenFactory, typed_in: dict[str, Any]
) -> None:
    analyst = as_role(tokens, "analyst")
    answers = [await registry.get(f"{BASE}/stats/catalog", headers=analyst)]
    for measure in ("households", "individuals"):
        for group_by in ("region,commune,locality,area", "displacement_status,legal_status,sex"):
            answers.append(
                await registry.get(
                    f"{BASE}/stats",
                    params={"measure": measure, "group_by": group_by},
                    headers=analyst,
                )
            )
    for response in answers:
        assert response.status_code == 200, response.text
        for secret in SECRETS:
            assert secret not in response.text
