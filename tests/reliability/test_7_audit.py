"""Audit completeness, on the real stack through the gateway: every read of a person's data
and every move of money leaves a row on the service's trail naming who (the actor), as what
(the roles) and under which request (the caller's `X-Request-ID`): a registrar signed in with
a password, a partner system searching by DCI, a data manager exporting, the finance desk
paying a programme.

And a crash: read rows are written in batches every `audit_flush_interval` seconds (0.2 s,
docs/architecture.md); the registry killed mid-reads loses at most the reads of that last
interval (and of the flush under way), never an earlier one.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from inds.synthetic.files import HEADER, import_rows
from inds.synthetic.generator import RegistryGenerator
from services.beneficiaries.config import BeneficiariesSettings
from tests.beneficiaries.partners.world import (
    NAMES,
    agreement_body,
    predicate,
    search_message,
    search_request,
)
from tests.beneficiaries.payloads import household, member
from tests.reliability.conftest import fetch
from tests.reliability.desk import BENEFIT, CYCLES, FUNDING, REGISTRY, Desk
from tests.support.stack import RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]
FLUSH_INTERVAL = BeneficiariesSettings.model_fields["audit_flush_interval"].default
# What a crash may lose beyond the interval itself: the flush under way when a read was
# queued (a COPY of a few rows; a loaded CI machine may take a few hundred ms over it).
FLUSH_ALLOWANCE = 0.5


@dataclass(frozen=True)
class Account:
    """A caller, and who the services say it is."""

    name: str
    headers: dict[str, str]
    subject: str
    roles: list[str]


@dataclass(frozen=True)
class Expected:
    """Rows the trail of `service` must hold for the request `request_id`."""

    service: str
    request_id: str
    account: Account
    action: str
    resource_type: str
    resource_ids: frozenset[str | None]  # None: a row about no one record (an export)


class Trail:
    """Requests sent each under a request id of its own, and the rows each must leave."""

    def __init__(self, stack: RunningStack, client: httpx.AsyncClient) -> None:
        self.stack = stack
        self.client = client
        self.expected: list[Expected] = []

    async def account(self, name: str, headers: dict[str, str]) -> Account:
        me = await self.client.get(f"{REGISTRY}/me", headers=headers)
        assert me.status_code == 200, me.text
        caller = me.json()
        assert name in caller["subject"], caller
        return Account(name, headers, caller["subject"], caller["roles"])

    async def send(
        self, method: str, path: str, account: Account, **kwargs: Any
    ) -> tuple[httpx.Response, str]:
        request_id = f"audit-{uuid.uuid4().hex}"
        headers = {**account.headers, "X-Request-ID": request_id, **kwargs.pop("headers", {})}
        answer = await self.client.request(method, path, headers=headers, **kwargs)
        assert answer.status_code < 300, (method, path, answer.status_code, answer.text)
        assert answer.headers["x-request-id"] == request_id
        return answer, request_id

    def expect(
        self,
        service: str,
        request_id: str,
        account: Account,
        action: str,
        resource_type: str,
        resource_ids: Iterable[Any],
    ) -> None:
        ids = frozenset(None if i is None else str(i) for i in resource_ids)
        assert ids, "a request expected to leave rows names them"
        self.expected.append(Expected(service, request_id, account, action, resource_type, ids))

    async def missing(self, seconds: float = 10.0) -> list[str]:
        """What the trails lack, one line per expected row that is not there once `seconds`
        have passed (read rows are written a flush interval after the read, off the request
        path: the last reads of a test may still be on their way)."""
        deadline = time.monotonic() + seconds
        while (problems := await self._missing()) and time.monotonic() < deadline:
            await asyncio.sleep(FLUSH_INTERVAL)
        return problems

    async def _missing(self) -> list[str]:
        problems = []
        for want in self.expected:
            rows = await fetch(
                self.stack,
                want.service,
                "SELECT actor, roles, action, resource_type, resource_id::text AS resource_id"
                " FROM audit_event WHERE request_id = $1",
                want.request_id,
            )
            found = {
                row["resource_id"]
                for row in rows
                if row["actor"] == want.account.subject
                and sorted(row["roles"]) == sorted(want.account.roles)
                and row["action"] == want.action
                and row["resource_type"] == want.resource_type
            }
            for resource_id in sorted(want.resource_ids - found, key=str):
                problems.append(
                    f"{want.service}: no {want.action} of {want.resource_type} {resource_id} by"
                    f" {want.account.subject} {want.account.roles} under {want.request_id};"
                    f" its rows: {[dict(row) for row in rows]}"
                )
        return problems


@pytest.fixture
async def client(stack: RunningStack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.url, timeout=60) as client:
        yield client


def _unique_name(prefix: str) -> str:
    """A given name no other test registers (names are letters only)."""
    return prefix + "".join(chr(ord("a") + int(d)) for d in str(uuid.uuid4().int)[:8])


async def _admin_creates(
    client: httpx.AsyncClient, stack: RunningStack, kind: str, body: Any
) -> Any:
    answer = await client.post(f"/api/v1/admin/{kind}", json=body, headers=stack.headers("admin"))
    assert answer.status_code == 201, answer.text
    return answer.json()


async def _registrar_user(client: httpx.AsyncClient, stack: RunningStack) -> dict[str, str]:
    """A field registrar of Djibouti city, signed in with a password."""
    username, password = f"audit.{uuid.uuid4().hex[:8]}", "correct horse battery staple"
    await _admin_creates(
        client,
        stack,
        "users",
        {
            "username": username,
            "full_name": "Registrar for the audit",
            "password": password,
            "roles": ["registrar"],
            "regions": ["DJ-DJ"],
        },
    )
    token = await client.post(
        "/auth/token",
        data={"grant_type": "password", "username": username, "password": password},
    )
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


async def _partner_client(
    client: httpx.AsyncClient, stack: RunningStack
) -> tuple[str, dict[str, str]]:
    """A partner system of its own (no other test's agreement in its way)."""
    partner_id = f"audit-{uuid.uuid4().hex[:8]}"
    created = await _admin_creates(
        client,
        stack,
        "clients",
        {
            "client_id": partner_id,
            "name": "Audit partner",
            "roles": ["partner"],
            "partner_id": partner_id,
        },
    )
    token = await client.post(
        "/auth/token",
        data={"grant_type": "client_credentials"},
        auth=(partner_id, created["client_secret"]),
    )
    assert token.status_code == 200, token.text
    return partner_id, {"Authorization": f"Bearer {token.json()['access_token']}"}


async def _end_of_changes(trail: Trail, account: Account) -> str:
    """The registrar's sync cursor after every change so far."""
    since: str | None = None
    while True:
        params = {"region": "DJ-DJ", "limit": 500, **({"since": since} if since else {})}
        answer = await trail.client.get(
            f"{REGISTRY}/sync/changes", params=params, headers=account.headers
        )
        assert answer.status_code == 200, answer.text
        page = answer.json()
        since = page["next_cursor"]
        if not page["has_more"]:
            assert since is not None
            return since


async def _failed_import(trail: Trail, manager: Account) -> str:
    """An import of two households, one in no known place: its errors list the other's
    people too (nothing of the file saved)."""
    households = list(RegistryGenerator(seed=7).households(2))
    households[1]["location"]["locality_code"] = "DJ-XX-NOWHERE"
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    for one in households:
        writer.writerows(import_rows(one))
    started, _ = await trail.send(
        "POST",
        f"{REGISTRY}/imports",
        manager,
        files={"file": ("households.csv", buffer.getvalue().encode())},
    )
    job_id = str(started.json()["id"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = await trail.client.get(f"{REGISTRY}/imports/{job_id}", headers=manager.headers)
        if job.json()["status"] not in ("queued", "validating", "importing"):
            assert job.json()["status"] == "failed", job.text
            return job_id
        await asyncio.sleep(0.3)
    pytest.fail("the import did not finish in 60 s")


async def test_every_personal_data_read_is_on_the_trail_with_actor_role_and_request_id(
    stack: RunningStack, client: httpx.AsyncClient
) -> None:
    trail = Trail(stack, client)
    registrar = await trail.account("audit.", await _registrar_user(client, stack))
    manager = await trail.account("demo-data-manager", stack.headers("demo-data-manager"))
    partner_id, partner_headers = await _partner_client(client, stack)
    partner = await trail.account(partner_id, partner_headers)
    cursor = await _end_of_changes(trail, registrar)

    given = _unique_name("Audit")
    body = household(
        [
            member(given, "Said", "Robleh"),
            member(
                _unique_name("Child"), given, "Said", birth_date="2014-02-01", relationship="child"
            ),
        ],
        consent={
            "given": True,
            "date": "2026-03-02",
            "scope": ["registry", "programmes", "partner_sharing"],
            "method": "thumbprint",
            "notice_version": "2025-1",
        },
    )
    created = await client.post(f"{REGISTRY}/households", json=body, headers=manager.headers)
    assert created.status_code == 201, created.text
    hid = created.json()["id"]
    people = [person["id"] for person in created.json()["members"]]
    everyone = [hid, *people]

    _, rid = await trail.send("GET", f"{REGISTRY}/households/{hid}", registrar)
    trail.expect("beneficiaries", rid, registrar, "read", "household", everyone)
    found, rid = await trail.send(
        "GET", f"{REGISTRY}/households", registrar, params={"name": given}
    )
    assert [item["id"] for item in found.json()["items"]] == [hid]
    trail.expect("beneficiaries", rid, registrar, "read", "household", [hid])
    _, rid = await trail.send("GET", f"{REGISTRY}/individuals/{people[0]}", registrar)
    trail.expect("beneficiaries", rid, registrar, "read", "individual", people[:1])
    found, rid = await trail.send("GET", f"{REGISTRY}/individuals", manager, params={"name": given})
    assert people[0] in {item["id"] for item in found.json()["items"]}
    trail.expect("beneficiaries", rid, manager, "read", "individual", people[:1])
    pulled, rid = await trail.send(
        "GET", f"{REGISTRY}/sync/changes", registrar, params={"region": "DJ-DJ", "since": cursor}
    )
    assert hid in {change["household_id"] for change in pulled.json()["changes"]}
    trail.expect("beneficiaries", rid, registrar, "read", "household", everyone)
    for resource, ids in (("households", [hid]), ("individuals", people)):
        exported, rid = await trail.send(
            "GET", f"{REGISTRY}/exports/{resource}.csv", manager, params={"name": given}
        )
        assert exported.text.count("\n") >= 2, exported.text
        trail.expect("beneficiaries", rid, manager, "read", resource.removesuffix("s"), ids)
        trail.expect("beneficiaries", rid, manager, "export", resource, [None])

    draft = {**member(given, "Said", "Robleh"), "relationship_to_head": None}
    checked, rid = await trail.send(
        "POST",
        f"{REGISTRY}/dedup/check",
        registrar,
        json={"locality_code": "DJ-DJ-BALBALA-PK12", "people": [draft]},
    )
    candidates = {c["individual_id"] for c in checked.json()["results"][0]["candidates"]}
    assert people[0] in candidates, checked.text
    trail.expect("beneficiaries", rid, registrar, "read", "individual", [people[0]])

    job_id = await _failed_import(trail, manager)
    problems, rid = await trail.send("GET", f"{REGISTRY}/imports/{job_id}/errors.csv", manager)
    assert "DJ-XX-NOWHERE" in problems.text
    trail.expect("beneficiaries", rid, manager, "read", "import", [job_id])

    agreement = agreement_body(
        partner_id,
        allowed_fields=[*NAMES],
        allowed_programmes=None,
        allowed_regions=None,
        allowed_legal_statuses=None,
        allowed_query_types=["predicate"],
        identifiers="shown",
    )
    made = await client.post(f"{REGISTRY}/agreements", json=agreement, headers=manager.headers)
    assert made.status_code == 201, made.text
    query = predicate("given_name", "eq", given)
    searched, rid = await trail.send(
        "POST",
        f"{REGISTRY}/dci/registry/sync/search",
        partner,
        json=search_message(search_request("predicate", [query]), sender_id=partner_id),
    )
    assert given in searched.text, searched.text
    trail.expect("beneficiaries", rid, partner, "read", "agreement", [made.json()["id"]])
    trail.expect("beneficiaries", rid, partner, "read", "individual", people[:1])

    assert await trail.missing() == []


async def test_every_money_write_is_on_the_trail_with_actor_role_and_request_id(
    stack: RunningStack, client: httpx.AsyncClient
) -> None:
    trail = Trail(stack, client)
    desk = Desk(stack)
    try:
        officer = await trail.account("demo-finance-officer", desk.officer)
        approver = await trail.account("demo-finance-approver", desk.approver)
        code, households = await desk.programme(3, "quarterly")
        agreement, provider = await desk.agreement(code, received=100 * BENEFIT)

        funds = {
            "type": 1,
            "transaction_date": "2026-03-01",
            "value_date": "2026-03-01",
            "amount": {"amount_minor": 10 * BENEFIT, "currency": "DJF"},
            "agreement_id": agreement,
        }
        paid_in, rid = await trail.send("POST", f"{FUNDING}/transactions", officer, json=funds)
        trail.expect("funding", rid, officer, "create", "transaction", [paid_in.json()["id"]])
        reversal, rid = await trail.send(
            "POST",
            f"{FUNDING}/transactions/{paid_in.json()['id']}/reverse",
            officer,
            json={"reason": "Entered twice"},
        )
        trail.expect("funding", rid, officer, "reverse", "transaction", [reversal.json()["id"]])

        body = {
            "programme": code,
            "period": "2026Q2",
            "agreement_id": agreement,
            "payment_provider_id": provider,
        }
        created, rid = await trail.send("POST", CYCLES, officer, json=body)
        cycle_id = created.json()["id"]
        trail.expect("funding", rid, officer, "create", "payment_cycle", [cycle_id])
        await desk.built(code, 1)
        _, rid = await trail.send("POST", f"{CYCLES}/{cycle_id}/approve", approver)
        trail.expect("funding", rid, approver, "approve", "payment_cycle", [cycle_id])
        _, rid = await trail.send("POST", f"{CYCLES}/{cycle_id}/send", officer)
        trail.expect("funding", rid, officer, "send", "payment_cycle", [cycle_id])
        disbursed = await fetch(
            stack,
            "funding",
            "SELECT id FROM transaction WHERE payment_cycle_id = $1",
            uuid.UUID(cycle_id),
        )
        trail.expect("funding", rid, officer, "create", "transaction", [r["id"] for r in disbursed])

        # Finance staff read the payees too: those are personal-data reads of the payroll.
        _, rid = await trail.send("GET", f"{CYCLES}/{cycle_id}/lines", officer)
        trail.expect("funding", rid, officer, "read", "household", households)
        payment_file, rid = await trail.send(
            "GET", f"{CYCLES}/{cycle_id}/payment-file.csv", officer
        )
        trail.expect("funding", rid, officer, "read", "household", households)

        lines = list(csv.DictReader(io.StringIO(payment_file.content.decode("utf-8-sig"))))
        report = "line_reference,status,provider_reference,date\n" + "".join(
            f"{line['line_reference']},paid,AUD-{n},2026-06-15\n" for n, line in enumerate(lines)
        )
        reconciled, rid = await trail.send(
            "POST",
            f"{CYCLES}/{cycle_id}/reconciliation",
            approver,
            files={"file": ("report.csv", report.encode(), "text/csv")},
        )
        trail.expect("funding", rid, approver, "reconcile", "payment_cycle", [cycle_id])
        trail.expect(
            "funding", rid, approver, "create", "transaction", reconciled.json()["transactions"]
        )

        assert await trail.missing() == []
        # The payroll was built in the background, for its creator: said so on the trail.
        built = await fetch(
            stack,
            "funding",
            "SELECT actor, detail->>'on_behalf_of' AS creator FROM audit_event"
            " WHERE action = 'build' AND resource_id = $1",
            uuid.UUID(cycle_id),
        )
        assert [row["creator"] for row in built] == [officer.subject], built
    finally:
        await desk.client.aclose()


@dataclass(frozen=True)
class Read:
    request_id: str
    answered_at: float


async def test_a_crash_loses_at_most_the_last_flush_interval_of_read_rows(
    stack: RunningStack, client: httpx.AsyncClient
) -> None:
    """Registrars read one household after another; the registry's process is killed
    (SIGKILL: no shutdown, nothing flushed on the way out) and started again by `inds up`.
    Every read answered more than one flush interval (and the flush under way) before the
    kill is on the trail; the reads since may be lost, and nothing else."""
    trail = Trail(stack, client)
    manager = await trail.account("demo-data-manager", stack.headers("demo-data-manager"))
    created = await client.post(f"{REGISTRY}/households", json=household(), headers=manager.headers)
    assert created.status_code == 201, created.text
    path = f"{REGISTRY}/households/{created.json()['id']}"
    reads: list[Read] = []
    stopping = asyncio.Event()

    async def reader() -> None:
        while not stopping.is_set():
            request_id = f"crash-{uuid.uuid4().hex}"
            try:
                answer = await client.get(
                    path, headers={**manager.headers, "X-Request-ID": request_id}
                )
            except httpx.HTTPError:
                continue
            if answer.status_code == 200:
                reads.append(Read(request_id, time.monotonic()))

    readers = [asyncio.create_task(reader()) for _ in range(4)]
    await asyncio.sleep(3)
    killed_at = time.monotonic()
    os.kill(stack.state["processes"]["beneficiaries"]["pid"], signal.SIGKILL)
    await asyncio.sleep(0.5)
    stopping.set()
    await asyncio.gather(*readers)
    await _served_again(client, manager)

    before = [read for read in reads if read.answered_at < killed_at]
    rows = await fetch(
        stack,
        "beneficiaries",
        "SELECT DISTINCT request_id FROM audit_event WHERE request_id = ANY($1)",
        [read.request_id for read in before],
    )
    kept = {row["request_id"] for row in rows}
    lost = [read for read in before if read.request_id not in kept]
    oldest_lost = max((killed_at - read.answered_at for read in lost), default=0.0)
    print(
        f"{len(before)} reads answered before the kill, {len(lost)} without their audit rows"
        f" (the oldest answered {oldest_lost:.3f} s before it; flush interval {FLUSH_INTERVAL} s)"
    )
    assert len(before) > 20, "reads were made"
    assert oldest_lost <= FLUSH_INTERVAL + FLUSH_ALLOWANCE, lost


async def _served_again(client: httpx.AsyncClient, account: Account) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            answer = await client.get(f"{REGISTRY}/me", headers=account.headers)
            if answer.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.3)
    pytest.fail("the registry was not started again in 90 s")
