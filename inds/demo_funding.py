"""Demo funding data for `inds up --demo`: the partners of Djibouti's safety nets, a World
Bank IDA project financing PNSF, WFP's and UNICEF's support, exchange rates, funds received,
and two PNSF payrolls (one paid and closed, one a draft), so that reports and the dashboard
show something on first start. Loaded once, through the gateway as the demo finance officer
and approver would work; a funding service that already has organisations is left alone."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

import httpx

from inds.client import authenticated_client

BASE = "/api/v1/funding"
RATES = (
    "currency,rate_date,rate_to_djf,source\n"
    "USD,2025-01-01,177.721,Banque Centrale de Djibouti\n"
    "EUR,2025-01-01,186.2,Banque Centrale de Djibouti\n"
    "USD,2026-01-01,177.721,Banque Centrale de Djibouti\n"
    "EUR,2026-01-01,193.5,Banque Centrale de Djibouti\n"
)
ORGANISATIONS: dict[str, dict[str, Any]] = {
    "world_bank": {
        "iati_identifier": "XM-DAC-44000",
        "name_fr": "Banque mondiale",
        "name_en": "World Bank",
        "type": "multilateral",
        "partner_id": "worldbank",
    },
    "wfp": {
        "iati_identifier": "XM-DAC-41140",
        "name_fr": "Programme alimentaire mondial",
        "name_en": "World Food Programme",
        "type": "un_agency",
        "partner_id": "wfp",
    },
    "unicef": {
        "iati_identifier": "XM-DAC-41122",
        "name_fr": "Fonds des Nations unies pour l'enfance",
        "name_en": "UNICEF",
        "type": "un_agency",
        "partner_id": "unicef",
    },
    "ministry": {
        "iati_identifier": "DJ-GOV-MASS",
        "name_fr": "Ministère des Affaires sociales et des Solidarités",
        "name_en": "Ministry of Social Affairs and Solidarity",
        "type": "government",
        "country": "DJ",
    },
    "adds": {
        "iati_identifier": "DJ-GOV-ADDS",
        "name_fr": "Agence Djiboutienne de Développement Social",
        "name_en": "Djiboutian Social Development Agency",
        "type": "government",
        "country": "DJ",
    },
    "provider": {
        "iati_identifier": "DJ-RCS-DMONEY",
        "name_fr": "D-Money",
        "name_en": "D-Money",
        "type": "payment_provider",
        "country": "DJ",
    },
}


def _created(response: httpx.Response) -> dict[str, Any]:
    if response.status_code not in (200, 201, 202):
        raise SystemExit(
            f"Demo funding data refused: {response.request.method} {response.request.url.path} "
            f"{response.status_code} {response.text}"
        )
    body: dict[str, Any] = response.json()
    return body


def _cycle(officer: httpx.Client, agreement: str, provider: str, period: str) -> dict[str, Any]:
    """A PNSF payment cycle for `period`, a draft whose payroll is queued for building."""
    body = {
        "programme": "pnsf",
        "period": period,
        "agreement_id": agreement,
        "payment_provider_id": provider,
    }
    return _created(officer.post(f"{BASE}/payment-cycles", json=body))


def _payroll(
    officer: httpx.Client, approver: httpx.Client, agreement: str, provider: str, period: str
) -> dict[str, Any]:
    """A PNSF payroll for `period`, built (by the service's own builder) and approved."""
    cycle = _cycle(officer, agreement, provider, period)
    deadline = time.monotonic() + 120
    while cycle["build"]["status"] not in ("built", "failed") and time.monotonic() < deadline:
        time.sleep(0.5)
        cycle = _created(officer.get(f"{BASE}/payment-cycles/{cycle['id']}"))
    if cycle["build"]["status"] != "built" or not cycle["lines_count"]:
        return cycle
    return _created(approver.post(f"{BASE}/payment-cycles/{cycle['id']}/approve"))


def load(gateway_url: str, credentials: dict[str, str]) -> str:
    officer_secret = credentials["demo-finance-officer"]
    approver_secret = credentials["demo-finance-approver"]
    with (
        authenticated_client(gateway_url, "demo-finance-officer", officer_secret) as officer,
        authenticated_client(gateway_url, "demo-finance-approver", approver_secret) as approver,
    ):
        if _created(officer.get(f"{BASE}/organisations", params={"limit": 1}))["items"]:
            return "demo funding already loaded"
        _created(
            officer.post(
                f"{BASE}/exchange-rates/upload",
                files={"file": ("rates.csv", RATES.encode(), "text/csv")},
            )
        )
        orgs = {
            name: _created(officer.post(f"{BASE}/organisations", json=body))
            for name, body in ORGANISATIONS.items()
        }

        def project(reporter: str, activity: str, title: tuple[str, str], **extra: Any) -> str:
            body = {
                "iati_identifier": f"{orgs[reporter]['iati_identifier']}-{activity}",
                "reporting_org_id": orgs[reporter]["id"],
                "title_fr": title[0],
                "title_en": title[1],
                "status": 2,
                **extra,
            }
            return str(_created(officer.post(f"{BASE}/projects", json=body))["id"])

        ida = project(
            "world_bank",
            "P173181",
            (
                "Filets sociaux intégrés et capital humain",
                "Integrated Cash Transfer and Human Capital Project",
            ),
            planned_start="2025-06-01",
            planned_end="2029-12-31",
            programme_codes=["pnsf"],
            participants=[
                {"organisation_id": orgs["world_bank"]["id"], "role": 1},
                {"organisation_id": orgs["ministry"]["id"], "role": 2},
                {"organisation_id": orgs["adds"]["id"], "role": 4},
            ],
        )
        csp = project(
            "wfp",
            "DJ01",
            ("Plan stratégique de pays 2020-2024", "Country Strategic Plan 2020-2024"),
            planned_start="2025-01-01",
            planned_end="2026-12-31",
            participants=[{"organisation_id": orgs["wfp"]["id"], "role": 1}],
        )
        nutrition = project(
            "unicef",
            "DJ-2025-SP",
            ("Protection sociale sensible à la nutrition", "Nutrition-sensitive social protection"),
            planned_start="2025-01-01",
            participants=[{"organisation_id": orgs["unicef"]["id"], "role": 1}],
        )

        def agreement(
            reference: str, project_id: str, funder: str, amount: int, currency: str, signed: str
        ) -> str:
            body = {
                "reference": reference,
                "project_id": project_id,
                "funder_id": orgs[funder]["id"],
                "amount": {"amount_minor": amount, "currency": currency},
                "signed_date": signed,
                "period_start": signed,
                "period_end": "2029-12-31",
            }
            return str(_created(officer.post(f"{BASE}/agreements", json=body))["id"])

        ida_agreement = agreement(
            "IDA-D7420-DJ", ida, "world_bank", 1_500_000_000, "USD", "2025-06-01"
        )
        wfp_agreement = agreement("WFP-CSP-2025-01", csp, "wfp", 200_000_000, "USD", "2025-03-01")
        unicef_agreement = agreement(
            "UNICEF-PCA-2025", nutrition, "unicef", 50_000_000, "EUR", "2025-02-01"
        )
        for agreement_id, amount, currency, day in (
            (ida_agreement, 500_000_000, "USD", "2025-07-01"),
            (wfp_agreement, 100_000_000, "USD", "2026-02-01"),
            (unicef_agreement, 20_000_000, "EUR", "2025-04-15"),
        ):
            _created(
                officer.post(
                    f"{BASE}/transactions",
                    json={
                        "type": 1,
                        "transaction_date": day,
                        "value_date": day,
                        "amount": {"amount_minor": amount, "currency": currency},
                        "agreement_id": agreement_id,
                    },
                )
            )

        provider = str(orgs["provider"]["id"])
        closed = _payroll(officer, approver, ida_agreement, provider, "2026Q1")
        if closed["status"] == "approved":
            _created(officer.post(f"{BASE}/payment-cycles/{closed['id']}/send"))
            payment_file = officer.get(f"{BASE}/payment-cycles/{closed['id']}/payment-file.csv")
            lines = csv.DictReader(io.StringIO(payment_file.content.decode("utf-8-sig")))
            report = "line_reference,status,provider_reference,date\n" + "".join(
                f"{line['line_reference']},paid,DM-{n:06d},2026-02-10\n"
                for n, line in enumerate(lines)
            )
            _created(
                approver.post(
                    f"{BASE}/payment-cycles/{closed['id']}/reconciliation",
                    files={"file": ("report.csv", report.encode(), "text/csv")},
                )
            )
            _created(approver.post(f"{BASE}/payment-cycles/{closed['id']}/close"))
        draft = _cycle(officer, ida_agreement, provider, "2026Q2")
    return (
        f"demo funding: {len(orgs)} organisations, 3 projects and agreements, funds received; "
        f"PNSF payroll {closed.get('reference')} ({closed['lines_count']} households) paid and "
        f"closed, {draft['reference']} a draft"
    )
