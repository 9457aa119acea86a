"""What the M&E dashboard's browser tests find on the stack, made through the public API as
the M&E pole would: the standard pack, a results framework measured by four of its
indicators, baselines and targets, the population of 2026, refugee households in the
registry, a second partner's agreement and disbursements, and a snapshot of 2026.

    REFUGEE_HH          4 refugee-headed households (3 women, 1 man; 3 in DJ-AS, 1 in DJ-DJ)
                        baseline 0 (2025), target 1,500 (2027): off track in 2026
    SDG131_PROXY        3 people enrolled of a population of 600: 0.5 %; baseline 0 (2025),
                        target 1 (2027): on track
    FEMALE_HEADED_BENEF the 3 enrolled households are headed by women: 100 %; target 80
                        (2027): achieved
    DISBURSEMENT_RATE   no target
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.beneficiaries.payloads import household, member
from tests.console.seed import FUNDING, REGISTRY, ok
from tests.support.stack import RunningStack

INDICATORS = "/api/v1/indicators"
STRATEGY = "INDS"
PERIOD = "2026"
# (given, father, grandfather, sex, locality) of the refugees' heads of household.
REFUGEES = [
    ("Sahra", "Abdi", "Warsame", "F", "DJ-AS-ALIADDEH-VILLAGE"),
    ("Ubah", "Hirsi", "Nur", "F", "DJ-AS-ALIADDEH-VILLAGE"),
    ("Faadumo", "Jama", "Elmi", "F", "DJ-AS-ALIADDEH-VILLAGE"),
    ("Abdullahi", "Yusuf", "Farah", "M", "DJ-DJ-BALBALA-PK12"),
]
POPULATION_CSV = b"""year,region,sex,legal_status,people
2026,DJ-DJ,F,national,200
2026,DJ-DJ,M,national,200
2026,DJ-AS,F,national,60
2026,DJ-AS,M,national,60
2026,DJ-AS,F,refugee,20
2026,DJ-AS,M,refugee,20
2026,DJ-OB,F,national,20
2026,DJ-OB,M,national,20
"""
# indicator -> (baselines, targets), each (year, value), overall.
MILESTONES = {
    "REFUGEE_HH": ([(2025, 0)], [(2027, 1500)]),
    "SDG131_PROXY": ([(2025, 0)], [(2027, 1)]),
    "FEMALE_HEADED_BENEF": ([], [(2027, 80)]),
}
# objective code -> the indicators measuring it.
OBJECTIVES = {
    "A1.O1": ["SDG131_PROXY", "FEMALE_HEADED_BENEF"],
    "A1.O2": ["REFUGEE_HH"],
    "A2.O1": ["DISBURSEMENT_RATE"],
}


def seed_results(
    stack: RunningStack,
    officer: dict[str, str],
    registrar: dict[str, str],
    finance: dict[str, str],
    agreement: dict[str, Any],
) -> None:
    """`officer`: an M&E officer's headers; `registrar` registers households, `finance`
    records the ledger; `agreement`: the funded agreement of 2026."""
    _refugees(stack, registrar)
    _ledger(stack, finance, agreement)
    post = _poster(stack, officer)
    loaded = post(f"{INDICATORS}/definitions/standard-pack", {}, 200)
    # The pack's PNSF indicator is refused (no such programme here); those used are made.
    measured = {code for codes in OBJECTIVES.values() for code in codes}
    assert measured <= set(loaded["created"]), loaded
    upload = httpx.post(
        f"{stack.url}{INDICATORS}/reference/population",
        files={"file": ("population-2026.csv", POPULATION_CSV, "text/csv")},
        data={"source": "INSD, projections 2026"},
        headers=officer,
    )
    ok(upload, 201)
    _framework(stack, officer, post)
    for code, (baselines, targets) in MILESTONES.items():
        body = {
            "baselines": [{"year": y, "value": str(v)} for y, v in baselines],
            "targets": [{"year": y, "value": str(v)} for y, v in targets],
        }
        path = f"{stack.url}{INDICATORS}/definitions/{code}/targets"
        ok(httpx.put(path, json=body, headers=officer))
    _snapshot(stack, officer, post)


def _poster(stack: RunningStack, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    def post(path: str, body: dict[str, Any], status: int = 201) -> Any:
        # Loading the pack checks each definition against the services: seconds.
        answer = httpx.post(stack.url + path, json=body, headers=headers, timeout=60)
        return ok(answer, status)

    return post


def _refugees(stack: RunningStack, registrar: dict[str, str]) -> None:
    for n, (given, father, grandfather, sex, locality) in enumerate(REFUGEES):
        head = member(
            given,
            father,
            grandfather,
            sex=sex,
            birth_date=f"198{n}-03-0{n + 1}",
            legal_status="refugee",
            identifiers=[{"type": "phone", "value": f"+25377{900_000 + n}"}],
        )
        body = household([head], locality=locality, displacement_status="refugee")
        ok(httpx.post(f"{stack.url}{REGISTRY}/households", json=body, headers=registrar), 201)


def _ledger(stack: RunningStack, finance: dict[str, str], agreement: dict[str, Any]) -> None:
    """A disbursement on the 2026 agreement; a second partner committing in 2025 and 2026."""
    post = _poster(stack, finance)
    rates = "currency,rate_date,rate_to_djf,source\nUSD,2025-01-01,177.721,Banque Centrale\n"
    ok(
        httpx.post(
            f"{stack.url}{FUNDING}/exchange-rates/upload",
            files={"file": ("rates.csv", rates.encode(), "text/csv")},
            headers=finance,
        ),
        201,
    )
    post(
        f"{FUNDING}/transactions",
        {
            "type": 3,
            "transaction_date": "2026-04-15",
            "amount": {"amount_minor": 400_000, "currency": "USD"},
            "agreement_id": agreement["id"],
        },
    )
    bank = post(
        f"{FUNDING}/organisations",
        {
            "iati_identifier": "XM-DAC-44000",
            "name_fr": "Banque mondiale",
            "name_en": "World Bank",
            "type": "multilateral",
            "partner_id": "wb",
        },
    )
    project = post(
        f"{FUNDING}/projects",
        {
            "iati_identifier": "XM-DAC-44000-P171346",
            "reporting_org_id": bank["id"],
            "title_fr": "Filets sociaux (console)",
            "title_en": "Safety nets (console)",
            "status": 2,
            "planned_start": "2025-01-01",
            "participants": [{"organisation_id": bank["id"], "role": 1}],
        },
    )
    for year, usd, disbursed in ((2025, 2_000_000, 500_000), (2026, 1_000_000, 250_000)):
        signed = post(
            f"{FUNDING}/agreements",
            {
                "reference": f"IDA-CONSOLE-{year}",
                "project_id": project["id"],
                "funder_id": bank["id"],
                "amount": {"amount_minor": usd * 100, "currency": "USD"},
                "signed_date": f"{year}-03-01",
            },
        )
        post(
            f"{FUNDING}/transactions",
            {
                "type": 3,
                "transaction_date": f"{year}-09-01",
                "amount": {"amount_minor": disbursed * 100, "currency": "USD"},
                "agreement_id": signed["id"],
            },
        )


def _framework(stack: RunningStack, officer: dict[str, str], post) -> None:  # type: ignore[no-untyped-def]
    post(
        f"{INDICATORS}/frameworks",
        {
            "code": STRATEGY,
            "name_fr": "Stratégie nationale de protection sociale",
            "name_en": "National social protection strategy",
            "start_year": 2025,
            "end_year": 2030,
        },
    )
    axes = {
        "A1": ("Couverture et inclusion", "Coverage and inclusion"),
        "A2": ("Financement", "Financing"),
    }
    objectives = {
        "A1.O1": ("Étendre la couverture", "Extend coverage"),
        "A1.O2": ("Inclure les réfugiés", "Include refugees"),
        "A2.O1": ("Mobiliser les partenaires", "Mobilise partners"),
    }
    for axis_code, (axis_fr, axis_en) in axes.items():
        axis = post(
            f"{INDICATORS}/frameworks/{STRATEGY}/axes",
            {"code": axis_code, "name_fr": axis_fr, "name_en": axis_en},
        )
        for code, (name_fr, name_en) in objectives.items():
            if not code.startswith(axis_code):
                continue
            objective = post(
                f"{INDICATORS}/axes/{axis['id']}/objectives",
                {"code": code, "name_fr": name_fr, "name_en": name_en},
            )
            for indicator in OBJECTIVES[code]:
                path = f"{stack.url}{INDICATORS}/definitions/{indicator}"
                current = httpx.get(path, headers=officer)
                ok(current)
                ok(
                    httpx.patch(
                        path,
                        json={"objective_id": objective["id"]},
                        headers={**officer, "If-Match": current.headers["ETag"]},
                    )
                )


def _snapshot(stack: RunningStack, officer: dict[str, str], post) -> None:  # type: ignore[no-untyped-def]
    indicators = sorted({code for codes in OBJECTIVES.values() for code in codes})
    job = post(f"{INDICATORS}/snapshots", {"period": PERIOD, "indicators": indicators}, 202)
    deadline = time.monotonic() + 60
    while job["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.2)
        job = ok(httpx.get(f"{stack.url}{INDICATORS}/snapshots/{job['id']}", headers=officer))
    assert job["status"] == "done", job
