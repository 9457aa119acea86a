"""What the console's browser tests find on the stack: people who sign in with a password,
two probable duplicates in the registry, and a payroll built and waiting for approval.
Everything is made through the gateway's public API, as the people themselves would."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from tests.beneficiaries.payloads import household, member
from tests.support.stack import RunningStack

REGISTRY = "/api/v1/beneficiaries"
FUNDING = "/api/v1/funding"
PASSWORD = "console-test-password-1"
# username -> roles. The officer may approve payrolls too, but never one they created.
USERS = {
    "amina": ["data_manager"],
    "omar": ["finance_officer", "finance_approver"],
    "hawa": ["finance_approver"],
    "idris": ["finance_approver"],
    "salma": ["registrar"],  # nothing the console has is for her
    "nadia": ["me_officer"],  # the M&E pole: the dashboard, every figure
    "leila": ["analyst"],  # the dashboard, small cells withheld
}
PROGRAMME = "console-cash"
BENEFIT = 30_000  # DJF
# (given, father, grandfather, locality): paid households in two regions.
PAID = [
    ("Kadra", "Omar", "Robleh", "DJ-DJ-BOULAOS-ARHIBA"),
    ("Roukia", "Ismail", "Guedi", "DJ-DJ-BOULAOS-DJEBEL"),
    ("Zahra", "Moussa", "Aden", "DJ-AS-ALISABIEH-VILLE"),
]
# Pairs of look-alikes, one household each, a name spelt apart: the first born the same
# day (the highest score), the others ten days apart. Each test that decides takes its own.
DUPLICATES = [
    (
        ("Fatouma", "Said", "Robleh", "1990-05-17"),
        ("Fatouma", "Said", "Roble", "1990-05-17"),
        "DJ-DJ-RASDIKA-HERON",
    ),
    (
        ("Hibo", "Ahmed", "Youssouf", "1985-02-03"),
        ("Hibo", "Ahmed", "Yousouf", "1985-02-13"),
        "DJ-DJ-RASDIKA-MARABOUT",
    ),
    (
        ("Deka", "Hassan", "Guelleh", "1979-09-21"),
        ("Deka", "Hasan", "Guelleh", "1979-10-01"),
        "DJ-DJ-BOULAOS-Q7",
    ),
]


@dataclass
class Seeded:
    cycle: dict[str, Any]  # waiting for approval
    spare_cycle: dict[str, Any]  # another, for an officer to cancel
    untouched_cycle: dict[str, Any]  # one nobody acts on: always waiting
    contested_cycle: dict[str, Any]  # approved behind an approver's back
    refused_cycle: dict[str, Any]  # for an approver to refuse
    agreement: dict[str, Any]


def ok(response: httpx.Response, *statuses: int) -> Any:
    assert response.status_code in (statuses or (200,)), response.text
    return response.json() if response.content else None


def password_headers(stack: RunningStack, username: str) -> dict[str, str]:
    answer = ok(
        httpx.post(
            f"{stack.url}/auth/token",
            data={"grant_type": "password", "username": username, "password": PASSWORD},
        )
    )
    return {"Authorization": f"Bearer {answer['access_token']}"}


def seed(stack: RunningStack) -> Seeded:
    admin = stack.headers("admin")
    for username, roles in USERS.items():
        body = {"username": username, "full_name": username.title(), "roles": roles}
        ok(
            httpx.post(
                f"{stack.url}/api/v1/admin/users",
                json={**body, "password": PASSWORD},
                headers=admin,
            ),
            201,
        )
    manager = password_headers(stack, "amina")
    _registry(stack, manager)
    pairs = ok(httpx.get(f"{stack.url}{REGISTRY}/duplicates", headers=manager))["items"]
    assert len(pairs) == len(DUPLICATES), "each look-alike pair was flagged at registration"
    officer = password_headers(stack, "omar")
    agreement, provider = _funded_agreement(stack, officer)
    periods = ["2026Q3", "2026Q4", "2027Q1", "2027Q2", "2027Q3"]
    cycle, spare, untouched, contested, refused = _built_cycles(
        stack, officer, agreement["id"], provider["id"], periods
    )
    # The results framework's seed reads this module's helpers: imported once they exist.
    from tests.console.seed_results import seed_results

    seed_results(stack, password_headers(stack, "nadia"), manager, officer, agreement)
    return Seeded(
        cycle=cycle,
        spare_cycle=spare,
        untouched_cycle=untouched,
        contested_cycle=contested,
        refused_cycle=refused,
        agreement=agreement,
    )


def _post(stack: RunningStack, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    return ok(httpx.post(stack.url + path, json=body, headers=headers), 201)


def _head(given: str, father: str, grandfather: str, n: int) -> dict[str, Any]:
    phone = [{"type": "phone", "value": f"+25377{n:06d}"}]
    return member(given, father, grandfather, birth_date="1988-04-12", identifiers=phone)


def _registry(stack: RunningStack, manager: dict[str, str]) -> None:
    programme = {
        "code": PROGRAMME,
        "name_fr": "Transferts (console)",
        "name_en": "Cash transfers (console)",
        "benefit_amount": BENEFIT,
        "benefit_period": "quarterly",
    }
    _post(stack, f"{REGISTRY}/programmes", programme, manager)
    for n, (given, father, grandfather, locality) in enumerate(PAID):
        body = household([_head(given, father, grandfather, n)], locality=locality)
        created = _post(stack, f"{REGISTRY}/households", body, manager)
        enrollment = {"household_id": created["id"]}
        _post(stack, f"{REGISTRY}/programmes/{PROGRAMME}/enrollments", enrollment, manager)
    for first, second, locality in DUPLICATES:
        for given, father, grandfather, born in (first, second):
            body = household(
                [member(given, father, grandfather, birth_date=born)], locality=locality
            )
            _post(stack, f"{REGISTRY}/households", body, manager)


def _funded_agreement(
    stack: RunningStack, officer: dict[str, str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    rates = "currency,rate_date,rate_to_djf,source\nUSD,2026-01-01,177.721,Banque Centrale\n"
    ok(
        httpx.post(
            f"{stack.url}{FUNDING}/exchange-rates/upload",
            files={"file": ("rates.csv", rates.encode(), "text/csv")},
            headers=officer,
        ),
        201,
    )
    funder = _post(
        stack,
        f"{FUNDING}/organisations",
        {
            "iati_identifier": "XM-DAC-41140",
            "name_fr": "Programme alimentaire mondial",
            "name_en": "World Food Programme",
            "type": "un_agency",
            "partner_id": "wfp",
        },
        officer,
    )
    provider = _post(
        stack,
        f"{FUNDING}/organisations",
        {
            "iati_identifier": "DJ-RCS-CONSOLEPAY",
            "name_fr": "Opérateur de paiement",
            "name_en": "Payment provider",
            "type": "payment_provider",
            "country": "DJ",
        },
        officer,
    )
    project = _post(
        stack,
        f"{FUNDING}/projects",
        {
            "iati_identifier": "XM-DAC-41140-DJ-CONSOLE",
            "reporting_org_id": funder["id"],
            "title_fr": "Transferts monétaires (console)",
            "title_en": "Cash transfers (console)",
            "status": 2,
            "planned_start": "2026-01-01",
            "programme_codes": [PROGRAMME],
            "participants": [{"organisation_id": funder["id"], "role": 1}],
        },
        officer,
    )
    usd = {"amount_minor": 1_000_000, "currency": "USD"}
    agreement = _post(
        stack,
        f"{FUNDING}/agreements",
        {
            "reference": "WFP-CONSOLE-2026",
            "project_id": project["id"],
            "funder_id": funder["id"],
            "amount": usd,
            "signed_date": "2026-01-10",
        },
        officer,
    )
    _post(
        stack,
        f"{FUNDING}/transactions",
        {
            "type": 1,
            "transaction_date": "2026-02-01",
            "value_date": "2026-02-01",
            "amount": usd,
            "agreement_id": agreement["id"],
        },
        officer,
    )
    return agreement, provider


def _built_cycles(
    stack: RunningStack,
    officer: dict[str, str],
    agreement_id: str,
    provider_id: str,
    periods: list[str],
) -> list[dict[str, Any]]:
    """A payroll for each period, created at once and built in the background together."""
    created = [
        ok(
            httpx.post(
                f"{stack.url}{FUNDING}/payment-cycles",
                json={
                    "programme": PROGRAMME,
                    "period": period,
                    "agreement_id": agreement_id,
                    "payment_provider_id": provider_id,
                },
                headers=officer,
            ),
            202,
        )
        for period in periods
    ]
    deadline = time.monotonic() + 60
    while True:
        cycles = [
            ok(httpx.get(f"{stack.url}{FUNDING}/payment-cycles/{c['id']}", headers=officer))
            for c in created
        ]
        done = all(c["build"]["status"] in ("built", "failed") for c in cycles)
        if done or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    for cycle in cycles:
        assert cycle["build"]["status"] == "built", cycle["build"]
        assert cycle["lines_count"] == len(PAID), cycle
    return cycles
