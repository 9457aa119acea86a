"""The real thing: `inds up --demo` in its own process (embedded PostgreSQL, three services,
the gateway), used over HTTP the way a partner system would, then stopped with Ctrl-C."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from tests.support.stack import (
    INDS,
    SUITE_STACK_ENV,
    RunningStack,
    stack_folder,
    start_stack,
    stop_stack,
)
from tests.support.upstream import free_port

pytestmark = pytest.mark.e2e
SERVICES = ("beneficiaries", "funding", "indicators")


def test_each_service_answers_through_the_gateway(stack: RunningStack) -> None:
    headers = stack.headers("admin")
    for service in SERVICES:
        response = httpx.get(f"{stack.url}/api/v1/{service}/me", headers=headers)
        assert response.status_code == 200, response.text
        assert response.json() == {
            "service": service,
            "subject": "client:admin",
            "roles": ["admin"],
            "regions": [],
            "partner_id": None,
        }
    health = httpx.get(f"{stack.url}/health").json()
    assert health["services"] == dict.fromkeys(SERVICES, "ready")

    spec = httpx.get(f"{stack.url}/openapi.json", timeout=60).json()  # merged on first call
    assert {f"/api/v1/{service}/me" for service in SERVICES} <= set(spec["paths"])
    operation_ids = [
        operation["operationId"]
        for item in spec["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    ]
    assert len(operation_ids) == len(set(operation_ids)), "one name per operation"
    assert "/auth/token" in spec["paths"]


def test_demo_clients_carry_their_roles(stack: RunningStack) -> None:
    me = httpx.get(
        f"{stack.url}/api/v1/beneficiaries/me", headers=stack.headers("demo-registrar")
    ).json()
    assert me["roles"] == ["registrar"]
    assert me["regions"] == ["DJ-AS", "DJ-DJ"]
    partner = httpx.get(f"{stack.url}/api/v1/funding/me", headers=stack.headers("demo-partner"))
    assert partner.json()["partner_id"] == "wfp"


def test_401_without_a_valid_token_and_403_with_the_wrong_role(stack: RunningStack) -> None:
    for service in SERVICES:
        response = httpx.get(f"{stack.url}/api/v1/{service}/me")
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"].startswith("Bearer")

    token = stack.token("admin")
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    response = httpx.get(
        f"{stack.url}/api/v1/funding/me", headers={"Authorization": f"Bearer {tampered}"}
    )
    assert response.status_code == 401

    analyst = httpx.get(f"{stack.url}/api/v1/admin/clients", headers=stack.headers("demo-analyst"))
    assert analyst.status_code == 403
    assert analyst.headers["content-type"] == "application/problem+json"


def test_request_id_is_echoed_and_reaches_the_service(stack: RunningStack) -> None:
    response = httpx.get(
        f"{stack.url}/api/v1/indicators/me",
        headers={**stack.headers("admin"), "X-Request-ID": "e2e-trace-4711"},
    )
    assert response.headers["x-request-id"] == "e2e-trace-4711"
    log = Path(stack.state["processes"]["indicators"]["log"])
    deadline = time.monotonic() + 10
    while "e2e-trace-4711" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    lines = [json.loads(line) for line in log.read_text().splitlines() if "e2e-trace-4711" in line]
    assert lines and lines[0]["path"] == "/api/v1/indicators/me"


def test_ctrl_c_stops_everything_and_the_next_start_reuses_the_data() -> None:
    with stack_folder() as folder:
        _stop_and_start_again(folder / "data")


def _stop_and_start_again(data_dir: Path) -> None:
    first = start_stack(data_dir, free_port(), demo=False)
    admin = first.headers("admin")
    created = httpx.post(
        f"{first.url}/api/v1/admin/users",
        json={
            "username": "fieldagent",
            "full_name": "F A",
            "roles": ["registrar"],
            "password": "field-agent-password",
        },
        headers=admin,
    )
    assert created.status_code == 201
    # Personal data that must reach the registry's database, never the logs: a name sent,
    # searched for and refused, and an identifier that clashes.
    from tests.beneficiaries.payloads import household, member

    base = f"{first.url}/api/v1/beneficiaries"
    nid = [{"type": "national_id", "value": "2718281828"}]
    person = household([member("Qamarwaris", "Dhuxulow", identifiers=nid)])
    assert httpx.post(f"{base}/households", json=person, headers=admin).status_code == 201
    assert httpx.post(f"{base}/households", json=person, headers=admin).status_code == 409
    person["members"][0]["birth_date"] = "2999-01-01"
    assert httpx.post(f"{base}/households", json=person, headers=admin).status_code == 422
    found = httpx.get(f"{base}/individuals", params={"name": "Qamarwaris"}, headers=admin)
    assert found.status_code == 200 and len(found.json()["items"]) == 1
    pids = [p["pid"] for p in first.state["processes"].values()]
    postgres_pid = int((data_dir / "pg" / "postmaster.pid").read_text().split()[0])
    secret = first.credentials["admin"]
    token = admin["Authorization"].removeprefix("Bearer ")

    output = stop_stack(first)
    assert first.process.returncode == 0, output
    for pid in [*pids, postgres_pid]:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert not (data_dir / "pg" / "postmaster.pid").exists()

    logs = "".join(path.read_text() for path in (data_dir / "logs").glob("*.log"))
    assert secret not in logs
    assert token not in logs
    assert "field-agent-password" not in logs
    for personal in ("Qamarwaris", "Dhuxulow", "2718281828", "2999-01-01"):
        assert personal not in logs, personal

    second = start_stack(data_dir, free_port(), demo=False)
    try:
        login = httpx.post(
            f"{second.url}/auth/token",
            data={
                "grant_type": "password",
                "username": "fieldagent",
                "password": "field-agent-password",
            },
        )
        assert login.status_code == 200
    finally:
        stop_stack(second)


def test_a_household_registered_through_the_gateway_is_counted_and_audited(
    stack: RunningStack,
) -> None:
    from tests.beneficiaries.payloads import household

    registrar = stack.headers("demo-registrar")
    analyst = stack.headers("demo-analyst")
    base = f"{stack.url}/api/v1/beneficiaries"

    def women_in_djibouti() -> int:
        answer = httpx.get(
            f"{base}/stats",
            params={"measure": "individuals", "region": "DJ-DJ", "sex": "F"},
            headers=analyst,
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["total"]

    before = women_in_djibouti()
    created = httpx.post(f"{base}/households", json=household(), headers=registrar)
    assert created.status_code == 201, created.text
    household_id = created.json()["id"]
    read = httpx.get(f"{base}/households/{household_id}", headers=registrar)
    assert read.status_code == 200
    assert read.headers["etag"] == '"v1"'
    assert httpx.get(f"{base}/households/{household_id}", headers=analyst).status_code == 403
    assert women_in_djibouti() == before + 2

    manager = stack.headers("demo-data-manager")
    trail = httpx.get(
        f"{base}/audit", params={"household_id": household_id}, headers=manager
    ).json()["items"]
    assert {(entry["action"], entry["actor"]) for entry in trail} >= {
        ("create", "client:demo-registrar"),
        ("read", "client:demo-registrar"),
    }


def test_writes_racing_each_other_get_one_winner_and_clear_answers(stack: RunningStack) -> None:
    """What a device retrying before its first try has finished, or two desks at once,
    send: one write wins, the others are answered as a retry or a conflict, never a 500."""
    from tests.beneficiaries.payloads import household, member, with_ids

    base = f"{stack.url}/api/v1/beneficiaries"
    manager = stack.headers("demo-data-manager")

    def race(send: Any, times: int = 6) -> list[httpx.Response]:
        with ThreadPoolExecutor(times) as pool:
            return list(pool.map(lambda _: send(), range(times)))

    body = with_ids(household())
    puts = race(lambda: httpx.put(f"{base}/households/{body['id']}", json=body, headers=manager))
    assert sorted(p.headers.get("x-outcome", str(p.status_code)) for p in puts) == [
        "created",
        *["unchanged"] * 5,
    ]

    nid = [{"type": "national_id", "value": "3141592653"}]
    names = iter(["Ayan", "Bilan", "Caaliya", "Deeqa", "Elmi", "Hibo"])
    holders = race(
        lambda: httpx.post(
            f"{base}/households",
            json=household([member(next(names), identifiers=nid)]),
            headers=manager,
        )
    )
    assert sorted(h.status_code for h in holders) == [201, *[409] * 5]

    programme = {
        "code": "course",
        "name_fr": "Course",
        "name_en": "Race",
        "benefit_amount": 1000,
        "benefit_period": "monthly",
    }
    assert httpx.post(f"{base}/programmes", json=programme, headers=manager).status_code == 201
    home = httpx.post(f"{base}/households", json=household(), headers=manager).json()
    enrolled = race(
        lambda: httpx.post(
            f"{base}/programmes/course/enrollments",
            json={"household_id": home["id"]},
            headers=manager,
        )
    )
    assert sorted(e.status_code for e in enrolled) == [201, *[409] * 5]
    winner = next(e.json()["id"] for e in enrolled if e.status_code == 201)
    assert {e.json()["enrollment_id"] for e in enrolled if e.status_code == 409} == {winner}


def test_requests_survive_the_database_dropping_every_connection(stack: RunningStack) -> None:
    """A PostgreSQL restart or failover closes the pooled connections: a service answers
    the request that meets a dropped one 503 (retry, nothing saved), never a 500; the
    gateway repeats a read for the caller, and the requests after it work."""
    import asyncpg

    base = f"{stack.url}/api/v1/beneficiaries"
    manager = stack.headers("demo-data-manager")
    token = httpx.post(
        f"{stack.url}/auth/token",
        data={"grant_type": "client_credentials"},
        auth=("admin", stack.credentials["admin"]),
    )
    assert token.status_code == 200
    for _ in range(5):  # the pool holds connections now
        assert httpx.get(f"{base}/households", headers=manager).status_code == 200

    async def drop_connections() -> int:
        connection = await asyncpg.connect(stack.state["database_url"])
        try:
            return await connection.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
            )
        finally:
            await connection.close()

    assert asyncio.run(drop_connections()) > 0
    answers = [httpx.get(f"{base}/households", headers=manager) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [200] * 4
    tokens = [
        httpx.post(
            f"{stack.url}/auth/token",
            data={"grant_type": "client_credentials"},
            auth=("admin", stack.credentials["admin"]),
        ).status_code
        for _ in range(5)
    ]
    # Each gateway process answers 503 at most the first request that meets its dropped
    # connections (its pool is then renewed), never a 500.
    gateway_processes = int(SUITE_STACK_ENV["INDS_GATEWAY_WORKERS"])
    assert set(tokens) <= {200, 503}, tokens
    assert tokens.count(503) <= gateway_processes, "the gateway's connections too"
    assert tokens[-1] == 200, tokens


def test_a_field_device_and_a_data_manager_work_through_the_gateway(
    stack: RunningStack,
) -> None:
    """Offline registrations synced in a batch, checked for duplicates, then exported in
    full with them: the registry's bulk paths, end to end, streamed through the gateway."""
    from tests.beneficiaries.payloads import household, with_ids

    base = f"{stack.url}/api/v1/beneficiaries"
    registrar = stack.headers("demo-registrar")
    manager = stack.headers("demo-data-manager")
    offline = [with_ids(household()) for _ in range(3)]
    batch = httpx.post(
        f"{base}/sync/batch",
        json={
            "device_id": "TAB-E2E",
            "operations": [
                {"op": "household.put", "household_id": h["id"], "household": h} for h in offline
            ],
        },
        headers={**registrar, "Idempotency-Key": "e2e-batch-1"},
    )
    assert batch.status_code == 200, batch.text
    assert batch.json()["counts"] == {"created": 3}

    head = offline[0]["members"][0]
    check = httpx.post(
        f"{base}/dedup/check",
        json={
            "people": [
                {
                    k: head[k]
                    for k in ("given_name", "father_name", "grandfather_name", "sex", "birth_date")
                }
            ]
        },
        headers=registrar,
    )
    assert check.status_code == 200, check.text
    candidates = {c["household_id"] for c in check.json()["results"][0]["candidates"]}
    assert {h["id"] for h in offline} <= candidates

    total = httpx.get(
        f"{base}/stats", params={"measure": "households"}, headers=stack.headers("demo-analyst")
    ).json()["total"]
    with httpx.stream("GET", f"{base}/exports/households.csv", headers=manager) as export:
        assert export.status_code == 200
        assert export.headers["content-type"].startswith("text/csv")
        text = export.read().decode("utf-8-sig")  # with a BOM, for Excel
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == total  # every active household, once
    assert {h["id"] for h in offline} <= {row["household_id"] for row in rows}


def test_inds_seed_and_inds_import_load_households_through_the_gateway(
    stack: RunningStack, tmp_path: Path
) -> None:
    """The commands a data manager runs: a synthetic registry straight into the stack, then
    their own file, one row of which is wrong (valid_only: the rest goes in, the row's
    problem comes back as errors.csv)."""
    manager = stack.headers("demo-data-manager")
    analyst = stack.headers("demo-analyst")
    base = f"{stack.url}/api/v1/beneficiaries"
    env = {k: v for k, v in os.environ.items() if not k.startswith("INDS_")}
    env.update(
        {
            "INDS_GATEWAY_URL": stack.url,
            "INDS_CLIENT_ID": "demo-data-manager",
            "INDS_CLIENT_SECRET": stack.credentials["demo-data-manager"],
        }
    )

    def households() -> int:
        answer = httpx.get(f"{base}/stats", params={"measure": "households"}, headers=analyst)
        assert answer.status_code == 200, answer.text
        return answer.json()["total"]

    before = households()
    seeded = subprocess.run(
        [INDS, "seed", "--households", "40", "--seed", "11", "--api", stack.url],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    assert households() == before + 40

    file = tmp_path / "mine.csv"
    made = subprocess.run(
        [INDS, "seed", "--households", "5", "--seed", "12", "--out", str(file)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stdout + made.stderr
    lines = file.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[1].split(",")
    cells[header.index("sex")] = "X"
    lines[1] = ",".join(cells)
    file.write_text("\n".join(lines) + "\n")

    imported = subprocess.run(
        [INDS, "import", str(file), "--mode", "valid_only"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert "4 households" in imported.stdout, imported.stdout
    assert households() == before + 44
    errors = file.with_suffix(".errors.csv").read_text()
    assert "sex" in errors and ",X," in errors

    jobs = httpx.get(f"{base}/imports", headers=manager)
    assert jobs.status_code == 200, jobs.text
    assert {job["status"] for job in jobs.json()["items"]} == {"done"}


def test_inds_import_finds_the_running_stack_by_itself(stack: RunningStack, tmp_path: Path) -> None:
    """No --url, no INDS_GATEWAY_URL, a gateway on a port that is not the default: the
    address and the development admin come from the stack's data folder."""
    from inds.synthetic.files import write_csv
    from inds.synthetic.generator import RegistryGenerator

    file = tmp_path / "households.csv"
    households, _ = write_csv(file, RegistryGenerator(seed=64).households(5))
    env = {k: v for k, v in os.environ.items() if not k.startswith("INDS_")}
    done = subprocess.run(
        [INDS, "import", str(file), "--mode", "valid_only"],
        env={**env, "INDS_DATA_DIR": str(stack.data_dir)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{households} households and" in done.stdout


def test_a_disabled_clients_token_is_refused_by_each_service_called_directly(
    stack: RunningStack,
) -> None:
    """Network position grants nothing: a token whose client is disabled is refused by a
    service called straight on its port, not only by the gateway, within seconds."""
    admin = stack.headers("admin")
    body = {"client_id": "e2e-soon-disabled", "name": "Soon disabled", "roles": ["analyst"]}
    created = httpx.post(f"{stack.url}/api/v1/admin/clients", json=body, headers=admin)
    assert created.status_code == 201, created.text
    token = httpx.post(
        f"{stack.url}/auth/token",
        data={"grant_type": "client_credentials"},
        auth=(body["client_id"], created.json()["client_secret"]),
    ).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    direct = {
        name: f"{stack.state['processes'][name]['url']}/api/v1/{name}/me" for name in SERVICES
    }
    assert all(httpx.get(url, headers=bearer).status_code == 200 for url in direct.values())

    disabled = httpx.post(
        f"{stack.url}/api/v1/admin/clients/{body['client_id']}/disable", headers=admin
    )
    assert disabled.status_code == 200, disabled.text
    deadline = time.monotonic() + 15  # the services re-read the list every 2 s
    refused: dict[str, httpx.Response] = {}
    while len(refused) < len(direct) and time.monotonic() < deadline:
        for name, url in direct.items():
            answer = httpx.get(url, headers=bearer)
            if answer.status_code != 200:
                refused[name] = answer
        time.sleep(0.2)
    assert refused.keys() == direct.keys()
    for answer in refused.values():
        assert answer.status_code == 401
        assert "disabled" in answer.json()["detail"]
    assert httpx.get(direct["funding"], headers=admin).status_code == 200, "others served"
    # The list names accounts: only the services read it.
    listed = httpx.get(f"{stack.url}/auth/disabled-accounts", headers=admin)
    assert listed.status_code == 403, listed.text
