"""Exports: the registry as CSV, JSON Lines and XLSX, filtered as the lists are, personal
fields for registry staff only, formulas defused, every export audited, streamed."""

from __future__ import annotations

import asyncio
import csv
import io
import zipfile
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from openpyxl import load_workbook
from sqlalchemy import select

from services.beneficiaries.clock import age_on, today
from services.beneficiaries.exports import stream
from services.beneficiaries.exports.fields import (
    CATALOGUE,
)
from services.beneficiaries.exports.fields import (
    HOUSEHOLD_EXPORT_FIELDS as HOUSEHOLD_FIELDS,
)
from services.beneficiaries.exports.fields import (
    INDIVIDUAL_EXPORT_FIELDS as INDIVIDUAL_FIELDS,
)
from services.beneficiaries.exports.formats import UTF8_BOM
from services.beneficiaries.models import AuditEvent
from shared.db import Database
from shared.xlsx import XlsxWriter
from tests.beneficiaries.factories import Person, add_household
from tests.beneficiaries.helpers import BASE, register
from tests.beneficiaries.payloads import household, member
from tests.support.registry import as_role
from tests.support.tokens import TokenFactory

EXPORTS = f"{BASE}/exports"
FORMATS = ("csv", "jsonl", "xlsx")
PERSONAL = {
    resource: {name for name, field in fields.items() if field.personal}
    for resource, fields in CATALOGUE.items()
}
# What an analyst's export never holds.
WITHHELD = {
    resource: {name for name, field in fields.items() if field.personal or field.free_text}
    for resource, fields in CATALOGUE.items()
}
INJECTION = '=HYPERLINK("http://evil","x")'


def rows_of(response: httpx.Response, export_format: str) -> list[dict[str, Any]]:
    """The file's rows as dicts, whatever the format."""
    assert response.status_code == 200, response.text
    if export_format == "csv":
        assert response.content.startswith(UTF8_BOM)
        return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    if export_format == "jsonl":
        return [orjson.loads(line) for line in response.content.splitlines()]
    return xlsx_rows(response.content)


def xlsx_rows(content: bytes) -> list[dict[str, Any]]:
    workbook = load_workbook(io.BytesIO(content))
    rows: list[dict[str, Any]] = []
    for sheet in workbook.worksheets:
        values = list(sheet.iter_rows(values_only=True))
        header = values[0]
        rows += [dict(zip(header, row, strict=True)) for row in values[1:]]
    return rows


def as_csv_text(value: Any) -> str:
    """What a JSON value looks like in the CSV."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(value)
    return str(value)


async def export(
    client: httpx.AsyncClient,
    resource: str,
    export_format: str,
    headers: dict[str, str],
    **params: Any,
) -> httpx.Response:
    return await client.get(f"{EXPORTS}/{resource}.{export_format}", params=params, headers=headers)


def refugee_household() -> dict[str, Any]:
    return household(
        [
            member(
                "Amina",
                "Hassan",
                "Abdi",
                birth_date="1985-02-28",
                legal_status="refugee",
                nationality="SO",
                identifiers=[
                    {"type": "unhcr_individual", "value": "DJI-21-00042"},
                    {"type": "unhcr_case", "value": "DJI-C-77"},
                    {"type": "phone", "value": "77 00 11 22"},
                    {"type": "phone", "value": "+252 61 555 1234"},
                ],
                disability={"seeing": 3, "walking": 2},
                occupation="vendeuse",
            ),
            member(
                "Omar",
                "Ahmed",
                "Abdi",
                sex="M",
                birth_date="2019-07-01",
                relationship="child",
                legal_status="refugee",
                education_level="primary",
            ),
        ],
        locality="DJ-AS-ALIADDEH-VILLAGE",
        displacement_status="refugee",
    )


@pytest.fixture
async def two_households(registry: httpx.AsyncClient, manager: dict[str, str]) -> list[dict]:
    """Fatouma's in Balbala (Djibouti) and Amina's, refugees, in Ali Addeh (Ali Sabieh)."""
    return [
        await register(registry, manager, household()),
        await register(registry, manager, refugee_household()),
    ]


@pytest.mark.parametrize("export_format", FORMATS)
async def test_households_come_out_whole_in_each_format(
    registry: httpx.AsyncClient, manager: dict[str, str], two_households: list[dict], export_format
) -> None:
    balbala, ali_addeh = two_households
    response = await export(registry, "households", export_format, manager)
    rows = rows_of(response, export_format)

    assert [list(row) for row in rows] == [[f.name for f in HOUSEHOLD_FIELDS]] * 2
    assert [row["registry_number"] for row in rows] == sorted(
        [balbala["registry_number"], ali_addeh["registry_number"]]
    )
    row = next(r for r in rows if r["registry_number"] == ali_addeh["registry_number"])
    expected = {
        "household_id": ali_addeh["id"],
        "region_code": "DJ-AS",
        "commune_code": "DJ-AS-ALIADDEH",
        "locality_code": "DJ-AS-ALIADDEH-VILLAGE",
        "area": "rural",
        "dwelling_type": "shack",
        "rooms": 1,
        "assets": ["mobile_phone"],
        "displacement_status": "refugee",
        "registration_source": "door_to_door",
        "registration_date": date(2026, 3, 2),
        "enumerator_id": "enum-7",
        "consent_given": True,
        "consent_scope": ["programmes", "registry"],
        "member_count": 2,
        "pmt_score": None,
        "head_given_name": "Amina",
        "head_father_name": "Hassan",
        "head_grandfather_name": "Abdi",
        "head_phone": ["+252615551234", "+25377001122"],
        "head_sex": "F",
        "head_age": age_on(date(1985, 2, 28), today()),
        "head_age_group": "25-64",
    }
    got = {name: row[name] for name in expected}
    if export_format == "csv":
        expected = {
            k: v.isoformat() if isinstance(v, date) else as_csv_text(v) for k, v in expected.items()
        }
        # A phone starts with "+": in CSV it is quoted against formulas like any such text.
        expected["head_phone"] = "'" + expected["head_phone"]
    elif export_format == "jsonl":
        expected["registration_date"] = "2026-03-02"
    else:
        expected["registration_date"] = expected["registration_date"].isoformat()
        got["registration_date"] = got["registration_date"].date().isoformat()
        for name in ("assets", "consent_scope", "head_phone"):
            expected[name] = ";".join(expected[name])
    assert got == expected


@pytest.mark.parametrize("export_format", FORMATS)
async def test_individuals_have_one_column_per_identifier_type_and_domain(
    registry: httpx.AsyncClient, manager: dict[str, str], two_households: list[dict], export_format
) -> None:
    _, ali_addeh = two_households
    response = await export(registry, "individuals", export_format, manager, region="DJ-AS")
    rows = rows_of(response, export_format)

    assert list(rows[0]) == [f.name for f in INDIVIDUAL_FIELDS]
    assert [(r["given_name"], r["relationship_to_head"]) for r in rows] == [
        ("Amina", "head"),
        ("Omar", "child"),
    ]
    amina, omar = rows
    amina_id = ali_addeh["members"][0]["id"]
    expected = {
        "individual_id": amina_id,
        "household_id": ali_addeh["id"],
        "registry_number": ali_addeh["registry_number"],
        "locality_code": "DJ-AS-ALIADDEH-VILLAGE",
        "sex": "F",
        "birth_date": "1985-02-28",
        "age": age_on(date(1985, 2, 28), today()),
        "age_group": "25-64",
        "legal_status": "refugee",
        "nationality": "SO",
        "national_id": None,
        "unhcr_individual": ["DJI2100042"],
        "unhcr_case": ["DJIC77"],
        "phone": ["+252615551234", "+25377001122"],
        "disability_seeing": 3,
        "disability_walking": 2,
        "disability_hearing": None,
        "has_disability": True,
        "pregnant": False,
        "occupation": "vendeuse",
    }
    got = {name: amina[name] for name in expected}
    if export_format == "csv":
        expected = {k: as_csv_text(v) for k, v in expected.items()}
        expected["phone"] = "'" + expected["phone"]
    elif export_format == "xlsx":
        got["birth_date"] = got["birth_date"].date().isoformat()
        for name in ("unhcr_individual", "unhcr_case", "phone"):
            expected[name] = ";".join(expected[name])
    assert got == expected
    assert omar["education_level"] == "primary"
    assert omar["age_group"] == "5-14"


async def test_csv_and_json_lines_say_the_same(
    registry: httpx.AsyncClient, manager: dict[str, str], two_households: list[dict]
) -> None:
    for resource in ("households", "individuals"):
        from_csv = rows_of(await export(registry, resource, "csv", manager), "csv")
        from_json = rows_of(await export(registry, resource, "jsonl", manager), "jsonl")
        assert len(from_json) == len(from_csv) > 0
        for csv_row, json_row in zip(from_csv, from_json, strict=True):
            assert {k: v.removeprefix("'") for k, v in csv_row.items()} == {
                k: as_csv_text(v) for k, v in json_row.items()
            }


async def test_files_are_named_for_the_day_and_not_cached(
    registry: httpx.AsyncClient, manager: dict[str, str], two_households: list[dict]
) -> None:
    for export_format, media_type in (
        ("csv", "text/csv; charset=utf-8"),
        ("jsonl", "application/x-ndjson"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ):
        response = await export(registry, "individuals", export_format, manager)
        assert response.headers["content-type"] == media_type
        assert response.headers["content-disposition"] == (
            f'attachment; filename="individuals-{today().isoformat()}.{export_format}"'
        )
        assert response.headers["cache-control"] == "no-store"
    unknown = await registry.get(f"{EXPORTS}/individuals.pdf", headers=manager)
    assert unknown.status_code == 422


async def test_the_list_filters_apply(
    registry: httpx.AsyncClient, manager: dict[str, str], two_households: list[dict]
) -> None:
    balbala, ali_addeh = two_households

    async def numbers(resource: str, **params: Any) -> list[str]:
        rows = rows_of(await export(registry, resource, "jsonl", manager, **params), "jsonl")
        return [row["registry_number"] for row in rows]

    assert await numbers("households", region="DJ-AS") == [ali_addeh["registry_number"]]
    assert await numbers("households", area="urban") == [balbala["registry_number"]]
    # A person filter keeps the households with a member matching...
    assert await numbers("households", legal_status="refugee") == [ali_addeh["registry_number"]]
    assert await numbers("households", name="Hodan") == [balbala["registry_number"]]
    assert await numbers("households", identifier="unhcr:DJI-21-00042") == [
        ali_addeh["registry_number"]
    ]
    # ...and in the individuals export it keeps the people.
    people = rows_of(await export(registry, "individuals", "jsonl", manager, sex="M"), "jsonl")
    assert [p["given_name"] for p in people] == ["Omar"]
    people = rows_of(
        await export(registry, "individuals", "jsonl", manager, name="mohamed"), "jsonl"
    )
    assert people == []
    assert await numbers("households", registered_from="2026-03-03") == []


async def test_fields_choose_the_columns_and_their_order(
    registry: httpx.AsyncClient, manager: dict[str, str], two_households: list[dict]
) -> None:
    wanted = "member_count, registry_number,head_phone,member_count"
    for export_format in FORMATS:
        response = await export(registry, "households", export_format, manager, fields=wanted)
        rows = rows_of(response, export_format)
        assert [list(row) for row in rows] == [
            ["member_count", "registry_number", "head_phone"]
        ] * 2
        assert {str(row["member_count"]) for row in rows} == {"2"}


async def test_an_unknown_field_is_a_422_naming_it(
    registry: httpx.AsyncClient, manager: dict[str, str]
) -> None:
    response = await export(
        registry, "individuals", "csv", manager, fields="given_name,salary,phone,head_phone"
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert [e["path"] for e in problem["errors"]] == ["query.fields", "query.fields"]
    assert "salary" in problem["errors"][0]["message"]
    assert "head_phone" in problem["errors"][1]["message"]


async def test_analysts_get_only_non_personal_fields(
    registry: httpx.AsyncClient,
    tokens: TokenFactory,
    two_households: list[dict],
    registry_app: FastAPI,
    beneficiaries_db: Database,
) -> None:
    analyst = as_role(tokens, "analyst")
    for resource in ("households", "individuals"):
        rows = rows_of(await export(registry, resource, "csv", analyst), "csv")
        columns = set(rows[0])
        assert columns == set(CATALOGUE[resource]) - WITHHELD[resource]
        assert {"age", "age_group"} <= columns or {"head_age", "head_age_group"} <= columns
        text = str(rows)
        for secret in ("Amina", "Fatouma", "+253", "DJI2100042", "DJ-20"):
            assert secret not in text

    refused = await export(
        registry, "individuals", "xlsx", analyst, fields="sex,birth_date,phone,age"
    )
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["fields"] == ["birth_date", "phone"]
    assert "birth_date" in refused.json()["detail"]
    # Nor may they find a person by name or identifier and read their attributes.
    for search in ({"identifier": "phone:77001122"}, {"name": "Amina"}):
        refused = await export(registry, "individuals", "csv", analyst, fields="age", **search)
        assert refused.status_code == 403
        assert refused.json()["filters"] == list(search)

    # Nothing personal was read: the exports are on the trail, no read rows.
    await registry_app.state.audit.flush()
    async with beneficiaries_db.sessionmaker() as session:
        actions = (
            await session.scalars(
                select(AuditEvent.action).where(AuditEvent.actor == "user:analyst")
            )
        ).all()
    assert sorted(actions) == ["export", "export"]


@pytest.mark.parametrize("role", ["partner", "finance_officer", "service"])
async def test_other_roles_may_not_export(
    registry: httpx.AsyncClient, tokens: TokenFactory, role: str
) -> None:
    response = await export(registry, "households", "csv", as_role(tokens, role))
    assert response.status_code == 403
    fields = await registry.get(f"{EXPORTS}/fields", headers=as_role(tokens, role))
    assert fields.status_code == 403


async def test_registrars_export_their_regions_only(
    registry: httpx.AsyncClient, tokens: TokenFactory, two_households: list[dict]
) -> None:
    _, ali_addeh = two_households
    ali_sabieh = as_role(tokens, "registrar", regions=["DJ-AS"])
    for resource in ("households", "individuals"):
        rows = rows_of(await export(registry, resource, "jsonl", ali_sabieh), "jsonl")
        assert {row["registry_number"] for row in rows} == {ali_addeh["registry_number"]}
        # Asking for another region gives nothing, as the lists do.
        elsewhere = await export(registry, resource, "jsonl", ali_sabieh, region="DJ-DJ")
        assert rows_of(elsewhere, "jsonl") == []
    everywhere = as_role(tokens, "registrar")
    rows = rows_of(await export(registry, "households", "jsonl", everywhere), "jsonl")
    assert len(rows) == 2


async def test_the_field_catalogue_is_published(
    registry: httpx.AsyncClient, tokens: TokenFactory
) -> None:
    response = await registry.get(f"{EXPORTS}/fields", headers=as_role(tokens, "analyst"))
    assert response.status_code == 200
    catalogue = response.json()
    assert [f["name"] for f in catalogue["individuals"]] == [f.name for f in INDIVIDUAL_FIELDS]
    personal = {f["name"] for f in catalogue["individuals"] if f["personal"]}
    assert {"given_name", "birth_date", "national_id", "phone"} <= personal
    assert not {"age", "sex", "legal_status"} & personal


async def test_formulas_do_not_come_back_out_as_formulas(
    registry: httpx.AsyncClient, manager: dict[str, str]
) -> None:
    # Names refuse = + @ (name validation), so the free-text fields carry the payloads.
    body = household(
        [member("Fatouma", occupation="@SUM(1+1)*cmd|' /C calc'!A0")],
        registration={"source": "door_to_door", "date": "2026-03-02", "enumerator_id": "+1+1"},
    )
    body["location"]["address"] = INJECTION
    await register(registry, manager, body)
    household_fields = "address,enumerator_id,dwelling_type"

    # CSV: quoted, so a spreadsheet shows text.
    rows = rows_of(
        await export(registry, "households", "csv", manager, fields=household_fields), "csv"
    )
    assert rows == [
        {"address": "'" + INJECTION, "enumerator_id": "'+1+1", "dwelling_type": "shack"}
    ]
    people = rows_of(
        await export(registry, "individuals", "csv", manager, fields="occupation,given_name"),
        "csv",
    )
    assert people == [{"occupation": "'@SUM(1+1)*cmd|' /C calc'!A0", "given_name": "Fatouma"}]

    # XLSX: the exact text, in string cells marked to stay text; no formula anywhere.
    response = await export(registry, "households", "xlsx", manager, fields=household_fields)
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    address, enumerator, dwelling = sheet[2]
    assert (address.value, address.data_type, address.quotePrefix) == (INJECTION, "s", True)
    assert (enumerator.value, enumerator.data_type, enumerator.quotePrefix) == ("+1+1", "s", True)
    assert (dwelling.value, dwelling.quotePrefix) == ("shack", False)
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert b"<f>" not in archive.read("xl/worksheets/sheet1.xml")

    # JSON Lines is data: as registered.
    rows = rows_of(
        await export(registry, "households", "jsonl", manager, fields=household_fields), "jsonl"
    )
    assert rows[0]["address"] == INJECTION


async def test_every_export_is_audited_without_personal_data(
    registry: httpx.AsyncClient,
    manager: dict[str, str],
    two_households: list[dict],
    registry_app: FastAPI,
    beneficiaries_db: Database,
) -> None:
    _, ali_addeh = two_households
    await registry_app.state.audit.flush()
    async with beneficiaries_db.sessionmaker() as session:
        before = await session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()))

    headers = manager | {"X-Request-ID": "export-1"}
    response = await export(
        registry, "individuals", "xlsx", headers, name="Amina", identifier="phone:77001122"
    )
    assert len(rows_of(response, "xlsx")) == 1
    anonymous = await export(
        registry, "households", "csv", manager, fields="region_code,member_count", region="DJ-DJ"
    )
    assert len(rows_of(anonymous, "csv")) == 1

    await registry_app.state.audit.flush()
    async with beneficiaries_db.sessionmaker() as session:
        events = (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.id > before).order_by(AuditEvent.id)
            )
        ).all()
    exports = [e for e in events if e.action == "export"]
    assert [(e.resource_type, e.actor) for e in exports] == [
        ("individuals", "user:data_manager"),
        ("households", "user:data_manager"),
    ]
    first, second = exports
    assert first.request_id == "export-1"
    assert first.detail == {
        "format": "xlsx",
        "fields": [f.name for f in INDIVIDUAL_FIELDS],
        "filters": {"name": "<redacted>", "identifier": "phone:<redacted>"},
        "personal": True,
        "rows": 1,
        "complete": True,
    }
    assert "Amina" not in str(first.detail) and "77001122" not in str(first.detail)
    assert second.detail == {
        "format": "csv",
        "fields": ["region_code", "member_count"],
        "filters": {"region": "DJ-DJ"},
        "personal": False,
        "rows": 1,
        "complete": True,
    }
    # The personal export's person was read (one row each); the anonymous one read nobody.
    reads = [e for e in events if e.action == "read"]
    assert [(e.resource_type, str(e.resource_id), str(e.household_id)) for e in reads] == [
        ("individual", ali_addeh["members"][0]["id"], ali_addeh["id"])
    ]
    assert reads[0].detail == {"via": "export"}


async def test_households_export_records_a_read_per_household(
    registry: httpx.AsyncClient,
    manager: dict[str, str],
    two_households: list[dict],
    registry_app: FastAPI,
    beneficiaries_db: Database,
) -> None:
    await export(registry, "households", "jsonl", manager)
    await registry_app.state.audit.flush()
    async with beneficiaries_db.sessionmaker() as session:
        reads = (
            await session.execute(
                select(AuditEvent.resource_id, AuditEvent.household_id).where(
                    AuditEvent.action == "read", AuditEvent.resource_type == "household"
                )
            )
        ).all()
    ids = {h["id"] for h in two_households}
    assert {(str(r), str(h)) for r, h in reads} == {(i, i) for i in ids}


async def add_many(db: Database, count: int) -> None:
    async with db.sessionmaker() as session:
        for number in range(count):
            await add_household(
                session,
                [
                    Person(f"Hawa{'a' * number}", birth_date=date(1980, 1, 1 + number)),
                    Person("Said", sex="M", relationship_to_head="child"),
                ],
                pmt_score=Decimal("11.5"),
            )
        await session.commit()


async def collect(
    app: FastAPI,
    path: str,
    headers: dict[str, str],
    *,
    gone: asyncio.Event | None = None,
    disconnect_after: int = 0,
) -> list[dict[str, Any]]:
    """Call the app as a server would, keeping each message as it is sent. The client goes
    away when `gone` is set, or after `disconnect_after` body messages."""
    messages: list[dict[str, Any]] = []
    gone = gone or asyncio.Event()

    async def receive() -> dict[str, Any]:
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if gone.is_set():  # a client gone: the write never completes
            await asyncio.Event().wait()
        messages.append(message)
        bodies = [m for m in messages if m["type"] == "http.response.body"]
        if disconnect_after and len(bodies) >= disconnect_after:
            gone.set()

    path, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},  # what uvicorn says
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "server": ("beneficiaries.test", 80),
        "client": ("203.0.113.7", 40000),
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    await app(scope, receive, send)
    return messages


async def test_exports_stream_batch_by_batch(
    registry: httpx.AsyncClient,
    registry_app: FastAPI,
    manager: dict[str, str],
    beneficiaries_db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await add_many(beneficiaries_db, 7)
    monkeypatch.setattr(stream, "BATCH_SIZE", 2)

    for export_format in FORMATS:
        messages = await collect(
            registry_app, f"{EXPORTS}/individuals.{export_format}?fields=given_name", manager
        )
        bodies = [m for m in messages if m["type"] == "http.response.body"]
        # Begin, one chunk per batch of 2 of the 14 people, end, and the closing message:
        # sent as read, not gathered first.
        assert len(bodies) == 1 + 7 + 1 + 1
        assert all(m["more_body"] for m in bodies[:-1]) and not bodies[-1]["more_body"]
        content = b"".join(m["body"] for m in bodies)
        response = httpx.Response(200, content=content)
        names = [row["given_name"] for row in rows_of(response, export_format)]
        assert len(names) == 14
        assert names[0::2] == [f"Hawa{'a' * n}" for n in range(7)]
        assert set(names[1::2]) == {"Said"}


@pytest.mark.parametrize("when", ["sending", "reading"])
async def test_a_client_that_goes_away_still_leaves_the_export_on_the_trail(
    registry: httpx.AsyncClient,
    registry_app: FastAPI,
    manager: dict[str, str],
    beneficiaries_db: Database,
    monkeypatch: pytest.MonkeyPatch,
    when: str,
) -> None:
    await add_many(beneficiaries_db, 7)
    monkeypatch.setattr(stream, "BATCH_SIZE", 2)
    gone = asyncio.Event()
    if when == "reading":
        # The client hangs up while the export is busy between two writes (here: putting
        # the second batch's reads on the trail), so the cancellation lands in the export.
        audit = registry_app.state.audit
        record_reads = audit.record_reads
        batches = 0

        async def slow_reads(*args: Any, **kwargs: Any) -> None:
            nonlocal batches
            batches += 1
            if batches == 2:
                gone.set()
                await asyncio.sleep(5)
            await record_reads(*args, **kwargs)

        monkeypatch.setattr(audit, "record_reads", slow_reads)
        messages = await collect(registry_app, f"{EXPORTS}/households.csv", manager, gone=gone)
    else:
        messages = await collect(
            registry_app, f"{EXPORTS}/households.csv", manager, disconnect_after=3
        )
    sent = [m for m in messages if m["type"] == "http.response.body"]
    assert len(sent) < 1 + 4 + 2

    async with beneficiaries_db.sessionmaker() as session:
        detail = await session.scalar(
            select(AuditEvent.detail).where(AuditEvent.action == "export")
        )
    assert detail is not None
    assert detail["complete"] is False
    assert 0 < detail["rows"] < 7


def test_long_xlsx_exports_go_on_in_further_sheets() -> None:
    fields = [CATALOGUE["individuals"]["given_name"], CATALOGUE["individuals"]["birth_date"]]
    writer = XlsxWriter(fields, "individuals", sheet_rows=3)
    content = writer.begin()
    rows = [(f"P{n}", date(2000, 1, n + 1)) for n in range(5)]
    content += writer.write(rows[:1]) + writer.write(rows[1:]) + writer.end()

    workbook = load_workbook(io.BytesIO(content))
    assert workbook.sheetnames == ["individuals", "individuals (2)", "individuals (3)"]
    assert [[c.value for c in row] for row in workbook.worksheets[2].iter_rows()] == [
        ["given_name", "birth_date"],
        ["P4", datetime(2000, 1, 5)],
    ]
    assert xlsx_rows(content) == [
        {"given_name": f"P{n}", "birth_date": datetime(2000, 1, n + 1)} for n in range(5)
    ]
    assert workbook.worksheets[0]["B2"].number_format == "yyyy-mm-dd"
