"""A Python integrator's client, generated from the registry's served OpenAPI document by
openapi-python-client, comes out whole (no warning, every type) and works against the app:
a household registered, read and replaced through it."""

from __future__ import annotations

import importlib
import subprocess
import sys
import uuid
from pathlib import Path
from types import ModuleType

import httpx
import pytest
from fastapi import FastAPI

from tests.beneficiaries.helpers import BASE
from tests.beneficiaries.payloads import household
from tests.support.tokens import TokenFactory

GENERATOR = Path(sys.executable).parent / "openapi-python-client"
# The generator has no type for JSON Lines (the enrollment stream) nor for an Excel file
# (the import template, a match report): handed over as bytes.
CONFIG = (
    "post_hooks: []\ncontent_type_overrides:\n  application/x-ndjson: application/octet-stream\n"
    "  application/vnd.openxmlformats-officedocument.spreadsheetml.sheet:"
    " application/octet-stream\n"
)


@pytest.fixture
async def generated(
    registry: httpx.AsyncClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> ModuleType:
    spec = tmp_path / "openapi.json"
    spec.write_bytes((await registry.get("/openapi.json")).content)
    (tmp_path / "config.yaml").write_text(CONFIG)
    result = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(spec),
            "--meta",
            "none",
            "--output-path",
            str(tmp_path / "registry_client"),
            "--config",
            str(tmp_path / "config.yaml"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Warning" not in output, output
    monkeypatch.syspath_prepend(str(tmp_path))
    return importlib.import_module("registry_client")


async def test_a_generated_client_round_trips_a_household(
    generated: ModuleType, registry_app: FastAPI, tokens: TokenFactory
) -> None:
    operations = "registry_client.api.households."
    get_household = importlib.import_module(operations + "get_household")
    put_household = importlib.import_module(operations + "put_household")
    models = importlib.import_module("registry_client.models")
    client = generated.AuthenticatedClient(
        base_url="http://beneficiaries.test",
        token=tokens.token(sub="user:registrar", roles=["registrar"]),
    )
    client.set_async_httpx_client(
        httpx.AsyncClient(
            base_url="http://beneficiaries.test",
            transport=httpx.ASGITransport(app=registry_app),
            headers={"Authorization": f"Bearer {client.token}"},
        )
    )
    household_id = uuid.uuid4()
    body = household()
    body["id"] = str(household_id)
    for person in body["members"]:
        person["id"] = str(uuid.uuid4())
    write = models.HouseholdWrite.from_dict(body)

    created = await put_household.asyncio_detailed(household_id, client=client, body=write)
    assert created.status_code == 201
    assert isinstance(created.parsed, models.Household)
    assert created.parsed.members[0].given_name == body["members"][0]["given_name"]

    read = await get_household.asyncio(household_id, client=client)
    assert isinstance(read, models.Household)
    assert read.version == 1
    body["living_conditions"]["rooms"] = 5
    replaced = await put_household.asyncio_detailed(
        household_id, client=client, body=models.HouseholdWrite.from_dict(body), if_match='"v1"'
    )
    assert replaced.status_code == 200
    assert replaced.parsed.living_conditions.rooms == 5
    assert replaced.parsed.version == 2

    stale = await put_household.asyncio(
        household_id, client=client, body=models.HouseholdWrite.from_dict(body), if_match='"v1"'
    )
    assert isinstance(stale, models.Problem), "errors are typed too"
    assert stale.status == 412
    assert BASE in str(stale.instance)
