"""The finance desk and the data manager behind it, through the gateway: programmes with
enrolled households, funded agreements, payrolls built and acted on. Shared by the money and
audit tests (and by the soak's payments)."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import pytest

from tests.beneficiaries.payloads import household, member
from tests.reliability.conftest import fetch
from tests.support.stack import RunningStack

REGISTRY, FUNDING = "/api/v1/beneficiaries", "/api/v1/funding"
CYCLES = f"{FUNDING}/payment-cycles"
BENEFIT = 25_000


class Desk:
    """The finance officer, the approver and the data manager, through the gateway."""

    def __init__(self, stack: RunningStack) -> None:
        self.stack = stack
        self.client = httpx.AsyncClient(base_url=stack.url, timeout=60)
        self.officer = stack.headers("demo-finance-officer")
        self.approver = stack.headers("demo-finance-approver")
        self.manager = stack.headers("demo-data-manager")

    async def created(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
        answer = await self.client.post(path, json=body, headers=headers)
        assert answer.status_code in (201, 202), answer.text
        return answer.json()

    async def programme(self, households: int, benefit_period: str) -> tuple[str, list[str]]:
        """A programme of its own, with `households` enrolled."""
        code = f"rel-{uuid.uuid4().hex[:8]}"
        await self.created(
            f"{REGISTRY}/programmes",
            {
                "code": code,
                "name_fr": "Fiabilité",
                "name_en": "Reliability",
                "benefit_amount": BENEFIT,
                "benefit_period": benefit_period,
            },
            self.manager,
        )

        async def enrolled(n: int) -> str:
            phone = [{"type": "phone", "value": f"+25377{uuid.uuid4().int % 10**6:06d}"}]
            name = "Rel" + "".join(chr(ord("a") + int(d)) for d in str(n))
            body = household([member(name, "Hassan", "Guedi", identifiers=phone)])
            created = await self.created(f"{REGISTRY}/households", body, self.manager)
            await self.created(
                f"{REGISTRY}/programmes/{code}/enrollments",
                {"household_id": created["id"]},
                self.manager,
            )
            return str(created["id"])

        ids = []
        for start in range(0, households, 10):
            batch = range(start, min(start + 10, households))
            ids += await asyncio.gather(*(enrolled(n) for n in batch))
        return code, ids

    async def agreement(self, programme: str, received: int) -> tuple[str, str]:
        """An agreement financing `programme` (in DJF), `received` paid in; and the payment
        provider."""
        suffix = uuid.uuid4().hex[:8].upper()
        funder = await self.created(
            f"{FUNDING}/organisations",
            {
                "iati_identifier": f"DJ-REL-{suffix}",
                "name_fr": "Bailleur",
                "name_en": "Funder",
                "type": "government",
                "country": "DJ",
            },
            self.officer,
        )
        project = await self.created(
            f"{FUNDING}/projects",
            {
                "iati_identifier": f"DJ-REL-{suffix}-P",
                "reporting_org_id": funder["id"],
                "title_fr": "Fiabilité",
                "title_en": "Reliability",
                "status": 2,
                "planned_start": "2026-01-01",
                "programme_codes": [programme],
                "participants": [{"organisation_id": funder["id"], "role": 1}],
            },
            self.officer,
        )
        agreement = await self.created(
            f"{FUNDING}/agreements",
            {
                "reference": f"REL-{suffix}",
                "project_id": project["id"],
                "funder_id": funder["id"],
                "amount": {"amount_minor": received, "currency": "DJF"},
                "signed_date": "2026-01-10",
            },
            self.officer,
        )
        await self.created(
            f"{FUNDING}/transactions",
            {
                "type": 1,
                "transaction_date": "2026-02-01",
                "value_date": "2026-02-01",
                "amount": {"amount_minor": received, "currency": "DJF"},
                "agreement_id": agreement["id"],
            },
            self.officer,
        )
        providers = await self.client.get(
            f"{FUNDING}/organisations", params={"type": "payment_provider"}, headers=self.officer
        )
        provider = next(o for o in providers.json()["items"] if o["type"] == "payment_provider")
        return agreement["id"], provider["id"]

    async def cycle(self, programme: str, period: str, agreement: str, provider: str) -> str:
        body = {
            "programme": programme,
            "period": period,
            "agreement_id": agreement,
            "payment_provider_id": provider,
        }
        return str((await self.created(CYCLES, body, self.officer))["id"])

    async def built(self, programme: str, count: int) -> list[dict[str, Any]]:
        """The programme's `count` payrolls, once all are built."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            answer = await self.client.get(
                CYCLES, params={"programme": programme, "limit": 100}, headers=self.officer
            )
            assert answer.status_code == 200, answer.text
            cycles: list[dict[str, Any]] = answer.json()["items"]
            builds = [cycle["build"]["status"] for cycle in cycles]
            if len(cycles) == count and set(builds) <= {"built", "failed"}:
                assert set(builds) == {"built"}, [cycle["build"] for cycle in cycles]
                return cycles
            await asyncio.sleep(0.3)
        pytest.fail(f"the payrolls of {programme} not built in 120 s")

    async def act(self, cycle_id: str, action: str, headers: dict[str, str]) -> httpx.Response:
        return await self.client.post(f"{CYCLES}/{cycle_id}/{action}", headers=headers)

    async def balance(self, agreement: str) -> dict[str, int]:
        rows = await fetch(
            self.stack,
            "funding",
            "SELECT received_minor, reserved_minor, paid_minor FROM agreement WHERE id = $1",
            uuid.UUID(agreement),
        )
        return dict(zip(("received", "reserved", "paid"), rows[0], strict=True))
