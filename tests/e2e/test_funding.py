"""Paying households, end to end, through the gateway with real processes: households
enrolled in the registry, a payroll built from the registry over HTTP, approved by another
person, its payment file downloaded, the provider's report reconciled (paid, failed,
reversed), the failed and reversed households paid by a second cycle, and the funding report
and the IATI file agreeing with the lines."""

from __future__ import annotations

import csv
import io
import time
import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest

from tests.beneficiaries.payloads import household, member
from tests.support.stack import RunningStack

pytestmark = pytest.mark.e2e
REGISTRY = "/api/v1/beneficiaries"
FUNDING = "/api/v1/funding"
NAMES = (
    "Asli",
    "Hibo",
    "Kadra",
    "Roukia",
    "Zahra",
    "Fathia",
    "Ifrah",
    "Samira",
    "Deka",
    "Hawa",
    "Nasra",
    "Mouna",
)
HOUSEHOLDS = len(NAMES)
BENEFIT = 30_000


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _created(stack: RunningStack, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    """`body` POSTed to `path` through the gateway: the record created (a 201)."""
    return _ok(httpx.post(stack.url + path, json=body, headers=headers), 201)


def _enrolled_households(stack: RunningStack) -> list[str]:
    """A programme of its own, and households (heads with phones) enrolled in it."""
    manager = stack.headers("demo-data-manager")
    programme = {
        "code": "e2e-cash",
        "name_fr": "Transferts (essai)",
        "name_en": "Cash transfers (test)",
        "benefit_amount": BENEFIT,
        "benefit_period": "quarterly",
    }
    _created(stack, f"{REGISTRY}/programmes", programme, manager)
    ids = []
    for n, name in enumerate(NAMES):
        phone = [{"type": "phone", "value": f"+25377{n:06d}"}]
        body = household([member(name, "Hassan", "Guedi", identifiers=phone)])
        created = _created(stack, f"{REGISTRY}/households", body, manager)
        enrollment = {"household_id": created["id"]}
        _created(stack, f"{REGISTRY}/programmes/e2e-cash/enrollments", enrollment, manager)
        ids.append(created["id"])
    return ids


def _funded_agreement(stack: RunningStack, officer: dict[str, str]) -> tuple[str, str]:
    """IOM funding a project that finances the programme: a USD agreement and funds in."""
    rates = "currency,rate_date,rate_to_djf,source\nUSD,2026-01-01,177.721,Banque Centrale\n"
    uploaded = httpx.post(
        f"{stack.url}{FUNDING}/exchange-rates/upload",
        files={"file": ("rates.csv", rates.encode(), "text/csv")},
        headers=officer,
    )
    assert uploaded.status_code in (201, 409), uploaded.text
    funder = _created(
        stack,
        f"{FUNDING}/organisations",
        {
            "iati_identifier": "XM-DAC-47066",
            "name_fr": "Organisation internationale pour les migrations",
            "name_en": "International Organization for Migration",
            "type": "un_agency",
            "partner_id": "iom",
        },
        officer,
    )
    provider = _created(
        stack,
        f"{FUNDING}/organisations",
        {
            "iati_identifier": "DJ-RCS-E2EPAY",
            "name_fr": "Opérateur de paiement",
            "name_en": "Payment provider",
            "type": "payment_provider",
            "country": "DJ",
        },
        officer,
    )
    project = _created(
        stack,
        f"{FUNDING}/projects",
        {
            "iati_identifier": "XM-DAC-47066-DJ-E2E",
            "reporting_org_id": funder["id"],
            "title_fr": "Transferts monétaires (essai)",
            "title_en": "Cash transfers (test)",
            "status": 2,
            "planned_start": "2026-01-01",
            "programme_codes": ["e2e-cash"],
            "participants": [{"organisation_id": funder["id"], "role": 1}],
        },
        officer,
    )
    agreement = _created(
        stack,
        f"{FUNDING}/agreements",
        {
            "reference": "IOM-E2E-2026",
            "project_id": project["id"],
            "funder_id": funder["id"],
            "amount": {"amount_minor": 1_000_000, "currency": "USD"},
            "signed_date": "2026-01-10",
        },
        officer,
    )
    _created(
        stack,
        f"{FUNDING}/transactions",
        {
            "type": 1,
            "transaction_date": "2026-02-01",
            "value_date": "2026-02-01",
            "amount": {"amount_minor": 1_000_000, "currency": "USD"},
            "agreement_id": agreement["id"],
        },
        officer,
    )
    return agreement["id"], provider["id"]


def _built(stack: RunningStack, officer: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    created = _ok(
        httpx.post(f"{stack.url}{FUNDING}/payment-cycles", json=body, headers=officer), 202
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        cycle = _ok(
            httpx.get(f"{stack.url}{FUNDING}/payment-cycles/{created['id']}", headers=officer)
        )
        if cycle["build"]["status"] in ("built", "failed"):
            break
        time.sleep(0.3)
    assert cycle["build"]["status"] == "built", cycle["build"]
    return cycle


def _act(
    stack: RunningStack, cycle_id: str, action: str, headers: dict[str, str]
) -> httpx.Response:
    return httpx.post(f"{stack.url}{FUNDING}/payment-cycles/{cycle_id}/{action}", headers=headers)


def _reconcile(
    stack: RunningStack, cycle_id: str, rows: list[tuple[str, str]], headers: dict[str, str]
) -> dict[str, Any]:
    report = "line_reference,status,provider_reference,date\n" + "".join(
        f"{reference},{status},TX-{n},2026-07-15\n" for n, (reference, status) in enumerate(rows)
    )
    return _ok(
        httpx.post(
            f"{stack.url}{FUNDING}/payment-cycles/{cycle_id}/reconciliation",
            files={"file": ("report.csv", report.encode(), "text/csv")},
            headers=headers,
        )
    )


def test_households_are_paid_once_reconciled_and_reported(stack: RunningStack) -> None:
    officer = stack.headers("demo-finance-officer")
    approver = stack.headers("demo-finance-approver")
    households = _enrolled_households(stack)
    agreement, provider = _funded_agreement(stack, officer)
    body = {
        "programme": "e2e-cash",
        "period": "2026Q3",
        "agreement_id": agreement,
        "payment_provider_id": provider,
    }

    cycle = _built(stack, officer, body)
    assert cycle["lines_count"] == HOUSEHOLDS
    assert cycle["total"] == {"amount_minor": HOUSEHOLDS * BENEFIT, "currency": "DJF"}
    refused = _act(stack, cycle["id"], "approve", officer)
    assert refused.status_code == 403, "an officer does not approve payrolls"
    approved = _ok(_act(stack, cycle["id"], "approve", approver))
    assert approved["status"] == "approved"
    assert _act(stack, cycle["id"], "approve", approver).status_code == 409
    sent = _ok(_act(stack, cycle["id"], "send", officer))
    assert sent["status"] == "sent"

    payment_file = httpx.get(
        f"{stack.url}{FUNDING}/payment-cycles/{cycle['id']}/payment-file.csv", headers=officer
    )
    assert payment_file.status_code == 200, payment_file.text
    rows = list(csv.DictReader(io.StringIO(payment_file.content.decode("utf-8-sig"))))
    assert len(rows) == HOUSEHOLDS
    assert {row["household_id"] for row in rows} == set(households)
    assert {row["payment_list_id"] for row in rows} == {cycle["reference"]}
    references = [row["line_reference"] for row in rows]

    # The provider pays all but two; then one payment comes back.
    outcomes = [(ref, "failed" if n < 2 else "paid") for n, ref in enumerate(references)]
    first = _reconcile(stack, cycle["id"], outcomes, approver)
    assert (first["applied"].get("paid"), first["applied"].get("failed")) == (HOUSEHOLDS - 2, 2)
    again = _reconcile(stack, cycle["id"], outcomes, approver)
    assert again["already_applied"] is True, "the same report twice applies once"
    back = _reconcile(stack, cycle["id"], [(references[2], "reversed")], approver)
    assert back["applied"]["reversed"] == 1
    assert _ok(_act(stack, cycle["id"], "close", approver))["status"] == "closed"

    # The two failed and the one reversed household are paid by a second cycle.
    second = _built(stack, officer, body)
    assert second["lines_count"] == 3
    assert second["excluded"].get("already_paid") == HOUSEHOLDS - 3

    paid_djf = (HOUSEHOLDS - 3) * BENEFIT
    report = _ok(
        httpx.get(
            f"{stack.url}{FUNDING}/reports/funding",
            params={"group_by": "project"},
            headers=officer,
        )
    )
    ours = [
        row for row in report["rows"] if row["project"]["iati_identifier"] == "XM-DAC-47066-DJ-E2E"
    ]
    assert len(ours) == 1, report["rows"]
    assert ours[0]["paid"]["djf"] == {"amount_minor": paid_djf, "currency": "DJF"}
    # What the provider kept paid out: the failed and reversed money came back (the second
    # cycle is not sent yet).
    assert ours[0]["disbursed"]["djf"] == {"amount_minor": paid_djf, "currency": "DJF"}

    iati = httpx.get(f"{stack.url}{FUNDING}/iati/activities.xml", headers=officer)
    assert iati.status_code == 200, iati.text
    activity = next(
        a
        for a in ET.fromstring(iati.content).iter("iati-activity")  # noqa: S314 (our own)
        if a.findtext("iati-identifier") == "XM-DAC-47066-DJ-E2E"
    )
    transactions = activity.findall("transaction")
    kinds = [t.find("transaction-type").get("code") for t in transactions]  # type: ignore[union-attr]
    # Sent once; given back twice (two failed, then one reversed).
    assert kinds.count("1") == 1 and kinds.count("3") == 3
    expenditure = sum(
        float(t.findtext("value") or 0)
        for t in transactions
        if t.find("transaction-type").get("code") == "4"  # type: ignore[union-attr]
        and t.find("value").get("currency") == "DJF"  # type: ignore[union-attr]
    )
    assert expenditure == paid_djf


def test_the_demo_funding_picture_is_there_and_partners_see_only_their_own(
    stack: RunningStack,
) -> None:
    officer = stack.headers("demo-finance-officer")
    everyone = _ok(httpx.get(f"{stack.url}{FUNDING}/agreements", headers=officer))["items"]
    assert {"IDA-D7420-DJ", "WFP-CSP-2025-01", "UNICEF-PCA-2025"} <= {
        a["reference"] for a in everyone
    }
    cycles = _ok(
        httpx.get(
            f"{stack.url}{FUNDING}/payment-cycles", params={"programme": "pnsf"}, headers=officer
        )
    )["items"]
    assert {c["status"] for c in cycles} >= {"closed", "draft"}
    partner = stack.headers("demo-partner")  # acts for "wfp"
    agreements = _ok(httpx.get(f"{stack.url}{FUNDING}/agreements", headers=partner))
    assert [a["reference"] for a in agreements["items"]] == ["WFP-CSP-2025-01"]
    cycles = httpx.get(f"{stack.url}{FUNDING}/payment-cycles", headers=partner)
    assert cycles.status_code == 403
