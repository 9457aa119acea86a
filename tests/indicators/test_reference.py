"""Reference data through HTTP: population tables uploaded as CSV with their source (all of a
file or nothing of it), poverty lines, and both as measures indicator expressions may use."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from services.indicators.models import PopulationCell, PopulationUpload, PovertyLine
from services.indicators.reference import population_csv
from shared.db import Database
from tests.indicators.payloads import DEFINITIONS, POPULATION, POVERTY_LINES, definition_body
from tests.support.registry import as_role
from tests.support.tokens import TokenFactory

GOOD = (
    "year,region,sex,legal_status,people\n"
    "2024,DJ-OB,F,national,21 000\n"
    "2024,DJ-OB,M,national,20500\n"
    "2024,DJ-OB,F,refugee,1200\n"
    "2024,DJ-DJ,F,national,310000\n"
    "2025,DJ-OB,F,national,21400\n"
)
# The same figures as a French office saves them: semicolons, Windows-1252, words.
FRENCH = (
    "Année;Région;Sexe;Statut;Population\n"
    "2024;Obock;femme;national;21 000\n"
    "2024;Obock;homme;national;20 500\n"
    "2024;Obock;Femme;Réfugié;1 200\n"
    "2024;Djibouti;F;nationaux;310 000\n"
    "2025;obock;f;national;21 400\n"
).encode("cp1252")


async def _upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    content: bytes | str,
    source: str = "INSTAD, projections 2024",
    filename: str = "population.csv",
) -> httpx.Response:
    data = content.encode() if isinstance(content, str) else content
    return await client.post(
        POPULATION,
        files={"file": (filename, data, "text/csv")},
        data={"source": source},
        headers=headers,
    )


async def _saved(database: Database) -> tuple[int, int]:
    async with database.sessionmaker() as session:
        uploads = await session.scalar(select(func.count()).select_from(PopulationUpload))
        cells = await session.scalar(select(func.count()).select_from(PopulationCell))
    return int(uploads or 0), int(cells or 0)


def _problem(answer: httpx.Response, status: int = 422) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    return body


async def test_a_population_table_is_read_whole_and_summed_by_what_is_asked(
    indicators: httpx.AsyncClient, officer: dict[str, str], analyst: dict[str, str]
) -> None:
    uploaded = await _upload(indicators, officer, GOOD)
    assert uploaded.status_code == 201, uploaded.text
    upload = uploaded.json()
    assert upload["years"] == [2024, 2025]
    assert upload["dimensions"] == ["region", "sex", "legal_status"]
    assert (upload["rows"], upload["people"]) == (5, 21000 + 20500 + 1200 + 310000 + 21400)
    assert (upload["source"], upload["filename"]) == ("INSTAD, projections 2024", "population.csv")

    by_region = await indicators.get(
        POPULATION, params={"year": 2024, "group_by": "region"}, headers=analyst
    )
    assert by_region.json() == [
        {**_nulls(), "year": 2024, "region": "DJ-DJ", "people": 310000},
        {**_nulls(), "year": 2024, "region": "DJ-OB", "people": 21000 + 20500 + 1200},
    ]
    by_status = await indicators.get(
        POPULATION, params={"group_by": "sex,legal_status"}, headers=analyst
    )
    assert [(r["year"], r["sex"], r["legal_status"], r["people"]) for r in by_status.json()] == [
        (2024, "F", "national", 331000),
        (2024, "F", "refugee", 1200),
        (2024, "M", "national", 20500),
        (2025, "F", "national", 21400),
    ]
    unknown = await indicators.get(POPULATION, params={"group_by": "caste"}, headers=analyst)
    assert _problem(unknown)["errors"][0]["path"] == "query.group_by"
    listed = await indicators.get(f"{POPULATION}/uploads", headers=analyst)
    assert [item["id"] for item in listed.json()] == [upload["id"]]


def _nulls() -> dict[str, None]:
    return {name: None for name in ("region", "area", "sex", "age_group", "legal_status")}


async def test_a_french_windows_file_reads_as_the_english_one(
    indicators: httpx.AsyncClient, officer: dict[str, str], analyst: dict[str, str]
) -> None:
    uploaded = await _upload(indicators, officer, FRENCH)
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["people"] == 21000 + 20500 + 1200 + 310000 + 21400
    rows = await indicators.get(POPULATION, params={"group_by": "legal_status"}, headers=analyst)
    assert [(r["year"], r["legal_status"], r["people"]) for r in rows.json()] == [
        (2024, "national", 351500),
        (2024, "refugee", 1200),
        (2025, "national", 21400),
    ]


async def test_a_new_table_replaces_the_figures_of_its_years_only(
    indicators: httpx.AsyncClient, officer: dict[str, str], analyst: dict[str, str]
) -> None:
    assert (await _upload(indicators, officer, GOOD)).status_code == 201
    revised = "year,area,people\n2024,urban,500000\n2024,rural,120000\n"
    assert (await _upload(indicators, officer, revised, source="RGPH")).status_code == 201
    totals = await indicators.get(POPULATION, headers=analyst)
    assert [(r["year"], r["people"]) for r in totals.json()] == [(2024, 620000), (2025, 21400)]


async def test_a_malformed_file_is_a_422_naming_each_problem_and_nothing_is_kept(
    indicators: httpx.AsyncClient, officer: dict[str, str], indicators_db: Database
) -> None:
    assert (await _upload(indicators, officer, GOOD)).status_code == 201
    before = await _saved(indicators_db)
    cases: dict[str, tuple[bytes | str, list[tuple[str, str]]]] = {
        "unknown column": (
            "year,region,persons\n2024,DJ-OB,5\n",
            [("file.column 3", "unknown column"), ("file", "no people column")],
        ),
        "twice a column": (
            "year,region,region,people\n2024,DJ-OB,DJ-OB,5\n",
            [("file.column 3", "a second region column")],
        ),
        "no year column": ("region,people\nDJ-OB,5\n", [("file", "no year column")]),
        "bad numbers": (
            "year,region,people\n2024,DJ-OB,12.5\n2024,DJ-DJ,-3\n2024,DJ-AR,lots\n",
            [
                ("file.line 2.people", "a whole number of people"),
                ("file.line 3.people", "a whole number of people"),
                ("file.line 4.people", "a whole number of people"),
            ],
        ),
        "a bad year": ("year,people\n1850,5\n", [("file.line 2.year", "between 1900 and 2200")]),
        "unknown region": (
            "year,region,people\n2024,DJ-XX,5\n",
            [("file.line 2.region", "unknown value; expected one of: DJ-AR")],
        ),
        "empty cell": ("year,region,people\n2024,,5\n", [("file.line 2.region", "empty")]),
        "duplicate cell": (
            "year,region,people\n2024,DJ-OB,5\n2024,Obock,6\n",
            [("file.line 3", "the same cell as line 2")],
        ),
        "more than a country": (
            "year,people\n2024,999 999 999 999\n",
            [("file.line 2.people", "more people than a country")],
        ),
        # A decimal comma in a comma-separated file splits the number in two fields.
        "a field too many": (
            "year,region,people\n2024,DJ-OB,12,5\n",
            [("file.line 2", "4 fields where the header has 3")],
        ),
        "empty": ("", [("file", "the file is empty")]),
        "header only": ("year,people\n", [("file", "the file has no rows")]),
        "a spreadsheet": (
            b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)),
            [("file", "not a CSV text file")],
        ),
        "UTF-16": (
            "year,people\n2024,5\n".encode("utf-16"),
            [("file", "not a CSV text file")],
        ),
    }
    for case, (content, expected) in cases.items():
        problem = _problem(await _upload(indicators, officer, content))
        assert problem["type"].endswith("/invalid-population-file"), case
        assert "nothing was saved" in problem["detail"], case
        got = [(error["path"], error["message"]) for error in problem["errors"]]
        assert len(got) == len(expected), (case, got)
        for (path, message), (want_path, want_message) in zip(got, expected, strict=True):
            assert path == want_path, (case, got)
            assert want_message in message, (case, got)
    assert await _saved(indicators_db) == before


async def test_a_file_over_the_limits_is_refused_and_a_blank_source_too(
    indicators: httpx.AsyncClient,
    officer: dict[str, str],
    indicators_db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    huge = "year,people\n" + "2024,1\n" * (8 * 1024 * 1024 // 7 + 10)
    problem = _problem(await _upload(indicators, officer, huge), 413)
    assert "bytes allowed" in problem["detail"]
    monkeypatch.setattr(population_csv, "MAX_ROWS", 10)
    many = "year,people\n" + "".join(f"{year},1\n" for year in range(2000, 2011))
    (error,) = _problem(await _upload(indicators, officer, many))["errors"]
    assert error == {"path": "file", "message": "more than 10 rows"}
    assert (await _upload(indicators, officer, many[: many.rindex("2010")])).status_code == 201
    blank = await _upload(indicators, officer, GOOD, source="   ")
    assert _problem(blank)["errors"][0]["path"] == "body.source"
    no_file = await indicators.post(POPULATION, data={"source": "x"}, headers=officer)
    assert _problem(no_file)["errors"][0]["path"] == "body.file"
    assert await _saved(indicators_db) == (1, 10)


async def test_poverty_lines_are_kept_one_per_year_area_and_kind(
    indicators: httpx.AsyncClient, officer: dict[str, str], analyst: dict[str, str]
) -> None:
    line = {"year": 2024, "area": "all", "kind": "national", "amount": 136_000, "source": "EDAM"}
    created = await indicators.post(POVERTY_LINES, json=line, headers=officer)
    assert created.status_code == 201, created.text
    assert created.headers["etag"] == '"v1"'
    body = created.json()
    assert (body["amount"], body["currency"]) == (136_000, "DJF")
    extreme = {**line, "kind": "extreme", "amount": 88_000}
    assert (await indicators.post(POVERTY_LINES, json=extreme, headers=officer)).status_code == 201
    rural = {**line, "year": 2025, "area": "rural", "amount": 120_000}
    assert (await indicators.post(POVERTY_LINES, json=rural, headers=officer)).status_code == 201

    taken = _problem(await indicators.post(POVERTY_LINES, json=line, headers=officer), 409)
    assert "change it instead" in taken["detail"]
    for bad in (
        {**line, "amount": 0},
        {**line, "amount": 136000.5},
        {**line, "amount": "136000"},
        {**line, "area": "peri-urban"},
        {**line, "kind": "relative"},
        {**line, "year": 1800},
        {**line, "source": ""},
    ):
        assert _problem(await indicators.post(POVERTY_LINES, json=bad, headers=officer)), bad

    listed = await indicators.get(POVERTY_LINES, params={"year": 2024}, headers=analyst)
    assert [(item["kind"], item["amount"]) for item in listed.json()] == [
        ("extreme", 88_000),
        ("national", 136_000),
    ]
    path = created.headers["location"]
    assert path == f"{POVERTY_LINES}/{body['id']}"
    change = {"amount": 140_000, "source": "EDAM 2024, revised"}
    assert (await indicators.patch(path, json=change, headers=officer)).status_code == 428
    changed = await indicators.patch(path, json=change, headers={**officer, "If-Match": '"v1"'})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["amount"], changed.json()["version"]) == (140_000, 2)
    stale = await indicators.patch(path, json=change, headers={**officer, "If-Match": '"v1"'})
    assert stale.status_code == 412
    shown = await indicators.get(path, headers=analyst)
    assert (shown.json()["amount"], shown.headers["etag"]) == (140_000, '"v2"')


async def test_only_officers_and_admins_change_reference_data(
    indicators: httpx.AsyncClient, tokens: TokenFactory, indicators_db: Database
) -> None:
    line = {"year": 2024, "area": "all", "kind": "national", "amount": 136_000, "source": "EDAM"}
    for role in ("analyst", "data_manager", "registrar", "partner", "finance_officer"):
        headers = as_role(tokens, role)
        assert (await _upload(indicators, headers, GOOD)).status_code == 403, role
        refused = await indicators.post(POVERTY_LINES, json=line, headers=headers)
        assert refused.status_code == 403, role
    async with indicators_db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(PovertyLine)) == 0
    assert await _saved(indicators_db) == (0, 0)
    admin = as_role(tokens, "admin")
    assert (await _upload(indicators, admin, GOOD)).status_code == 201
    assert (await indicators.post(POVERTY_LINES, json=line, headers=admin)).status_code == 201
    for role, status in (("analyst", 200), ("data_manager", 200), ("partner", 403)):
        headers = as_role(tokens, role)
        for path in (POPULATION, f"{POPULATION}/uploads", POVERTY_LINES):
            assert (await indicators.get(path, headers=headers)).status_code == status, role


async def test_reference_measures_are_names_expressions_may_use(
    indicators: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    share = definition_body(
        "REFUGEE_SHARE_OB",
        numerator="#{population|region=DJ-OB, legal_status=refugee}",
        denominator="#{population|region=DJ-OB}",
        disaggregations=["sex", "year"],
        periodicity="year",
    )
    created = await indicators.post(DEFINITIONS, json=share, headers=officer)
    assert created.status_code == 201, created.text
    assert created.json()["measures"] == ["population"]
    line = definition_body(
        "POVERTY_LINE_RURAL",
        numerator="#{poverty_line|kind=extreme, area=rural}",
        denominator=None,
        unit="DJF",
        factor=1,
        disaggregations=["year"],
        periodicity="year",
    )
    assert (await indicators.post(DEFINITIONS, json=line, headers=officer)).status_code == 201
    for numerator, message in (
        ("#{population|region=DJ-XX}", "'DJ-XX' is not a value of region"),
        ("#{population|commune=Obock}", "population has no dimension 'commune'"),
        ("#{poverty_line|kind=relative}", "'relative' is not a value of kind"),
    ):
        refused = await indicators.post(
            DEFINITIONS,
            json=definition_body(numerator=numerator, disaggregations=[]),
            headers=officer,
        )
        (error,) = _problem(refused)["errors"]
        assert message in error["message"], (numerator, error)
