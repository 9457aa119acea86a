"""Bulk import of CSV and Excel files: what lands, what is refused, and what is said."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from openpyxl import Workbook, load_workbook
from sqlalchemy import text

from inds.synthetic.files import HEADER, import_rows
from inds.synthetic.generator import RegistryGenerator
from services.beneficiaries.imports.job import run_pending
from shared.db import Database
from tests.beneficiaries.helpers import BASE
from tests.support.apps import serve
from tests.support.registry import as_role
from tests.support.tokens import TokenFactory

IMPORTS = f"{BASE}/imports"


@pytest.fixture
async def registry(
    registry_app: FastAPI, database_urls: dict[str, str]
) -> AsyncIterator[httpx.AsyncClient]:
    """An import commits its households and reports progress and errors in their own
    transactions, as in production: these tests run on a real connection pool (not inside
    one rolled-back transaction) and empty the registry afterwards."""
    database = Database(database_urls["beneficiaries"], pool_size=5)
    try:
        async with serve(registry_app, database, "http://beneficiaries.test") as client:
            yield client
    finally:
        async with database.engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {', '.join(REGISTRY_TABLES)} CASCADE"))
        await database.dispose()


REGISTRY_TABLES = (
    "household",
    "individual",
    "identifier",
    "membership",
    "duplicate_pair",
    "audit_event",
    "idempotency_record",
    "import_job",
    "import_row_error",
    "enrollment",
    "enrollment_event",
    "programme",
    "pmt_job",
    "pmt_formula",
)


def synthetic(count: int, seed: int = 11, duplicate_rate: float = 0.0) -> list[dict]:
    return list(RegistryGenerator(seed=seed, duplicate_rate=duplicate_rate).households(count))


def to_csv(households: list[dict], *, header: list[str] = HEADER, delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    for household in households:
        writer.writerows(import_rows(household))
    return buffer.getvalue().encode("utf-8")


async def upload(
    client: httpx.AsyncClient,
    headers: dict,
    content: bytes,
    name: str = "households.csv",
    **form: str,
) -> httpx.Response:
    return await client.post(IMPORTS, files={"file": (name, content)}, data=form, headers=headers)


async def run(client: httpx.AsyncClient, app: FastAPI, job_id: str, headers: dict) -> dict:
    await run_pending(app.state.database, app.state.settings, app.state.audit)
    return (await client.get(f"{IMPORTS}/{job_id}", headers=headers)).json()


async def errors_csv(client: httpx.AsyncClient, job_id: str, headers: dict) -> list[dict]:
    answer = await client.get(f"{IMPORTS}/{job_id}/errors.csv", headers=headers)
    assert answer.status_code == 200
    return list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))


async def households_count(client: httpx.AsyncClient, headers: dict) -> int:
    answer = await client.get(f"{BASE}/stats", params={"measure": "households"}, headers=headers)
    return answer.json()["total"]


async def test_templates_list_the_columns(
    registry: httpx.AsyncClient, manager: dict, tokens
) -> None:
    csv_template = await registry.get(f"{IMPORTS}/template.csv", headers=manager)
    assert csv_template.status_code == 200
    rows = list(csv.reader(io.StringIO(csv_template.content.decode("utf-8-sig"))))
    assert rows[0] == HEADER and len(rows) == 3
    xlsx_template = await registry.get(f"{IMPORTS}/template.xlsx", headers=manager)
    workbook = load_workbook(io.BytesIO(xlsx_template.content))
    assert [c.value for c in next(workbook["households"].iter_rows())] == HEADER
    assert workbook["columns"].max_row == len(HEADER) + 1
    registrar = as_role(tokens, "registrar")
    assert (await registry.get(f"{IMPORTS}/template.csv", headers=registrar)).status_code == 403


async def test_a_file_is_imported_and_a_second_time_adds_nothing(
    registry: httpx.AsyncClient, registry_app: FastAPI, manager: dict
) -> None:
    households = synthetic(40, duplicate_rate=0.1)
    content = to_csv(households)
    started = await upload(registry, manager, content)
    assert started.status_code == 202, started.text
    job = started.json()
    assert job["status"] == "queued"
    assert job["total_rows"] == sum(len(h["members"]) for h in households)

    done = await run(registry, registry_app, job["id"], manager)
    assert done["status"] == "done", done
    assert done["households_created"] == 40
    assert done["individuals_created"] == job["total_rows"]
    assert done["duplicates_flagged"] >= 1, "the planted re-registrations are flagged"
    assert await households_count(registry, manager) == 40

    sample = households[7]
    from services.beneficiaries.imports.parse import household_id

    imported_id = household_id(sample["registration"]["source"], None, sample["id"])
    read = (await registry.get(f"{BASE}/households/{imported_id}", headers=manager)).json()
    assert len(read["members"]) == len(sample["members"])
    assert read["pmt"] is None  # no formula is active in this test registry

    again = await upload(registry, manager, content)
    repeated = await run(registry, registry_app, again.json()["id"], manager)
    assert repeated["status"] == "done"
    assert "imported already" in repeated["message"]
    assert await households_count(registry, manager) == 40

    corrected = to_csv([*households, *synthetic(2, seed=99)])
    third = await run(
        registry, registry_app, (await upload(registry, manager, corrected)).json()["id"], manager
    )
    assert third["households_created"] == 2 and third["households_skipped"] == 40
    assert await households_count(registry, manager) == 42

    listed = (await registry.get(IMPORTS, params={"limit": 2}, headers=manager)).json()
    assert [j["id"] for j in listed["items"]] == [third["id"], repeated["id"]]
    rest = await registry.get(IMPORTS, params={"cursor": listed["next_cursor"]}, headers=manager)
    assert [j["id"] for j in rest.json()["items"]] == [done["id"]]


def _break(households: list[dict]) -> list[dict]:
    households[1]["location"]["locality_code"] = "DJ-XX-NOWHERE"
    households[3]["members"][0]["birth_date"] = "2099-01-01"
    households[5]["members"][0]["sex"] = "X"
    return households


async def test_all_or_nothing_saves_nothing_and_lists_every_problem(
    registry: httpx.AsyncClient, registry_app: FastAPI, manager: dict
) -> None:
    households = _break(synthetic(10))
    job = (await upload(registry, manager, to_csv(households))).json()
    finished = await run(registry, registry_app, job["id"], manager)
    assert finished["status"] == "failed"
    assert "nothing was saved" in finished["message"]
    assert await households_count(registry, manager) == 0
    problems = await errors_csv(registry, job["id"], manager)
    assert {p["column"] for p in problems} >= {"locality_code", "birth_date", "sex"}
    first_rows = 2 + sum(len(h["members"]) for h in households[:1])
    assert any(p["column"] == "locality_code" and p["row"] == str(first_rows) for p in problems)
    assert any(p["value"] == "2099-01-01" for p in problems)


async def test_valid_only_saves_the_good_households(
    registry: httpx.AsyncClient, registry_app: FastAPI, manager: dict
) -> None:
    households = _break(synthetic(10))
    job = (await upload(registry, manager, to_csv(households), mode="valid_only")).json()
    finished = await run(registry, registry_app, job["id"], manager)
    assert finished["status"] == "done", finished
    assert finished["households_created"] == 7
    assert finished["error_count"] == 3
    assert await households_count(registry, manager) == 7


async def test_a_blank_consent_is_not_read_as_refused(
    registry: httpx.AsyncClient, registry_app: FastAPI, manager: dict
) -> None:
    households = synthetic(2)
    content = to_csv(households).decode()
    lines = content.splitlines()
    column = HEADER.index("consent_given")
    for number in range(1, 1 + len(households[0]["members"])):
        cells = next(csv.reader([lines[number]]))
        cells[column] = ""
        buffer = io.StringIO()
        csv.writer(buffer).writerow(cells)
        lines[number] = buffer.getvalue().rstrip("\r\n")
    job = (await upload(registry, manager, "\n".join(lines).encode(), mode="valid_only")).json()
    finished = await run(registry, registry_app, job["id"], manager)
    assert finished["households_created"] == 1
    problems = await errors_csv(registry, job["id"], manager)
    assert [(p["row"], p["column"]) for p in problems] == [("2", "consent_given")]


async def test_a_cell_postgresql_cannot_store_is_a_row_error(
    registry: httpx.AsyncClient, registry_app: FastAPI, manager: dict
) -> None:
    households = synthetic(2)
    households[1]["members"][0]["given_name"] = "Fat\u0000ouma"
    job = (await upload(registry, manager, to_csv(households), mode="valid_only")).json()
    finished = await run(registry, registry_app, job["id"], manager)
    assert finished["status"] == "done", finished
    assert finished["households_created"] == 1
    problems = await errors_csv(registry, job["id"], manager)
    first_rows = 2 + len(households[0]["members"])
    assert [(p["row"], p["column"], p["message"]) for p in problems] == [
        (str(first_rows), "given_name", "must not contain NUL characters")
    ]


async def test_columns_not_recognised_are_named_in_the_outcome(
    registry: httpx.AsyncClient, registry_app: FastAPI, manager: dict
) -> None:
    misspelt = ["occupaton" if column == "occupation" else column for column in HEADER]
    job = (await upload(registry, manager, to_csv(synthetic(2), header=misspelt))).json()
    finished = await run(registry, registry_app, job["id"], manager)
    assert finished["status"] == "done", finished
    assert finished["message"].endswith("Columns not recognised, left out: occupaton.")


async def test_identifiers_clash_within_the_file_and_with_the_registry(
    registry: httpx.AsyncClient, registry_app: FastAPI, manager: dict
) -> None:
    households = synthetic(3)
    for household in households:
        household["members"][0]["identifiers"] = [{"type": "national_id", "value": "DJ-777"}]
    job = (await upload(registry, manager, to_csv(households), mode="valid_only")).json()
    finished = await run(registry, registry_app, job["id"], manager)
    assert finished["households_created"] == 1
    problems = await errors_csv(registry, job["id"], manager)
    assert [p["message"] for p in problems] == ["given to someone else earlier in this file"] * 2

    later = synthetic(1, seed=5)
    later[0]["members"][0]["identifiers"] = [{"type": "national_id", "value": "dj 777"}]
    second = (await upload(registry, manager, to_csv(later), mode="valid_only")).json()
    await run(registry, registry_app, second["id"], manager)
    problems = await errors_csv(registry, second["id"], manager)
    assert problems[0]["column"] == "national_id"
    assert "registered already" in problems[0]["message"]


async def test_french_headers_semicolons_and_excel(
    registry: httpx.AsyncClient, registry_app: FastAPI, manager: dict
) -> None:
    from services.beneficiaries.imports.columns import BY_NAME

    french = [BY_NAME[name].french for name in HEADER]
    households = synthetic(3, seed=21)
    content = to_csv(households, header=french, delimiter=";")
    job = (await upload(registry, manager, content, name="menages.csv")).json()
    assert (await run(registry, registry_app, job["id"], manager))["households_created"] == 3

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for household in synthetic(2, seed=22):
        for row in import_rows(household):
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    job = (await upload(registry, manager, buffer.getvalue(), name="households.xlsx")).json()
    assert job["file_format"] == "xlsx"
    assert (await run(registry, registry_app, job["id"], manager))["households_created"] == 2


@pytest.mark.parametrize(
    ("content", "name", "expected"),
    [
        ("clé;prénom\nHH1;Amina\n".encode("latin-1"), "latin1.csv", "not UTF-8"),
        (b"household_key,given_name\nHH1,Amina\n", "short.csv", "Columns are missing"),
    ],
)
async def test_unreadable_files_fail_with_a_reason(
    registry: httpx.AsyncClient, registry_app: FastAPI, manager: dict, content, name, expected
) -> None:
    job = (await upload(registry, manager, content, name=name)).json()
    finished = await run(registry, registry_app, job["id"], manager)
    assert finished["status"] == "failed"
    assert expected in finished["message"]


async def test_a_zip_bomb_is_refused(
    registry: httpx.AsyncClient, registry_app: FastAPI, manager: dict
) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * 50_000_000)
    job = (await upload(registry, manager, buffer.getvalue(), name="bomb.xlsx")).json()
    finished = await run(registry, registry_app, job["id"], manager)
    assert finished["status"] == "failed"
    assert "inflates" in finished["message"]


async def test_rows_of_a_household_must_follow_each_other(
    registry: httpx.AsyncClient, registry_app: FastAPI, manager: dict
) -> None:
    # a household of several people, its rows split by another household's
    first, *others = sorted(synthetic(6, seed=31), key=lambda h: -len(list(import_rows(h))))
    second = others[0]
    rows = list(import_rows(first))
    assert len(rows) > 1
    content = to_csv([])
    lines = [rows[0], *import_rows(second), *rows[1:]]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(lines)
    job = (
        await upload(registry, manager, content + buffer.getvalue().encode(), mode="valid_only")
    ).json()
    await run(registry, registry_app, job["id"], manager)
    problems = await errors_csv(registry, job["id"], manager)
    assert problems and problems[0]["column"] == "household_key"


async def test_cancelling_and_limits(
    registry: httpx.AsyncClient, registry_app: FastAPI, manager: dict, tokens: TokenFactory
) -> None:
    job = (await upload(registry, manager, to_csv(synthetic(2)))).json()
    cancelled = await registry.delete(f"{IMPORTS}/{job['id']}", headers=manager)
    assert cancelled.json()["status"] == "cancelled"
    await run(registry, registry_app, job["id"], manager)
    assert await households_count(registry, manager) == 0
    assert (await registry.delete(f"{IMPORTS}/{job['id']}", headers=manager)).status_code == 409

    assert (await upload(registry, manager, b"")).status_code == 422
    assert (await upload(registry, as_role(tokens, "registrar"), b"x")).status_code == 403
    registry_app.state.settings.import_max_bytes = 1000
    too_big = await upload(registry, manager, to_csv(synthetic(5)))
    assert too_big.status_code == 413
    assert too_big.headers["content-type"] == "application/problem+json"
    assert too_big.json()["type"].endswith("/payload-too-large")


async def test_planted_re_registrations_in_a_file_are_flagged(
    registry: httpx.AsyncClient, registry_app: FastAPI, manager: dict, tmp_path
) -> None:
    from inds.synthetic.files import write_csv, write_duplicates

    generator = RegistryGenerator(seed=77, duplicate_rate=0.08)
    path = tmp_path / "registry.csv"
    write_csv(path, generator.households(250))
    write_duplicates(tmp_path / "planted.csv", generator.planted, imported=True)
    planted = list(csv.DictReader((tmp_path / "planted.csv").open()))
    assert len(planted) >= 10

    job = (await upload(registry, manager, path.read_bytes())).json()
    finished = await run(registry, registry_app, job["id"], manager)
    assert finished["status"] == "done", finished
    flagged = set()
    cursor = None
    while True:
        params = {"limit": 500} | ({"cursor": cursor} if cursor else {})
        page = (await registry.get(f"{BASE}/duplicates", params=params, headers=manager)).json()
        flagged |= {(p["individual"]["id"], p["candidate"]["id"]) for p in page["items"]}
        cursor = page["next_cursor"]
        if not cursor:
            break
    found = [
        (p["duplicate_individual_id"], p["original_individual_id"]) in flagged
        or (p["original_individual_id"], p["duplicate_individual_id"]) in flagged
        for p in planted
    ]
    assert sum(found) / len(found) >= 0.9, f"{sum(found)} of {len(found)} planted pairs flagged"


async def test_errors_csv_lists_every_problem_of_a_row_with_its_column(
    registry: httpx.AsyncClient, registry_app: FastAPI, manager: dict
) -> None:
    households = synthetic(4, seed=41)
    households[1]["members"][0].update(sex="X", birth_date="31/02/1990")
    households[2]["location"]["locality_code"] = "DJ-XX-NOWHERE"
    households[2]["members"][0]["given_name"] = "Am1na"
    households[3]["members"][0]["identifiers"] = [{"type": "national_id", "value": "DJ-4242"}]
    households[0]["members"][0]["identifiers"] = [{"type": "national_id", "value": "DJ-4242"}]
    households[3]["registration"]["date"] = "2099-01-01"
    job = (await upload(registry, manager, to_csv(households), mode="valid_only")).json()
    finished = await run(registry, registry_app, job["id"], manager)
    assert finished["households_created"] == 1
    rows = [2]
    for household in households:
        rows.append(rows[-1] + len(household["members"]))
    problems = {
        (int(p["row"]), p["column"]): p for p in await errors_csv(registry, job["id"], manager)
    }
    assert set(problems) == {
        (rows[1], "sex"),
        (rows[1], "birth_date"),
        (rows[2], "locality_code"),
        (rows[2], "given_name"),
        (rows[3], "registration_date"),
        (rows[3], "national_id"),
    }
    assert problems[(rows[1], "birth_date")]["message"] == "there is no day 31 in February 1990"
    assert problems[(rows[1], "sex")]["value"] == "X"
    assert problems[(rows[2], "locality_code")]["message"] == "not a known locality"
    assert "earlier in this file" in problems[(rows[3], "national_id")]["message"]
    assert finished["error_count"] == len(problems)
