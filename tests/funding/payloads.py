"""Request bodies as a finance officer would send them, and helpers that create the records
through the API and return their JSON. Every funding test may build on these:

    rates = await record_rates(funding, officer)            # USD and EUR from 2026-01-01
    agreement = await create_agreement(funding, officer)    # World Bank, IDA project, USD
    await record_transaction(funding, officer, agreement)   # incoming funds on it
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.registry import as_role
from tests.support.tokens import TokenFactory

BASE = "/api/v1/funding"
RATES = f"{BASE}/exchange-rates"
ORGANISATIONS = f"{BASE}/organisations"
PROJECTS = f"{BASE}/projects"
AGREEMENTS = f"{BASE}/agreements"
TRANSACTIONS = f"{BASE}/transactions"
PROGRAMMES = "/api/v1/beneficiaries/programmes"

# Real partners of Djibouti's social protection (IATI identifiers as they publish them).
ORGANISATIONS_BY_NAME: dict[str, dict[str, Any]] = {
    "world_bank": {
        "iati_identifier": "XM-DAC-44000",
        "name_fr": "Banque mondiale",
        "name_en": "World Bank",
        "type": "multilateral",
        "country": None,
        "partner_id": "worldbank",
    },
    "wfp": {
        "iati_identifier": "XM-DAC-41140",
        "name_fr": "Programme alimentaire mondial",
        "name_en": "World Food Programme",
        "type": "un_agency",
        "country": None,
        "partner_id": "wfp",
    },
    "unicef": {
        "iati_identifier": "XM-DAC-41122",
        "name_fr": "Fonds des Nations unies pour l'enfance",
        "name_en": "UNICEF",
        "type": "un_agency",
        "country": None,
        "partner_id": "unicef",
    },
    "ministry": {
        "iati_identifier": "DJ-GOV-MASS",
        "name_fr": "Ministère des Affaires sociales et des Solidarités",
        "name_en": "Ministry of Social Affairs and Solidarity",
        "type": "government",
        "country": "DJ",
        "partner_id": None,
    },
    "mobile_money": {
        "iati_identifier": "DJ-RCS-DMONEY",
        "name_fr": "D-Money",
        "name_en": "D-Money",
        "type": "payment_provider",
        "country": "DJ",
        "partner_id": None,
    },
}


def organisation_body(which: str = "world_bank", **overrides: Any) -> dict[str, Any]:
    """One of ORGANISATIONS_BY_NAME (world_bank, wfp, unicef, ministry, mobile_money)."""
    return {**ORGANISATIONS_BY_NAME[which], **overrides}


def rate_body(
    currency: str = "USD", rate_date: str = "2026-01-01", rate: str = "177.721", **overrides: Any
) -> dict[str, Any]:
    return {
        "currency": currency,
        "rate_date": rate_date,
        "rate_to_djf": rate,
        "source": "Banque Centrale de Djibouti",
        **overrides,
    }


def usd_rate(rate_date: str = "2026-01-01", rate: str = "177.721") -> dict[str, Any]:
    return rate_body("USD", rate_date, rate)


def eur_rate(rate_date: str = "2026-01-01", rate: str = "193.5") -> dict[str, Any]:
    return rate_body("EUR", rate_date, rate)


def project_body(
    reporting_org: dict[str, Any], activity: str = "P173181", **overrides: Any
) -> dict[str, Any]:
    """A cash-transfer project reported by `reporting_org` (its JSON as created), IATI
    identifier `{its identifier}-{activity}`."""
    return {
        "iati_identifier": f"{reporting_org['iati_identifier']}-{activity}",
        "reporting_org_id": reporting_org["id"],
        "title_fr": "Filets sociaux intégrés",
        "title_en": "Integrated Cash Transfer and Human Capital Project",
        "description": "Transferts monétaires aux ménages pauvres inscrits au PNSF.",
        "status": 2,
        "planned_start": "2026-01-01",
        "planned_end": "2029-12-31",
        "participants": [{"organisation_id": reporting_org["id"], "role": 1}],
        **overrides,
    }


def agreement_body(
    project: dict[str, Any],
    funder: dict[str, Any],
    amount_minor: int = 1_500_000_000,
    currency: str = "USD",
    **overrides: Any,
) -> dict[str, Any]:
    """`funder` commits `amount_minor` of `currency` (15,000,000.00 USD) to `project`,
    signed 2026-01-15: the rates of that day must be recorded first."""
    return {
        "reference": "IDA-D7420-DJ",
        "project_id": project["id"],
        "funder_id": funder["id"],
        "amount": {"amount_minor": amount_minor, "currency": currency},
        "signed_date": "2026-01-15",
        "period_start": "2026-01-15",
        "period_end": "2029-12-31",
        **overrides,
    }


def transaction_body(
    agreement: dict[str, Any] | None = None,
    amount_minor: int = 500_000_000,
    currency: str = "USD",
    type: int = 1,
    **overrides: Any,
) -> dict[str, Any]:
    """Incoming funds (5,000,000.00 USD) on `agreement`, dated 2026-02-01."""
    body: dict[str, Any] = {
        "type": type,
        "transaction_date": "2026-02-01",
        "value_date": "2026-02-01",
        "amount": {"amount_minor": amount_minor, "currency": currency},
        "description": "First tranche",
    }
    if agreement is not None:
        body["agreement_id"] = agreement["id"]
    return {**body, **overrides}


def programme_body(code: str = "pnsf", **overrides: Any) -> dict[str, Any]:
    """A registry programme (`create_programme` posts it)."""
    return {
        "code": code,
        "name_fr": "Programme National de Solidarité Famille",
        "name_en": "National Family Solidarity Programme",
        "benefit_amount": 30_000,
        "benefit_period": "quarterly",
        **overrides,
    }


def _created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def record_rates(
    client: httpx.AsyncClient, headers: dict[str, str], *bodies: dict[str, Any]
) -> list[dict[str, Any]]:
    """Record `bodies` (default: USD and EUR from 2026-01-01)."""
    return [
        _created(await client.post(RATES, json=body, headers=headers))
        for body in bodies or (usd_rate(), eur_rate())
    ]


async def create_programme(
    registry: httpx.AsyncClient, tokens: TokenFactory, code: str = "pnsf", **overrides: Any
) -> dict[str, Any]:
    """A registry programme without PMT or rules (every household may be enrolled), created
    in the registry by a data manager."""
    body = programme_body(code, **overrides)
    return _created(
        await registry.post(PROGRAMMES, json=body, headers=as_role(tokens, "data_manager"))
    )


async def create_organisation(
    client: httpx.AsyncClient, headers: dict[str, str], which: str = "world_bank", **overrides: Any
) -> dict[str, Any]:
    body = organisation_body(which, **overrides)
    return _created(await client.post(ORGANISATIONS, json=body, headers=headers))


async def create_project(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    reporting_org: dict[str, Any] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """A project reported by `reporting_org` (default: the World Bank, created here)."""
    reporting_org = reporting_org or await create_organisation(client, headers)
    body = project_body(reporting_org, **overrides)
    return _created(await client.post(PROJECTS, json=body, headers=headers))


async def create_agreement(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    project: dict[str, Any] | None = None,
    funder: dict[str, Any] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """An agreement of `funder` on `project`; without them, the World Bank and its project
    are created (rates of the signed date must exist: `record_rates`)."""
    if funder is None:
        funder = await create_organisation(client, headers)
    if project is None:
        project = await create_project(client, headers, funder)
    body = agreement_body(project, funder, **overrides)
    return _created(await client.post(AGREEMENTS, json=body, headers=headers))


async def record_transaction(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    agreement: dict[str, Any] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    body = transaction_body(agreement, **overrides)
    return _created(await client.post(TRANSACTIONS, json=body, headers=headers))


async def funded_agreement(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    received_minor: int = 500_000_000,
    **overrides: Any,
) -> dict[str, Any]:
    """USD and EUR rates, the World Bank, its project, a USD agreement (`overrides`) and
    `received_minor` of it received as incoming funds: money a payroll can reserve."""
    await record_rates(client, headers)
    agreement = await create_agreement(client, headers, **overrides)
    await record_transaction(
        client, headers, agreement, amount_minor=received_minor, currency=agreement["currency"]
    )
    return agreement


async def balance_of(
    client: httpx.AsyncClient, headers: dict[str, str], agreement: dict[str, Any]
) -> dict[str, Any]:
    response = await client.get(f"{AGREEMENTS}/{agreement['id']}/balance", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
